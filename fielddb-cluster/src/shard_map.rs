//! `ShardMap`: how many shards a cluster has, how many replicas each, and which nodes hold each
//! shard (voters, learners, a leader hint). It lives in group 0, the metadata group, as records
//! of group 0's FieldDB replica, so it is replicated, snapshotted and applied like any data
//! (DESIGN.md 10.2). Shard i is Raft group i + 1.
//!
//! | key in group 0     | record                                                        |
//! |--------------------|---------------------------------------------------------------|
//! | `shards`           | `count` (int, S), `replicas` (int, R)                         |
//! | `shard/<i>` (i as 5 digits) | `voters`, `learners` (comma-separated node ids, ascending), `leader_hint` (int or null) |
//!
//! The whole map is written by one `Command::Batch`, so a reader sees all of it or none.
//! Reading refuses a map whose records are missing or malformed, naming the record.

use std::collections::BTreeSet;

use fielddb::{BatchCommand, Command, FieldDb, Record, Value};

use crate::log_store::GroupId;
use crate::placement::{self, ShardId};
use crate::types::NodeId;

/// The nodes of one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardReplicas {
    /// The voting members of the shard's group.
    pub voters: BTreeSet<NodeId>,
    /// Its non-voting members (a move under way).
    pub learners: BTreeSet<NodeId>,
    /// The node that should lead it (placement's choice, or the last leader seen).
    pub leader_hint: Option<NodeId>,
}

/// The cluster's shards and their nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMap {
    /// R: the replicas of each shard.
    pub replicas: u32,
    /// Shard i's nodes at index i; S is the length.
    pub shards: Vec<ShardReplicas>,
}

fn shard_key(shard: ShardId) -> Vec<u8> {
    format!("shard/{shard:05}").into_bytes()
}

fn shard_record(shard: &ShardReplicas) -> Record {
    let hint = shard
        .leader_hint
        .map_or(Value::Null, |id| Value::Int(id as i64));
    Record::new()
        .set("voters", ids_text(&shard.voters))
        .set("learners", ids_text(&shard.learners))
        .set("leader_hint", hint)
}

fn ids_text(ids: &BTreeSet<NodeId>) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_ids(text: &str) -> Option<BTreeSet<NodeId>> {
    text.split(',')
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<NodeId>().ok())
        .collect()
}

fn int(record: &Record, field: &str) -> Option<i64> {
    match record.get(field) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

fn text<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    match record.get(field) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

impl ShardMap {
    /// The key of the map's head record in group 0.
    pub const HEAD_KEY: &'static [u8] = b"shards";

    /// Whether `key` is one of the map's keys in group 0 (`shards`, `shard/...`): in a cluster
    /// of one shard, where group 0 also holds the data, clients may not write them, or a record
    /// could pass for a shard map.
    pub fn is_map_key(key: &[u8]) -> bool {
        key == ShardMap::HEAD_KEY || key.starts_with(b"shard/")
    }

    /// The (S, R) of a head record, if well formed.
    pub fn head_of(head: &Record) -> Option<(u32, u32)> {
        let count = int(head, "count")
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=placement::MAX_SHARDS).contains(n))?;
        let replicas = int(head, "replicas")
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)?;
        Some((count, replicas))
    }

    /// The placement of `shards` shards of `replicas` replicas over `members`
    /// (`placement::place`), each shard's first node its leader hint.
    pub fn place(
        shards: u32,
        replicas: usize,
        members: &BTreeSet<NodeId>,
    ) -> Result<ShardMap, String> {
        let layout = placement::place(shards, replicas, members)?;
        Ok(ShardMap {
            replicas: replicas as u32,
            shards: layout
                .into_iter()
                .map(|nodes| ShardReplicas {
                    leader_hint: nodes.first().copied(),
                    voters: nodes.into_iter().collect(),
                    learners: BTreeSet::new(),
                })
                .collect(),
        })
    }

    /// S, the number of shards.
    pub fn shard_count(&self) -> u32 {
        self.shards.len() as u32
    }

    /// The shard `key` belongs to.
    pub fn shard_of(&self, key: &[u8]) -> ShardId {
        placement::shard_of(key, self.shard_count())
    }

    /// The Raft group of shard `shard`.
    pub fn group_of(shard: ShardId) -> GroupId {
        shard + 1
    }

    /// The data groups `node` is a member of (voter or learner), ascending.
    pub fn groups_of(&self, node: NodeId) -> Vec<GroupId> {
        self.shards
            .iter()
            .enumerate()
            .filter(|(_, s)| s.voters.contains(&node) || s.learners.contains(&node))
            .map(|(i, _)| ShardMap::group_of(i as ShardId))
            .collect()
    }

    /// The command that writes shard `shard`'s record (its replicas after a move step).
    pub fn shard_command(shard: ShardId, replicas: &ShardReplicas) -> Command {
        Command::Put {
            key: shard_key(shard),
            record: shard_record(replicas),
        }
    }

    /// The one command that writes the whole map into group 0.
    pub fn to_command(&self) -> Command {
        let mut ops = vec![BatchCommand::Put(
            ShardMap::HEAD_KEY.to_vec(),
            Record::new()
                .set("count", i64::from(self.shard_count()))
                .set("replicas", i64::from(self.replicas)),
        )];
        for (i, shard) in self.shards.iter().enumerate() {
            ops.push(BatchCommand::Put(
                shard_key(i as ShardId),
                shard_record(shard),
            ));
        }
        Command::Batch(ops)
    }

    /// The map in group 0's replica `db`; `None` before one was written.
    pub fn read(db: &FieldDb) -> Result<Option<ShardMap>, String> {
        let Some(head) = db.get(ShardMap::HEAD_KEY).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let bad = |what: &str| format!("the shard map's `{what}` record is malformed");
        let (count, replicas) = ShardMap::head_of(&head).ok_or_else(|| bad("shards"))?;
        let mut shards = Vec::with_capacity(count as usize);
        for shard in 0..count {
            let key = shard_key(shard);
            let name = String::from_utf8_lossy(&key).into_owned();
            let record = db
                .get(&key)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the shard map has no `{name}` record"))?;
            let voters = text(&record, "voters")
                .and_then(parse_ids)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| bad(&name))?;
            let learners = text(&record, "learners")
                .and_then(parse_ids)
                .ok_or_else(|| bad(&name))?;
            let leader_hint = match record.get("leader_hint") {
                Some(Value::Null) => None,
                Some(Value::Int(n)) => Some(u64::try_from(*n).map_err(|_| bad(&name))?),
                _ => return Err(bad(&name)),
            };
            shards.push(ShardReplicas {
                voters,
                learners,
                leader_hint,
            });
        }
        Ok(Some(ShardMap { replicas, shards }))
    }
}

