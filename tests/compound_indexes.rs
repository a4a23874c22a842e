//! Compound indexes through the public API: named by their fields, queried by equalities on
//! leading fields then one range, counted in one read, unique on the whole tuple, dropped by
//! name; a record lacking one of the fields has no entry; bad specs are refused and change
//! nothing.

use fielddb::{Error, FieldDb, Filter, IndexSpec, Query, QueryOptions, Record, RowEstimate};

fn flights(db: &FieldDb) {
    for i in 0..120i64 {
        let mut record = Record::new()
            .set("carrier", ["UA", "AA", "DL"][(i % 3) as usize])
            .set("dep_delay", i - 20);
        // Every tenth flight has no destination: it has no entry in a `carrier,dest` index.
        if i % 10 != 9 {
            record = record.set("dest", ["IAH", "ORD"][(i % 2) as usize]);
        }
        db.put(format!("f{i:03}"), record).unwrap();
    }
}

fn keys(page: fielddb::Page<(Vec<u8>, Record)>) -> Vec<String> {
    page.rows
        .into_iter()
        .map(|(k, _)| String::from_utf8(k).unwrap())
        .collect()
}

#[test]
fn a_compound_index_answers_equalities_then_a_range_and_counts_in_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    flights(&db);
    let build = db
        .create_index(IndexSpec::on_fields(["carrier", "dest"]).counted())
        .unwrap();
    assert_eq!(build.name(), "carrier,dest");
    build.wait().unwrap();
    let info = &db.indexes()[0];
    assert_eq!(info.field, "carrier,dest");
    assert_eq!(info.fields, vec!["carrier", "dest"]);

    let both = Filter::eq("carrier", "UA").and(Filter::eq("dest", "IAH"));
    let plan = db.explain(&both).unwrap();
    assert_eq!(plan.index, "carrier,dest");
    assert!(plan.residual.is_empty());
    assert_eq!(plan.range_text(), "(\"UA\", \"IAH\")");
    // i % 3 == 0 and i % 2 == 0 and i % 10 != 9: i = 0, 6, 12, ..., 114.
    assert_eq!(plan.estimate, Some(RowEstimate::Counted(20)));
    assert_eq!(db.count(&both).unwrap(), 20);
    let rows = keys(db.query(&both, &QueryOptions::new()).unwrap());
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0], "f000");
    assert_eq!(rows[19], "f114");

    // An equality then a range on the next field, and a residual.
    let ranged = Filter::eq("carrier", "AA")
        .and(Filter::ge("dest", "J"))
        .and(Filter::lt("dep_delay", 10));
    let plan = db.explain(&ranged).unwrap();
    assert_eq!(plan.index, "carrier,dest");
    assert_eq!(plan.index_conditions.len(), 2);
    assert_eq!(plan.residual, vec![("dep_delay".into(), Query::lt(10))]);
    // AA: i % 3 == 1; ORD: i odd; dest present: i % 10 != 9; dep_delay < 10: i < 30.
    assert_eq!(
        keys(db.query(&ranged, &QueryOptions::new()).unwrap()),
        vec!["f001", "f007", "f013", "f025"]
    );
    assert_eq!(db.count(&ranged).unwrap(), 4);

    // Pages of 3, descending, resume by the cursor.
    let mut all = Vec::new();
    let mut options = QueryOptions::new().limit(3).reverse(true);
    loop {
        let page = db.query(&both, &options).unwrap();
        let next = page.next.clone();
        all.extend(keys(page));
        match next {
            Some(c) => options = QueryOptions::new().limit(3).reverse(true).start_after(c),
            None => break,
        }
    }
    let mut expected = rows.clone();
    expected.reverse();
    assert_eq!(all, expected);

    // A condition on the first field alone does not use it (records lacking `dest` would be
    // missed), so with no other index it is refused, naming the index to create.
    let refused = db.query(&Filter::eq("carrier", "UA"), &QueryOptions::new());
    match refused {
        Err(e @ Error::NoSuchIndex { .. }) => {
            assert!(e.to_string().contains("create index carrier"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // Asked by name, the index answers its first field over the records it holds.
    assert_eq!(
        db.count_by_index("carrier,dest", &Query::eq("UA")).unwrap(),
        36
    );
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn writes_keep_a_compound_index_and_its_counts_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    flights(&db);
    db.create_index(IndexSpec::on_fields(["carrier", "dest"]).counted())
        .unwrap()
        .wait()
        .unwrap();
    let ua_iah = Filter::eq("carrier", "UA").and(Filter::eq("dest", "IAH"));
    // A flight moves to IAH, one loses its destination, one gains one, one is deleted.
    db.put(
        "f002",
        Record::new().set("carrier", "UA").set("dest", "IAH"),
    )
    .unwrap();
    db.update("f000", &fielddb::Update::new().unset("dest"))
        .unwrap();
    db.update("f009", &fielddb::Update::new().set("dest", "IAH"))
        .unwrap();
    db.delete("f006").unwrap();
    // f002 joins (UA: 2 % 3 != 0 but it was rewritten as UA); f000 and f006 leave; f009 is
    // UA (9 % 3 == 0) and joins.
    assert_eq!(db.count(&ua_iah).unwrap(), 20 + 1 - 2 + 1);
    let report = db.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn a_unique_compound_index_refuses_a_second_key_for_the_same_tuple_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on_fields(["carrier", "flight"]).unique())
        .unwrap()
        .wait()
        .unwrap();
    db.put("a", Record::new().set("carrier", "UA").set("flight", 1545))
        .unwrap();
    // The same carrier with another flight, and the same flight with another carrier: fine.
    db.put("b", Record::new().set("carrier", "UA").set("flight", 1714))
        .unwrap();
    db.put("c", Record::new().set("carrier", "AA").set("flight", 1545))
        .unwrap();
    match db.put("d", Record::new().set("carrier", "UA").set("flight", 1545)) {
        Err(Error::UniqueViolation {
            field,
            existing_key,
            value,
        }) => {
            assert_eq!(field, "carrier,flight");
            assert_eq!(existing_key, b"a");
            assert_eq!(value, fielddb::Value::from("(\"UA\", 1545)"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        db.get("d").unwrap().is_none(),
        "the refused write changed nothing"
    );

    // A build over records holding a duplicate tuple fails and leaves no index.
    db.put("e", Record::new().set("x", 1).set("y", 2)).unwrap();
    db.put("f", Record::new().set("x", 1).set("y", 2)).unwrap();
    let failed = db
        .create_index(IndexSpec::on_fields(["x", "y"]).unique())
        .unwrap()
        .wait();
    assert!(
        matches!(failed, Err(Error::UniqueViolation { .. })),
        "{failed:?}"
    );
    db.wait_for_tasks();
    let names: Vec<String> = db.indexes().into_iter().map(|i| i.field).collect();
    assert_eq!(names, vec!["carrier,flight"]);
}

#[test]
fn compound_indexes_are_dropped_by_name_and_bad_specs_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    flights(&db);
    db.create_index(IndexSpec::on_fields(["carrier", "dest"]))
        .unwrap()
        .wait()
        .unwrap();
    for bad in [
        IndexSpec::on_fields(Vec::<String>::new()),
        IndexSpec::on_fields(["a", "a"]),
        IndexSpec::on_fields(["a", "b,c"]),
        IndexSpec::on_fields(["a", ""]),
        IndexSpec::on_fields(["a", "b", "c", "d", "e", "f", "g", "h", "i"]),
    ] {
        assert!(
            matches!(db.create_index(bad.clone()), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        db.create_index(IndexSpec::on_fields(["carrier", "dest"])),
        Err(Error::IndexExists(name)) if name == "carrier,dest"
    ));
    assert_eq!(db.indexes().len(), 1, "the refusals created nothing");
    assert!(matches!(
        db.drop_index("carrier"),
        Err(Error::NoSuchIndex { .. })
    ));
    db.drop_index("carrier,dest").unwrap();
    db.wait_for_tasks();
    assert!(db.indexes().is_empty());
    // The same fields in the other order are another index.
    db.create_index(IndexSpec::on_fields(["dest", "carrier"]))
        .unwrap()
        .wait()
        .unwrap();
    let plan = db
        .explain(&Filter::eq("carrier", "UA").and(Filter::eq("dest", "ORD")))
        .unwrap();
    assert_eq!(plan.index, "dest,carrier");
    assert_eq!(plan.range_text(), "(\"ORD\", \"UA\")");
    assert!(db.verify().unwrap().is_clean());
}
