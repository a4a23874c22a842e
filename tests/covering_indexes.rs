//! Covering indexes (`IndexSpec::include`, `include_all`) and queries asking for some fields
//! (`QueryOptions::fields`): random records are written, then indexes covering some fields, the
//! whole record or nothing are built over them, then puts, deletes, field updates and batches
//! go on; every query, with and without a list of wanted fields, must answer what a plain
//! in-memory model answers, and `verify` must find every covered value as the record holds it.

mod support;

use std::collections::BTreeMap;

use fielddb::{
    Batch, Covering, Error, FieldDb, Filter, IndexSpec, Options, Query, QueryOptions, Record,
    Update, Value,
};
use proptest::prelude::*;
use support::{field_values, model_answer};

const FIELDS: [&str; 4] = ["a", "b", "c", "d"];

/// Fields as (field number, value), in the order the record holds them.
type Fields = Vec<(usize, Value)>;

#[derive(Debug, Clone)]
enum Op {
    Put(u8, Fields),
    Delete(u8),
    /// Sets (`Some`) or removes (`None`) one field; an upsert.
    Update(u8, usize, Option<Value>),
    Batch(Vec<(u8, Option<Fields>)>),
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..3).prop_map(Value::Int),
        "[xy]{0,2}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn arb_fields() -> impl Strategy<Value = Fields> {
    proptest::collection::vec((0usize..4, arb_value()), 0..5).prop_map(|mut fields| {
        let mut seen = [false; 4];
        fields.retain(|(i, _)| !std::mem::replace(&mut seen[*i], true));
        fields
    })
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..10, arb_fields()).prop_map(|(k, f)| Op::Put(k, f)),
        1 => (0u8..10).prop_map(Op::Delete),
        3 => (0u8..10, 0usize..4, proptest::option::of(arb_value()))
            .prop_map(|(k, f, v)| Op::Update(k, f, v)),
        1 => proptest::collection::vec((0u8..10, proptest::option::of(arb_fields())), 1..4)
            .prop_map(Op::Batch),
    ]
}

/// Which fields a query asks for: all (`None`), or some, in an order of their own.
fn arb_wanted() -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(
        proptest::sample::subsequence(FIELDS.to_vec(), 1..=4)
            .prop_shuffle()
            .prop_map(|names| names.into_iter().map(String::from).collect()),
    )
}

fn key(k: u8) -> Vec<u8> {
    format!("k{k}").into_bytes()
}

fn record(fields: &Fields) -> Record {
    let mut record = Record::new();
    for (i, value) in fields {
        record.push(FIELDS[*i], value.clone());
    }
    record
}

/// The fields of `record` among `wanted`, in the order of `wanted`.
fn project(record: &Record, wanted: Option<&[String]>) -> Record {
    match wanted {
        None => record.clone(),
        Some(wanted) => {
            let mut out = Record::new();
            for name in wanted {
                if let Some(v) = record.get(name) {
                    out.push(name.as_str(), v.clone());
                }
            }
            out
        }
    }
}

fn apply(db: &FieldDb, model: &mut BTreeMap<Vec<u8>, Record>, op: &Op) {
    match op {
        Op::Put(k, fields) => {
            db.put(key(*k), record(fields)).unwrap();
            model.insert(key(*k), record(fields));
        }
        Op::Delete(k) => {
            db.delete(key(*k)).unwrap();
            model.remove(&key(*k));
        }
        Op::Update(k, field, value) => {
            let update = match value {
                Some(v) => Update::new().set(FIELDS[*field], v.clone()),
                None => Update::new().unset(FIELDS[*field]),
            };
            let written = db.upsert(key(*k), &update).unwrap();
            let mut expected = model.get(&key(*k)).cloned().unwrap_or_default();
            update.apply_to(&mut expected);
            assert_eq!(written, expected);
            model.insert(key(*k), expected);
        }
        Op::Batch(ops) => {
            let mut batch = Batch::new();
            for (k, put) in ops {
                match put {
                    Some(fields) => {
                        batch.put(key(*k), record(fields));
                        model.insert(key(*k), record(fields));
                    }
                    None => {
                        batch.delete(key(*k));
                        model.remove(&key(*k));
                    }
                }
            }
            db.write_batch(batch).unwrap();
        }
    }
}

