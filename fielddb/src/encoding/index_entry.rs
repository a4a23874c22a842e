//! The layout of one index entry in the `index` column family, and the id that names an index.
//!
//! | part            | bytes                                                          |
//! |-----------------|----------------------------------------------------------------|
//! | index id        | u32 big-endian                                                 |
//! | values          | the `keycode` encoding of each indexed field's value, in the    |
//! |                 | index's field order (one for a single-field index); each is    |
//! |                 | self-delimiting, so the entries sort by the tuple of values    |
//! | user key        | the record's key, unescaped, to the end                        |
//!
//! Logically the key is `fields | values | key`; the id in place of the fields lets a dropped
//! index be deleted by range while a new index on the same fields is built under a new id. A
//! record missing any of the indexed fields has no entry.
//!
//! The RocksDB value (the entry's payload) depends on what the index covers ([`Covering`]):
//!
//! | covering                  | value                                                      |
//! |---------------------------|------------------------------------------------------------|
//! | `Covering::Nothing`       | empty                                                      |
//! | `Covering::Fields(names)` | the record format (`encoding::record`) of the record's     |
//! |                           | fields among `names`, in the order of `names`              |
//! | `Covering::Record`        | the record's own bytes, as `kv` holds them                 |

use crate::encoding::names::NameTable;
use crate::encoding::record as record_codec;
use crate::encoding::{keycode, prefix_successor};
use crate::error::{corrupt, Result};
use crate::record::{FieldName, Record};
use crate::record_view::RecordView;
use crate::value::{Value, ValueRef};

/// What an index stores in its entries besides the indexed values, so that a query wanting
/// only stored fields reads no record ([`IndexSpec::include`]).
///
/// [`IndexSpec::include`]: crate::IndexSpec::include
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Covering {
    /// Only the indexed values (in the entry's key).
    #[default]
    Nothing,
    /// These fields too, as the record holds them.
    Fields(Vec<String>),
    /// The whole record.
    Record,
}

impl Covering {
    /// Whether an index on `indexed` covering this can answer a query wanting `wanted` (every
    /// field when `None`) without reading the records: the indexed values come from the entry's
    /// key, the rest from its payload.
    pub(crate) fn covers(&self, indexed: &[String], wanted: Option<&[String]>) -> bool {
        match (self, wanted) {
            (Covering::Record, _) => true,
            (_, None) => false,
            (Covering::Nothing, Some(wanted)) => wanted.iter().all(|w| indexed.contains(w)),
            (Covering::Fields(names), Some(wanted)) => wanted
                .iter()
                .all(|w| indexed.contains(w) || names.contains(w)),
        }
    }

    /// The payload of `record`'s entry (see the table above), its names given ids by
    /// `dictionary`; `encoded` is the record's own bytes when the caller has them.
    pub(crate) fn payload(
        &self,
        record: &Record,
        encoded: Option<&[u8]>,
        dictionary: &NameTable,
    ) -> Result<Vec<u8>> {
        match self {
            Covering::Nothing => Ok(Vec::new()),
            Covering::Record => match encoded {
                Some(bytes) => Ok(bytes.to_vec()),
                None => record_codec::encode(record, dictionary),
            },
            Covering::Fields(names) => {
                let held = names
                    .iter()
                    .filter_map(|n| {
                        record
                            .get(n)
                            .map(|v| (FieldName::from(n.as_str()), v.clone()))
                    })
                    .collect();
                record_codec::encode(&Record::from_fields_unchecked(held), dictionary)
            }
        }
    }

    /// The names a payload of [`Covering::Fields`] is made from, after `indexed` in one list,
    /// for reading both from a stored record in one walk
    /// (`encoding::record::decode_fields_into`); the index's fields alone otherwise.
    pub(crate) fn fields_to_read(&self, indexed: &[String]) -> Vec<String> {
        let mut names = indexed.to_vec();
        if let Covering::Fields(covered) = self {
            names.extend(covered.iter().cloned());
        }
        names
    }

