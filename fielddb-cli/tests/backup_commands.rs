//! The shell's backup commands, in `--json` mode: back up into two directories, list, verify
//! (deep too), restore into a new database that answers like the original, purge, and refuse a
//! target that is a file, a non-empty restore target and a corrupt backup.

mod common;

use common::{run, run_c};
use serde_json::json;

#[test]
fn backups_are_taken_listed_verified_restored_and_purged_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let mut script = String::new();
    for i in 0..300 {
        script.push_str(&format!("put p{i:03} city=c{} n={i}\n", i % 7));
    }
    script.push_str("create index city\nwait\n");
    script.push_str(&format!("backup {} {}\n", one.display(), two.display()));
    script.push_str("put late city=c1 n=1000\n");
    script.push_str(&format!("backup {}\n", one.display()));
    script.push_str(&format!("backups {}\n", one.display()));
    script.push_str(&format!("verify-backup {} 1 --deep\n", one.display()));
    let r = run(&db, &["--json", "--bail"], &script);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    let lines = r.json();
    let n = lines.len();
    let both = &lines[n - 5]["backups"];
    assert_eq!(both.as_array().unwrap().len(), 2, "{both}");
    assert_eq!(both[0]["backup"]["id"], json!(1));
    assert_eq!(both[1]["backup"]["records"], json!(300));
    let listed = lines[n - 2]["backups"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["records"], json!(301));
    assert!(listed[1]["new_bytes"].as_u64().unwrap() < listed[0]["new_bytes"].as_u64().unwrap());
    assert_eq!(lines[n - 1]["verified"], json!(1));

    // Backup 1 restored: the first 300 records, the index built.
    let restored = dir.path().join("restored");
    let r = run_c(
        &db,
        &format!("restore {} 1 --to {}", one.display(), restored.display()),
        &["--json"],
    );
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    let r = run_c(&restored, "count city = c3; get late; verify", &["--json"]);
    let lines = r.json();
    assert_eq!(lines[0]["count"], json!(43), "{}", r.stdout);
    assert_eq!(lines[1]["record"], json!(null), "{}", r.stdout);
    assert_eq!(lines[2]["missing"], json!(0), "{}", r.stdout);

    // Refusals: a restore over a database, a target that is a file.
    let r = run_c(
        &db,
        &format!("restore {} --to {}", one.display(), restored.display()),
        &["--json"],
    );
    assert_eq!(
        r.json()[0]["code"],
        json!("invalid_argument"),
        "{}",
        r.stdout
    );
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let r = run_c(
        &db,
        &format!("backup {} {}", two.display(), file.display()),
        &["--json"],
    );
    let answer = &r.json()[0];
    assert_eq!(answer["ok"], json!(false), "{answer}");
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.contains("is a file") && message.contains("done:"),
        "{message}"
    );

    // Purge keeps the newest.
    let r = run_c(
        &db,
        &format!(
            "purge-backups {} --keep 1; backups {}",
            one.display(),
            one.display()
        ),
        &["--json"],
    );
    let lines = r.json();
    assert_eq!(lines[0]["kept"], json!([2]), "{}", r.stdout);
    assert_eq!(lines[1]["backups"].as_array().unwrap().len(), 1);

    // A flipped byte is named, and nothing is restored.
    let sst = std::fs::read_dir(two.join("shared_checksum"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sst"))
        .unwrap();
    let mut bytes = std::fs::read(&sst).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    std::fs::write(&sst, bytes).unwrap();
    let r = run_c(
        &db,
        &format!("verify-backup {}", two.display()),
        &["--json"],
    );
    let message = r.json()[0]["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains(&sst.file_name().unwrap().to_string_lossy().into_owned()),
        "{message}"
    );
    let elsewhere = dir.path().join("elsewhere");
    let r = run_c(
        &db,
        &format!("restore {} --to {}", two.display(), elsewhere.display()),
        &["--json"],
    );
    assert_eq!(r.json()[0]["ok"], json!(false), "{}", r.stdout);
    assert!(!elsewhere.exists());
}
