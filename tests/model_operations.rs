//! Random sequences of puts, deletes, batches, field updates and upserts, appends, index creates
//! and drops, waits and reopens, applied to FieldDb and to a plain in-memory model and compared after every step: records,
//! index states, and every query form (paged, both directions) on every ready index: on `x`, on
//! `y`, and on the compound index `x,y` (which holds the records having both, in (x, y, key)
//! order).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use fielddb::{
    Batch, Error, FieldDb, IndexSpec, IndexState, Options, Query, Record, Update, Value,
};
use proptest::prelude::*;
use support::{all_pages, field_values, model_answer};

const FIELDS: [&str; 2] = ["x", "y"];
/// The indexes a sequence may create and query, by name.
const INDEXES: [&str; 3] = ["x", "y", "x,y"];

/// The optional values of fields `x` and `y`.
type Fields = (Option<Value>, Option<Value>);

#[derive(Debug, Clone)]
enum Op {
    Put(u8, Option<Value>, Option<Value>),
    Delete(u8),
    /// A put (`Some`) or delete (`None`) per key.
    Batch(Vec<(u8, Option<Fields>)>),
    Create(usize),
    Drop(usize),
    Wait,
    Reopen,
    Query(usize, Query, usize, bool),
    /// Sets (`Some`) or removes (`None`) fields in order; an upsert when the flag is set.
    Update(u8, Vec<(usize, Option<Value>)>, bool),
    /// Appends a string to a field.
    Append(u8, usize, String),
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::Int),
        (-10i64..10).prop_map(|i| Value::Float(i as f64 / 2.0)),
        "[ab\\x00]{0,2}".prop_map(Value::from),
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 0..2).prop_map(Value::Bytes),
    ]
}

fn arb_query() -> impl Strategy<Value = Query> {
    let bound = prop_oneof![
        Just(Bound::Unbounded),
        arb_value().prop_map(Bound::Included),
        arb_value().prop_map(Bound::Excluded),
    ];
    prop_oneof![
        arb_value().prop_map(Query::Eq),
        (bound.clone(), bound).prop_map(|(lo, hi)| Query::Range { lo, hi }),
        "[ab\\x00]{0,2}".prop_map(|s| Query::Prefix(Value::from(s))),
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 0..2)
            .prop_map(|b| Query::Prefix(Value::Bytes(b))),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    let fields = || {
        (
            proptest::option::of(arb_value()),
            proptest::option::of(arb_value()),
        )
    };
    prop_oneof![
        6 => (0u8..12, fields()).prop_map(|(k, (x, y))| Op::Put(k, x, y)),
        2 => (0u8..12).prop_map(Op::Delete),
        2 => proptest::collection::vec((0u8..12, proptest::option::of(fields())), 1..5).prop_map(Op::Batch),
        1 => (0usize..3).prop_map(Op::Create),
        1 => (0usize..3).prop_map(Op::Drop),
        1 => Just(Op::Wait),
        1 => Just(Op::Reopen),
        3 => (0usize..3, arb_query(), 1usize..5, any::<bool>()).prop_map(|(f, q, p, r)| Op::Query(f, q, p, r)),
        3 => (0u8..12, proptest::collection::vec((0usize..2, proptest::option::of(arb_value())), 0..4), any::<bool>())
            .prop_map(|(k, changes, upsert)| Op::Update(k, changes, upsert)),
        2 => (0u8..12, 0usize..2, "[ab]{0,2}").prop_map(|(k, f, tail)| Op::Append(k, f, tail)),
    ]
}

/// The model of a query on the compound index `x,y`: the records holding both fields whose `x`
/// matches, in (x, y, key) order.
fn compound_answer(model: &BTreeMap<Vec<u8>, Record>, query: &Query) -> Vec<Vec<u8>> {
    let mut hits: Vec<(&Value, &Value, &Vec<u8>)> = model
        .iter()
        .filter_map(|(k, r)| Some((r.get("x")?, r.get("y")?, k)))
        .filter(|(x, _, _)| support::model_matches(query, x))
        .collect();
    hits.sort_by(|a, b| {
        a.0.cmp_order(b.0)
            .then_with(|| a.1.cmp_order(b.1))
            .then_with(|| a.2.cmp(b.2))
    });
    hits.into_iter().map(|(_, _, k)| k.clone()).collect()
}

fn record(x: &Option<Value>, y: &Option<Value>) -> Record {
    let mut r = Record::new().set("id", 1);
    if let Some(x) = x {
        r = r.set("x", x.clone());
    }
    if let Some(y) = y {
        r = r.set("y", y.clone());
    }
    r
}

fn key(k: u8) -> Vec<u8> {
    format!("k{k:02}").into_bytes()
}