    /// The payload from a stored record's `bytes` and the values `decode_fields_into` read
    /// from them for [`Covering::fields_to_read`] (the indexed fields' first, `indexed` of
    /// them).
    pub(crate) fn payload_from_stored(
        &self,
        bytes: &[u8],
        read: &[Option<ValueRef<'_>>],
        indexed: usize,
        dictionary: &NameTable,
    ) -> Result<Vec<u8>> {
        match self {
            Covering::Nothing => Ok(Vec::new()),
            Covering::Record => Ok(bytes.to_vec()),
            Covering::Fields(names) => {
                let held = names
                    .iter()
                    .zip(&read[indexed..])
                    .filter_map(|(n, v)| v.map(|v| (FieldName::from(n.as_str()), v.to_value())))
                    .collect();
                record_codec::encode(&Record::from_fields_unchecked(held), dictionary)
            }
        }
    }
}

/// The rows one query reads from the entries of a covering index, each made from its entry
/// alone: its user key, and a record of the wanted fields in the order of `wanted` (the whole
/// record when `None`), the indexed fields' values taken from the entry's key and the others
/// from its payload. Which wanted field comes from where is worked out once per query; each
/// entry's values are read in place ([`CoveredRows::view_row`]), and copied out only for an
/// owned row ([`CoveredRows::row`]).
pub(crate) struct CoveredRows<'q> {
    covering: &'q Covering,
    /// How many values the index's entries hold in their keys.
    arity: usize,
    wanted: Option<&'q [String]>,
    /// Per wanted field: its place among the indexed values when the entry's key gives its
    /// value (an index covering the whole record gives every value from the payload).
    places: Vec<Option<usize>>,
    /// Whether any wanted value comes from the entry's key.
    from_key: bool,
}

impl<'q> CoveredRows<'q> {
    /// The rows of an index on `indexed` covering `covering`, for a query wanting `wanted`
    /// (which [`Covering::covers`]).
    pub(crate) fn new(
        covering: &'q Covering,
        indexed: &[String],
        wanted: Option<&'q [String]>,
    ) -> Self {
        let key_gives_values = !matches!(covering, Covering::Record);
        let places: Vec<_> = wanted
            .unwrap_or_default()
            .iter()
            .map(|name| {
                key_gives_values
                    .then(|| indexed.iter().position(|f| f == name))
                    .flatten()
            })
            .collect();
        let from_key = places.iter().any(Option::is_some);
        CoveredRows {
            covering,
            arity: indexed.len(),
            wanted,
            places,
            from_key,
        }
    }

    /// The row the entry (`suffix`: its key after the index id, `payload`: its value)
    /// answers, owned: [`CoveredRows::view_row`]'s view, copied out. Only wanted fields are
    /// decoded.
    pub(crate) fn row<'s>(
        &self,
        suffix: &'s [u8],
        payload: &[u8],
        dictionary: &NameTable,
    ) -> Result<(&'s [u8], Record)> {
        self.view_row((suffix, payload), dictionary, |key, view| {
            (key, view.to_record())
        })
    }

    /// The row the entry answers, handed to `each` as a view borrowing the entry, and what
    /// `each` returns: the values the payload holds are read in place into slots on the stack,
    /// and only wanted values of the entry's key (an indexed field asked for) are decoded into
    /// owned values.
    pub(crate) fn view_row<'s, T>(
        &self,
        (suffix, payload): (&'s [u8], &[u8]),
        dictionary: &NameTable,
        each: impl FnOnce(&'s [u8], RecordView<'_>) -> T,
    ) -> Result<T> {
        let Some(wanted) = self.wanted else {
            // The whole record is the payload.
            let key = suffix_key(suffix, self.arity)?;
            let mut fields = Vec::new();
            record_codec::decode_borrowed(payload, dictionary, &mut fields)?;
            return Ok(each(key, RecordView::new(&fields)));
        };
        let (key, key_values) = if self.from_key {
            split_suffix(suffix, self.arity).map(|(values, key)| (key, values))?
        } else {
            (suffix_key(suffix, self.arity)?, Vec::new())
        };
        let mut stored_on_stack = [None; FIELDS_ON_STACK];
        let mut view_on_stack = [("", ValueRef::Null); FIELDS_ON_STACK];
        let (mut stored_in_vec, mut view_in_vec) = (Vec::new(), Vec::new());
        let (stored, view): (&mut [Option<ValueRef<'_>>], &mut [(&str, ValueRef<'_>)]) = match (
            stored_on_stack.get_mut(..wanted.len()),
            view_on_stack.get_mut(..wanted.len()),
        ) {
            (Some(stored), Some(view)) => (stored, view),
            _ => {
                stored_in_vec.resize(wanted.len(), None);
                view_in_vec.resize(wanted.len(), ("", ValueRef::Null));
                (&mut stored_in_vec, &mut view_in_vec)
            }
        };
        match self.covering {
            Covering::Nothing => stored.fill(None),
            _ => record_codec::decode_fields_into(payload, wanted, dictionary, stored)?,
        }
        let mut len = 0;
        // A wanted name appears once (`QueryOptions::check_fields`).
        for ((name, at), stored) in wanted.iter().zip(&self.places).zip(&*stored) {
            let value = match at.and_then(|i| key_values.get(i)) {
                Some(value) => Some(value.as_value_ref()),
                None => *stored,
            };
            if let Some(value) = value {
                view[len] = (name.as_str(), value);
                len += 1;
            }
        }
        Ok(each(key, RecordView::new(&view[..len])))
    }
}

