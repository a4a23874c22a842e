//! Queries, counts and explain with several conditions in the shell, on flight-like records.

mod common;

use common::run_c;
use serde_json::json;

#[test]
fn several_conditions_pick_an_index_filter_the_rest_and_explain_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut script = String::new();
    for i in 0..60 {
        let carrier = if i % 3 == 0 { "UA" } else { "AA" };
        let dest = if i % 2 == 0 { "IAH" } else { "ORD" };
        script.push_str(&format!(
            "put f{i:03} carrier={carrier} dest={dest} dep_delay={i}; "
        ));
    }
    script.push_str("create index carrier counted; create index dest counted; wait; ");
    script.push_str("query carrier = UA and dep_delay > 40 and dest = IAH; ");
    script.push_str("count carrier = UA and dest = IAH; ");
    script.push_str("explain query dep_delay > 40 and dest = IAH and carrier = UA; ");
    script.push_str("query dep_delay > 40 and origin = EWR");
    let r = run_c(&db, &script, &["--json"]);
    let lines = r.json();
    let n = lines.len();
    let keys: Vec<&str> = lines[n - 4]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["f042", "f048", "f054"], "{}", r.stdout);
    assert_eq!(lines[n - 3]["count"], json!(10), "{}", r.stdout);
    let plan = &lines[n - 2];
    assert_eq!(plan["index"], json!("carrier"), "{plan}");
    assert_eq!(plan["estimated_rows"], json!(20), "{plan}");
    assert_eq!(
        plan["residual"],
        json!(["dep_delay > 40", "dest = \"IAH\""]),
        "{plan}"
    );
    assert_eq!(lines[n - 1]["code"], json!("no_such_index"), "{}", r.stdout);
}

#[test]
fn a_covering_index_answers_a_query_for_some_fields_and_lists_what_it_includes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let script = "put a city=Oslo name=Ada score=3 age=36; put b city=Oslo name=Bea score=5; \
                  put c city=Rome name=Cy score=1; \
                  create index city include name,score; wait; indexes; \
                  query city = Oslo fields score,name; \
                  update a score=4; query city = Oslo fields name,score,age limit 1; \
                  verify; \
                  create index age include age";
    let r = run_c(&db, script, &["--json"]);
    let lines = r.json();
    let n = lines.len();
    assert_eq!(
        lines[n - 6]["indexes"][0]["include"],
        json!(["name", "score"]),
        "{}",
        r.stdout
    );
    assert_eq!(
        lines[n - 5]["rows"],
        json!([
            {"key": "a", "record": {"score": 3, "name": "Ada"}},
            {"key": "b", "record": {"score": 5, "name": "Bea"}}
        ]),
        "{}",
        r.stdout
    );
    // `age` is not included: it is read from the record.
    assert_eq!(
        lines[n - 3]["rows"],
        json!([{"key": "a", "record": {"name": "Ada", "score": 4, "age": 36}}]),
        "{}",
        r.stdout
    );
    assert_eq!(lines[n - 2]["missing"], json!(0), "{}", r.stdout);
    assert_eq!(
        lines[n - 1]["code"],
        json!("invalid_argument"),
        "{}",
        r.stdout
    );
}
