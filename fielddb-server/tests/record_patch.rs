//! `PATCH /v1/records/{key}` with a JSON merge patch: members set fields (in place, new ones at
//! the end), `null` removes one, `{"$null": true}` stores a null; an index on a patched field
//! follows; without a record it is 404 unless `upsert=true`; a bad patch changes nothing.

mod common;

use common::{client, code, get, json, post, put, wait_ready, Server};
use serde_json::json;

#[test]
fn a_merge_patch_sets_removes_and_nulls_fields_and_the_index_follows() {
    let server = Server::start();
    let c = client();
    assert_eq!(
        put(
            &c,
            &server,
            "ada",
            &json!({"name": "Ada", "city": "London", "note": "x"})
        )
        .0,
        200
    );
    let (status, _) = post(&c, &server, "/v1/indexes", &json!({"field": "city"}));
    assert_eq!(status, 202);
    wait_ready(&c, &server, "city");

    let patch = |key: &str, query: &str, body: serde_json::Value| {
        json(
            c.patch(server.url(&format!("/v1/records/{key}{query}")))
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    let (status, body) = patch(
        "ada",
        "",
        json!({"city": "Paris", "note": null, "born": 1815, "spouse": {"$null": true}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["record"],
        json!({"name": "Ada", "city": "Paris", "born": 1815, "spouse": null}),
        "{body}"
    );
    // The index moved with the field.
    let (_, found) = get(&c, &server, "/v1/query?field=city&value=Paris");
    assert_eq!(found["rows"][0]["key"], "ada", "{found}");
    let (_, gone) = get(&c, &server, "/v1/query?field=city&value=London");
    assert_eq!(gone["rows"], json!([]), "{gone}");

    // No record: 404, unless upsert.
    let (status, body) = patch("alan", "", json!({"name": "Alan"}));
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let (status, body) = patch("alan", "?upsert=true", json!({"name": "Alan"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["record"], json!({"name": "Alan"}));

    // A bad patch changes nothing.
    let (status, body) = patch("ada", "", json!({"city": {"nested": 1}}));
    assert_eq!(status, 400, "{body}");
    let (status, body) = patch("ada", "", json!(["not", "an", "object"]));
    assert_eq!(status, 400, "{body}");
    let (_, still) = get(&c, &server, "/v1/records/ada");
    assert_eq!(still["record"]["city"], "Paris", "{still}");
    let (_, report) = get(&c, &server, "/v1/verify");
    assert_eq!(report["clean"], true, "{report}");
}
