//! A cluster of 3 nodes, 8 shards of 3 replicas: the rows of a generated CSV file loaded through
//! `POST /v1/batch` on every node (each batch within one shard) and into SQLite; then every
//! equality, range and prefix query, paged and unpaged, every count and the key-order scan,
//! through every node, equal SQLite's answers over the same rows. Every shard's replicas
//! converge to one content hash and `verify` is clean.
//!
//! Rows: `SHARD_ROWS` (default 6,000 at smoke size; the acceptance run used 100,000).

mod cluster_support;

use std::collections::BTreeMap;
use std::time::Duration;

use cluster_support::{env_number, Cluster};
use fielddb_cluster::placement::shard_of;
use serde_json::{json, Value};

const SHARDS: u32 = 8;

struct Row {
    key: String,
    city: String,
    age: i64,
    score: f64,
    name: String,
}

/// Writes `n` generated rows to a CSV file at `path` (`key,city,age,score,name`).
fn write_csv(path: &std::path::Path, n: u64) {
    let mut text = String::from("key,city,age,score,name\n");
    for i in 0..n {
        text.push_str(&format!(
            "r{i:06},c{:02},{},{},n{}\n",
            (i * 7) % 40,
            (i * 13) % 90,
            ((i * 37) % 1000) as f64 / 10.0,
            (i * 31) % n
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// The rows of the CSV file at `path`.
fn read_csv(path: &std::path::Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("key,city,age,score,name"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Row {
                key: f[0].to_owned(),
                city: f[1].to_owned(),
                age: f[2].parse().unwrap(),
                score: f[3].parse().unwrap(),
                name: f[4].to_owned(),
            }
        })
        .collect()
}

fn record(row: &Row) -> Value {
    json!({"city": row.city, "age": row.age, "score": row.score, "name": row.name})
}

/// Every key of a query or scan through node `id`, following `next` with pages of `limit`.
fn page_through(cluster: &Cluster, id: u64, path: &str, limit: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{path}&limit={limit}");
        if let Some(cursor) = &after {
            url.push_str(&format!("&after={cursor}"));
        }
        let (status, page) = cluster.get(id, &url);
        assert_eq!(status, 200, "{url}: {page}");
        for row in page["rows"].as_array().unwrap() {
            keys.push(row["key"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return keys,
        }
        assert!(keys.len() <= 10_000_000, "paging does not end");
    }
}

fn sqlite_keys(db: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut statement = db.prepare(sql).unwrap();
    let keys = statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap();
    keys.map(Result::unwrap).collect()
}

fn sqlite_count(db: &rusqlite::Connection, sql: &str) -> u64 {
    db.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap() as u64
}

#[test]
fn a_sharded_cluster_answers_every_query_as_sqlite_does_through_every_node() {
    let n = env_number("SHARD_ROWS", 6_000);
    let cluster = Cluster::start_sharded(3, SHARDS, 3, &[]);
    let csv = tempfile::NamedTempFile::new().unwrap();
    write_csv(csv.path(), n);
    let data = read_csv(csv.path());
    assert_eq!(data.len() as u64, n);

    // SQLite over the same rows.
    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    sqlite
        .execute_batch(
            "CREATE TABLE rows (key TEXT PRIMARY KEY, city TEXT, age INTEGER, score REAL, name TEXT);
             CREATE INDEX by_city ON rows(city); CREATE INDEX by_age ON rows(age);
             CREATE INDEX by_score ON rows(score); CREATE INDEX by_name ON rows(name);",
        )
        .unwrap();
    {
        let tx = sqlite.unchecked_transaction().unwrap();
        for row in &data {
            tx.execute(
                "INSERT INTO rows VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![row.key, row.city, row.age, row.score, row.name],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    // Init again: the same layout is a no-op; another one, or a malformed one, is refused.
    let (status, body) = cluster.post(
        2,
        "/v1/cluster/init",
        &json!({"shards": SHARDS, "replicas": 3}),
    );
    assert_eq!(
        (status, &body["initialized"]),
        (200, &json!(false)),
        "{body}"
    );
    let (status, body) = cluster.post(3, "/v1/cluster/init", &json!({"shards": 4}));
    assert_eq!(status, 409, "{body}");
    for bad in [
        json!({"shards": 0}),
        json!({"shards": "8"}),
        json!({"replicas": 4, "shards": 8}),
        json!({"shard": 8}),
        json!([8]),
    ] {
        let (status, body) = cluster.post(1, "/v1/cluster/init", &bad);
        assert!(status == 400 || status == 409, "{bad}: {status} {body}");
    }

    // Two indexes before the load, two after it (built while nothing writes).
    for field in ["city", "age"] {
        let (status, body) = cluster.post(
            2,
            "/v1/indexes",
            &json!({"field": field, "counted": field == "city"}),
        );
        assert_eq!(status, 202, "{body}");
    }
    let (status, body) = cluster.post(1, "/v1/indexes", &json!({"field": "name", "unique": true}));
    assert_eq!(
        status, 400,
        "a unique index over several shards is refused: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shards"),
        "{body}"
    );

    // The load: batches of up to 500 rows of one shard, sent round-robin to the three nodes.
    let mut by_shard: BTreeMap<u32, Vec<&Row>> = BTreeMap::new();
    for row in &data {
        by_shard
            .entry(shard_of(row.key.as_bytes(), SHARDS))
            .or_default()
            .push(row);
    }
    let mut sent = 0u64;
    for rows in by_shard.values() {
        for chunk in rows.chunks(500) {
            let ops: Vec<Value> = chunk
                .iter()
                .map(|row| json!({"put": row.key, "record": record(row)}))
                .collect();
            let node = 1 + sent % 3;
            let (status, body) = cluster.post(node, "/v1/batch", &json!({"ops": ops}));
            assert_eq!(status, 200, "batch to node {node}: {body}");
            sent += 1;
        }
    }
    // A batch over two shards is refused, naming them, and writes nothing.
    let (a, b) = (
        &data[0],
        data.iter()
            .find(|r| {
                shard_of(r.key.as_bytes(), SHARDS) != shard_of(data[0].key.as_bytes(), SHARDS)
            })
            .unwrap(),
    );
    let ops = json!({"ops": [{"delete": a.key}, {"delete": b.key}]});
    let (status, body) = cluster.post(3, "/v1/batch", &ops);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fall in shards"),
        "{body}"
    );

    for field in ["score", "name"] {
        let (status, body) = cluster.post(3, "/v1/indexes", &json!({"field": field}));
        assert_eq!(status, 202, "{body}");
    }
    // Every index becomes ready on every shard.
    let start = std::time::Instant::now();
    loop {
        let (status, list) = cluster.get(1, "/v1/indexes");
        assert_eq!(status, 200, "{list}");
        let states: Vec<&str> = list["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["state"].as_str().unwrap())
            .collect();
        if states.len() == 4 && states.iter().all(|s| *s == "ready") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "indexes not ready: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Several conditions are not scattered yet: refused with the reason.
    let filter = json!({"where": [{"field": "city", "value": "c07"}, {"field": "age", "op": "lt", "value": 30}]});
    let (status, body) = cluster.post(1, "/v1/query", &filter);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shards"),
        "{body}"
    );
    let (status, city) = cluster.get(2, "/v1/indexes/city");
    assert_eq!(status, 200, "{city}");
    assert_eq!(
        city["shards"].as_array().unwrap().len(),
        SHARDS as usize,
        "{city}"
    );

    let queries: Vec<(&str, &str, &str)> = vec![
        (
            "field=city&value=c07",
            "SELECT key FROM rows WHERE city = 'c07' ORDER BY city, key",
            "SELECT count(*) FROM rows WHERE city = 'c07'",
        ),
        (
            "field=age&op=between&value=20&value2=30",
            "SELECT key FROM rows WHERE age BETWEEN 20 AND 30 ORDER BY age, key",
            "SELECT count(*) FROM rows WHERE age BETWEEN 20 AND 30",
        ),
        (
            "field=age&op=gt&value=80&desc=true",
            "SELECT key FROM rows WHERE age > 80 ORDER BY age DESC, key DESC",
            "SELECT count(*) FROM rows WHERE age > 80",
        ),
        (
            "field=score&op=lt&value=5.5",
            "SELECT key FROM rows WHERE score < 5.5 ORDER BY score, key",
            "SELECT count(*) FROM rows WHERE score < 5.5",
        ),
        (
            "field=name&op=prefix&value=n12",
            "SELECT key FROM rows WHERE name >= 'n12' AND name < 'n13' ORDER BY name, key",
            "SELECT count(*) FROM rows WHERE name >= 'n12' AND name < 'n13'",
        ),
    ];
    for id in [1, 2, 3] {
        for (params, sql, count_sql) in &queries {
            let expected = sqlite_keys(&sqlite, sql);
            assert!(!expected.is_empty(), "{sql} matches nothing");
            let path = format!("/v1/query?{params}");
            let unpaged = page_through(&cluster, id, &path, 1000);
            assert_eq!(unpaged, expected, "node {id}: {path}");
            let paged = page_through(&cluster, id, &path, 37);
            assert_eq!(paged, expected, "node {id}: {path} in pages of 37");
            let count_params = params.replace("&desc=true", "");
            let (status, count) = cluster.get(id, &format!("/v1/count?{count_params}"));
            assert_eq!(status, 200, "{count}");
            assert_eq!(
                count["count"].as_u64().unwrap(),
                sqlite_count(&sqlite, count_sql),
                "node {id}: {params}"
            );
        }
        let scanned = page_through(&cluster, id, "/v1/records?from=r", 1000);
        assert_eq!(
            scanned,
            sqlite_keys(&sqlite, "SELECT key FROM rows ORDER BY key"),
            "node {id}"
        );
        let backwards = page_through(&cluster, id, "/v1/records?desc=true", 97);
        assert_eq!(
            backwards,
            sqlite_keys(&sqlite, "SELECT key FROM rows ORDER BY key DESC"),
            "node {id}"
        );
        // Single records, read through every node.
        for row in data.iter().step_by((n / 50).max(1) as usize) {
            let (status, got) = cluster.get(id, &format!("/v1/records/{}", row.key));
            assert_eq!(status, 200, "{got}");
            assert_eq!(got["record"], record(row), "node {id}: {}", row.key);
        }
    }

    // Every shard's replicas hold the same bytes; verify is clean over the whole cluster.
    let mut records = 0;
    for group in 1..=SHARDS {
        let hash = cluster.wait_group_converged(group, Duration::from_secs(60));
        records += hash["records"].as_u64().unwrap();
    }
    assert_eq!(records, n);
    let (status, report) = cluster.get(1, "/v1/verify");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["records"], json!(n), "{report}");
    assert_eq!(report["clean"], json!(true), "{report}");

    // Leadership spread by placement: each node leads about a third of the shards.
    let leaders = cluster.wait_shard_leaders(Duration::from_secs(10));
    let mut led: BTreeMap<u64, usize> = BTreeMap::new();
    for leader in &leaders {
        *led.entry(*leader).or_default() += 1;
    }
    println!("shard leaders {leaders:?}; shards led per node {led:?}");
}
