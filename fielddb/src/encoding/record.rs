//! The on-disk encoding of a record (the values of the `kv` column family, the records inside
//! replicated commands, and the payloads of covering index entries).
//!
//! Version 3, written in `kv` and in covering index entries since format version 3 of the
//! database:
//!
//! | bytes        | content                                                         |
//! |--------------|-----------------------------------------------------------------|
//! | u8           | record format version, 3                                        |
//! | varint       | field count                                                     |
//! | per field:   |                                                                 |
//! | varint, r    | the name: r even, the name of id r / 2 in the database's field- |
//! |              | name dictionary (`names.rs`); r odd, (r - 1) / 2 bytes follow,  |
//! |              | the name itself, for a name the dictionary has no id for        |
//! | u8, value    | type tag and value, as in version 2                             |
//!
//! The decoder refuses an id the dictionary lacks and an inline name it holds, so every record
//! has one encoding against a given dictionary.
//!
//! Version 2, self-describing: the records inside replicated commands (whose log every replica
//! reads without its dictionary), and what format-2 databases wrote:
//!
//! | bytes        | content                                                         |
//! |--------------|-----------------------------------------------------------------|
//! | u8           | record format version, 2                                        |
//! | varint       | field count                                                     |
//! | per field:   |                                                                 |
//! | varint, n    | name length, then the name (UTF-8, non-empty, unique)           |
//! | u8           | type tag: 0 null, 1 bool, 2 int, 3 float, 4 string, 5 bytes     |
//! | value        | null: nothing; bool: 1 byte, 0 or 1; int: zigzag varint;        |
//! |              | float: 8 bytes LE; string, bytes: varint n, then n bytes        |
//!
//! A varint is unsigned LEB128 of at most 10 bytes, written in its shortest form; the decoder
//! refuses a longer form, so every record has exactly one encoding. Zigzag maps an int `i` to
//! `(i << 1) ^ (i >> 63)`, so small negative numbers stay short.
//!
//! Version 1, still read (databases of format version 1 hold it; nothing writes it any more):
//!
//! | bytes        | content                                                         |
//! |--------------|-----------------------------------------------------------------|
//! | u8           | record format version, 1                                        |
//! | u32 LE       | field count                                                     |
//! | per field:   |                                                                 |
//! | u32 LE, n    | name length, then the name (UTF-8, non-empty, unique)           |
//! | u8           | type tag, as in version 2                                       |
//! | u32 LE, n    | value length, then the value (bool 1 byte, int/float 8 bytes LE)|
//!
//! Versions 2 and 3 exist to make records small: the benchmark's record of 5 fields takes 118
//! bytes in version 1, 71 in version 2 and 48 in version 3, which every write carries through
//! the write-ahead log and the memtable, and every read decompresses.
//!
//! Length-prefixed, never escaped. The decoder checks every length against the input left, so
//! malformed bytes give `Error::Corruption` and never a panic or an allocation larger than the
//! input.
//!
//! A read of the whole record ([`decode`], [`decode_borrowed`]) checks every value too: strings
//! are UTF-8, floats not NaN, bools 0 or 1. A read of some fields ([`decode_fields_into`]: an
//! index build, a write's old record, a query asking for fields) checks the layout of the whole
//! record (its count, every name, tag and length, no trailing bytes) but the content of the
//! values it returns only: stepping over the others without looking made a build over 200,000
//! records 5–10% quicker (medians of 21 builds, three alternated pairs: 47.0 / 47.2 / 47.3 ms
//! against 49.3 / 50.3 / 52.5). A value corrupt in content is still refused by any read that
//! returns it, and by `verify`.

use byteorder::{ByteOrder, LittleEndian, WriteBytesExt};

use crate::encoding::names::NameTable;
use crate::error::{corrupt, invalid, Result};
use crate::record::{FieldName, Record, MAX_FIELDS, MAX_RECORD_LEN};
use crate::repeated_names::RepeatedStoredNames;
use crate::value::{Value, ValueRef};

/// The version this build writes in `kv` and in index entries.
const FORMAT_V3: u8 = 3;
/// The self-describing version, written inside replicated commands (and by format-2 databases).
const FORMAT_V2: u8 = 2;
/// The version of format-1 databases, still read.
const FORMAT_V1: u8 = 1;
const TAG_NULL: u8 = 0;
const TAG_BOOL: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_STR: u8 = 4;
const TAG_BYTES: u8 = 5;
/// The smallest encoded field of version 3: a one-byte name id, the null tag.
const V3_MIN_FIELD_LEN: usize = 1 + 1;
/// The smallest encoded field of version 2: name length, a one-byte name, the null tag.
const V2_MIN_FIELD_LEN: usize = 1 + 1 + 1;
/// The smallest encoded field of version 1: name length, a one-byte name, tag, value length.
const V1_MIN_FIELD_LEN: usize = 4 + 1 + 1 + 4;
/// The longest varint: 64 bits in groups of 7.
const MAX_VARINT_LEN: usize = 10;

/// The size of the encoding, computed without encoding.
pub(crate) fn encoded_len(record: &Record) -> usize {
    1 + varint_len(record.len() as u64)
        + record
            .fields()
            .iter()
            .map(|(name, value)| len_prefixed(name.len()) + 1 + value_len(value))
            .sum::<usize>()
}

fn value_len(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(i) => varint_len(zigzag(*i)),
        Value::Float(_) => 8,
        Value::Str(s) => len_prefixed(s.len()),
        Value::Bytes(b) => len_prefixed(b.len()),
    }
}

/// The size of `n` bytes after their varint length.
fn len_prefixed(n: usize) -> usize {
    varint_len(n as u64) + n
}

/// Encodes a record that [`Record::validate`] accepted, in version 3: each field named by its
/// id in `names`, or inline when `names` has none for it. Refuses what [`check_len`] refuses.
pub(crate) fn encode(record: &Record, names: &NameTable) -> Result<Vec<u8>> {
    Ok(encode_measured(record, names, check_len(record)?).0)
}

