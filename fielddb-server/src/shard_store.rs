//! The `Store` operations of a cluster of several shards (`ClusterStore` hands them here once
//! the shard map has S > 1):
//!
//! - a single-key write or read goes to the key's shard (`xxh3(key) mod S`), through the
//!   shard's leader, here or on another node (`ClusterNode::propose`, `read`);
//! - a batch whose keys fall in one shard is one atomic command of that shard; a batch over
//!   several shards is refused (400, naming them): atomicity across shards is not promised;
//! - scans and index queries are scattered to every shard, each asked for at most `limit` rows
//!   from the same cursor, and merged (`fielddb_cluster::merge`); counts are summed;
//! - index DDL goes to every shard through its log; an index serves queries only when ready on
//!   every shard (otherwise 409, naming the shards still building); `unique` is refused, since a
//!   per-shard check would let duplicates through across shards.
//!
//! Reads here block (they are called on the blocking pool, as every `Store` read): they wait on
//! the shards' leaders with the runtime's handle.

use std::collections::{BTreeMap, BTreeSet};

use fielddb::{
    BatchCommand, Command, IndexInfo, IndexReport, IndexState, Page, Query, QueryOptions, Record,
    ScanOptions, StorageStats, VerifyReport,
};
use fielddb_cluster::merge::{merge_pages, Order};
use fielddb_cluster::shard_map::ShardMap;
use fielddb_cluster::shard_read::{ShardAnswer, ShardRead};
use fielddb_cluster::{ClientRequest, ClusterNode, Response};

use crate::error::{unavailable_error, StoreError};
use crate::store::{Result, Rows};

/// Waits for `future` from a store read (which runs on the blocking pool).
fn wait<F: std::future::Future>(future: F) -> F::Output {
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| handle.block_on(future))
}

fn invalid(message: String) -> StoreError {
    StoreError::Db(fielddb::Error::InvalidArgument(message))
}

/// The group of `key`'s shard.
pub(crate) fn group_of_key(map: &ShardMap, key: &[u8]) -> u32 {
    ShardMap::group_of(map.shard_of(key))
}

/// The one shard's group every key of `command` (a batch) falls in, or the 400 naming them.
pub(crate) fn group_of_batch(map: &ShardMap, command: &Command) -> Result<u32> {
    let Command::Batch(ops) = command else {
        return Err(invalid("not a batch".into()));
    };
    let shards: BTreeSet<u32> = ops
        .iter()
        .map(|op| match op {
            BatchCommand::Put(key, _) | BatchCommand::Delete(key) => map.shard_of(key),
        })
        .collect();
    match shards.len() {
        0 => Ok(ShardMap::group_of(0)),
        1 => Ok(ShardMap::group_of(*shards.iter().next().unwrap_or(&0))),
        _ => Err(invalid(format!(
            "the batch's keys fall in shards {}: a batch is atomic within one shard only; \
             split it by shard (shard = xxh3_64(key) mod {}; GET /v1/cluster/shards)",
            list(&shards),
            map.shard_count()
        ))),
    }
}