/// The id of an index: allocated once, never reused, so a dropped index's entries can be
/// deleted by range while a new index on the same field is built under a new id.
pub(crate) type IndexId = u32;

/// The first bytes of every entry of index `id`.
pub(crate) fn id_prefix(id: IndexId) -> [u8; 4] {
    id.to_be_bytes()
}

/// The encoded values `record` holds in `fields`, or `None` when it lacks one of them (it then
/// has no entry in the index).
pub(crate) fn record_values(fields: &[String], record: &Record) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(16 * fields.len());
    for field in fields {
        keycode::encode_value(record.get(field)?, &mut out);
    }
    Some(out)
}

/// The encoding of `values`, one after the other.
#[cfg(test)]
pub(crate) fn encode_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        keycode::encode_value(value, &mut out);
    }
    out
}

/// The entry of the record stored as `bytes` at `key` in index `id` on `fields`, covering
/// `covering`: its key and payload, or `None` when the record lacks one of the fields. `names`
/// is `covering.fields_to_read(fields)`; only those fields are read out of the record. The
/// record is read, and the payload written, against `dictionary`.
pub(crate) fn entry_of_stored(
    id: IndexId,
    (fields, covering): (&[String], &Covering),
    names: &[String],
    (key, bytes): (&[u8], &[u8]),
    dictionary: &NameTable,
) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut entry = Vec::new();
    let found = append_entry_of_stored(
        id,
        (fields, covering),
        names,
        (key, bytes),
        dictionary,
        &mut entry,
    )?;
    Ok(found.map(|entry_len| {
        let payload = entry.split_off(entry_len);
        (entry, payload)
    }))
}

/// The fields read out of a record for its entry that [`append_entry_of_stored`] keeps on the
/// stack; more take a vector.
const FIELDS_ON_STACK: usize = 8;

/// As [`entry_of_stored`], the entry and then its payload appended to `out`, with nothing
/// copied out of the record on the way: returns the entry's length, or `None` (`out` as it
/// was) when the record lacks one of the fields.
pub(crate) fn append_entry_of_stored(
    id: IndexId,
    (fields, covering): (&[String], &Covering),
    names: &[String],
    (key, bytes): (&[u8], &[u8]),
    dictionary: &NameTable,
    out: &mut Vec<u8>,
) -> Result<Option<usize>> {
    // Room for the fields of most indexes on the stack; more in a vector.
    let mut on_stack = [None; FIELDS_ON_STACK];
    let mut in_vec = Vec::new();
    let read: &mut [Option<ValueRef<'_>>] = match on_stack.get_mut(..names.len()) {
        Some(slots) => slots,
        None => {
            in_vec.resize(names.len(), None);
            &mut in_vec
        }
    };
    record_codec::decode_fields_into(bytes, names, dictionary, read)?;
    let read = &*read;
    let arity = fields.len();
    if !read[..arity].iter().all(Option::is_some) {
        return Ok(None);
    }
    let start = out.len();
    out.extend_from_slice(&id_prefix(id));
    for value in read[..arity].iter().flatten() {
        keycode::encode_value_ref(*value, out);
    }
    out.extend_from_slice(key);
    let entry_len = out.len() - start;
    match covering {
        Covering::Nothing => {}
        Covering::Record => out.extend_from_slice(bytes),
        Covering::Fields(_) => match covering.payload_from_stored(bytes, read, arity, dictionary) {
            Ok(payload) => out.extend_from_slice(&payload),
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        },
    }
    Ok(Some(entry_len))
}

/// The entry of `key` having the encoded values `values` in index `id`.
pub(crate) fn entry_key(id: IndexId, values: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + values.len() + key.len());
    out.extend_from_slice(&id_prefix(id));
    out.extend_from_slice(values);
    out.extend_from_slice(key);
    out
}

