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