/// [`encode`] for a record [`check_len`] has measured as `len`, checking nothing; also says
/// whether `names` had an id for every field's name (else some are inline).
pub(crate) fn encode_measured(record: &Record, names: &NameTable, len: usize) -> (Vec<u8>, bool) {
    // Version 2's length bounds version 3's but for a byte per inline name.
    let mut out = Vec::with_capacity(len);
    let mut all_named = true;
    out.push(FORMAT_V3);
    put_varint(&mut out, record.len() as u64);
    for (name, value) in record.fields() {
        match names.id(name) {
            Some(id) => put_varint(&mut out, u64::from(id) << 1),
            None => {
                all_named = false;
                put_varint(&mut out, ((name.len() as u64) << 1) | 1);
                out.extend_from_slice(name.as_bytes());
            }
        }
        put_value(&mut out, value);
    }
    (out, all_named)
}

/// The record's length in version 2, or an error when that is over [`MAX_RECORD_LEN`]: the
/// limit is on the self-describing form, which a replicated command carries, so that whether a
/// record is accepted never depends on a dictionary.
pub(crate) fn check_len(record: &Record) -> Result<usize> {
    let len = encoded_len(record);
    if len > MAX_RECORD_LEN {
        return invalid!("record of {len} encoded bytes is over the limit of {MAX_RECORD_LEN}");
    }
    Ok(len)
}

/// Encodes a record that [`Record::validate`] accepted, in version 2, which names every field
/// and so reads without a dictionary: the form of the records inside replicated commands.
/// Refuses what [`check_len`] refuses.
pub(crate) fn encode_self_describing(record: &Record) -> Result<Vec<u8>> {
    let len = check_len(record)?;
    let mut out = Vec::with_capacity(len);
    out.push(FORMAT_V2);
    put_varint(&mut out, record.len() as u64);
    for (name, value) in record.fields() {
        put_varint(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
        put_value(&mut out, value);
    }
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

/// A value's type tag and bytes, as versions 2 and 3 write them.
#[inline(always)]
fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(TAG_NULL),
        Value::Bool(b) => out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]),
        Value::Int(i) => {
            out.push(TAG_INT);
            put_varint(out, zigzag(*i));
        }
        Value::Float(f) => {
            out.push(TAG_FLOAT);
            let _ = out.write_f64::<LittleEndian>(*f);
        }
        Value::Str(s) => {
            out.push(TAG_STR);
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(TAG_BYTES);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

#[inline(always)]
fn varint_len(v: u64) -> usize {
    // 7 bits per byte; 0 takes one byte too.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[inline(always)]
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A cursor over the bytes being decoded; every read is checked against what is left.
struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    #[inline(always)]
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        match self.input.get(self.pos..self.pos.saturating_add(n)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.truncated(n, what)),
        }
    }

    #[cold]
    #[inline(never)]
    fn truncated(&self, n: usize, what: &str) -> crate::Error {
        crate::Error::Corruption(format!(
            "record truncated: {what} needs {n} bytes at offset {}, {} left",
            self.pos,
            self.remaining()
        ))
    }

    #[inline(always)]
    fn u8(&mut self, what: &str) -> Result<u8> {
        match self.input.get(self.pos) {
            Some(&byte) => {
                self.pos += 1;
                Ok(byte)
            }
            None => Err(self.truncated(1, what)),
        }
    }

    #[inline(always)]
    fn u32(&mut self, what: &str) -> Result<usize> {
        Ok(LittleEndian::read_u32(self.take(4, what)?) as usize)
    }

    /// A varint in its shortest form.
    #[inline(always)]
    fn varint(&mut self, what: &str) -> Result<u64> {
        // Most varints (lengths, small ints) are one byte.
        match self.input.get(self.pos) {
            Some(&byte) if byte < 0x80 => {
                self.pos += 1;
                Ok(u64::from(byte))
            }
            _ => self.long_varint(what),
        }
    }

    #[inline(never)]
    fn long_varint(&mut self, what: &str) -> Result<u64> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8(what)?;
            if i == MAX_VARINT_LEN - 1 && byte > 1 {
                return corrupt!("{what}: varint at offset {start} overflows 64 bits");
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return corrupt!(
                        "{what}: varint at offset {start} is not in its shortest form"
                    );
                }
                return Ok(value);
            }
        }
        corrupt!("{what}: varint at offset {start} is longer than {MAX_VARINT_LEN} bytes")
    }

    /// A length written as a varint (a length larger than the input fails at `take`).
    #[inline(always)]
    fn varint_len(&mut self, what: &str) -> Result<usize> {
        let v = self.varint(what)?;
        Ok(usize::try_from(v).unwrap_or(usize::MAX))
    }
}

/// What differs between the two versions: how lengths and values are written. The walk is
/// compiled once per version, so decoding a record tests its version once.
trait Layout {
    /// The smallest encoded field.
    const MIN_FIELD_LEN: usize;
    /// A field count.
    fn len(r: &mut Reader<'_>, what: &str) -> Result<usize>;
    /// The name of field `index`, checked: UTF-8 and not empty.
    #[inline(always)]
    fn name<'a>(r: &mut Reader<'a>, _names: &'a NameTable, index: usize) -> Result<NameRef<'a>> {
        let name_len = Self::len(r, "field name length")?;
        Ok(NameRef::inline(inline_name(
            r.take(name_len, "field name")?,
            index,
        )?))
    }
    /// The value after `tag`.
    fn value<'a>(r: &mut Reader<'a>, tag: u8, name: &str) -> Result<ValueRef<'a>>;
    /// Steps over the value after `tag`.
    #[inline(always)]
    fn skip(r: &mut Reader<'_>, tag: u8, name: &str) -> Result<()> {
        Self::value(r, tag, name).map(drop)
    }
}

struct V2;

impl Layout for V2 {
    const MIN_FIELD_LEN: usize = V2_MIN_FIELD_LEN;

    #[inline(always)]
    fn len(r: &mut Reader<'_>, what: &str) -> Result<usize> {
        r.varint_len(what)
    }

