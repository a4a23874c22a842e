//! SIGTERM while clients write and an index builds: the server finishes in-flight requests,
//! exits 0, and every acknowledged put is in the database when it is reopened with the library.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use fielddb::{FieldDb, Value};
use serde_json::json;

#[test]
fn sigterm_during_load_loses_no_acknowledged_write() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("db");
    let mut s = Server::start_in(&dir, &[]);
    let c = client();
    for chunk in 0..10 {
        let ops: Vec<_> = (0..5000)
            .map(|i| json!({"put": format!("base{chunk}{i:05}"), "record": {"n": i}}))
            .collect();
        assert_eq!(post(&c, &s, "/v1/batch", &json!({"ops": ops})).0, 200);
    }
    assert_eq!(post(&c, &s, "/v1/indexes", &json!({"field": "n"})).0, 202);
    let stop = AtomicBool::new(false);
    let base = s.base.clone();
    let acknowledged: Vec<Vec<(String, i64)>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (base, stop) = (&base, &stop);
                scope.spawn(move || {
                    let c = client();
                    let mut acked = Vec::new();
                    for i in 0i64.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let key = format!("w{t}-{i}");
                        let sent = c
                            .put(format!("{base}/v1/records/{key}"))
                            .json(&json!({"n": i, "w": t}))
                            .send();
                        match sent {
                            Ok(resp) if resp.status().as_u16() == 200 => acked.push((key, i)),
                            // Refused or cut off by the shutdown: not acknowledged.
                            _ => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        assert!(s.terminate(), "the server did not exit cleanly");
        stop.store(true, Ordering::Relaxed);
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let total: usize = acknowledged.iter().map(Vec::len).sum();
    assert!(total > 0, "no write was acknowledged before SIGTERM");
    let db = FieldDb::open(&dir).unwrap();
    for (key, i) in acknowledged.iter().flatten() {
        let record = db.get(key).unwrap().unwrap_or_else(|| panic!("lost {key}"));
        assert_eq!(record.get("n"), Some(&Value::Int(*i)));
    }
    // The interrupted build resumes from its cursor and finishes clean.
    db.wait_for_tasks();
    assert!(db.verify().unwrap().is_clean());
    let writers_at_3 = acknowledged
        .iter()
        .flatten()
        .filter(|(_, i)| *i == 3)
        .count() as u64;
    assert_eq!(
        db.count_by_index("n", &fielddb::Query::eq(3)).unwrap(),
        10 + writers_at_3
    );
}
