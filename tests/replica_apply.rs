//! Replicas applying the same log: the same content at every position, whatever the grouping
//! of entries into calls, with unique and counted indexes built by logged steps while writes
//! arrive; answers and failures alike; positions and replica entries kept with the data, across
//! a reopen and in a checkpoint; direct writes refused.

use fielddb::{
    Answer, BatchCommand, Command, Covering, Error, FieldDb, LoggedCommand, Options, Query, Record,
    Value,
};
use proptest::prelude::*;

fn replica(dir: &std::path::Path) -> FieldDb {
    FieldDb::open_with(dir, Options::default().replica(true)).unwrap()
}

fn logged(n: u64, command: Command) -> LoggedCommand {
    LoggedCommand {
        command: Some(command),
        position: n.to_be_bytes().to_vec(),
        replica_data: vec![(b"last".to_vec(), Some(n.to_be_bytes().to_vec()))],
    }
}

fn put(key: &str, city: &str, email: &str) -> Command {
    Command::Put {
        key: key.into(),
        record: Record::new().set("city", city).set("email", email),
    }
}

/// A log with writes before, during and after unique and counted builds, a duplicate that makes
/// a unique build fail, appends, a batch, deletes and failing commands.
fn script() -> Vec<Command> {
    let mut log = Vec::new();
    for i in 0..40 {
        log.push(put(
            &format!("k{i:02}"),
            ["a", "b", "c"][i % 3],
            &format!("e{i}"),
        ));
    }
    log.push(Command::CreateIndex {
        fields: vec!["city".into()],
        unique: false,
        counted: true,
        covering: Covering::Fields(vec!["email".into()]),
    });
    log.push(Command::CreateIndex {
        fields: vec!["email".into()],
        unique: true,
        counted: false,
        covering: Covering::Nothing,
    });
    log.push(Command::CreateIndex {
        fields: vec!["city".into(), "email".into()],
        unique: false,
        counted: true,
        covering: Covering::Record,
    });
    for step in 0..12 {
        log.push(Command::BuildStep {
            field: "city,email".into(),
            records: 6,
        });
        log.push(Command::BuildStep {
            field: "city".into(),
            records: 7,
        });
        log.push(Command::BuildStep {
            field: "email".into(),
            records: 5,
        });
        // Writers during the builds: moves between cities, a new key, a delete.
        log.push(put(
            &format!("k{:02}", step * 3),
            "b",
            &format!("e{}", step * 3),
        ));
        log.push(put(&format!("n{step}"), "d", &format!("new{step}")));
        log.push(Command::Delete {
            key: format!("k{:02}", 39 - step).into_bytes(),
        });
        log.push(Command::Append {
            key: b"log".to_vec(),
            field: "city".into(),
            value: Value::from("x"),
        });
    }
    // Refused: a duplicate email for another key once the unique index is ready.
    log.push(put("dup", "a", "e0"));
    log.push(Command::Batch(vec![
        BatchCommand::Put(b"b1".to_vec(), Record::new().set("city", "z")),
        BatchCommand::Delete(b"k01".to_vec()),
    ]));
    log.push(Command::DropIndex {
        field: "nowhere".into(),
    });
    // A unique build over a duplicate fails, the same way everywhere.
    log.push(Command::Put {
        key: b"twin2".to_vec(),
        record: Record::new().set("city2", "q"),
    });
    log.push(Command::Put {
        key: b"twin3".to_vec(),
        record: Record::new().set("city2", "q"),
    });
    log.push(Command::CreateIndex {
        fields: vec!["city2".into()],
        unique: true,
        counted: false,
        covering: Covering::Nothing,
    });
    // While it builds, a writer's duplicate is refused at once.
    log.push(Command::Put {
        key: b"twin4".to_vec(),
        record: Record::new().set("city2", "r"),
    });
    log.push(Command::Put {
        key: b"twin5".to_vec(),
        record: Record::new().set("city2", "r"),
    });
    log.push(Command::BuildStep {
        field: "city2".into(),
        records: 1000,
    });
    log
}

fn entries() -> Vec<LoggedCommand> {
    script()
        .into_iter()
        .enumerate()
        .map(|(i, c)| logged(i as u64 + 1, c))
        .collect()
}