#[cfg(test)]
mod tests {
    use fielddb::Batch;

    use super::*;

    fn apply(db: &FieldDb, command: Command) {
        let Command::Batch(ops) = command else {
            panic!("the map is written as one batch");
        };
        let mut batch = Batch::new();
        for op in ops {
            match op {
                BatchCommand::Put(key, record) => batch.put(key, record),
                BatchCommand::Delete(key) => batch.delete(key),
            };
        }
        db.write_batch(batch).unwrap();
    }

    #[test]
    fn a_map_written_to_group_zero_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        assert_eq!(ShardMap::read(&db).unwrap(), None);
        let members: BTreeSet<NodeId> = [1, 2, 3].into();
        let mut map = ShardMap::place(8, 3, &members).unwrap();
        map.shards[2].learners.insert(4);
        map.shards[5].leader_hint = None;
        apply(&db, map.to_command());
        assert_eq!(ShardMap::read(&db).unwrap(), Some(map.clone()));
        assert_eq!(map.shard_count(), 8);
        assert_eq!(map.groups_of(1), (1..=8).collect::<Vec<GroupId>>());
        assert_eq!(map.groups_of(4), vec![3]);
        assert!(map.shard_of(b"ada") < 8);
    }

    #[test]
    fn every_key_the_map_writes_is_a_map_key() {
        let members: BTreeSet<NodeId> = [1, 2].into();
        let Command::Batch(ops) = ShardMap::place(3, 2, &members).unwrap().to_command() else {
            panic!("one batch");
        };
        for op in ops {
            let (BatchCommand::Put(key, _) | BatchCommand::Delete(key)) = op;
            assert!(ShardMap::is_map_key(&key), "{key:?}");
        }
        assert!(!ShardMap::is_map_key(b"shard"));
        assert!(!ShardMap::is_map_key(b"shards2"));
    }

    #[test]
    fn each_node_leads_about_a_third_of_the_shards_by_placement() {
        let members: BTreeSet<NodeId> = [1, 2, 3].into();
        let map = ShardMap::place(8, 3, &members).unwrap();
        let leads = |node| {
            map.shards
                .iter()
                .filter(|s| s.leader_hint == Some(node))
                .count()
        };
        assert_eq!((leads(1), leads(2), leads(3)), (3, 3, 2));
    }

    #[test]
    fn a_malformed_or_incomplete_map_is_refused_naming_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        let members: BTreeSet<NodeId> = [1, 2].into();
        apply(&db, ShardMap::place(2, 2, &members).unwrap().to_command());
        db.put(
            "shard/00001",
            Record::new().set("voters", "1,x").set("learners", ""),
        )
        .unwrap();
        let refused = ShardMap::read(&db).unwrap_err();
        assert!(refused.contains("shard/00001"), "{refused}");
        db.delete("shard/00001").unwrap();
        let refused = ShardMap::read(&db).unwrap_err();
        assert!(refused.contains("no `shard/00001`"), "{refused}");
        db.put("shards", Record::new().set("count", 0).set("replicas", 2))
            .unwrap();
        let refused = ShardMap::read(&db).unwrap_err();
        assert!(refused.contains("`shards`"), "{refused}");
    }
}
