//! Indexes over HTTP: create (202 with a status URL), list, status, query by every operator
//! with cursors, count, drop (202), and the errors for unknown and duplicate indexes.

mod common;

use common::*;
use serde_json::{json, Value};

fn keys(body: &Value) -> Vec<String> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

fn people(c: &reqwest::blocking::Client, s: &Server) {
    let ops = json!({"ops": [
        {"put": "ada", "record": {"name": "Ada Lovelace", "born": 1815}},
        {"put": "alan", "record": {"name": "Alan Turing", "born": 1912}},
        {"put": "grace", "record": {"name": "Grace Hopper", "born": 1906.5}},
        {"put": "blob", "record": {"name": {"$base64": "AP8="}, "born": "unknown"}},
        {"put": "anon", "record": {"born": null}},
    ]});
    assert_eq!(post(c, s, "/v1/batch", &ops).0, 200);
}

#[test]
fn a_created_index_is_accepted_with_its_status_url_and_becomes_ready() {
    let s = Server::start();
    let c = client();
    people(&c, &s);
    let resp = c
        .post(s.url("/v1/indexes"))
        .json(&json!({"field": "born"}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    assert_eq!(resp.headers()["location"], "/v1/indexes/born");
    let (_, body) = json(resp);
    assert_eq!(body["status"], "/v1/indexes/born");
    assert_eq!(body["unique"], false);
    wait_ready(&c, &s, "born");
    let (status, body) = get(&c, &s, "/v1/indexes/born");
    assert_eq!(status, 200);
    assert_eq!(
        (body["state"].clone(), body["progress"].clone()),
        (json!("ready"), json!(1.0))
    );
    let (_, list) = get(&c, &s, "/v1/indexes");
    assert_eq!(list["indexes"].as_array().unwrap().len(), 1);
    let (status, body) = post(&c, &s, "/v1/indexes", &json!({"field": "born"}));
    assert_eq!((status, code(&body)), (409, "index_exists"));
}

#[test]
fn queries_support_every_operator_and_literal_kind() {
    let s = Server::start();
    let c = client();
    people(&c, &s);
    post(&c, &s, "/v1/indexes", &json!({"field": "born"}));
    post(&c, &s, "/v1/indexes", &json!({"field": "name"}));
    wait_ready(&c, &s, "born");
    wait_ready(&c, &s, "name");
    let q = |path: &str| {
        let (status, body) = get(&c, &s, path);
        assert_eq!(status, 200, "{path}: {body}");
        keys(&body)
    };
    assert_eq!(q("/v1/query?field=born&value=1912"), ["alan"]);
    assert_eq!(q("/v1/query?field=born&op=eq&value=1912.0"), ["alan"]);
    assert_eq!(q("/v1/query?field=born&op=lt&value=1906.5"), ["ada"]);
    assert_eq!(
        q("/v1/query?field=born&op=le&value=1906.5"),
        ["ada", "grace"]
    );
    assert_eq!(
        q("/v1/query?field=born&op=gt&value=1900"),
        ["grace", "alan"]
    );
    assert_eq!(q("/v1/query?field=born&op=ge&value=1912"), ["alan"]);
    assert_eq!(
        q("/v1/query?field=born&op=between&value=1800&value2=1910"),
        ["ada", "grace"]
    );
    assert_eq!(
        q("/v1/query?field=born&op=gt&value=1900&desc=true"),
        ["alan", "grace"]
    );
    assert_eq!(q("/v1/query?field=born&value=null"), ["anon"]);
    assert_eq!(q("/v1/query?field=born&value=unknown"), ["blob"]);
    assert_eq!(q("/v1/query?field=name&op=prefix&value=%22Al%22"), ["alan"]);
    assert_eq!(q("/v1/query?field=name&value=0x00ff"), ["blob"]);
    let (_, body) = get(
        &c,
        &s,
        "/v1/count?field=born&op=between&value=1800&value2=2000",
    );
    assert_eq!(body, json!({"count": 3}));
}

#[test]
fn a_query_pages_with_the_hex_next_cursor() {
    let s = Server::start();
    let c = client();
    let ops: Vec<_> = (0..10)
        .map(|i| json!({"put": format!("k{i}"), "record": {"n": i % 3}}))
        .collect();
    post(&c, &s, "/v1/batch", &json!({"ops": ops}));
    post(&c, &s, "/v1/indexes", &json!({"field": "n"}));
    wait_ready(&c, &s, "n");
    let mut all = Vec::new();
    let mut path = "/v1/query?field=n&op=ge&value=0&limit=3".to_string();
    loop {
        let (status, body) = get(&c, &s, &path);
        assert_eq!(status, 200, "{body}");
        all.extend(keys(&body));
        match body["next"].as_str() {
            Some(next) => {
                assert!(next.chars().all(|ch| ch.is_ascii_hexdigit()));
                path = format!("/v1/query?field=n&op=ge&value=0&limit=3&after={next}");
            }
            None => break,
        }
    }
    assert_eq!(
        all,
        ["k0", "k3", "k6", "k9", "k1", "k4", "k7", "k2", "k5", "k8"]
    );
    let (status, body) = get(&c, &s, "/v1/query?field=n&value=0&after=xyz");
    assert_eq!((status, code(&body)), (400, "bad_request"));
}

#[test]
fn a_dropped_index_is_accepted_then_gone() {
    let s = Server::start();
    let c = client();
    people(&c, &s);
    post(&c, &s, "/v1/indexes", &json!({"field": "born"}));
    wait_ready(&c, &s, "born");
    let (status, body) = json(c.delete(s.url("/v1/indexes/born")).send().unwrap());
    assert_eq!((status, body["state"].as_str()), (202, Some("dropping")));
    let (status, body) = get(&c, &s, "/v1/query?field=born&value=1815");
    assert!(status == 404 || status == 409, "{status} {body}");
    for _ in 0..500 {
        if get(&c, &s, "/v1/indexes/born").0 == 404 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (status, body) = get(&c, &s, "/v1/indexes/born");
    assert_eq!((status, code(&body)), (404, "no_such_index"));
    let (status, body) = json(c.delete(s.url("/v1/indexes/born")).send().unwrap());
    assert_eq!((status, code(&body)), (404, "no_such_index"));
}

#[test]
fn a_query_on_an_unknown_index_is_404() {
    let s = Server::start();
    let c = client();
    let (status, body) = get(&c, &s, "/v1/query?field=nope&value=1");
    assert_eq!((status, code(&body)), (404, "no_such_index"));
    let (status, body) = get(&c, &s, "/v1/count?field=nope&value=1");
    assert_eq!((status, code(&body)), (404, "no_such_index"));
}

#[test]
fn a_counted_index_says_so_and_counts_an_equality_through_every_change() {
    let s = Server::start();
    let c = client();
    people(&c, &s);
    let (status, body) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"field": "born", "counted": true}),
    );
    assert_eq!(
        (status, body["counted"].clone()),
        (202, json!(true)),
        "{body}"
    );
    wait_ready(&c, &s, "born");
    let count = |c: &reqwest::blocking::Client| get(c, &s, "/v1/count?field=born&value=1912").1;
    assert_eq!(count(&c), json!({"count": 1}));
    let ops = json!({"ops": [
        {"put": "x", "record": {"born": 1912}},
        {"put": "y", "record": {"born": 1912.0}},
        {"delete": "alan"},
    ]});
    assert_eq!(post(&c, &s, "/v1/batch", &ops).0, 200);
    assert_eq!(count(&c), json!({"count": 2}));
    let (_, report) = get(&c, &s, "/v1/verify");
    assert_eq!(
        (report["clean"].clone(), report["wrong_counts"].clone()),
        (json!(true), json!(0))
    );
    let (status, body) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"field": "name", "counted": "yes"}),
    );
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
}