fn open(dir: &std::path::Path) -> FieldDb {
    FieldDb::open_with(dir, Options::default().build_chunk_records(2)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fielddb_agrees_with_a_model_after_every_step(
        ops in proptest::collection::vec(arb_op(), 1..40),
        compound_first in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(dir.path());
        let mut model: BTreeMap<Vec<u8>, Record> = BTreeMap::new();
        let mut indexes: BTreeSet<&str> = BTreeSet::new();
        // Half the sequences start with the compound index, so its queries are often answered.
        if compound_first {
            db.create_index(IndexSpec::on_fields(["x", "y"])).unwrap().wait().unwrap();
            indexes.insert("x,y");
        }
        for op in &ops {
            match op {
                Op::Put(k, x, y) => {
                    db.put(key(*k), record(x, y)).unwrap();
                    model.insert(key(*k), record(x, y));
                }
                Op::Delete(k) => {
                    let existed = db.delete(key(*k)).unwrap();
                    prop_assert_eq!(existed, model.remove(&key(*k)).is_some());
                }
                Op::Batch(items) => {
                    let mut batch = Batch::new();
                    for (k, fields) in items {
                        match fields {
                            Some((x, y)) => {
                                batch.put(key(*k), record(x, y));
                                model.insert(key(*k), record(x, y));
                            }
                            None => {
                                batch.delete(key(*k));
                                model.remove(&key(*k));
                            }
                        }
                    }
                    db.write_batch(batch).unwrap();
                }
                Op::Create(f) => {
                    let spec = IndexSpec::on_fields(INDEXES[*f].split(','));
                    let result = db.create_index(spec);
                    if indexes.insert(INDEXES[*f]) {
                        prop_assert!(result.is_ok());
                    } else {
                        prop_assert!(matches!(result, Err(Error::IndexExists(_))));
                    }
                }
                Op::Drop(f) => {
                    let result = db.drop_index(INDEXES[*f]);
                    if indexes.remove(INDEXES[*f]) {
                        prop_assert!(result.is_ok());
                    } else {
                        prop_assert!(matches!(result, Err(Error::NoSuchIndex { .. })), "{:?}", result);
                    }
                }
                Op::Update(k, changes, upsert) => {
                    let mut update = Update::new();
                    for (f, value) in changes {
                        update = match value {
                            Some(v) => update.set(FIELDS[*f], v.clone()),
                            None => update.unset(FIELDS[*f]),
                        };
                    }
                    let result = if *upsert {
                        db.upsert(key(*k), &update)
                    } else {
                        db.update(key(*k), &update)
                    };
                    // The model: the changes in order on the old record (or on an empty one for
                    // an upsert); no record and no upsert is NotFound.
                    match model.get(&key(*k)).cloned().or_else(|| upsert.then(Record::new)) {
                        Some(mut expected) => {
                            for (f, value) in changes {
                                match value {
                                    Some(v) => { expected.insert(FIELDS[*f], v.clone()); }
                                    None => { expected.remove(FIELDS[*f]); }
                                }
                            }
                            prop_assert_eq!(result.unwrap(), expected.clone());
                            model.insert(key(*k), expected);
                        }
                        None => prop_assert!(matches!(result, Err(Error::NotFound(_))), "{:?}", result),
                    }
                }
                Op::Append(k, f, tail) => {
                    let result = db.append(key(*k), FIELDS[*f], tail.as_str());
                    let mut expected = model.get(&key(*k)).cloned().unwrap_or_default();
                    let appended = match expected.get(FIELDS[*f]).cloned() {
                        None => Some(Value::from(tail.as_str())),
                        Some(Value::Str(old)) => Some(Value::from(format!("{old}{tail}"))),
                        Some(_) => None,
                    };
                    match appended {
                        Some(value) => {
                            expected.insert(FIELDS[*f], value);
                            prop_assert_eq!(result.unwrap(), expected.clone());
                            model.insert(key(*k), expected);
                        }
                        None => prop_assert!(matches!(result, Err(Error::InvalidArgument(_))), "{:?}", result),
                    }
                }
                Op::Wait => db.wait_for_tasks(),
                Op::Reopen => {
                    drop(db);
                    db = open(dir.path());
                }
                Op::Query(f, query, page, reverse) => {
                    let field = INDEXES[*f];
                    match all_pages(&db, field, query, *page, *reverse) {
                        Ok(keys) => {
                            prop_assert!(indexes.contains(field));
                            let mut want = if field == "x,y" {
                                compound_answer(&model, query)
                            } else {
                                model_answer(field_values(&model, field), query)
                            };
                            let count = want.len();
                            if *reverse {
                                want.reverse();
                            }
                            prop_assert_eq!(keys, want, "{} {:?}", field, query);
                            prop_assert_eq!(db.count_by_index(field, query).unwrap() as usize, count);
                        }
                        Err(Error::IndexNotReady { .. }) => prop_assert!(indexes.contains(field)),
                        Err(Error::NoSuchIndex { .. }) => prop_assert!(!indexes.contains(field)),
                        Err(other) => prop_assert!(false, "unexpected error {}", other),
                    }
                }
            }
            // After every step: the records and the set of active indexes match the model.
            let stored: BTreeMap<Vec<u8>, Record> = db.scan(&fielddb::ScanOptions::new()).unwrap().rows.into_iter().collect();
            prop_assert_eq!(&stored, &model);
            let active: BTreeSet<String> = db
                .indexes()
                .into_iter()
                .filter(|i| i.state != IndexState::Dropping)
                .map(|i| i.field)
                .collect();
            prop_assert_eq!(active, indexes.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
        }
        db.wait_for_tasks();
        let report = db.verify().unwrap();
        prop_assert!(report.is_clean(), "{:?}", report);
        prop_assert_eq!(report.indexes.len(), indexes.len());
    }
}
