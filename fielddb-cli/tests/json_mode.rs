//! `--json` prints exactly one JSON object per command, always with `"ok"`.

mod common;

use common::run;
use serde_json::json;

#[test]
fn every_command_prints_one_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let export = dir.path().join("out.jsonl");
    let script = format!(
        r#"put a n=1 f=2.5 s=x b=0x0001 z=null t=true
put b n=2
put c n=3
get a
get nope
create index n
wait
indexes
query n >= 2 limit 1
query n = 99
count n between 1 and 2
scan limit 2
delete c
verify
stats
export {}
help get
drop index n
nonsense
"#,
        export.display()
    );
    let r = run(&db, &["--json"], &script);
    assert_eq!(r.status, 1, "the nonsense line fails");
    let lines = r.json();
    assert_eq!(lines.len(), 19, "{}", r.stdout);
    assert!(lines.iter().all(|l| l.get("ok").is_some()));
    assert_eq!(lines[0], json!({"ok": true}));
    assert_eq!(
        lines[3],
        json!({"ok": true, "key": "a", "record": {"n": 1, "f": 2.5, "s": "x", "b": {"$base64": "AAE="}, "z": null, "t": true}})
    );
    assert_eq!(lines[4], json!({"ok": true, "key": "nope", "record": null}));
    assert_eq!(lines[5]["state"], "building");
    assert_eq!(
        lines[7]["indexes"],
        json!([{"field": "n", "unique": false, "counted": false, "state": "ready", "progress": 1.0}])
    );
    assert_eq!(lines[8]["rows"], json!([{"key": "b", "record": {"n": 2}}]));
    assert!(lines[8]["next"].is_string());
    assert_eq!(lines[9], json!({"ok": true, "rows": [], "next": null}));
    assert_eq!(lines[10], json!({"ok": true, "count": 2}));
    assert_eq!(lines[11]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(lines[11]["next"], "b");
    assert_eq!(lines[12], json!({"ok": true, "deleted": true}));
    assert_eq!(lines[13]["missing"], 0);
    assert_eq!(lines[13]["stale"], 0);
    assert_eq!(lines[14]["records"], 2);
    assert_eq!(lines[15], json!({"ok": true, "exported": 2}));
    assert!(lines[16]["help"].as_str().unwrap().starts_with("get KEY"));
    assert_eq!(lines[17], json!({"ok": true, "field": "n"}));
    assert_eq!(lines.last().unwrap()["ok"], false);
    assert!(lines.last().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("unknown command"));
    assert_eq!(lines.last().unwrap()["code"], "parse_error");
    assert!(
        r.stderr.is_empty(),
        "nothing on stderr in JSON mode: {}",
        r.stderr
    );
}

#[test]
fn query_cursors_page_through_results() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut script = String::new();
    for i in 0..25 {
        script.push_str(&format!("put k{i:02} v={}\n", i % 5));
    }
    script.push_str("create index v\nwait\n");
    assert_eq!(run(&db, &[], &script).status, 0);
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let r = run(
            &db,
            &["--json", "-c", &format!("query v >= 1 limit 7 {after}")],
            "",
        );
        let line = &r.json()[0];
        for row in line["rows"].as_array().unwrap() {
            seen.push(row["key"].as_str().unwrap().to_string());
        }
        match line["next"].as_str() {
            Some(next) => after = format!("after {next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 20);
}

#[test]
fn a_query_through_a_named_index_prints_the_bytes_the_planned_query_prints() {
    // A query on one indexed field is written row by row from the stored bytes; the same
    // condition twice goes through the planner, which builds records. Their lines must match.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let setup = r#"put a g=1 s="é\"\n\\x" f=2.5 b=0x00ff z=null t=true
put 0xff00 g=1 n=-3 big=1e300 small=-0.0
put c g=2 s=x
put d g=1
create index g
create index h include s
put e g=1 h=7 s="covered"
wait
"#;
    assert_eq!(run(&db, &[], setup).status, 0);
    for (streamed, planned) in [
        ("query g = 1", "query g = 1 and g = 1"),
        (
            "query g = 1 fields s,n,b",
            "query g = 1 and g = 1 fields s,n,b",
        ),
        ("query g = 1 limit 2", "query g = 1 and g = 1 limit 2"),
        ("query h = 7 fields s", "query h = 7 and h = 7 fields s"),
    ] {
        let a = run(&db, &["--json", "-c", streamed], "");
        let b = run(&db, &["--json", "-c", planned], "");
        assert_eq!((a.status, b.status), (0, 0), "{} {}", a.stdout, b.stdout);
        assert!(a.stdout.contains("\"rows\":[{"), "{}", a.stdout);
        assert_eq!(a.stdout, b.stdout, "{streamed}");
    }
}

#[test]
fn failures_carry_the_library_error_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let r = run(
        &db,
        &[
            "--json",
            "-c",
            "query nowhere = 1; create index e unique; wait; put a e=1; put b e=1",
        ],
        "",
    );
    let lines = r.json();
    assert_eq!(lines[0]["ok"], false);
    assert_eq!(lines[0]["code"], "no_such_index");
    assert_eq!(lines[4]["code"], "unique_violation", "{:?}", lines);
}

#[test]
fn compact_moves_what_memory_holds_to_files_and_reports_their_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let r = common::run_c(
        &db,
        "put a city=Oslo; put b city=Rome; create index city; stats; compact",
        &["--json"],
    );
    let lines = r.json();
    let n = lines.len();
    assert_eq!(
        lines[n - 2]["bytes"]["records"],
        serde_json::json!(0),
        "{}",
        r.stdout
    );
    let bytes = &lines[n - 1]["bytes"];
    assert!(bytes["records"].as_u64().unwrap() > 0, "{}", r.stdout);
    assert!(bytes["indexes"].as_u64().unwrap() > 0, "{}", r.stdout);
}