/// The indexes of the test: a covering list, the whole record, nothing (a query wanting only
/// `c` is still answered from its entries), and a compound index covering one more field.
fn specs() -> Vec<IndexSpec> {
    vec![
        IndexSpec::on("a").include(["b", "c"]),
        IndexSpec::on("b").include_all(),
        IndexSpec::on("c"),
        IndexSpec::on_fields(["a", "d"]).include(["b"]),
    ]
}

fn check_queries(
    db: &FieldDb,
    model: &BTreeMap<Vec<u8>, Record>,
    queries: &[(usize, Query, Option<Vec<String>>, bool)],
) {
    for (index, query, wanted, reverse) in queries {
        let field = ["a", "b", "c"][*index];
        let mut expected = model_answer(field_values(model, field), query);
        if *reverse {
            expected.reverse();
        }
        let mut options = QueryOptions::new().reverse(*reverse);
        if let Some(w) = wanted {
            options = options.fields(w.clone());
        }
        let page = db.query_by_index(field, query, &options).unwrap();
        let keys: Vec<Vec<u8>> = page.rows.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, expected, "{field} {query:?}");
        // Streamed, the rows are the same, read in place.
        let mut streamed = Vec::new();
        db.query_by_index_each(field, query, &options, |k, view| {
            streamed.push((k.to_vec(), view.to_record()));
        })
        .unwrap();
        assert_eq!(streamed, page.rows, "{field} {query:?} streamed");
        for (k, got) in &page.rows {
            assert_eq!(
                got,
                &project(&model[k], wanted.as_deref()),
                "{field} {query:?}"
            );
        }

        // The compound index, through a filter: `a` equal, any `d`; ordered by (d, key).
        let a = Value::Int(*index as i64);
        let filter = Filter::eq("a", a.clone()).and(Filter::on("d", Query::prefix("")));
        let mut expected: Vec<(&Value, &Vec<u8>)> = model
            .iter()
            .filter(|(_, r)| r.get("a").is_some_and(|v| v == &a))
            .filter_map(|(k, r)| match r.get("d") {
                Some(d @ Value::Str(_)) => Some((d, k)),
                _ => None,
            })
            .collect();
        expected.sort_by(|x, y| x.0.cmp_order(y.0).then(x.1.cmp(y.1)));
        if *reverse {
            expected.reverse();
        }
        let page = db.query(&filter, &options).unwrap();
        let got: Vec<&Vec<u8>> = page.rows.iter().map(|(k, _)| k).collect();
        let want: Vec<&Vec<u8>> = expected.iter().map(|(_, k)| *k).collect();
        assert_eq!(got, want, "a = {a} and d prefix \"\"");
        for (k, got) in &page.rows {
            assert_eq!(got, &project(&model[k], wanted.as_deref()));
        }
    }
}

