//! Raw RocksDB doing FieldDB's work by hand: the floor FieldDB's overhead is measured against.
//!
//! Column family `kv` holds key -> record in a fixed hand-written layout (name and city as a
//! length byte and UTF-8; score, age and balance as 8 little-endian bytes each); `index` holds
//! index id (u32 BE) ‖ order-preserving value ‖ key -> empty, as FieldDB does. A write with
//! indexes reads the old record and writes the record, the old entries' deletes and the new
//! entries in one `WriteBatch`; without indexes it writes blind. A query walks the `index` range
//! on a snapshot and fetches the records with `batched_multi_get_cf_opt` on the same snapshot.
//! An index build walks `kv` in chunks of 1,000 records, each under a write lock that writers
//! take shared (they maintain a building index themselves), like `fielddb/src/index/builder.rs`.
//! The `city` index keeps per-value counts as FieldDB's counted index does: `FF FF FF FF` ‖ id ‖
//! value -> i64 LE, changed by merge operands (+1 / -1) in the write's batch and summed by an
//! associative merge operator, so an equality count on `city` is one read.
//!
//! The database, column-family and block-cache options copy `fielddb/src/storage.rs` (keep them
//! in step when that file changes): `increase_parallelism(2)`, one 64 MiB LRU block cache with
//! index and filter blocks in it and L0's pinned, a 10-bit bloom filter on `kv` only, LZ4 and
//! Zstd at the bottom level, default `WriteOptions` (no sync). What it does not do that FieldDB
//! does: per-key locks (one writer thread here), a catalog, validation, general value types,
//! batches that repeat a key, corruption handling.

use std::path::Path;
use std::sync::Arc;

use parking_lot::{RwLock, RwLockWriteGuard};

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, ReadOptions, WriteBatch,
    WriteOptions, DB,
};

use crate::workload::{mix_op, row_hash, Answer, Engine, Field, Mixer, Rec, Result, Val, Writer};

const CF_KV: &str = "kv";
const CF_INDEX: &str = "index";
/// Records per step of an index build, as FieldDB's default `build_chunk_records`.
const BUILD_CHUNK: usize = 1_000;

pub struct RocksDbEngine {
    shared: Arc<Shared>,
}

struct Shared {
    db: DB,
    write_options: WriteOptions,
    /// Indexes writers maintain (ready or building); a build step holds it exclusively.
    indexes: RwLock<Vec<Field>>,
}

fn index_id(field: Field) -> u32 {
    field as u32 + 1
}

fn encode(rec: &Rec) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + rec.name.len() + rec.city.len() + 24);
    out.push(rec.name.len() as u8);
    out.extend_from_slice(rec.name.as_bytes());
    out.push(rec.city.len() as u8);
    out.extend_from_slice(rec.city.as_bytes());
    out.extend_from_slice(&rec.score.to_le_bytes());
    out.extend_from_slice(&rec.age.to_le_bytes());
    out.extend_from_slice(&rec.balance.to_le_bytes());
    out
}

fn decode(key: &[u8], bytes: &[u8]) -> Result<Rec> {
    let bad = || format!("bad record at {}", String::from_utf8_lossy(key));
    let mut pos = 0usize;
    let text = |pos: &mut usize| -> Result<String> {
        let len = *bytes.get(*pos).ok_or_else(bad)? as usize;
        let s = bytes.get(*pos + 1..*pos + 1 + len).ok_or_else(bad)?;
        *pos += 1 + len;
        Ok(String::from_utf8(s.to_vec())?)
    };
    let name = text(&mut pos)?;
    let city = text(&mut pos)?;
    let rest = bytes.get(pos..pos + 24).ok_or_else(bad)?;
    let word = |i: usize| -> [u8; 8] { rest[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]) };
    Ok(Rec {
        key: String::from_utf8(key.to_vec())?,
        name,
        city,
        score: i64::from_le_bytes(word(0)),
        age: i64::from_le_bytes(word(1)),
        balance: f64::from_le_bytes(word(2)),
    })
}

