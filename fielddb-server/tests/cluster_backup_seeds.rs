//! A backup of a cluster node's replica, taken while the cluster runs, records the log id the
//! replica had applied; it restores to a single-node database, and it seeds a new 3-node
//! cluster (every member started with `--seed-backup`) that holds exactly the backed-up records
//! and indexes, the same bytes on every member.

mod cluster_support;

use std::time::Duration;

use cluster_support::Cluster;
use serde_json::json;

#[test]
fn a_node_backup_restores_to_a_single_node_and_seeds_a_new_cluster() {
    let temp = tempfile::tempdir().unwrap();
    let backups = temp.path().join("backups");
    let cluster = Cluster::start(3, &["--backup-dir", backups.to_str().unwrap()]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    let (status, body) = cluster.post(
        leader,
        "/v1/indexes",
        &json!({"field": "city", "counted": true}),
    );
    assert_eq!(status, 202, "{body}");
    for i in 0..500 {
        let (status, body) = cluster.put(
            1 + i % 3,
            &format!("k{i:04}"),
            &json!({"city": format!("c{}", i % 7), "n": i}),
        );
        assert_eq!(status, 200, "{body}");
    }
    let converged = cluster.wait_converged(Duration::from_secs(30));
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let (status, answer) = cluster.post(follower, "/v1/admin/backups", &json!({}));
    assert_eq!(status, 200, "{answer}");
    let backup = &answer["targets"][0]["backup"];
    assert_eq!(
        backup["applied"]["index"], converged["applied"],
        "the backup records the log id applied: {answer}"
    );
    // Written after the backup: in no copy made from it.
    let (status, _) = cluster.put(leader, "later", &json!({"city": "c1"}));
    assert_eq!(status, 200);
    drop(cluster);

    // A single node restored from it.
    let single = temp.path().join("single");
    fielddb::restore_backup(&backups, fielddb::BackupId::Latest, &single).unwrap();
    let db = fielddb::FieldDb::open(&single).unwrap();
    let report = db.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.records, 500);
    assert_eq!(
        db.count_by_index("city", &fielddb::Query::Eq("c3".into()))
            .unwrap(),
        71
    );
    assert!(db.get("later").unwrap().is_none());
    drop(db);

    // A new cluster seeded from it.
    let seeded = Cluster::launch(
        3,
        &["--seed-backup", backups.to_str().unwrap()],
        reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        "http",
    );
    let (status, body) = seeded.post(2, "/v1/cluster/init", &json!({}));
    assert_eq!(status, 200, "{body}");
    seeded.wait_leader(Duration::from_secs(15));
    let hash = seeded.wait_converged(Duration::from_secs(30));
    assert_eq!(hash["records"], json!(500), "{hash}");
    assert_eq!(
        hash["hash"], converged["hash"],
        "the same bytes as the backed-up replica"
    );
    let (status, count) = seeded.get(3, "/v1/count?field=city&value=c3");
    assert_eq!((status, &count["count"]), (200, &json!(71)), "{count}");
    // A query with several conditions, through a follower (a read, at the leader).
    let filter = json!({"where": [{"field": "city", "value": "c3"}, {"field": "n", "op": "lt", "value": 30}]});
    let (status, rows) = seeded.post(3, "/v1/query", &filter);
    assert_eq!(status, 200, "{rows}");
    let keys: Vec<&str> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["k0003", "k0010", "k0017", "k0024"], "{rows}");
    let (status, _) = seeded.get(1, "/v1/records/later");
    assert_eq!(status, 404);
    let (status, body) = seeded.put(1, "new", &json!({"city": "c0"}));
    assert_eq!(status, 200, "{body}");
    let (status, report) = seeded.get(2, "/v1/verify");
    assert_eq!((status, &report["clean"]), (200, &json!(true)), "{report}");
}
