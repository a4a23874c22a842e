//! Queries with several conditions answer what a full scan with the documented semantics says,
//! whichever index the planner picks: random records, random single-field and compound indexes
//! among the fields, random filters of one to three conditions, paged with random limits in
//! both directions; counts agree too. A filter no ready index serves is refused by name.

mod support;

use std::collections::BTreeMap;

use fielddb::{Error, FieldDb, Filter, IndexSpec, Query, QueryOptions, Record, Value};
use proptest::prelude::*;
use support::model_matches;

const FIELDS: [&str; 3] = ["a", "b", "c"];

/// The indexes a case may create, by their fields' positions in `FIELDS`.
const INDEXES: [&[usize]; 7] = [&[0], &[1], &[2], &[0, 1], &[1, 2], &[2, 0], &[0, 1, 2]];

fn arb_value(field: usize) -> BoxedStrategy<Value> {
    match field {
        0 => (0i64..6).prop_map(Value::Int).boxed(),
        1 => "[xy]{1,2}".prop_map(Value::from).boxed(),
        _ => (-4i64..4)
            .prop_map(|i| Value::Float(i as f64 / 2.0))
            .boxed(),
    }
}

fn arb_condition() -> impl Strategy<Value = (String, Query)> {
    (0usize..3).prop_flat_map(|f| {
        let query = prop_oneof![
            arb_value(f).prop_map(Query::Eq),
            arb_value(f).prop_map(Query::ge),
            arb_value(f).prop_map(Query::lt),
            (arb_value(f), arb_value(f)).prop_map(|(lo, hi)| Query::between(lo, hi)),
        ];
        let query = if f == 1 {
            prop_oneof![
                query,
                "[xy]{0,1}".prop_map(|p| Query::Prefix(Value::from(p)))
            ]
            .boxed()
        } else {
            query.boxed()
        };
        query.prop_map(move |q| (FIELDS[f].to_owned(), q))
    })
}

fn arb_record() -> impl Strategy<Value = Vec<Option<Value>>> {
    (
        proptest::option::weighted(0.9, arb_value(0)),
        proptest::option::weighted(0.9, arb_value(1)),
        proptest::option::weighted(0.9, arb_value(2)),
    )
        .prop_map(|(a, b, c)| vec![a, b, c])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_plan_answers_what_a_full_scan_answers(
        records in proptest::collection::vec(arb_record(), 0..60),
        indexed in proptest::collection::btree_set(0usize..INDEXES.len(), 0..4),
        counted in any::<bool>(),
        conditions in proptest::collection::vec(arb_condition(), 1..4),
        limit in 1usize..9,
        reverse in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        let mut model: BTreeMap<Vec<u8>, Record> = BTreeMap::new();
        for (i, values) in records.iter().enumerate() {
            let mut record = Record::new();
            for (f, v) in values.iter().enumerate() {
                if let Some(v) = v {
                    record = record.set(FIELDS[f], v.clone());
                }
            }
            let key = format!("k{i:03}").into_bytes();
            db.put(&key, record.clone()).unwrap();
            model.insert(key, record);
        }
        for i in &indexed {
            let spec = IndexSpec::on_fields(INDEXES[*i].iter().map(|f| FIELDS[*f]));
            let spec = if counted { spec.counted() } else { spec };
            db.create_index(spec).unwrap().wait().unwrap();
        }
        let filter = conditions
            .iter()
            .cloned()
            .map(|(f, q)| Filter::on(f, q))
            .reduce(Filter::and)
            .unwrap();
        // An index serves when its first field has a condition, and (compound) each field does.
        let has_condition = |f: usize| conditions.iter().any(|(c, _)| c == FIELDS[f]);
        let servable = indexed.iter().any(|i| INDEXES[*i].iter().all(|f| has_condition(*f)));
        let first = db.query(&filter, &QueryOptions::new().limit(limit).reverse(reverse));
        if !servable {
            let refused = matches!(first, Err(Error::NoSuchIndex { .. }));
            prop_assert!(refused, "{:?}", first);
            return Ok(());
        }
        let plan = db.explain(&filter).unwrap();
        let plan_fields: Vec<&str> = plan.index.split(',').collect();
        // Every page, concatenated.
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut page = first.unwrap();
        loop {
            prop_assert!(page.rows.len() <= limit);
            got.extend(page.rows.iter().map(|(k, _)| k.clone()));
            let Some(next) = page.next.clone() else { break };
            page = db
                .query(&filter, &QueryOptions::new().limit(limit).reverse(reverse).start_after(next))
                .unwrap();
            prop_assert!(got.len() <= model.len());
        }
        // The model: every record meeting every condition, in the chosen index's order.
        let mut expected: Vec<(Vec<u8>, Vec<u8>)> = model
            .iter()
            .filter(|(_, r)| {
                conditions
                    .iter()
                    .all(|(f, q)| r.get(f).is_some_and(|v| model_matches(q, v)))
            })
            .map(|(k, r)| {
                // The position in the index: each value's encoding, then the key.
                let position = plan_fields.iter().rev().fold(k.clone(), |tail, f| {
                    fielddb::index_position(r.get(f).unwrap(), &tail)
                });
                (position, k.clone())
            })
            .collect();
        expected.sort();
        if reverse {
            expected.reverse();
        }
        let expected: Vec<Vec<u8>> = expected.into_iter().map(|(_, k)| k).collect();
        prop_assert_eq!(db.count(&filter).unwrap(), expected.len() as u64, "plan {:?}", plan);
        prop_assert_eq!(got, expected, "plan {:?}", plan);
    }
}

#[test]
fn the_planner_prefers_an_equality_and_the_smaller_counted_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..100i64 {
        let record = Record::new()
            .set("carrier", if i % 10 == 0 { "UA" } else { "AA" })
            .set("dest", if i % 2 == 0 { "IAH" } else { "ORD" })
            .set("dep_delay", i);
        db.put(format!("f{i:03}"), record).unwrap();
    }
    for field in ["carrier", "dest", "dep_delay"] {
        db.create_index(IndexSpec::on(field).counted())
            .unwrap()
            .wait()
            .unwrap();
    }
    let filter = Filter::gt("dep_delay", 60)
        .and(Filter::eq("dest", "IAH"))
        .and(Filter::eq("carrier", "UA"));
    let plan = db.explain(&filter).unwrap();
    assert_eq!(plan.index, "carrier", "{plan:?}");
    assert_eq!(plan.estimate, Some(fielddb::RowEstimate::Counted(10)));
    assert_eq!(plan.residual.len(), 2);
    let keys: Vec<Vec<u8>> = db
        .query(&filter, &QueryOptions::new())
        .unwrap()
        .rows
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        vec![b"f070".to_vec(), b"f080".to_vec(), b"f090".to_vec()]
    );

    let refused = db
        .explain(&Filter::eq("origin", "EWR"))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("origin") && refused.contains("create index origin"),
        "{refused}"
    );
}
