//! Script mode (`-c` and piped input) runs every command, prints human tables, reports errors
//! on stderr with their position, and exits 1 when any command failed.

mod common;

use common::{run, run_c};

#[test]
fn every_command_works_in_script_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let script = r#"
put ada name="Ada Lovelace" born=1815 city=London tag=0x00ff
put alan {"name": "Alan Turing", "born": 1912, "city": "London"}
put grace name=Grace born=1906.5 city="New York" alive=false
get ada
create index born
create index city counted
create index name unique
wait
indexes
query born between 1900 and 2000
query born > 1800 limit 1
query born < 1910 and >= 1800 desc
query city prefix "Lon"
count born >= 1900
scan from alan to grace
scan where born > 1900 limit 1
delete alan
get alan
verify
stats
help
help import
drop index city
indexes
quit
get ada
"#;
    let r = run(&db, &[], script);
    assert_eq!(r.status, 0, "stderr: {}", r.stderr);
    let out = &r.stdout;
    for expected in [
        "name   string  Ada Lovelace",
        "tag    bytes   0x00ff",
        "building counted index on city",
        "born   no      no       ready  100%",
        "city   no      yes      ready  100%",
        "name   yes     no       ready  100%",
        "(1 row) more: add `after ",
        "no record at key \"alan\"",
        "2 records, 0 missing, 0 stale, 0 wrong counts, 0 corrupt records",
        "records       2",
        "Commands (keywords are case-insensitive):",
        "--null token, is an absent field",
        "dropping index on city",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // between 1900 and 2000: grace (1906.5) then alan (1912), in value order.
    let grace = out.find("grace  Grace").unwrap();
    let alan = out[grace..].find("alan   Alan Turing").is_some();
    assert!(alan, "{out}");
    // `quit` stops the script: the last `get ada` did not run.
    assert_eq!(out.matches("Ada Lovelace").count(), 4, "{out}");
}

#[test]
fn a_failing_command_sets_the_exit_status_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let r = run_c(&db, "put a x=1; frobnicate; get a", &[]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("unknown command `frobnicate`"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("x      int   1"), "{}", r.stdout);

    let r = run_c(&db, "put b y=2; delte b; put c z=3", &["--bail"]);
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("did you mean `delete`?"), "{}", r.stderr);
    let r = run_c(&db, "get c", &[]);
    assert!(
        r.stdout.contains("no record"),
        "--bail stopped before `put c`: {}",
        r.stdout
    );
    assert_eq!(run_c(&db, "get b", &[]).status, 0);
}

#[test]
fn errors_name_the_position_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    assert_eq!(run_c(&db, "put k v=1", &[]).status, 0);
    let cases = [
        ("put k age=", "at column 11", "age=\"\""),
        ("put k age=0x1", "at column 11", "even number of hex digits"),
        (
            "put k n=99999999999999999999",
            "at column 9",
            "out of the 64-bit range",
        ),
        ("query v between 1 2", "at column 19", "expected `and`"),
        ("query v = 1", "", "no index on field `v`"),
        ("scan limit many", "at column 12", "whole number"),
        ("get \"unterminated", "at column 5", "unterminated string"),
        ("put k {\"a\": [1]}", "", "arrays are not supported"),
        ("put \"\" a=1", "", "keys must not be empty"),
        ("put k x=1 x=2", "", "appears twice"),
        ("create index", "at column 13", "expected a field"),
        ("import nope.txt", "", "use a .csv, .jsonl or .ndjson file"),
        ("import nope.csv", "", "cannot open nope.csv"),
    ];
    for (command, position, message) in cases {
        let r = run_c(&db, command, &[]);
        assert_eq!(r.status, 1, "{command}");
        assert!(
            r.stderr.contains(position) && r.stderr.contains(message),
            "{command}: {}",
            r.stderr
        );
    }
    let r = run_c(&db, "get k", &[]);
    assert!(r.stdout.contains("v      int   1"), "{}", r.stdout);
    assert!(!r.stdout.contains("age"));
}

#[test]
fn append_extends_a_field_and_refuses_another_type() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let r = run(
        &db,
        &[],
        "append log text \"ab\"\nappend log text cd\nappend log raw 0x00ff\nappend log text 42\nget log\n",
    );
    assert_eq!(r.status, 1, "the int append fails: {}", r.stderr);
    assert!(r.stdout.contains("text   string  abcd"), "{}", r.stdout);
    assert!(r.stdout.contains("raw    bytes   0x00ff"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("only a string or bytes can be appended, not int"),
        "{}",
        r.stderr
    );
}

#[test]
fn update_sets_and_unsets_fields_and_upsert_creates_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let r = run(
        &db,
        &[],
        "put ada name=Ada note=x\ncreate index born\nwait\nupdate ada born=1815 unset note\nupsert alan name=Alan\nquery born = 1815\nget alan\nupdate nobody a=1\n",
    );
    assert_eq!(
        r.status, 1,
        "the update of a missing record fails: {}",
        r.stderr
    );
    assert!(r.stdout.contains("born   int     1815"), "{}", r.stdout);
    assert!(!r.stdout.contains("note"), "{}", r.stdout);
    assert!(r.stdout.contains("name   string  Alan"), "{}", r.stdout);
    assert!(r.stderr.contains("no record at key"), "{}", r.stderr);
    let r = run_c(&db, "verify", &[]);
    assert_eq!(r.status, 0, "{}", r.stderr);
}