#[test]
fn replicas_applying_one_log_in_different_groupings_agree_at_every_step() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let one_by_one = replica(dirs[0].path());
    let in_runs = replica(dirs[1].path());
    let log = entries();
    let mut answers_a = Vec::new();
    for entry in &log {
        answers_a.extend(
            one_by_one
                .apply_commands(std::slice::from_ref(entry))
                .unwrap(),
        );
    }
    let mut answers_b = Vec::new();
    for chunk in log.chunks(9) {
        answers_b.extend(in_runs.apply_commands(chunk).unwrap());
        let position = in_runs.content_hash().unwrap().position;
        assert_eq!(position, chunk.last().map(|e| e.position.clone()));
    }
    assert_eq!(answers_a.len(), log.len());
    let render = |answers: &[fielddb::Result<Answer>]| -> Vec<String> {
        answers.iter().map(|a| format!("{a:?}")).collect()
    };
    assert_eq!(render(&answers_a), render(&answers_b));
    assert_eq!(
        one_by_one.content_hash().unwrap(),
        in_runs.content_hash().unwrap()
    );

    // The answers that must fail did, with deterministic errors.
    let dup = log
        .iter()
        .position(|e| e.command == Some(put("dup", "a", "e0")))
        .unwrap();
    assert!(matches!(answers_a[dup], Err(Error::UniqueViolation { .. })));
    assert!(answers_a
        .iter()
        .any(|a| matches!(a, Err(Error::NoSuchIndex { .. }))));
    assert!(matches!(
        answers_a.last().unwrap(),
        Err(Error::UniqueViolation { .. })
    ));

    for db in [&one_by_one, &in_runs] {
        let fields: Vec<String> = db.indexes().into_iter().map(|i| i.field).collect();
        assert_eq!(
            fields,
            ["city", "email", "city,email"],
            "the failed unique build is gone"
        );
        assert!(db.verify().unwrap().is_clean());
        assert_eq!(db.count_by_index("city", &Query::eq("d")).unwrap(), 12);
        // The compound index, built by the log's steps, agrees with the single-field one.
        assert_eq!(
            db.count_by_index("city,email", &Query::eq("d")).unwrap(),
            12
        );
        assert_eq!(
            db.get("log").unwrap().unwrap().get("city"),
            Some(&Value::from("x".repeat(12)))
        );
        assert_eq!(
            db.replica_data().unwrap(),
            vec![(b"last".to_vec(), (log.len() as u64).to_be_bytes().to_vec())]
        );
    }
}

#[test]
fn the_hash_at_each_position_is_the_same_on_a_replica_replayed_to_it() {
    let log = entries();
    let dir = tempfile::tempdir().unwrap();
    let leader = replica(dir.path());
    for (n, entry) in log.iter().enumerate() {
        leader.apply_commands(std::slice::from_ref(entry)).unwrap();
        if n % 17 == 16 {
            let other_dir = tempfile::tempdir().unwrap();
            let other = replica(other_dir.path());
            other.apply_commands(&log[..=n]).unwrap();
            assert_eq!(
                other.content_hash().unwrap(),
                leader.content_hash().unwrap()
            );
        }
    }
}

#[test]
fn position_data_and_builds_survive_a_reopen_and_travel_in_a_checkpoint() {
    let log = entries();
    let half = log.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    {
        let db = replica(dir.path());
        db.apply_commands(&log[..half]).unwrap();
    }
    let db = replica(dir.path());
    assert_eq!(
        db.applied_position().unwrap(),
        Some((half as u64).to_be_bytes().to_vec())
    );
    // Nothing built in the background while it was closed or since it opened.
    db.wait_for_tasks();
    let before = db.content_hash().unwrap();
    db.apply_commands(&log[half..]).unwrap();

    let copy = tempfile::tempdir().unwrap();
    let copy_dir = copy.path().join("checkpoint");
    db.checkpoint(&copy_dir).unwrap();
    let restored = replica(&copy_dir);
    assert_eq!(restored.content_hash().unwrap(), db.content_hash().unwrap());
    assert_ne!(before, db.content_hash().unwrap());

    let straight_dir = tempfile::tempdir().unwrap();
    let straight = replica(straight_dir.path());
    straight.apply_commands(&log).unwrap();
    assert_eq!(straight.content_hash().unwrap(), db.content_hash().unwrap());
}

#[test]
fn a_replica_refuses_direct_writes_and_a_plain_database_refuses_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = replica(dir.path());
    for refused in [
        db.put("k", Record::new()).map(drop),
        db.delete("k").map(drop),
        db.append("k", "f", "x").map(drop),
        db.create_index_on_field("f").map(drop),
        db.drop_index("f"),
    ] {
        assert!(
            matches!(refused, Err(Error::InvalidArgument(_))),
            "{refused:?}"
        );
    }
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = FieldDb::open(plain_dir.path()).unwrap();
    assert!(matches!(
        plain.apply_commands(&entries()[..1]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn entries_without_a_command_move_the_position_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = replica(dir.path());
    let before = db.content_hash().unwrap().hash;
    let answers = db
        .apply_commands(&[LoggedCommand {
            command: None,
            position: b"p1".to_vec(),
            replica_data: vec![],
        }])
        .unwrap();
    assert!(matches!(answers[..], [Ok(Answer::Done)]));
    assert_eq!(db.applied_position().unwrap(), Some(b"p1".to_vec()));
    assert_eq!(db.content_hash().unwrap().hash, before);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn commands_decode_to_what_was_encoded(
        key in proptest::collection::vec(any::<u8>(), 1..8),
        text in ".{0,8}",
        records in 0u32..5000,
    ) {
        for command in [
            Command::Put { key: key.clone(), record: Record::new().set("t", text.as_str()) },
            Command::Append { key: key.clone(), field: "t".into(), value: Value::from(text.as_str()) },
            Command::BuildStep { field: text.clone() + "f", records },
        ] {
            let bytes = command.encode().unwrap();
            prop_assert_eq!(Command::decode(&bytes).unwrap(), command);
        }
    }
}