    #[inline(always)]
    fn value<'a>(r: &mut Reader<'a>, tag: u8, name: &str) -> Result<ValueRef<'a>> {
        Ok(match tag {
            TAG_NULL => ValueRef::Null,
            TAG_BOOL => bool_value(r.u8("bool")?, name)?,
            TAG_INT => ValueRef::Int(unzigzag(r.varint("int")?)),
            TAG_FLOAT => float_value(r.take(8, "float")?, name)?,
            TAG_STR => {
                let n = r.varint_len("string length")?;
                str_value(r.take(n, "string")?, name)?
            }
            TAG_BYTES => {
                let n = r.varint_len("bytes length")?;
                ValueRef::Bytes(r.take(n, "bytes")?)
            }
            t => return corrupt!("field `{name}`: unknown type tag {t}"),
        })
    }

    #[inline(always)]
    fn skip(r: &mut Reader<'_>, tag: u8, name: &str) -> Result<()> {
        match tag {
            TAG_NULL => {}
            TAG_BOOL => {
                r.u8("bool")?;
            }
            TAG_INT => {
                r.varint("int")?;
            }
            TAG_FLOAT => {
                r.take(8, "float")?;
            }
            TAG_STR => {
                let n = r.varint_len("string length")?;
                r.take(n, "string")?;
            }
            TAG_BYTES => {
                let n = r.varint_len("bytes length")?;
                r.take(n, "bytes")?;
            }
            t => return corrupt!("field `{name}`: unknown type tag {t}"),
        }
        Ok(())
    }
}

struct V3;

impl Layout for V3 {
    const MIN_FIELD_LEN: usize = V3_MIN_FIELD_LEN;

    #[inline(always)]
    fn len(r: &mut Reader<'_>, what: &str) -> Result<usize> {
        V2::len(r, what)
    }

    #[inline(always)]
    fn name<'a>(r: &mut Reader<'a>, names: &'a NameTable, index: usize) -> Result<NameRef<'a>> {
        let reference = r.varint("field name")?;
        if reference & 1 == 0 {
            let id = reference >> 1;
            return match names.name(id) {
                Some(name) => Ok(NameRef {
                    text: name.as_str(),
                    id: Some(id),
                }),
                None => corrupt!(
                    "field {index}: name id {} is not in the dictionary",
                    reference >> 1
                ),
            };
        }
        let name_len = usize::try_from(reference >> 1).unwrap_or(usize::MAX);
        let name = inline_name(r.take(name_len, "field name")?, index)?;
        if names.id(name).is_some() {
            // The encoder names a field inline only when the dictionary has no id for it.
            return corrupt!("field {index}: name `{name}` is inline but has an id");
        }
        Ok(NameRef::inline(name))
    }

    #[inline(always)]
    fn value<'a>(r: &mut Reader<'a>, tag: u8, name: &str) -> Result<ValueRef<'a>> {
        V2::value(r, tag, name)
    }

    #[inline(always)]
    fn skip(r: &mut Reader<'_>, tag: u8, name: &str) -> Result<()> {
        V2::skip(r, tag, name)
    }
}

/// A field's name as a walk finds it: its text and, for a name the dictionary gives, its id
/// (which checks it against the record's other names without hashing the text).
#[derive(Clone, Copy)]
struct NameRef<'a> {
    text: &'a str,
    id: Option<u64>,
}

impl<'a> NameRef<'a> {
    #[inline(always)]
    fn inline(text: &'a str) -> Self {
        NameRef { text, id: None }
    }
}

/// A name written out in the record, checked.
#[inline(always)]
fn inline_name(bytes: &[u8], index: usize) -> Result<&str> {
    let Ok(name) = std::str::from_utf8(bytes) else {
        return corrupt!("field {index}: name is not UTF-8");
    };
    if name.is_empty() {
        return corrupt!("field {index}: empty name");
    }
    Ok(name)
}

struct V1;

impl Layout for V1 {
    const MIN_FIELD_LEN: usize = V1_MIN_FIELD_LEN;

    #[inline(always)]
    fn len(r: &mut Reader<'_>, what: &str) -> Result<usize> {
        r.u32(what)
    }

    /// A u32 length, then the value.
    fn value<'a>(r: &mut Reader<'a>, tag: u8, name: &str) -> Result<ValueRef<'a>> {
        let value_len = r.u32("value length")?;
        let payload = r.take(value_len, "value")?;
        let expect_len = |n: usize| -> Result<()> {
            if value_len == n {
                Ok(())
            } else {
                corrupt!("field `{name}`: value length {value_len}, expected {n}")
            }
        };
        Ok(match tag {
            TAG_NULL => {
                expect_len(0)?;
                ValueRef::Null
            }
            TAG_BOOL => {
                expect_len(1)?;
                bool_value(payload[0], name)?
            }
            TAG_INT => {
                expect_len(8)?;
                ValueRef::Int(LittleEndian::read_i64(payload))
            }
            TAG_FLOAT => {
                expect_len(8)?;
                float_value(payload, name)?
            }
            TAG_STR => str_value(payload, name)?,
            TAG_BYTES => ValueRef::Bytes(payload),
            t => return corrupt!("field `{name}`: unknown type tag {t}"),
        })
    }
}

#[inline(always)]
fn bool_value<'a>(byte: u8, name: &str) -> Result<ValueRef<'a>> {
    match byte {
        0 => Ok(ValueRef::Bool(false)),
        1 => Ok(ValueRef::Bool(true)),
        b => corrupt!("field `{name}`: bool byte {b}"),
    }
}

#[inline(always)]
fn float_value<'a>(bytes: &[u8], name: &str) -> Result<ValueRef<'a>> {
    let f = LittleEndian::read_f64(bytes);
    if f.is_nan() {
        // Writes refuse NaN, so a stored one was not written by FieldDB.
        return corrupt!("field `{name}`: NaN float");
    }
    Ok(ValueRef::Float(f))
}

#[inline(always)]
fn str_value<'a>(bytes: &'a [u8], name: &str) -> Result<ValueRef<'a>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(ValueRef::Str(s)),
        Err(_) => corrupt!("field `{name}`: string is not UTF-8"),
    }
}