/// The prefix shared by all entries of the encoded values `values` in index `id`.
pub(crate) fn value_prefix(id: IndexId, values: &[u8]) -> Vec<u8> {
    [&id_prefix(id)[..], values].concat()
}

/// The byte range `[start, end)` holding every entry of index `id`.
pub(crate) fn id_range(id: IndexId) -> (Vec<u8>, Vec<u8>) {
    let start = id_prefix(id).to_vec();
    let end = prefix_successor(&start).unwrap_or_else(|| vec![0xFF; 5]);
    (start, end)
}

/// The encoded values inside `entry`, an entry key of index `id` for a user key of `key_len`
/// bytes (sliced out, not decoded).
pub(crate) fn encoded_value(entry: &[u8], key_len: usize) -> &[u8] {
    &entry[4..entry.len() - key_len]
}

/// Splits the part of an entry after the id prefix into its `arity` values and its user key.
pub(crate) fn split_suffix(suffix: &[u8], arity: usize) -> Result<(Vec<Value>, &[u8])> {
    let mut values = Vec::with_capacity(arity);
    let mut rest = suffix;
    for _ in 0..arity {
        let (value, used) = keycode::decode_value(rest)?;
        values.push(value);
        rest = &rest[used..];
    }
    if rest.is_empty() {
        return corrupt!("index entry has no user key");
    }
    Ok((values, rest))
}

/// The user key of the part of an entry after the id prefix, found by skipping its `arity`
/// values without decoding them.
pub(crate) fn suffix_key(suffix: &[u8], arity: usize) -> Result<&[u8]> {
    let mut at = 0;
    for _ in 0..arity {
        at += keycode::encoded_len(&suffix[at..])?;
    }
    let key = &suffix[at..];
    if key.is_empty() {
        return corrupt!("index entry has no user key");
    }
    Ok(key)
}

/// The values of an index entry as one [`Value`] for a message: the value itself for a
/// single-field index, the tuple written `("UA", "IAH")` as a string for a compound one.
pub(crate) fn values_for_message(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        return values.pop().unwrap_or(Value::Null);
    }
    let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    Value::Str(format!("({})", parts.join(", ")).into())
}