fn list(shards: &BTreeSet<u32>) -> String {
    shards
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every shard's answer to `read`, by shard.
fn scatter(node: &ClusterNode, map: &ShardMap, read: &ShardRead) -> Result<Vec<ShardAnswer>> {
    let reads = (0..map.shard_count()).map(|shard| node.read(ShardMap::group_of(shard), read));
    wait(futures::future::join_all(reads))
        .into_iter()
        .map(|answer| answer.map_err(unavailable_error))
        .collect()
}

/// The record at `key`.
pub(crate) fn get(node: &ClusterNode, map: &ShardMap, key: &[u8]) -> Result<Option<Record>> {
    let read = ShardRead::Get(key.to_vec());
    let answer = wait(node.read(group_of_key(map, key), &read)).map_err(unavailable_error)?;
    Ok(answer.into_record()?)
}

/// A page of a scan over every shard.
pub(crate) fn scan(node: &ClusterNode, map: &ShardMap, options: &ScanOptions) -> Result<Rows> {
    let read = ShardRead::scan(options)?;
    let pages = scatter(node, map, &read)?
        .into_iter()
        .map(ShardAnswer::into_rows)
        .collect::<fielddb::Result<Vec<_>>>()?;
    let limit = options.max_rows().unwrap_or(usize::MAX);
    Ok(merge_pages(pages, Order::Key, options.is_reverse(), limit))
}

/// The shards' answers, or the error a single node would give: an index missing or not ready
/// on some shards names them.
fn all_ok<T>(field: &str, answers: Vec<fielddb::Result<T>>) -> Result<Vec<T>> {
    let mut not_ready = BTreeSet::new();
    let mut first_error = None;
    let mut oks = Vec::with_capacity(answers.len());
    for (shard, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(value) => oks.push(value),
            Err(fielddb::Error::IndexNotReady { .. }) => {
                not_ready.insert(shard as u32);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(StoreError::Db(e));
    }
    if !not_ready.is_empty() {
        return Err(StoreError::Db(fielddb::Error::IndexNotReady {
            field: field.to_owned(),
            indexes: format!(
                "the index on `{field}` is not ready on shards {} (a query needs it ready on \
                 every shard)",
                list(&not_ready)
            ),
        }));
    }
    Ok(oks)
}

/// A page of an index query over every shard.
pub(crate) fn query(
    node: &ClusterNode,
    map: &ShardMap,
    field: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Rows> {
    let read = ShardRead::query(field, query, options)?;
    let answers = scatter(node, map, &read)?
        .into_iter()
        .map(ShardAnswer::into_rows)
        .collect();
    let pages: Vec<Page<_>> = all_ok(field, answers)?;
    let limit = options.max_rows().unwrap_or(usize::MAX);
    Ok(merge_pages(
        pages,
        Order::Index(field),
        options.is_reverse(),
        limit,
    ))
}

/// The count of an index query: the shards' counts summed.
pub(crate) fn count(node: &ClusterNode, map: &ShardMap, field: &str, query: &Query) -> Result<u64> {
    let read = ShardRead::count(field, query)?;
    let answers = scatter(node, map, &read)?
        .into_iter()
        .map(ShardAnswer::into_count)
        .collect();
    Ok(all_ok(field, answers)?.into_iter().sum())
}

/// Runs an index DDL command on every shard. `already` is the error a shard answers when it
/// had done it before (a retry after a partial failure): only when every shard answers it is it
/// the answer.
pub(crate) async fn on_every_shard(
    node: &ClusterNode,
    map: &ShardMap,
    command: &Command,
    session: Option<ClientRequest>,
    already: fn(&fielddb::Error) -> bool,
) -> Result<()> {
    let writes = (0..map.shard_count()).map(|shard| {
        // Each shard has its own sessions: the client's request number is new in each.
        node.propose(ShardMap::group_of(shard), command, session.clone())
    });
    let mut repeated = None;
    let mut done = 0;
    for outcome in futures::future::join_all(writes).await {
        match outcome.map_err(unavailable_error)? {
            Response::Failed(failure) => {
                let error = failure.into_error();
                if !already(&error) {
                    return Err(StoreError::Db(error));
                }
                repeated = Some(error);
            }
            _ => done += 1,
        }
    }
    match repeated {
        Some(error) if done == 0 => Err(StoreError::Db(error)),
        _ => Ok(()),
    }
}

/// Refuses a unique index on a cluster of several shards.
pub(crate) fn refuse_unique(map: &ShardMap, field: &str) -> Result<()> {
    Err(invalid(format!(
        "a unique index on `{field}` is not available on a cluster of {} shards: records are \
         spread over the shards by key, and a per-shard check would let a value repeat across \
         shards; create it without `unique`",
        map.shard_count()
    )))
}

/// Queries with several conditions are not scattered over shards yet (each shard would choose
/// its own index, and their orders would not merge).
pub(crate) fn refuse_filter(map: &ShardMap) -> StoreError {
    invalid(format!(
        "queries with several conditions are not available on a cluster of {} shards yet: \
         query one field (GET /v1/query) and filter the rows",
        map.shard_count()
    ))
}

/// Every shard's indexes, by shard.
fn shard_indexes(node: &ClusterNode, map: &ShardMap) -> Result<Vec<Vec<IndexInfo>>> {
    Ok(scatter(node, map, &ShardRead::Indexes)?
        .into_iter()
        .map(ShardAnswer::into_indexes)
        .collect::<fielddb::Result<_>>()?)
}

/// One index over the whole cluster: ready when ready on every shard; building (progress
/// summed) while any shard builds it or lacks it; dropping while any shard drops it.
fn combine(parts: &[Option<&IndexInfo>]) -> Option<IndexInfo> {
    let any = parts.iter().flatten().next()?;
    let (mut done, mut total) = (0u64, 0u64);
    let (mut building, mut dropping) = (false, false);
    for part in parts {
        match part.map(|p| &p.state) {
            Some(IndexState::Ready) => {}
            Some(IndexState::Building { done: d, total: t }) => {
                building = true;
                done += d;
                total += t;
            }
            Some(IndexState::Dropping) => dropping = true,
            None => building = true,
        }
    }
    let state = if dropping {
        IndexState::Dropping
    } else if building {
        IndexState::Building { done, total }
    } else {
        IndexState::Ready
    };
    Some(IndexInfo::new(
        any.fields.clone(),
        any.unique,
        any.counted,
        state,
    ))
}

/// The cluster's indexes, each combined over the shards.
pub(crate) fn indexes(node: &ClusterNode, map: &ShardMap) -> Result<Vec<IndexInfo>> {
    let shards = shard_indexes(node, map)?;
    let fields: BTreeSet<&str> = shards
        .iter()
        .flatten()
        .map(|info| info.field.as_str())
        .collect();
    Ok(fields
        .into_iter()
        .filter_map(|field| {
            let parts: Vec<Option<&IndexInfo>> = shards
                .iter()
                .map(|infos| infos.iter().find(|i| i.field == field))
                .collect();
            combine(&parts)
        })
        .collect())
}

/// The index on `field` as each shard has it (`None` where a shard has none).
pub(crate) fn index_by_shard(
    node: &ClusterNode,
    map: &ShardMap,
    field: &str,
) -> Result<Vec<Option<IndexInfo>>> {
    Ok(shard_indexes(node, map)?
        .into_iter()
        .map(|infos| infos.into_iter().find(|i| i.field == field))
        .collect())
}

/// `verify` on every shard, the reports added up.
pub(crate) fn verify(node: &ClusterNode, map: &ShardMap) -> Result<VerifyReport> {
    let mut total = VerifyReport::default();
    let mut by_field: BTreeMap<String, IndexReport> = BTreeMap::new();
    for answer in scatter(node, map, &ShardRead::Verify)? {
        let report = answer.into_verify()?;
        total.records += report.records;
        total.corrupt_records.extend(report.corrupt_records);
        for index in report.indexes {
            let sum = by_field
                .entry(index.field.clone())
                .or_insert_with(|| IndexReport {
                    field: index.field.clone(),
                    ..IndexReport::default()
                });
            sum.entries += index.entries;
            sum.missing += index.missing;
            sum.stale += index.stale;
            sum.wrong_counts += index.wrong_counts;
            sum.wrong_covered += index.wrong_covered;
        }
    }
    total.indexes = by_field.into_values().collect();
    Ok(total)
}

/// The storage figures of every shard, added up.
pub(crate) fn stats(node: &ClusterNode, map: &ShardMap) -> Result<StorageStats> {
    let mut total = StorageStats::default();
    for answer in scatter(node, map, &ShardRead::Stats)? {
        let s = answer.into_stats()?;
        total.kv_file_bytes += s.kv_file_bytes;
        total.index_file_bytes += s.index_file_bytes;
        total.meta_file_bytes += s.meta_file_bytes;
        total.memtable_bytes += s.memtable_bytes;
        total.estimated_records += s.estimated_records;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_ready_only_when_every_shard_has_it_ready() {
        let ready = IndexInfo::new(vec!["city".into()], false, true, IndexState::Ready);
        let building = IndexInfo::new(
            vec!["city".into()],
            false,
            true,
            IndexState::Building { done: 4, total: 10 },
        );
        let all = combine(&[Some(&ready), Some(&ready)]).unwrap();
        assert_eq!(all.state, IndexState::Ready);
        let some = combine(&[Some(&ready), Some(&building), Some(&building)]).unwrap();
        assert_eq!(some.state, IndexState::Building { done: 8, total: 20 });
        let missing = combine(&[Some(&ready), None]).unwrap();
        assert!(matches!(missing.state, IndexState::Building { .. }));
        assert!(combine(&[None, None]).is_none());
    }

    #[test]
    fn a_query_refuses_an_index_not_ready_on_some_shards_naming_them() {
        let not_ready = || {
            Err(fielddb::Error::IndexNotReady {
                field: "city".into(),
                indexes: "city (building 40%)".into(),
            })
        };
        let answers: Vec<fielddb::Result<u64>> =
            vec![Ok(1), Ok(2), not_ready(), Ok(3), not_ready()];
        let StoreError::Db(e) = all_ok("city", answers).unwrap_err() else {
            panic!("a library error")
        };
        assert_eq!(e.code(), "index_not_ready");
        assert!(e.to_string().contains("not ready on shards 2, 4"), "{e}");
        // Another failure on any shard wins (a missing index is 404, not 409).
        let missing = Err(fielddb::Error::NoSuchIndex {
            field: "city".into(),
            indexes: "none".into(),
        });
        let StoreError::Db(e) = all_ok("city", vec![not_ready(), missing]).unwrap_err() else {
            panic!("a library error")
        };
        assert_eq!(e.code(), "no_such_index");
        assert_eq!(all_ok("city", vec![Ok(1), Ok(2)]).unwrap(), vec![1, 2]);
    }

    #[test]
    fn a_batch_over_several_shards_is_refused_naming_them() {
        let members = [1, 2, 3].into();
        let map = ShardMap::place(8, 3, &members).unwrap();
        let (a, b) = (b"a".to_vec(), b"b".to_vec());
        let one = Command::Batch(vec![
            BatchCommand::Delete(a.clone()),
            BatchCommand::Delete(a.clone()),
        ]);
        assert_eq!(group_of_batch(&map, &one).unwrap(), group_of_key(&map, &a));
        let mut keys = vec![a, b];
        let mut i = 0;
        while keys
            .iter()
            .map(|k| map.shard_of(k))
            .collect::<BTreeSet<_>>()
            .len()
            < 2
        {
            keys.push(format!("k{i}").into_bytes());
            i += 1;
        }
        let several = Command::Batch(keys.into_iter().map(BatchCommand::Delete).collect());
        let refused = group_of_batch(&map, &several).unwrap_err();
        let StoreError::Db(e) = refused else {
            panic!("{refused:?}")
        };
        assert!(e.to_string().contains("fall in shards"), "{e}");
    }
}
