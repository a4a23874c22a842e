//! The script `make demo` runs (demo/demo.fdb over demo/orders.csv) succeeds end to end, so
//! the README's first command stays true.

use std::process::{Command, Stdio};

#[test]
fn the_demo_script_runs_clean_on_the_shipped_dataset() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::File::open(root.join("demo/demo.fdb")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fielddb"))
        .current_dir(&root)
        .arg("--echo")
        .arg("--db")
        .arg(dir.path().join("db"))
        .stdin(Stdio::from(script))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}\nstdout: {stdout}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(stdout.contains("imported 20000 rows"), "{stdout}");
    assert!(
        stdout.contains("20000 records, 0 missing, 0 stale, 0 wrong counts, 0 corrupt records"),
        "{stdout}"
    );
    // The first row of the file, as `get o000001` shows it.
    assert!(stdout.contains("city      string  Rome"), "{stdout}");
}
