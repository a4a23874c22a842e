//! `RecordView`: a record read in place. Its field names and values borrow the stored bytes (and
//! the database's field-name dictionary) instead of being copied into an owned [`Record`], for
//! readers that look at each row once and move on (`FieldDb::query_by_index_each`).

use crate::record::{FieldName, Record};
use crate::value::ValueRef;

/// The fields of one record, in stored order, borrowed from where they were read. It lives only
/// as long as the call that hands it out; [`RecordView::to_record`] copies it out.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    fields: &'a [(&'a str, ValueRef<'a>)],
}

impl<'a> RecordView<'a> {
    /// A view of fields already checked (distinct, non-empty names).
    pub(crate) fn new(fields: &'a [(&'a str, ValueRef<'a>)]) -> Self {
        RecordView { fields }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the field `name`, if the record has it.
    pub fn get(&self, name: &str) -> Option<ValueRef<'a>> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a str, ValueRef<'a>)> + 'a {
        self.fields.iter().copied()
    }

    /// The record, owned: every name and value copied.
    pub fn to_record(&self) -> Record {
        let fields = self
            .fields
            .iter()
            .map(|(name, value)| (FieldName::from(*name), value.to_value()))
            .collect();
        Record::from_fields_unchecked(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn a_view_reads_and_copies_out_what_it_borrows() {
        let fields = [
            ("name", ValueRef::Str("ada")),
            ("age", ValueRef::Int(36)),
            ("blob", ValueRef::Bytes(&[1, 2])),
        ];
        let view = RecordView::new(&fields);
        assert_eq!(view.len(), 3);
        assert!(!view.is_empty());
        assert_eq!(view.get("age"), Some(ValueRef::Int(36)));
        assert_eq!(view.get("missing"), None);
        let names: Vec<&str> = view.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["name", "age", "blob"]);
        let record = view.to_record();
        assert_eq!(
            record,
            Record::new()
                .set("name", "ada")
                .set("age", 36)
                .set("blob", Value::Bytes(vec![1, 2]))
        );
        for ((name, value), (owned_name, owned)) in view.iter().zip(record.iter()) {
            assert_eq!(name, owned_name);
            assert_eq!(value, owned.as_value_ref());
        }
    }
}