/// Decodes encoded values (as [`record_values`] makes them) for a message, see
/// [`values_for_message`]; undecodable bytes are shown as bytes.
pub(crate) fn encoded_values_for_message(encoded: &[u8]) -> Value {
    let mut values = Vec::new();
    let mut rest = encoded;
    while !rest.is_empty() {
        match keycode::decode_value(rest) {
            Ok((value, used)) => {
                values.push(value);
                rest = &rest[used..];
            }
            Err(_) => return Value::Bytes(encoded.to_vec()),
        }
    }
    values_for_message(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_back_into_values_and_key() {
        let v = Value::Str("a\0b".into());
        let e = entry_key(3, &encode_values([&v]), b"key\0");
        assert!(e.starts_with(&value_prefix(3, &keycode::encode_to_vec(&v))));
        let (values, k) = split_suffix(&e[4..], 1).unwrap();
        assert_eq!(values, vec![v.clone()]);
        assert_eq!(k, b"key\0");
        assert_eq!(encoded_value(&e, 4), &keycode::encode_to_vec(&v)[..]);
        let (start, end) = id_range(3);
        assert!(e >= start && e < end);
    }

    #[test]
    fn compound_entries_sort_by_the_tuple_then_the_key() {
        let entry = |a: &str, b: i64, key: &[u8]| {
            entry_key(1, &encode_values([&Value::from(a), &Value::Int(b)]), key)
        };
        // "a" < "ab" as the first value, whatever the second value and the key.
        assert!(entry("a", 9, b"z") < entry("ab", 0, b"a"));
        assert!(entry("a", 1, b"z") < entry("a", 2, b"a"));
        assert!(entry("a", 1, b"a") < entry("a", 1, b"b"));
        let e = entry("UA", 7, b"k1");
        let (values, key) = split_suffix(&e[4..], 2).unwrap();
        assert_eq!(values, vec![Value::from("UA"), Value::Int(7)]);
        assert_eq!(key, b"k1");
        assert_eq!(suffix_key(&e[4..], 2).unwrap(), b"k1");
        assert_eq!(suffix_key(&e[4..], 1).unwrap().len(), e.len() - 4 - 5);
        assert!(split_suffix(&e[4..], 3).is_err() || split_suffix(&e[4..], 3).unwrap().1 != b"k1");
    }

    #[test]
    fn a_record_lacking_an_indexed_field_has_no_values() {
        let fields = ["a".to_string(), "b".to_string()];
        assert_eq!(record_values(&fields, &Record::new().set("a", 1)), None);
        let both = Record::new().set("a", 1).set("b", "x");
        assert_eq!(
            record_values(&fields, &both),
            Some(encode_values([&Value::Int(1), &Value::from("x")]))
        );
        assert_eq!(
            encoded_values_for_message(&record_values(&fields, &both).unwrap()),
            Value::Str("(1, \"x\")".into())
        );
    }

    /// Whether the fields read out of a stored record fit on the stack or not, its entry and
    /// payload are those of the record itself.
    #[test]
    fn a_stored_records_entry_is_the_records_own_with_few_or_many_fields_read() {
        let dictionary = NameTable::default().extended(&["f0", "f5", "f11"]).0;
        let names: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        let record = names
            .iter()
            .enumerate()
            .fold(Record::new(), |r, (i, name)| {
                r.set(
                    name,
                    if i % 2 == 0 {
                        Value::Int(i as i64)
                    } else {
                        Value::from(name.as_str())
                    },
                )
            });
        let bytes = record_codec::encode(&record, &dictionary).unwrap();
        let indexed = names[..2].to_vec();
        for read in [1, 2, FIELDS_ON_STACK, FIELDS_ON_STACK + 1, names.len()] {
            // The indexed fields first, then covered ones up to `read` fields in all.
            let indexed = &indexed[..read.min(2)];
            let covering = match read {
                1 | 2 => Covering::Nothing,
                _ => Covering::Fields(names[2..read].to_vec()),
            };
            let to_read = covering.fields_to_read(indexed);
            let (entry, payload) = entry_of_stored(
                9,
                (indexed, &covering),
                &to_read,
                (b"k", &bytes),
                &dictionary,
            )
            .unwrap()
            .unwrap();
            let values = record_values(indexed, &record).unwrap();
            assert_eq!(entry, entry_key(9, &values, b"k"), "{read} fields read");
            let expected = covering
                .payload(&record, Some(&bytes), &dictionary)
                .unwrap();
            assert_eq!(payload, expected, "{read} fields read");
        }
        // A record lacking the second indexed field has no entry, however many fields are read.
        let mut without_f1 = record.clone();
        without_f1.remove("f1");
        let lacking = record_codec::encode(&without_f1, &dictionary).unwrap();
        for covered in [0, 10] {
            let covering = Covering::Fields(names[2..2 + covered].to_vec());
            let to_read = covering.fields_to_read(&indexed);
            let found = entry_of_stored(
                9,
                (&indexed, &covering),
                &to_read,
                (b"k", &lacking),
                &dictionary,
            );
            assert_eq!(found.unwrap(), None);
        }
    }

    /// `view_row`'s row, copied out, is `row`'s: for 1 to 12 wanted fields (on the stack and
    /// past it), with the indexed field among them or not, for records lacking some, for an
    /// index covering the whole record, and for one covering nothing.
    #[test]
    fn a_covered_rows_view_is_its_owned_row_with_few_or_many_fields_wanted() {
        let dictionary = NameTable::empty();
        let indexed = ["f0".to_string()];
        let names: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        let full = names.iter().enumerate().fold(Record::new(), |r, (i, n)| {
            r.set(n.as_str(), format!("v{i}"))
        });
        let mut lacking = full.clone();
        lacking.remove("f3");
        lacking.remove("f10");
        let viewed = |rows: &CoveredRows<'_>, (suffix, payload): (&[u8], &[u8])| {
            rows.view_row((suffix, payload), dictionary, |key, view| {
                (key.to_vec(), view.to_record())
            })
            .unwrap()
        };
        let covering = Covering::Fields(names[1..].to_vec());
        for record in [&full, &lacking] {
            let suffix =
                entry_key(0, &record_values(&indexed, record).unwrap(), b"k")[4..].to_vec();
            let payload = covering.payload(record, None, dictionary).unwrap();
            for n in [1, 2, FIELDS_ON_STACK, FIELDS_ON_STACK + 1, names.len()] {
                // Without the indexed field, and with it last.
                for wanted in [
                    names[1..=n.min(11)].to_vec(),
                    names[names.len() - n..].to_vec(),
                ] {
                    let mut wanted = wanted;
                    wanted.rotate_left(1);
                    let rows = CoveredRows::new(&covering, &indexed, Some(&wanted));
                    // The record's own values of the wanted fields, in the order asked.
                    let expected = wanted
                        .iter()
                        .fold(Record::new(), |r, n| match record.get(n) {
                            Some(v) => r.set(n.as_str(), v.clone()),
                            None => r,
                        });
                    let (key, owned) = rows.row(&suffix, &payload, dictionary).unwrap();
                    assert_eq!((key, &owned), (&b"k"[..], &expected), "{wanted:?}");
                    assert_eq!(viewed(&rows, (&suffix, &payload)), (key.to_vec(), owned));
                }
            }
            let payload = Covering::Record.payload(record, None, dictionary).unwrap();
            let rows = CoveredRows::new(&Covering::Record, &indexed, None);
            let (key, owned) = rows.row(&suffix, &payload, dictionary).unwrap();
            assert_eq!(&owned, record);
            assert_eq!(viewed(&rows, (&suffix, &payload)), (key.to_vec(), owned));
            let wanted = indexed.to_vec();
            let rows = CoveredRows::new(&Covering::Nothing, &indexed, Some(&wanted));
            let (key, owned) = rows.row(&suffix, &[], dictionary).unwrap();
            assert_eq!(owned, Record::new().set("f0", "v0"));
            assert_eq!(viewed(&rows, (&suffix, &[])), (key.to_vec(), owned));
        }
    }

    /// The row of each entry, made the way an owned row is (the entry's key for the indexed
    /// values, the payload for the rest), one entry after another with the same `CoveredRows`.
    #[test]
    fn covered_rows_take_each_wanted_field_from_its_own_entry_only() {
        let dictionary = NameTable::empty();
        let indexed = ["city".to_string()];
        let covering = Covering::Fields(vec!["name".to_string(), "score".to_string()]);
        let entry = |city: &str, key: &[u8], record: &Record| {
            let suffix = entry_key(
                0,
                &record_values(&indexed, &Record::new().set("city", city)).unwrap(),
                key,
            )[4..]
                .to_vec();
            (suffix, covering.payload(record, None, dictionary).unwrap())
        };
        let full = entry(
            "Oslo",
            b"k1",
            &Record::new().set("name", "ada").set("score", 3),
        );
        let lacking_name = entry("Rome", b"k2", &Record::new().set("score", 4));
        let wanted = ["score".to_string(), "city".to_string(), "name".to_string()];
        let rows = CoveredRows::new(&covering, &indexed, Some(&wanted));
        for _ in 0..2 {
            let (key, record) = rows.row(&full.0, &full.1, dictionary).unwrap();
            assert_eq!(key, b"k1");
            assert_eq!(
                record,
                Record::new()
                    .set("score", 3)
                    .set("city", "Oslo")
                    .set("name", "ada")
            );
            let (key, record) = rows
                .row(&lacking_name.0, &lacking_name.1, dictionary)
                .unwrap();
            assert_eq!(key, b"k2");
            assert_eq!(record, Record::new().set("score", 4).set("city", "Rome"));
        }
        // Without wanted fields (`Covering::Record` only), the payload is the whole record.
        let whole = Record::new().set("city", "Oslo").set("age", 9);
        let suffix = entry_key(0, &record_values(&indexed, &whole).unwrap(), b"k3")[4..].to_vec();
        let payload = Covering::Record.payload(&whole, None, dictionary).unwrap();
        let rows = CoveredRows::new(&Covering::Record, &indexed, None);
        assert_eq!(
            rows.row(&suffix, &payload, dictionary).unwrap(),
            (&b"k3"[..], whole)
        );
        // An index covering nothing gives only the indexed values.
        let rows = CoveredRows::new(&Covering::Nothing, &indexed, Some(&wanted[1..2]));
        let (_, record) = rows.row(&full.0, &[], dictionary).unwrap();
        assert_eq!(record, Record::new().set("city", "Oslo"));
        // A payload cut short is an error, not a row.
        let rows = CoveredRows::new(&covering, &indexed, Some(&wanted));
        assert!(rows
            .row(&full.0, &full.1[..full.1.len() - 1], dictionary)
            .is_err());
    }
}