/// Order-preserving bytes of a value: strings (never holding 0x00 here) then 0x00; ints as
/// sign-flipped big-endian; floats as sign-flipped IEEE big-endian.
fn encode_value(field: Field, rec: &Rec, out: &mut Vec<u8>) {
    match field {
        Field::Name => encode_str(&rec.name, out),
        Field::City => encode_str(&rec.city, out),
        Field::Score => encode_int(rec.score, out),
        Field::Age => encode_int(rec.age, out),
        Field::Balance => {
            let bits = rec.balance.to_bits();
            let flipped = if bits >> 63 == 1 {
                !bits
            } else {
                bits | (1 << 63)
            };
            out.extend_from_slice(&flipped.to_be_bytes());
        }
    }
}

fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn encode_int(i: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(&((i as u64) ^ (1 << 63)).to_be_bytes());
}

fn entry(field: Field, rec: &Rec) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 24 + rec.key.len());
    out.extend_from_slice(&index_id(field).to_be_bytes());
    encode_value(field, rec, &mut out);
    out.extend_from_slice(rec.key.as_bytes());
    out
}

/// The key of the count of the entries under `value_prefix` (index id ‖ value).
fn count_key(value_prefix: &[u8]) -> Vec<u8> {
    [&[0xFF; 4][..], value_prefix].concat()
}

fn merge_add(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let read = |b: &[u8]| <[u8; 8]>::try_from(b).ok().map(i64::from_le_bytes);
    let mut sum = existing.map_or(Some(0), read)?;
    for operand in operands.iter() {
        sum += read(operand)?;
    }
    Some(sum.to_le_bytes().to_vec())
}

fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return out;
        }
    }
    vec![0xFF; prefix.len() + 1]
}

impl Shared {
    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily> {
        Ok(self
            .db
            .cf_handle(name)
            .ok_or_else(|| format!("no column family {name}"))?)
    }

    /// Adds `rec` and its index changes to `batch` (reading the old record when indexed).
    fn stage(&self, indexes: &[Field], rec: &Rec, batch: &mut WriteBatch) -> Result<()> {
        let kv = self.cf(CF_KV)?;
        batch.put_cf(kv, &rec.key, encode(rec));
        if indexes.is_empty() {
            return Ok(());
        }
        let old = match self.db.get_pinned_cf(kv, &rec.key)? {
            Some(bytes) => Some(decode(rec.key.as_bytes(), &bytes)?),
            None => None,
        };
        let index = self.cf(CF_INDEX)?;
        for &field in indexes {
            let new_entry = entry(field, rec);
            let value_len = |e: &[u8]| e.len() - rec.key.len();
            if let Some(old) = &old {
                let old_entry = entry(field, old);
                if old_entry == new_entry {
                    continue;
                }
                if field.counted() {
                    let key = count_key(&old_entry[..value_len(&old_entry)]);
                    batch.merge_cf(index, key, (-1i64).to_le_bytes());
                }
                batch.delete_cf(index, old_entry);
            }
            if field.counted() {
                let key = count_key(&new_entry[..value_len(&new_entry)]);
                batch.merge_cf(index, key, 1i64.to_le_bytes());
            }
            batch.put_cf(index, new_entry, []);
        }
        Ok(())
    }

    fn put(&self, rec: &Rec) -> Result<()> {
        let indexes = self.indexes.read();
        let mut batch = WriteBatch::default();
        self.stage(&indexes, rec, &mut batch)?;
        self.db.write_opt(batch, &self.write_options)?;
        Ok(())
    }

