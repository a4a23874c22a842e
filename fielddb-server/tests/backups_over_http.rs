//! A server with two backup targets, one a small tmpfs that fills up: `POST /v1/admin/backups`
//! reports that target's error by name (207) while the other completes, the database goes on
//! serving, the full target lists no half-written backup, and once the tmpfs has grown the next
//! round succeeds there too. `/metrics` shows each target's last backup and failures; the backup
//! restores to the records written.
//!
//! It mounts a tmpfs, so it needs the right to (root, as CI runs here).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{client, get, post, Server};
use serde_json::{json, Value};

/// A tmpfs mounted at a directory, unmounted when dropped (also when the test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "cannot mount a tmpfs at {} (this test needs root)",
            dir.display()
        );
        Tmpfs(dir.to_path_buf())
    }

    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Text that does not compress: a xorshift stream as hex.
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed | 1;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{x:016x}"));
    }
    out.truncate(len);
    out
}

fn target<'a>(answer: &'a Value, dir: &Path) -> &'a Value {
    answer["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["dir"] == json!(dir.display().to_string()))
        .unwrap()
}

#[test]
fn a_full_target_fails_by_name_while_the_other_completes_and_succeeds_once_it_has_grown() {
    let temp = tempfile::tempdir().unwrap();
    let small = temp.path().join("small");
    let roomy = temp.path().join("roomy");
    let tmpfs = Tmpfs::mount(&small, "256k");
    let s = Server::start_in(
        &temp.path().join("db"),
        &[
            "--backup-dir",
            small.to_str().unwrap(),
            "--backup-dir",
            roomy.to_str().unwrap(),
            "--backup-keep",
            "2",
        ],
    );
    let c = client();
    for batch in 0..4 {
        let ops: Vec<Value> = (0..500)
            .map(|i| json!({"put": format!("k{batch}-{i:03}"), "record": {"blob": noise(batch * 1000 + i, 1000)}}))
            .collect();
        let (status, body) = post(&c, &s, "/v1/batch", &json!({ "ops": ops }));
        assert_eq!(status, 200, "{body}");
    }

    let (status, answer) = post(&c, &s, "/v1/admin/backups", &json!({}));
    assert_eq!(status, 207, "{answer}");
    let full = target(&answer, &small);
    let message = full["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(small.to_str().unwrap()),
        "the error names the target: {message}"
    );
    assert!(message.to_lowercase().contains("space"), "{message}");
    assert_eq!(
        target(&answer, &roomy)["backup"]["id"],
        json!(1),
        "{answer}"
    );

    // The database goes on serving, and the full target lists no half-written backup.
    let (status, body) = get(&c, &s, "/v1/records/k0-007");
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &c,
        &s,
        "/v1/batch",
        &json!({"ops": [{"put": "after", "record": {"n": 1}}]}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, listed) = get(&c, &s, "/v1/admin/backups");
    assert_eq!(status, 200, "{listed}");
    assert_eq!(target(&listed, &small)["backups"], json!([]), "{listed}");
    assert_eq!(
        target(&listed, &roomy)["backups"].as_array().unwrap().len(),
        1
    );

    tmpfs.grow("64m");
    let (status, answer) = post(&c, &s, "/v1/admin/backups", &json!({}));
    assert_eq!(status, 200, "{answer}");
    assert!(
        target(&answer, &small)["backup"]["records"].is_u64(),
        "{answer}"
    );

    let metrics = c.get(s.url("/metrics")).send().unwrap().text().unwrap();
    let line = |name: &str, dir: &Path| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{target=\"{}\"}}", dir.display())))
            .map(str::to_owned)
    };
    assert!(
        line("fielddb_backup_last_success_timestamp_seconds", &small).is_some(),
        "{metrics}"
    );
    assert_eq!(
        line("fielddb_backup_failures_total", &small).as_deref(),
        Some(
            format!(
                "fielddb_backup_failures_total{{target=\"{}\"}} 1",
                small.display()
            )
            .as_str()
        )
    );
    assert!(
        line("fielddb_backup_last_size_bytes", &roomy).is_some(),
        "{metrics}"
    );

    // What the small target holds now restores to every record written.
    let restored = temp.path().join("restored");
    fielddb::restore_backup(&small, fielddb::BackupId::Latest, &restored).unwrap();
    let db = fielddb::FieldDb::open(&restored).unwrap();
    assert_eq!(db.verify().unwrap().records, 2001);
    drop(db);
    drop(s);
    drop(tmpfs);
}

#[test]
fn scheduled_backups_run_every_period_and_keep_the_newest() {
    let temp = tempfile::tempdir().unwrap();
    let target = temp.path().join("backups");
    let s = Server::start_in(
        &temp.path().join("db"),
        &[
            "--backup-dir",
            target.to_str().unwrap(),
            "--backup-every",
            "300ms",
            "--backup-keep",
            "2",
        ],
    );
    let c = client();
    let (status, body) = post(
        &c,
        &s,
        "/v1/batch",
        &json!({"ops": [{"put": "a", "record": {"n": 1}}]}),
    );
    assert_eq!(status, 200, "{body}");
    let start = std::time::Instant::now();
    loop {
        let (status, listed) = get(&c, &s, "/v1/admin/backups");
        assert_eq!(status, 200, "{listed}");
        let ids: Vec<u64> = listed["targets"][0]["backups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_u64().unwrap())
            .collect();
        assert!(ids.len() <= 2, "kept at most 2: {ids:?}");
        if ids.last().is_some_and(|&id| id >= 4) {
            assert_eq!(ids.len(), 2, "{ids:?}");
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Without --backup-dir the routes say how to get them.
    let plain = Server::start();
    let (status, body) = post(&c, &plain, "/v1/admin/backups", &json!({}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("no_backup_targets")),
        "{body}"
    );
}