fn arb_query() -> impl Strategy<Value = Query> {
    prop_oneof![
        arb_value().prop_map(Query::Eq),
        (0i64..3, 0i64..3).prop_map(|(lo, hi)| Query::between(lo, hi)),
        "[xy]{0,1}".prop_map(Query::prefix),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn covering_indexes_answer_every_query_as_the_records_do(
        before in proptest::collection::vec(arb_op(), 0..20),
        after in proptest::collection::vec(arb_op(), 0..30),
        queries in proptest::collection::vec(
            (0usize..3, arb_query(), arb_wanted(), any::<bool>()), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        // Small build steps, so a build over the records takes several.
        let db = FieldDb::open_with(dir.path(), Options::default().build_chunk_records(3)).unwrap();
        let mut model = BTreeMap::new();
        for op in &before {
            apply(&db, &mut model, op);
        }
        for spec in specs() {
            db.create_index(spec).unwrap().wait().unwrap();
        }
        for op in &after {
            apply(&db, &mut model, op);
        }
        let report = db.verify().unwrap();
        prop_assert!(report.is_clean(), "{report:?}");
        check_queries(&db, &model, &queries);
        // The definitions, covering included, survive a reopen.
        drop(db);
        let db = FieldDb::open(dir.path()).unwrap();
        let covering: Vec<Covering> = db.indexes().into_iter().map(|i| i.covering).collect();
        let specs: Vec<Covering> = specs().iter().map(|s| s.covering().clone()).collect();
        prop_assert_eq!(covering, specs);
        check_queries(&db, &model, &queries);
    }
}

#[test]
fn a_change_to_an_included_field_rewrites_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("k", Record::new().set("city", "Oslo").set("name", "Ada"))
        .unwrap();
    db.create_index(IndexSpec::on("city").include(["name"]))
        .unwrap()
        .wait()
        .unwrap();
    let wanted = QueryOptions::new().fields(["name", "city"]);
    let oslo = Query::eq("Oslo");
    db.update("k", &Update::new().set("name", "Bea")).unwrap();
    let page = db.query_by_index("city", &oslo, &wanted).unwrap();
    assert_eq!(
        page.rows,
        vec![(
            b"k".to_vec(),
            Record::new().set("name", "Bea").set("city", "Oslo")
        )]
    );
    // A field the index does not include is read from the record.
    db.update("k", &Update::new().set("age", 7).unset("name"))
        .unwrap();
    let page = db
        .query_by_index("city", &oslo, &QueryOptions::new().fields(["age", "name"]))
        .unwrap();
    assert_eq!(page.rows[0].1, Record::new().set("age", 7));
    let page = db.query_by_index("city", &oslo, &wanted).unwrap();
    assert_eq!(page.rows[0].1, Record::new().set("city", "Oslo"));
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn explain_names_what_the_chosen_index_covers() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("city").include(["name", "score"]))
        .unwrap()
        .wait()
        .unwrap();
    let plan = db.explain(&Filter::eq("city", "Oslo")).unwrap();
    assert_eq!(
        plan.covering,
        Covering::Fields(vec!["name".into(), "score".into()])
    );
}

#[test]
fn bad_covering_and_bad_field_lists_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("k", Record::new().set("city", "Oslo")).unwrap();
    for spec in [
        IndexSpec::on("city").include(Vec::<String>::new()),
        IndexSpec::on("city").include(["city"]),
        IndexSpec::on("city").include(["name", "name"]),
        IndexSpec::on("city").include([""]),
    ] {
        let err = db.create_index(spec.clone()).err().expect("refused");
        assert!(matches!(err, Error::InvalidArgument(_)), "{spec:?}: {err}");
    }
    assert!(db.indexes().is_empty());
    db.create_index(IndexSpec::on("city").include_all())
        .unwrap()
        .wait()
        .unwrap();
    for fields in [vec![], vec!["a", "a"], vec![""]] {
        let options = QueryOptions::new().fields(fields.clone());
        let err = db
            .query_by_index("city", &Query::eq("Oslo"), &options)
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{fields:?}: {err}"
        );
        let err = db.query(&Filter::eq("city", "Oslo"), &options).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{fields:?}: {err}"
        );
    }
}

#[test]
fn compaction_moves_records_and_entries_to_files_and_queries_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("city").include_all())
        .unwrap()
        .wait()
        .unwrap();
    for i in 0..300 {
        let record = Record::new()
            .set("city", ["Oslo", "Rome"][i % 2])
            .set("n", i as i64);
        db.put(format!("k{i:03}"), record).unwrap();
    }
    for i in 0..100 {
        db.delete(format!("k{i:03}")).unwrap();
    }
    let oslo = Query::eq("Oslo");
    let before = db
        .query_by_index("city", &oslo, &QueryOptions::new())
        .unwrap();
    assert_eq!(db.storage_stats().unwrap().kv_file_bytes, 0);
    db.compact().unwrap();
    let stats = db.storage_stats().unwrap();
    assert!(
        stats.kv_file_bytes > 0 && stats.index_file_bytes > 0,
        "{stats:?}"
    );
    let after = db
        .query_by_index("city", &oslo, &QueryOptions::new())
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(after.rows.len(), 100);
    assert!(db.verify().unwrap().is_clean());
}
