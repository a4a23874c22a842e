//! `POST /v1/query` with several conditions: rows from the best ready index filtered by the
//! rest, paged by its cursor; the plan with `explain`; refusals for a filter no index serves and
//! for malformed bodies.

mod common;

use common::{client, post, Server};
use serde_json::{json, Value};

#[test]
fn a_query_with_several_conditions_pages_explains_and_refuses_by_name() {
    let s = Server::start();
    let c = client();
    let ops: Vec<Value> = (0..60)
        .map(|i| {
            let carrier = if i % 3 == 0 { "UA" } else { "AA" };
            let dest = if i % 2 == 0 { "IAH" } else { "ORD" };
            json!({"put": format!("f{i:03}"), "record": {"carrier": carrier, "dest": dest, "dep_delay": i}})
        })
        .collect();
    let (status, body) = post(&c, &s, "/v1/batch", &json!({ "ops": ops }));
    assert_eq!(status, 200, "{body}");
    for field in ["carrier", "dest"] {
        let (status, body) = post(
            &c,
            &s,
            "/v1/indexes",
            &json!({"field": field, "counted": true}),
        );
        assert_eq!(status, 202, "{body}");
        common::wait_ready(&c, &s, field);
    }
    let conditions = json!([
        {"field": "dep_delay", "op": "gt", "value": 20},
        {"field": "dest", "op": "eq", "value": "IAH"},
        {"field": "carrier", "op": "eq", "value": "UA"}
    ]);
    let (status, plan) = post(
        &c,
        &s,
        "/v1/query",
        &json!({"where": conditions, "explain": true}),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["plan"]["index"], json!("carrier"), "{plan}");
    assert_eq!(plan["plan"]["estimated_rows"], json!(20), "{plan}");
    assert_eq!(
        plan["plan"]["residual"],
        json!(["dep_delay > 20", "dest = \"IAH\""]),
        "{plan}"
    );

    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut body = json!({"where": conditions, "limit": 2});
        if let Some(a) = &after {
            body["after"] = json!(a);
        }
        let (status, page) = post(&c, &s, "/v1/query", &body);
        assert_eq!(status, 200, "{page}");
        for row in page["rows"].as_array().unwrap() {
            keys.push(row["key"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(keys, vec!["f024", "f030", "f036", "f042", "f048", "f054"]);

    let (status, body) = post(
        &c,
        &s,
        "/v1/query",
        &json!({"where": [{"field": "origin", "value": "EWR"}]}),
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("create index origin"),
        "{body}"
    );
    for bad in [
        json!({"where": []}),
        json!({"where": [{"field": "a", "op": "near", "value": 1}]}),
        json!({"where": [{"field": "a", "op": "between", "value": 1}]}),
        json!({"where": [{"op": "eq", "value": 1}]}),
        json!({"where": [{"field": "carrier", "value": "UA"}], "limit": "ten"}),
        json!({"where": [{"field": "carrier", "value": "UA"}], "after": "zz"}),
        json!({"where": [{"field": "carrier", "value": "UA"}], "sort": true}),
        json!([1]),
    ] {
        let (status, body) = post(&c, &s, "/v1/query", &bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
}
