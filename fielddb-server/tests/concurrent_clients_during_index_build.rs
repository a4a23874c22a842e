//! Eight clients doing 1,000 mixed operations each while an index builds; afterwards every
//! client's last writes read back and `/v1/verify` finds the index clean.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

#[test]
fn eight_clients_with_a_thousand_mixed_operations_each_leave_a_clean_index() {
    let s = Server::start();
    let c = client();
    for chunk in 0..4 {
        let ops: Vec<_> = (0..5000)
            .map(|i| json!({"put": format!("base{chunk}{i:05}"), "record": {"n": i % 97}}))
            .collect();
        assert_eq!(post(&c, &s, "/v1/batch", &json!({"ops": ops})).0, 200);
    }
    assert_eq!(post(&c, &s, "/v1/indexes", &json!({"field": "n"})).0, 202);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = &s;
                scope.spawn(move || {
                    let c = client();
                    let mut model: BTreeMap<String, Option<Value>> = BTreeMap::new();
                    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ t;
                    for i in 0..1000u64 {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        let key = format!("t{t}-{}", seed % 50);
                        match i % 5 {
                            0..=1 => {
                                let record = json!({"n": (seed % 97) as i64, "t": t});
                                assert_eq!(put(&c, s, &key, &record).0, 200);
                                model.insert(key, Some(record));
                            }
                            2 => {
                                let status = c
                                    .delete(s.url(&format!("/v1/records/{key}")))
                                    .send()
                                    .unwrap()
                                    .status()
                                    .as_u16();
                                assert!(status == 204 || status == 404);
                                model.insert(key, None);
                            }
                            3 => {
                                let ops = json!({"ops": [
                                    {"put": format!("{key}-b"), "record": {"n": 5, "t": t}},
                                    {"delete": format!("{key}-b")},
                                ]});
                                assert_eq!(post(&c, s, "/v1/batch", &ops).0, 200);
                            }
                            _ => {
                                let (status, _) = get(&c, s, "/v1/count?field=n&value=5");
                                assert!(status == 200 || status == 409, "{status}");
                            }
                        }
                    }
                    for (key, expected) in &model {
                        let (status, body) = get(&c, s, &format!("/v1/records/{key}"));
                        match expected {
                            Some(record) => assert_eq!(body["record"], *record, "{key}"),
                            None => assert_eq!(status, 404, "{key}"),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    wait_ready(&c, &s, "n");
    let (status, report) = get(&c, &s, "/v1/verify");
    assert_eq!(status, 200);
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(
        (report["missing"].clone(), report["stale"].clone()),
        (json!(0), json!(0))
    );
}
