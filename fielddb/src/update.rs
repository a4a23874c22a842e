//! `Update`: a change to some fields of a record — fields to set (replaced in place, or added at
//! the end) and fields to remove — applied in the order they were given.

use crate::record::Record;
use crate::value::Value;

/// One field's change.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldChange {
    /// Set the field to the value (in place when present, else at the end).
    Set(String, Value),
    /// Remove the field (nothing when absent).
    Unset(String),
}

/// Changes to a record's fields, for [`crate::FieldDb::update`] and [`crate::FieldDb::upsert`].
///
/// ```
/// use fielddb::{Record, Update};
/// let update = Update::new().set("age", 37).unset("note");
/// let mut record = Record::new().set("name", "Ada").set("note", "x");
/// update.apply_to(&mut record);
/// assert_eq!(record, Record::new().set("name", "Ada").set("age", 37));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    changes: Vec<FieldChange>,
}

impl Update {
    /// No changes.
    pub fn new() -> Update {
        Update::default()
    }

    /// Also sets `name` to `value`.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Update {
        self.changes
            .push(FieldChange::Set(name.into(), value.into()));
        self
    }

    /// Also removes `name`.
    pub fn unset(mut self, name: impl Into<String>) -> Update {
        self.changes.push(FieldChange::Unset(name.into()));
        self
    }

    /// The changes, in order.
    pub fn changes(&self) -> &[FieldChange] {
        &self.changes
    }

    /// Applies the changes to `record`, in order. The result is checked when it is written.
    pub fn apply_to(&self, record: &mut Record) {
        for change in &self.changes {
            match change {
                FieldChange::Set(name, value) => {
                    record.insert(name.clone(), value.clone());
                }
                FieldChange::Unset(name) => {
                    record.remove(name);
                }
            }
        }
    }
}

impl From<Vec<FieldChange>> for Update {
    fn from(changes: Vec<FieldChange>) -> Update {
        Update { changes }
    }
}
