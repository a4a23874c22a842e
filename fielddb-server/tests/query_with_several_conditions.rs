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

#[test]
fn a_compound_index_is_created_queried_as_text_and_dropped_by_its_name() {
    let s = Server::start();
    let c = client();
    let ops: Vec<Value> = (0..40)
        .map(|i| {
            let carrier = if i % 2 == 0 { "UA" } else { "AA" };
            json!({"put": format!("f{i:03}"), "record": {"carrier": carrier, "dest": "IAH", "dep_delay": i}})
        })
        .collect();
    let (status, body) = post(&c, &s, "/v1/batch", &json!({ "ops": ops }));
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"fields": ["carrier", "dep_delay"], "counted": true}),
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["field"], json!("carrier,dep_delay"));
    assert_eq!(body["fields"], json!(["carrier", "dep_delay"]));
    assert_eq!(body["status"], json!("/v1/indexes/carrier%2Cdep_delay"));
    common::wait_ready(&c, &s, "carrier%2Cdep_delay");

    // The shell's text, URL-encoded, in `where`; the plan with explain=1; a count.
    let text = "carrier = UA and dep_delay >= 10 and < 20";
    let (status, page) = common::json(
        c.get(s.url("/v1/query"))
            .query(&[("where", text), ("limit", "3")])
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{page}");
    let keys: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["f010", "f012", "f014"]);
    assert!(page["next"].is_string(), "{page}");
    let (status, plan) = common::json(
        c.get(s.url("/v1/query"))
            .query(&[("where", text), ("explain", "1")])
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["plan"]["index"], json!("carrier,dep_delay"));
    assert_eq!(plan["plan"]["range"], json!("(\"UA\", >= 10 and < 20)"));
    assert_eq!(plan["plan"]["estimated_rows"], json!(5));
    let (status, count) = common::json(
        c.get(s.url("/v1/count"))
            .query(&[("where", "carrier = AA and dep_delay = 7")])
            .send()
            .unwrap(),
    );
    assert_eq!((status, &count["count"]), (200, &json!(1)), "{count}");

    // Bad text is refused at its column; a mix of forms, or explain without `where`, too.
    for (query, says) in [
        (vec![("where", "carrier ~ UA")], "at column 9"),
        (vec![("where", "carrier = UA and")], "a field after `and`"),
        (vec![("where", "")], "`where`"),
        (
            vec![
                ("where", "carrier = UA"),
                ("field", "carrier"),
                ("value", "UA"),
            ],
            "not both",
        ),
        (
            vec![("field", "carrier"), ("value", "UA"), ("explain", "1")],
            "explain",
        ),
        (
            vec![("where", "carrier = UA"), ("explain", "maybe")],
            "`explain`",
        ),
    ] {
        let (status, body) = common::json(c.get(s.url("/v1/query")).query(&query).send().unwrap());
        assert_eq!(status, 400, "{query:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{query:?}: {body}");
    }
    // A body naming both `field` and `fields`, or fields of the wrong type: 400, nothing made.
    for bad in [
        json!({"field": "a", "fields": ["b", "c"]}),
        json!({"fields": "carrier"}),
        json!({"fields": []}),
        json!({"fields": ["carrier", 3]}),
        json!({"fields": ["carrier", "carrier"]}),
    ] {
        let (status, body) = post(&c, &s, "/v1/indexes", &bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, list) = common::get(&c, &s, "/v1/indexes");
    assert_eq!(list["indexes"].as_array().unwrap().len(), 1, "{list}");

    let resp = c
        .delete(s.url("/v1/indexes/carrier%2Cdep_delay"))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    // The drop finishes in the background: until then the index is listed as dropping.
    let mut status = 0;
    for _ in 0..500 {
        let (now, body) = common::get(&c, &s, "/v1/indexes/carrier,dep_delay");
        status = now;
        if status == 404 {
            break;
        }
        assert_eq!(
            (status, body["state"].as_str()),
            (200, Some("dropping")),
            "{body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(status, 404);
}