    /// Walks the index entries in `[lower, upper)` on a snapshot and fetches their records.
    fn fetch(&self, lower: Vec<u8>, upper: Vec<u8>, value_len: Option<usize>) -> Result<Answer> {
        let snapshot = self.db.snapshot();
        let mut read = ReadOptions::default();
        read.set_iterate_lower_bound(lower.clone());
        read.set_iterate_upper_bound(upper);
        let mut it = snapshot.raw_iterator_cf_opt(self.cf(CF_INDEX)?, read);
        it.seek_to_first();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        while let Some(entry) = it.key() {
            // Equality: the key follows the prefix; range: the 4-byte id and 8-byte int.
            let skip = value_len.map_or(lower.len(), |len| 4 + len);
            keys.push(entry[skip..].to_vec());
            it.next();
        }
        it.status()?;
        drop(it);
        let mut read = ReadOptions::default();
        read.set_snapshot(&snapshot);
        let values = self
            .db
            .batched_multi_get_cf_opt(self.cf(CF_KV)?, &keys, false, &read);
        let mut answer = Answer::default();
        for (key, value) in keys.iter().zip(values) {
            let bytes = value?.ok_or("index entry without a record")?;
            let rec = decode(key, &bytes)?;
            answer.add(key, rec.score);
        }
        Ok(answer)
    }
}

impl Engine for RocksDbEngine {
    fn mixer(&self) -> Result<Option<Mixer>> {
        let engine = RocksDbEngine {
            shared: Arc::clone(&self.shared),
        };
        Ok(Some(Box::new(move |op| mix_op(&engine, op))))
    }