/// Decodes a record of any version, checking everything, with the field names of version 3 from
/// `names`; malformed input is `Error::Corruption`.
pub(crate) fn decode(input: &[u8], names: &NameTable) -> Result<Record> {
    let mut fields = AllFields(Vec::new());
    walk(input, names, &mut fields)?;
    Ok(Record::from_fields_unchecked(fields.0))
}

/// Decodes a record of version 1 or 2, which name their fields: the records inside replicated
/// commands, read without a dictionary.
pub(crate) fn decode_self_describing(input: &[u8]) -> Result<Record> {
    if input.first() == Some(&FORMAT_V3) {
        return corrupt!("a record of version {FORMAT_V3} where a self-describing one belongs");
    }
    decode(input, NameTable::empty())
}

/// The values of `names` in one encoded record, in the order of `names` (`None` for a field
/// the record lacks), checked as [`decode_fields_into`] checks them. The tests' form of
/// [`decode_fields_into`].
#[cfg(test)]
pub(crate) fn decode_fields(
    input: &[u8],
    wanted: &[String],
    names: &NameTable,
) -> Result<Vec<Option<Value>>> {
    let mut found = vec![None; wanted.len()];
    decode_fields_into(input, wanted, names, &mut found)?;
    Ok(found)
}

/// The values of `wanted` in one encoded record, in the order of `wanted` (`None` for a field
/// the record lacks), as `T` (owned [`Value`]s or borrowed [`ValueRef`]s), from one walk that
/// checks the whole record's layout and the wanted values (the others are stepped over, their
/// content unread: see the module's header), into `found`, which has exactly one slot per name
/// (refilled here): a caller decoding many records keeps one set of slots for all of them, on
/// its stack or in a vector made once.
pub(crate) fn decode_fields_into<'a, T: FromValueRef<'a> + Clone>(
    input: &'a [u8],
    wanted: &[String],
    names: &'a NameTable,
    found: &mut [Option<T>],
) -> Result<()> {
    debug_assert_eq!(found.len(), wanted.len());
    found.fill(None);
    walk(
        input,
        names,
        &mut WantedFields {
            names: wanted,
            found,
            slot: None,
        },
    )
}

/// The fields of one encoded record, borrowed from `input` (names of version 3 from `names`),
/// in order, into `out` (cleared first), from one walk that checks the whole record (as
/// [`decode`]): nothing is copied or allocated once `out` has room.
pub(crate) fn decode_borrowed<'a>(
    input: &'a [u8],
    names: &'a NameTable,
    out: &mut Vec<(&'a str, ValueRef<'a>)>,
) -> Result<()> {
    out.clear();
    walk(input, names, &mut BorrowedFields(out))
}

/// What a walk does with each field (a trait rather than a closure, so that it is inlined into
/// the walk of each version).
trait Visit<'a> {
    /// Before the first field: the record claims `count` fields, which its length allows (at
    /// least the smallest field's bytes each).
    #[inline(always)]
    fn begin(&mut self, _count: usize) {}
    /// Whether [`Visit::field`] is to see the value of the field named `name`, which comes
    /// next; a value not wanted is stepped over, its tag and length checked but not its
    /// content.
    #[inline(always)]
    fn wants(&mut self, _name: &str) -> bool {
        true
    }
    fn field(&mut self, name: NameRef<'a>, value: ValueRef<'a>);
}

/// Keeps every field ([`decode`]).
struct AllFields(Vec<(FieldName, Value)>);

impl<'a> Visit<'a> for AllFields {
    /// One allocation of the right size: no record of a few fields more than a guess grows
    /// (and copies) its vector. The count is bounded by the input's length and by
    /// [`MAX_FIELDS`], so a corrupt count reserves no more than the input could hold.
    #[inline(always)]
    fn begin(&mut self, count: usize) {
        self.0.reserve_exact(count.min(MAX_FIELDS));
    }

    #[inline(always)]
    fn field(&mut self, name: NameRef<'a>, value: ValueRef<'a>) {
        self.0.push((FieldName::from(name.text), value.to_value()));
    }
}

/// Keeps every field, borrowed ([`decode_borrowed`]).
struct BorrowedFields<'o, 'a>(&'o mut Vec<(&'a str, ValueRef<'a>)>);

impl<'a> Visit<'a> for BorrowedFields<'_, 'a> {
    #[inline(always)]
    fn begin(&mut self, count: usize) {
        self.0.reserve(count.min(MAX_FIELDS));
    }

    #[inline(always)]
    fn field(&mut self, name: NameRef<'a>, value: ValueRef<'a>) {
        self.0.push((name.text, value));
    }
}

/// Collects the values of the wanted names, as `T`: owned [`Value`]s or borrowed
/// [`ValueRef`]s.
struct WantedFields<'n, 'f, T> {
    names: &'n [String],
    /// One slot per name, in the order of `names`.
    found: &'f mut [Option<T>],
    /// The slot of the field the walk is at, when it is wanted.
    slot: Option<usize>,
}

/// What [`WantedFields`] keeps of a value read in place.
pub(crate) trait FromValueRef<'a> {
    fn from_value_ref(value: ValueRef<'a>) -> Self;
}

impl FromValueRef<'_> for Value {
    #[inline(always)]
    fn from_value_ref(value: ValueRef<'_>) -> Self {
        value.to_value()
    }
}

impl<'a> FromValueRef<'a> for ValueRef<'a> {
    #[inline(always)]
    fn from_value_ref(value: ValueRef<'a>) -> Self {
        value
    }
}

impl<'a, T: FromValueRef<'a>> Visit<'a> for WantedFields<'_, '_, T> {
    #[inline(always)]
    fn wants(&mut self, name: &str) -> bool {
        self.slot = self.names.iter().position(|n| n == name);
        self.slot.is_some()
    }

    #[inline(always)]
    fn field(&mut self, _name: NameRef<'a>, value: ValueRef<'a>) {
        if let Some(i) = self.slot {
            self.found[i] = Some(T::from_value_ref(value));
        }
    }
}

