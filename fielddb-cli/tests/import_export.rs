//! `import` reads CSV and JSON lines with typed cells, checks the whole file before writing,
//! and `export` writes JSON lines that `import` reads back.

mod common;

use common::run_c;

#[test]
fn csv_cells_are_typed_and_empty_or_null_cells_are_absent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "id,name,age,score,member,note\n7,Ada,36,4.5,true,NA\n3,\"Smith, J\",,1e2,false,hello\n",
    )
    .unwrap();
    let r = run_c(
        &db,
        &format!("import {} --key id --null NA", csv.display()),
        &["--json"],
    );
    assert_eq!(r.json()[0]["imported"], 2, "{}", r.stdout);
    let r = run_c(&db, "get 7; get 3", &["--json"]);
    let lines = r.json();
    assert_eq!(
        lines[0]["record"],
        serde_json::json!({"id": 7, "name": "Ada", "age": 36, "score": 4.5, "member": true})
    );
    assert_eq!(
        lines[1]["record"],
        serde_json::json!({"id": 3, "name": "Smith, J", "score": 100.0, "member": false, "note": "hello"})
    );
}

#[test]
fn without_a_key_column_keys_follow_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let csv = dir.path().join("rows.csv");
    let mut text = String::from("v\n");
    for i in (0..120).rev() {
        text.push_str(&format!("{i}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    assert_eq!(
        run_c(&db, &format!("import {}", csv.display()), &[]).status,
        0
    );
    let r = run_c(&db, "scan limit 3", &["--json"]);
    let rows = r.json()[0]["rows"].as_array().unwrap().clone();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["rows:0000000001", "rows:0000000002", "rows:0000000003"]
    );
    let values: Vec<i64> = rows
        .iter()
        .map(|r| r["record"]["v"].as_i64().unwrap())
        .collect();
    assert_eq!(values, [119, 118, 117]);
}

#[test]
fn a_malformed_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(&bad_csv, "a,b\n1,2\n3\n").unwrap();
    let r = run_c(&db, &format!("import {}", bad_csv.display()), &[]);
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("bad.csv"), "{}", r.stderr);
    let bad_jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&bad_jsonl, "{\"a\": 1}\n{\"a\": 2}\n{\"a\": [3]}\n").unwrap();
    let r = run_c(&db, &format!("import {}", bad_jsonl.display()), &[]);
    assert!(
        r.stderr.contains("line 3") && r.stderr.contains("arrays"),
        "{}",
        r.stderr
    );
    let r = run_c(&db, "stats", &["--json"]);
    assert_eq!(r.json()[0]["records"], 0);
}

#[test]
fn a_row_too_long_to_store_is_refused_before_any_row_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let csv = dir.path().join("long.csv");
    let long = "x".repeat(fielddb::MAX_RECORD_LEN);
    std::fs::write(&csv, format!("a,b\n1,2\n{long},3\n4,5\n")).unwrap();
    let r = run_c(&db, &format!("import {}", csv.display()), &[]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("line 3") && r.stderr.contains("over the limit"),
        "{}",
        r.stderr
    );
    let jsonl = dir.path().join("long.jsonl");
    std::fs::write(&jsonl, format!("{{\"a\": 1}}\n{{\"a\": \"{long}\"}}\n")).unwrap();
    let r = run_c(&db, &format!("import {}", jsonl.display()), &[]);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("over the limit"),
        "{}",
        r.stderr
    );
    let r = run_c(&db, "stats", &["--json"]);
    assert_eq!(r.json()[0]["records"], 0);
}

#[test]
fn export_then_import_reproduces_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let (db1, db2) = (dir.path().join("db1"), dir.path().join("db2"));
    let file = dir.path().join("dump.ndjson");
    let setup =
        "put a i=-5 f=0.25 s=\"é\\n\" b=0x00ff n=null t=true; put b {\"big\": 9007199254740993}";
    assert_eq!(run_c(&db1, setup, &[]).status, 0);
    assert_eq!(
        run_c(&db1, &format!("export {}", file.display()), &[]).status,
        0
    );
    let r = run_c(&db2, &format!("import {}", file.display()), &["--json"]);
    assert_eq!(r.json()[0]["imported"], 2);
    let original = run_c(&db1, "scan", &["--json"]).stdout;
    let copy = run_c(&db2, "scan", &["--json"]).stdout;
    assert_eq!(original, copy);
    assert!(copy.contains("9007199254740993"));
}

#[test]
fn jsonl_import_takes_the_key_from_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let file = dir.path().join("users.jsonl");
    std::fs::write(
        &file,
        "{\"email\": \"a@x\", \"n\": 1}\n\n{\"email\": \"b@x\", \"n\": 2}\n",
    )
    .unwrap();
    let r = run_c(
        &db,
        &format!("import {} --key email; get b@x", file.display()),
        &["--json"],
    );
    let lines = r.json();
    assert_eq!(lines[0]["imported"], 2);
    assert_eq!(lines[1]["record"]["n"], 2);
}