    fn compact(&self) -> Result<()> {
        let db = &self.shared.db;
        for name in [CF_KV, CF_INDEX] {
            let cf = db.cf_handle(name).ok_or("a column family is missing")?;
            db.flush_cf(cf)?;
            db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    fn open(dir: &Path, indexed: &[Field]) -> Result<Self> {
        let mut db_options = rocksdb::Options::default();
        db_options.create_if_missing(true);
        db_options.create_missing_column_families(true);
        db_options.increase_parallelism(2);
        let cache = Cache::new_lru_cache(64 * 1024 * 1024);
        let descriptor = |name: &str, bloom: bool, counts: bool| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            // As FieldDB: index and filter blocks of every level pinned in the cache.
            table.set_unpartitioned_pinning_tier(rocksdb::BlockBasedTablePinningTier::All);
            if bloom {
                table.set_bloom_filter(10.0, false);
                // As FieldDB's `kv`: a hash index in each data block for point lookups.
                table.set_data_block_index_type(rocksdb::DataBlockIndexType::BinaryAndHash);
                table.set_data_block_hash_ratio(0.75);
            }
            let mut cf = rocksdb::Options::default();
            cf.set_block_based_table_factory(&table);
            cf.set_compression_type(DBCompressionType::Lz4);
            // As FieldDB: the records stay LZ4 in the last level.
            if !bloom {
                cf.set_bottommost_compression_type(DBCompressionType::Zstd);
            }
            if counts {
                cf.set_merge_operator_associative("count_add", merge_add);
                cf.set_max_successive_merges(8);
            }
            ColumnFamilyDescriptor::new(name, cf)
        };
        let db = DB::open_cf_descriptors(
            &db_options,
            dir,
            vec![
                descriptor(CF_KV, true, false),
                descriptor(CF_INDEX, false, true),
            ],
        )?;
        Ok(RocksDbEngine {
            shared: Arc::new(Shared {
                db,
                write_options: WriteOptions::default(),
                indexes: RwLock::new(indexed.to_vec()),
            }),
        })
    }

    fn put(&self, rec: &Rec) -> Result<()> {
        self.shared.put(rec)
    }

    fn put_batch(&self, recs: &[Rec]) -> Result<()> {
        let s = &self.shared;
        let indexes = s.indexes.read();
        let mut batch = WriteBatch::default();
        for rec in recs {
            s.stage(&indexes, rec, &mut batch)?;
        }
        s.db.write_opt(batch, &s.write_options)?;
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<u64>> {
        let s = &self.shared;
        match s.db.get_pinned_cf(s.cf(CF_KV)?, key)? {
            Some(bytes) => {
                let rec = decode(key.as_bytes(), &bytes)?;
                Ok(Some(row_hash(key.as_bytes(), rec.score)))
            }
            None => Ok(None),
        }
    }

    fn query_eq(&self, field: Field, value: &Val) -> Result<Answer> {
        let prefix = value_prefix(field, value);
        self.shared.fetch(prefix.clone(), successor(&prefix), None)
    }

    fn count_eq(&self, field: Field, value: &Val) -> Result<u64> {
        let s = &self.shared;
        let prefix = value_prefix(field, value);
        if field.counted() {
            let stored = s.db.get_pinned_cf(s.cf(CF_INDEX)?, count_key(&prefix))?;
            let bytes: [u8; 8] = stored.as_deref().unwrap_or(&[0; 8]).try_into()?;
            return Ok(i64::from_le_bytes(bytes).try_into()?);
        }
        let mut read = ReadOptions::default();
        read.set_iterate_upper_bound(successor(&prefix));
        let mut it = s.db.raw_iterator_cf_opt(s.cf(CF_INDEX)?, read);
        it.seek(&prefix);
        let mut n = 0u64;
        while it.valid() {
            n += 1;
            it.next();
        }
        it.status()?;
        Ok(n)
    }

    fn query_range(&self, field: Field, lo: i64, hi: i64) -> Result<Answer> {
        let bound = |v: i64| value_prefix(field, &Val::Int(v));
        let upper = if hi == i64::MAX {
            successor(&index_id(field).to_be_bytes())
        } else {
            bound(hi + 1)
        };
        self.shared.fetch(bound(lo), upper, Some(8))
    }

    fn build_index(&self, field: Field) -> Result<bool> {
        let s = &self.shared;
        s.indexes.write().push(field);
        let (kv, index) = (s.cf(CF_KV)?, s.cf(CF_INDEX)?);
        let mut cursor: Option<Vec<u8>> = None;
        loop {
            let guard = s.indexes.write();
            let mut it = s.db.raw_iterator_cf(kv);
            match &cursor {
                Some(after) => {
                    let mut first = after.clone();
                    first.push(0);
                    it.seek(&first);
                }
                None => it.seek_to_first(),
            }
            let mut batch = WriteBatch::default();
            let mut count = 0;
            while count < BUILD_CHUNK {
                let (Some(key), Some(bytes)) = (it.key(), it.value()) else {
                    break;
                };
                let rec = decode(key, bytes)?;
                batch.put_cf(index, entry(field, &rec), []);
                cursor = Some(key.to_vec());
                count += 1;
                it.next();
            }
            it.status()?;
            let finished = !it.valid();
            drop(it);
            s.db.write_opt(batch, &s.write_options)?;
            // Hand the lock to the writers queued during this step, as FieldDB's builder does.
            RwLockWriteGuard::unlock_fair(guard);
            if finished {
                return Ok(true);
            }
        }
    }

    fn drop_index(&self, field: Field) -> Result<()> {
        let s = &self.shared;
        let mut indexes = s.indexes.write();
        indexes.retain(|f| *f != field);
        let id = index_id(field);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(s.cf(CF_INDEX)?, id.to_be_bytes(), (id + 1).to_be_bytes());
        s.db.write_opt(batch, &s.write_options)?;
        Ok(())
    }

    fn writer(&self) -> Result<Option<Writer>> {
        let shared = Arc::clone(&self.shared);
        Ok(Some(Box::new(move |rec: &Rec| shared.put(rec))))
    }
}

/// Index id ‖ encoded value: the prefix of every entry holding `value`.
fn value_prefix(field: Field, value: &Val) -> Vec<u8> {
    let mut out = index_id(field).to_be_bytes().to_vec();
    match value {
        Val::Str(s) => encode_str(s, &mut out),
        Val::Int(i) => encode_int(*i, &mut out),
    }
    out
}