#[test]
fn a_covering_index_is_created_listed_and_answers_queries_for_some_fields() {
    let s = Server::start();
    let c = client();
    people(&c, &s);
    let body = json!({"field": "born", "include": ["name"]});
    let (status, created) = post(&c, &s, "/v1/indexes", &body);
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["include"], json!(["name"]));
    wait_ready(&c, &s, "born");
    let (status, page) = get(
        &c,
        &s,
        "/v1/query?field=born&op=gt&value=1900&fields=name,born",
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["rows"],
        json!([
            {"key": "grace", "record": {"name": "Grace Hopper", "born": 1906.5}},
            {"key": "alan", "record": {"name": "Alan Turing", "born": 1912}}
        ])
    );
    let filter =
        json!({"where": [{"field": "born", "op": "lt", "value": 1900}], "fields": ["name"]});
    let (status, page) = post(&c, &s, "/v1/query", &filter);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["rows"],
        json!([{"key": "ada", "record": {"name": "Ada Lovelace"}}])
    );
    let (status, plan) = get(&c, &s, "/v1/query?where=born%20%3E%201900&explain=1");
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["plan"]["include"], json!(["name"]), "{plan}");
    // Bad lists are refused.
    let (status, body) = get(&c, &s, "/v1/query?field=born&value=1&fields=name,");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&c, &s, "/v1/query?field=born&value=1&fields=name,name");
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"field": "name", "include": 3}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"field": "name", "include": ["name"]}),
    );
    assert_eq!(status, 400, "{body}");
    let (_, list) = get(&c, &s, "/v1/indexes");
    assert_eq!(list["indexes"].as_array().unwrap().len(), 1, "{list}");
}