/// Walks an encoded record of any version, checking every length, tag and name, and calls
/// `visit` with each field in order that it wants, checking its value first.
fn walk<'a>(input: &'a [u8], names: &'a NameTable, visit: &mut impl Visit<'a>) -> Result<()> {
    match input.first() {
        Some(&FORMAT_V3) => walk_fields::<V3>(input, names, visit),
        Some(&FORMAT_V2) => walk_fields::<V2>(input, names, visit),
        Some(&FORMAT_V1) => walk_fields::<V1>(input, names, visit),
        Some(version) => corrupt!(
            "record format version {version} is unknown (expected {FORMAT_V1} to {FORMAT_V3})"
        ),
        None => corrupt!("record truncated: no format version"),
    }
}

/// The walk of a record in layout `L`, after its version byte.
fn walk_fields<'a, L: Layout>(
    input: &'a [u8],
    names: &'a NameTable,
    visit: &mut impl Visit<'a>,
) -> Result<()> {
    let mut r = Reader { input, pos: 1 };
    let count = L::len(&mut r, "field count")?;
    if count > r.remaining() / L::MIN_FIELD_LEN {
        return corrupt!(
            "record claims {count} fields but only {} bytes follow",
            r.remaining()
        );
    }
    let mut seen = RepeatedStoredNames::for_count(count);
    visit.begin(count);
    for index in 0..count {
        let name = L::name(&mut r, names, index)?;
        if let Some(name) = seen.insert(name.text, name.id) {
            return corrupt!("field {index}: name `{name}` appears twice");
        }
        let tag = r.u8("type tag")?;
        if !visit.wants(name.text) {
            L::skip(&mut r, tag, name.text)?;
            continue;
        }
        visit.field(name, L::value(&mut r, tag, name.text)?);
    }
    if r.remaining() != 0 {
        return corrupt!("{} trailing bytes after the last field", r.remaining());
    }
    if let Some(name) = seen.finish() {
        return corrupt!("field name `{name}` appears twice");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Most tests below check version 2, the self-describing form, through these; the tests of
    // version 3 name the dictionary.
    fn encode(record: &Record) -> Result<Vec<u8>> {
        encode_self_describing(record)
    }

    fn decode(input: &[u8]) -> Result<Record> {
        super::decode(input, NameTable::empty())
    }

    fn decode_fields(input: &[u8], wanted: &[String]) -> Result<Vec<Option<Value>>> {
        super::decode_fields(input, wanted, NameTable::empty())
    }

    fn round_trip(record: &Record) -> Record {
        decode(&encode(record).unwrap()).unwrap()
    }

    /// A dictionary holding `names`, ids in that order.
    fn dictionary(names: &[&str]) -> NameTable {
        NameTable::default().extended(names).0
    }

    #[test]
    fn version_three_bytes_are_exactly_these() {
        // The format on disk: changing it needs a new version, not an edit of this test.
        let names = dictionary(&["a", "s"]);
        let record = Record::new()
            .set("s", "hi")
            .set("zz", Value::Null)
            .set("a", -2);
        // Count 3; `s` is id 1 (2 * 1), `zz` inline (2 * 2 + 1, then its bytes), `a` id 0.
        let expected = vec![
            3, 3, 2, TAG_STR, 2, b'h', b'i', 5, b'z', b'z', TAG_NULL, 0, TAG_INT, 3,
        ];
        assert_eq!(super::encode(&record, &names).unwrap(), expected);
        assert_eq!(super::decode(&expected, &names).unwrap(), record);
        // Without the dictionary, the ids mean nothing.
        let err = decode(&expected).unwrap_err().to_string();
        assert!(err.contains("name id 1 is not in the dictionary"), "{err}");
    }

    #[test]
    fn version_three_refuses_an_inline_name_that_has_an_id_and_a_repeated_id() {
        let names = dictionary(&["a"]);
        let inline_a = [3, 1, 3, b'a', TAG_NULL];
        let err = super::decode(&inline_a, &names).unwrap_err().to_string();
        assert!(err.contains("inline but has an id"), "{err}");
        assert!(super::decode(&inline_a, NameTable::empty()).is_ok());
        let twice = [3, 2, 0, TAG_NULL, 0, TAG_NULL];
        let err = super::decode(&twice, &names).unwrap_err().to_string();
        assert!(err.contains("`a` appears twice"), "{err}");
    }

    /// A version-3 record of null fields named by the dictionary ids `ids`.
    fn v3_nulls(ids: &[u64]) -> Vec<u8> {
        let mut bytes = vec![FORMAT_V3];
        put_varint(&mut bytes, ids.len() as u64);
        for id in ids {
            put_varint(&mut bytes, id * 2);
            bytes.push(TAG_NULL);
        }
        bytes
    }

    #[test]
    fn a_repeated_id_is_refused_however_many_fields_and_ids_sharing_a_filter_bit_are_not() {
        let all: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
        let names = dictionary(&all.iter().map(String::as_str).collect::<Vec<_>>());
        // Few fields, the filtered middle and the sorted many: each check sees the repeat.
        for count in [5u64, 20, 70] {
            let mut ids: Vec<u64> = (0..count).collect();
            assert!(super::decode(&v3_nulls(&ids), &names).is_ok(), "{count}");
            ids.push(2);
            let err = super::decode(&v3_nulls(&ids), &names)
                .unwrap_err()
                .to_string();
            assert!(err.contains("`f2` appears twice"), "{count}: {err}");
        }
        // Ids 1 and 257 pick the same bit of the filter: compared, and found distinct.
        let mut ids: Vec<u64> = (0..20).collect();
        ids.push(257);
        let record = super::decode(&v3_nulls(&ids), &names).unwrap();
        assert_eq!(record.len(), 21);
        assert_eq!(record.names().last(), Some("f257"));
    }

    #[test]
    fn a_replicated_command_s_record_must_name_its_fields() {
        let names = dictionary(&["a"]);
        let v3 = super::encode(&Record::new().set("a", 1), &names).unwrap();
        assert!(decode_self_describing(&v3).is_err());
        let v2 = encode(&Record::new().set("a", 1)).unwrap();
        assert_eq!(
            decode_self_describing(&v2).unwrap(),
            Record::new().set("a", 1)
        );
    }

    #[test]
    fn every_value_type_round_trips_with_edge_cases() {
        let record = Record::new()
            .set("null", Value::Null)
            .set("t", true)
            .set("f", false)
            .set("min", i64::MIN)
            .set("max", i64::MAX)
            .set("zero", 0)
            .set("negzero", -0.0)
            .set("inf", f64::INFINITY)
            .set("neginf", f64::NEG_INFINITY)
            .set("tiny", f64::MIN_POSITIVE)
            .set("empty", "")
            .set("unicode", "Grüße, 世界 🚀")
            .set("nul", "a\0b")
            .set("nobytes", Vec::<u8>::new())
            .set("bytes", vec![0u8, 255, 0, 1]);
        let back = round_trip(&record);
        assert_eq!(back, record);
        let bits = |r: &Record, n: &str| r.get(n).unwrap().as_f64().unwrap().to_bits();
        assert_eq!(bits(&back, "negzero"), (-0.0f64).to_bits());
    }

    #[test]
    fn a_one_mebibyte_value_round_trips() {
        let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let record = Record::new().set("blob", big);
        assert_eq!(round_trip(&record), record);
    }

    #[test]
    fn ten_thousand_fields_round_trip_in_order() {
        let mut record = Record::new();
        for i in 0..10_000 {
            record.push(format!("field{i}"), i);
        }
        record.validate().unwrap();
        let back = round_trip(&record);
        assert_eq!(back, record);
        assert_eq!(back.iter().nth(9_999).unwrap().0, "field9999");
    }

    #[test]
    fn malformed_inputs_are_corruption() {
        let good = encode(&Record::new().set("a", 1).set("b", "x")).unwrap();
        for cut in 0..good.len() {
            assert!(matches!(
                decode(&good[..cut]),
                Err(crate::Error::Corruption(_))
            ));
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        // A count that claims more fields than the bytes can hold is refused before allocating,
        // in either version.
        assert!(decode(&[2u8, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode(&[1u8, 0xff, 0xff, 0xff, 0xff]).is_err());
        // Version, count, name length, name, then the first tag.
        assert_eq!(&good[..5], &[2, 2, 1, b'a', TAG_INT]);
        let mut bad_tag = good.clone();
        bad_tag[4] = 9;
        assert!(decode(&bad_tag)
            .unwrap_err()
            .to_string()
            .contains("unknown type tag 9"));
        let mut bad_version = good.clone();
        bad_version[0] = 4;
        assert!(decode(&bad_version).is_err());
    }

    #[test]
    fn varints_are_refused_unless_in_their_shortest_form() {
        // One field `a` holding the int 1 (zigzag 2), then the same with the int's varint padded.
        assert_eq!(
            decode(&[2, 1, 1, b'a', TAG_INT, 2]).unwrap(),
            Record::new().set("a", 1)
        );
        let padded = decode(&[2, 1, 1, b'a', TAG_INT, 0x82, 0x00]).unwrap_err();
        assert!(padded.to_string().contains("shortest form"), "{padded}");
        // A padded field count or name length too.
        assert!(decode(&[2, 0x81, 0x00, 1, b'a', TAG_INT, 2]).is_err());
        assert!(decode(&[2, 1, 0x81, 0x00, b'a', TAG_INT, 2]).is_err());
        // i64::MIN is zigzag u64::MAX: ten bytes, the last 1. A last byte above 1, or an
        // eleventh byte, overflows.
        let min = encode(&Record::new().set("a", i64::MIN)).unwrap();
        assert_eq!(
            &min[5..],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        let mut over = min.clone();
        over[14] = 0x02;
        assert!(decode(&over).unwrap_err().to_string().contains("overflows"));
        let mut longer = min.clone();
        longer[14] = 0x81;
        longer.push(0x01);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn version_two_bytes_are_exactly_these() {
        // The format on disk: changing it needs a new version, not an edit of this test.
        let record = Record::new()
            .set("a", -2)
            .set("s", "hi")
            .set("n", Value::Null)
            .set("t", true)
            .set("f", 1.0)
            .set("y", vec![7u8]);
        let mut expected = vec![2, 6, 1, b'a', TAG_INT, 3, 1, b's', TAG_STR, 2, b'h', b'i'];
        expected.extend_from_slice(&[1, b'n', TAG_NULL, 1, b't', TAG_BOOL, 1, 1, b'f', TAG_FLOAT]);
        expected.extend_from_slice(&1.0f64.to_le_bytes());
        expected.extend_from_slice(&[1, b'y', TAG_BYTES, 1, 7]);
        assert_eq!(encode(&record).unwrap(), expected);
        assert_eq!(decode(&expected).unwrap(), record);
    }

    #[test]
    fn varint_lengths_change_at_each_seven_bits() {
        for (v, len) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            assert_eq!(varint_len(v), len, "{v}");
        }
    }

    #[test]
    fn small_ints_and_short_strings_take_few_bytes() {
        for (i, len) in [
            (0i64, 1),
            (-1, 1),
            (63, 1),
            (-64, 1),
            (64, 2),
            (-65, 2),
            (i64::MAX, 10),
        ] {
            let bytes = encode(&Record::new().set("n", i)).unwrap();
            assert_eq!(bytes.len(), 5 + len, "{i}");
            assert_eq!(
                round_trip(&Record::new().set("n", i)).get("n"),
                Some(&Value::Int(i))
            );
        }
        // A record of the compare benchmark (benches/compare/workload.rs): 118 bytes in
        // version 1, 71 in version 2 (names 28 with their lengths, tags 5, values 36).
        let record = Record::new()
            .set("name", "user-0123abcd")
            .set("city", "city-042")
            .set("score", 1_234_567)
            .set("age", 42)
            .set("balance", 1234.5);
        assert_eq!(encode_v1(&record).len(), 118);
        assert_eq!(encode(&record).unwrap().len(), 71);
        // 48 in version 3, each name one byte of id.
        let names = dictionary(&["name", "city", "score", "age", "balance"]);
        assert_eq!(super::encode(&record, &names).unwrap().len(), 48);
    }

    /// Version 1's encoder, as FieldDB wrote it before version 2, to test that it is still read.
    fn encode_v1(record: &Record) -> Vec<u8> {
        let mut out = vec![FORMAT_V1];
        let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
        put(&mut out, record.len());
        for (name, value) in record.fields() {
            put(&mut out, name.len());
            out.extend_from_slice(name.as_bytes());
            let (tag, payload): (u8, Vec<u8>) = match value {
                Value::Null => (TAG_NULL, vec![]),
                Value::Bool(b) => (TAG_BOOL, vec![u8::from(*b)]),
                Value::Int(i) => (TAG_INT, i.to_le_bytes().to_vec()),
                Value::Float(f) => (TAG_FLOAT, f.to_le_bytes().to_vec()),
                Value::Str(s) => (TAG_STR, s.as_bytes().to_vec()),
                Value::Bytes(b) => (TAG_BYTES, b.clone()),
            };
            out.push(tag);
            put(&mut out, payload.len());
            out.extend_from_slice(&payload);
        }
        out
    }

    #[test]
    fn version_one_records_are_still_read() {
        let record = Record::new()
            .set("null", Value::Null)
            .set("t", true)
            .set("min", i64::MIN)
            .set("f", -2.5)
            .set("s", "Grüße")
            .set("b", vec![0u8, 255]);
        let v1 = encode_v1(&record);
        assert_eq!(decode(&v1).unwrap(), record);
        let wanted = ["s".to_string(), "min".to_string(), "none".to_string()];
        assert_eq!(
            decode_fields(&v1, &wanted).unwrap(),
            vec![Some(Value::from("Grüße")), Some(Value::Int(i64::MIN)), None]
        );
        // Version 1's own checks stay: a wrong value length is corruption.
        let mut bad = encode_v1(&Record::new().set("n", 1));
        bad[11] = 4; // version, count, name length, name, tag, then the value length
        assert!(decode(&bad)
            .unwrap_err()
            .to_string()
            .contains("value length"));
    }

    #[test]
    fn a_stored_nan_is_corruption() {
        // Found by the record_decoder fuzz target: a NaN float decoded, although no write
        // can store one (crash-30728f4af593fe0749ae82a490de08927b1ee0ce).
        let input = b"\x01\x01\x00\x00\x00\x01\x00\x00\x00a\x03\x08\x00\x00\x00*\x00\x00\x00\x00\x00\xff\xff";
        assert!(matches!(decode(input), Err(crate::Error::Corruption(m)) if m.contains("NaN")));
        let mut v2 = vec![2, 1, 1, b'a', TAG_FLOAT];
        v2.extend_from_slice(&f64::NAN.to_le_bytes());
        assert!(matches!(decode(&v2), Err(crate::Error::Corruption(m)) if m.contains("NaN")));
    }

    #[test]
    fn a_value_cut_short_is_named_alike_whether_read_or_stepped_over() {
        let record = Record::new()
            .set("a", 1)
            .set("s", "text")
            .set("b", Value::Bytes(vec![1, 2, 3, 4]));
        let bytes = encode(&record).unwrap();
        for cut in 1..bytes.len() {
            let short = &bytes[..bytes.len() - cut];
            let whole = decode(short).unwrap_err().to_string();
            let part = decode_fields(short, &["a".to_string()])
                .unwrap_err()
                .to_string();
            assert_eq!(part, whole, "cut {cut}");
        }
    }

    #[test]
    fn a_repeated_name_is_corruption_however_many_fields() {
        // 2 fields: compared one by one; 40: behind the filter; 100: sorted at the end.
        for count in [2, 40, 100] {
            let mut record = Record::new();
            for i in 0..count {
                record = record.set(format!("f{i:03}"), i);
            }
            let mut bytes = encode(&record).unwrap();
            let last = format!("f{:03}", count - 1);
            // Rename the last field to `f000`: same length, so the layout stays valid.
            let at = bytes
                .windows(4)
                .rposition(|w| w == last.as_bytes())
                .unwrap();
            bytes[at..at + 4].copy_from_slice(b"f000");
            let err = decode(&bytes).unwrap_err().to_string();
            assert!(err.contains("`f000` appears twice"), "{count}: {err}");
            assert!(decode_fields(&bytes, &["f001".to_string()]).is_err());
            assert!(decode(&encode(&record).unwrap()).is_ok());
        }
    }

    #[test]
    fn duplicate_and_empty_names_on_disk_are_corruption() {
        let mut r = Record::new();
        r.push("x", 1);
        r.push("x", 2);
        assert!(decode(&encode(&r).unwrap()).is_err());
        let empty_name = Record::from_fields_unchecked(vec![(FieldName::default(), Value::Null)]);
        assert!(decode(&encode(&empty_name).unwrap()).is_err());
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("no NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            ".*".prop_map(Value::from),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::Bytes),
        ]
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn mutated_records_never_panic_and_re_encode_to_the_bytes_read(
            values in proptest::collection::vec(arb_value(), 0..8),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        ) {
            // Version 2 has one encoding per record: whatever the decoder accepts, the encoder
            // writes back byte for byte (so replicas writing the same records agree).
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            let mut bytes = encode(&record).unwrap();
            for (pos, byte) in flips {
                let len = bytes.len();
                bytes[pos % len] = byte;
            }
            if let Ok(decoded) = decode(&bytes) {
                if bytes[0] == FORMAT_V2 {
                    prop_assert_eq!(encode(&decoded).unwrap(), bytes);
                }
            }
        }

        #[test]
        fn version_three_records_round_trip_and_re_encode_to_the_bytes_read(
            values in proptest::collection::vec(arb_value(), 0..70),
            held in proptest::collection::vec(any::<bool>(), 70),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        ) {
            // Fields f0.. of which the dictionary holds some (in an order of its own), so a
            // record mixes ids and inline names; against one dictionary, version 3 has one
            // encoding per record.
            let names: Vec<String> = (0..70).rev().filter(|i| held[*i]).map(|i| format!("f{i}")).collect();
            let names = dictionary(&names.iter().map(String::as_str).collect::<Vec<_>>());
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            let mut bytes = super::encode(&record, &names).unwrap();
            prop_assert_eq!(super::decode(&bytes, &names).unwrap(), record.clone());
            let wanted = vec!["f3".to_string(), "f0".to_string()];
            let found = super::decode_fields(&bytes, &wanted, &names).unwrap();
            prop_assert_eq!(found, vec![record.get("f3").cloned(), record.get("f0").cloned()]);
            for (pos, byte) in flips {
                let len = bytes.len();
                bytes[pos % len] = byte;
            }
            if let Ok(decoded) = super::decode(&bytes, &names) {
                if bytes[0] == FORMAT_V3 {
                    prop_assert_eq!(super::encode(&decoded, &names).unwrap(), bytes);
                }
            }
        }

        #[test]
        fn random_bytes_never_panic_the_decoder_with_a_dictionary(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let names = dictionary(&["a", "b", "c"]);
            let _ = super::decode(&bytes, &names);
            let _ = super::decode_fields(&bytes, &["b".to_string()], &names);
        }

        #[test]
        fn a_varint_is_as_long_as_varint_len_says_and_reads_back(
            v in prop_oneof![any::<u64>(), 0u64..300, Just(u64::MAX)],
        ) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            prop_assert_eq!(out.len(), varint_len(v));
            let mut r = Reader { input: &out, pos: 0 };
            prop_assert_eq!(r.varint("v").unwrap(), v);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn version_one_and_two_decode_alike(values in proptest::collection::vec(arb_value(), 0..70)) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            prop_assert_eq!(decode(&encode_v1(&record)).unwrap(), record.clone());
            prop_assert_eq!(decode(&encode(&record).unwrap()).unwrap(), record);
        }

        #[test]
        fn random_records_round_trip(values in proptest::collection::vec(arb_value(), 0..16)) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            prop_assert_eq!(round_trip(&record), record);
        }

        #[test]
        fn decode_field_finds_what_decode_finds(
            values in proptest::collection::vec(arb_value(), 0..40),
            wanted in 0usize..45,
        ) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            let bytes = encode(&record).unwrap();
            let name = format!("f{wanted}");
            let found = decode_fields(&bytes, std::slice::from_ref(&name)).unwrap().pop().flatten();
            prop_assert_eq!(found.as_ref(), record.get(&name));
        }

        #[test]
        fn decode_field_refuses_all_decode_refuses_but_the_content_of_other_values(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let found = decode_fields(&bytes, &["a".to_string()]);
            let content = |e: &str| ["not UTF-8", "NaN float", "bool byte"].iter().any(|m| e.contains(m));
            match (decode(&bytes), found) {
                (Ok(record), found) => prop_assert_eq!(found.unwrap(), vec![record.get("a").cloned()]),
                // Only a value other than `a`'s can be what the whole read refuses.
                (Err(e), Ok(_)) => {
                    let e = e.to_string();
                    prop_assert!(content(&e), "{e}");
                    prop_assert!(!e.contains("field `a`"), "{e}");
                }
                // Both walk the same way: the same first fault, unless the whole read stopped
                // earlier at another value's content.
                (Err(e), Err(f)) => {
                    let e = e.to_string();
                    if !content(&e) {
                        prop_assert_eq!(e, f.to_string());
                    }
                }
            }
        }

        /// One value made corrupt in content (a string not UTF-8, a NaN float, a bool of 2),
        /// in either version: reading the whole record, or that field, is refused; reading
        /// the other fields finds them.
        #[test]
        fn a_value_corrupt_in_content_is_refused_by_the_reads_that_return_it_only(
            values in proptest::collection::vec(arb_value(), 0..12),
            kind in 0..3usize,
            at in any::<proptest::sample::Index>(),
            version_three in any::<bool>(),
        ) {
            let mut fields: Vec<(String, Value)> =
                values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            // The value to corrupt, marked so that its bytes are found in the encoding. `bad` is
            // named inline in both versions, so a bool is found after its name and tag.
            let (marked, marker, corrupt): (Value, Vec<u8>, Vec<u8>) = match kind {
                0 => (Value::from("\u{1}mark\u{1}"), b"\x01mark\x01".to_vec(), b"\x01mar\xff\x01".to_vec()),
                1 => (
                    Value::Float(-1.234_567_890_123e-300),
                    (-1.234_567_890_123e-300f64).to_le_bytes().to_vec(),
                    f64::NAN.to_le_bytes().to_vec(),
                ),
                _ => (Value::Bool(true), vec![b'b', b'a', b'd', TAG_BOOL, 1], vec![b'b', b'a', b'd', TAG_BOOL, 2]),
            };
            fields.insert(at.index(fields.len() + 1), ("bad".to_string(), marked));
            let record: Record = fields.iter().cloned().collect();
            let names = if version_three { dictionary(&["f0", "f5"]) } else { NameTable::default() };
            let mut bytes = if version_three {
                super::encode(&record, &names).unwrap()
            } else {
                encode(&record).unwrap()
            };
            let from = bytes.windows(marker.len()).position(|w| w == marker.as_slice()).unwrap();
            bytes[from..from + marker.len()].copy_from_slice(&corrupt);
            prop_assert!(super::decode(&bytes, &names).is_err());
            prop_assert!(super::decode_fields(&bytes, &["bad".to_string()], &names).is_err());
            let others: Vec<String> = fields.iter().map(|(n, _)| n.clone()).filter(|n| n != "bad").collect();
            let found = super::decode_fields(&bytes, &others, &names).unwrap();
            let expected: Vec<Option<Value>> = others.iter().map(|n| record.get(n).cloned()).collect();
            prop_assert_eq!(found, expected);
        }
    }
}
