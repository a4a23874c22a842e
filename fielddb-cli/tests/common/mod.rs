//! Runs the real `fielddb` binary for the scenario files.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout lines parsed as JSON (for `--json` runs).
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_fielddb")
}

/// Runs `fielddb --db DIR ARGS...` with `stdin` piped in.
pub fn run(db: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(bin())
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fielddb");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `fielddb --db DIR -c COMMANDS [extra args]`.
pub fn run_c(db: &Path, commands: &str, extra: &[&str]) -> Run {
    let mut args = vec!["-c", commands];
    args.extend_from_slice(extra);
    run(db, &args, "")
}
