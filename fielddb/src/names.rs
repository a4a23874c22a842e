//! The field-name dictionary of an open database (its format: `encoding::names`): the table
//! every record is encoded and decoded against, loaded from `meta` at open and grown by the
//! writes that bring names it has not seen.
//!
//! The table is shared as an `Arc` that a new name replaces, never changes: a reader takes it
//! once and decodes many records with it. A name enters the table before any record using it
//! is written, so a table taken after a record was read (or after the snapshot or iterator it
//! was read through was made) resolves all of its ids; `read.rs` says so to every reader.

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::encoding::names::{NameTable, NAMES_PREFIX};
use crate::error::Result;
use crate::storage::{Cf, Storage};

pub(crate) struct Names {
    table: RwLock<Arc<NameTable>>,
    /// Held while new names are written, so that two writers bringing the same name hand out
    /// one id, and ids follow the order of the writes.
    interning: Mutex<()>,
}

impl Names {
    /// The dictionary stored in `storage`.
    pub(crate) fn load(storage: &Storage) -> Result<Names> {
        let entries = storage.prefix_entries(Cf::Meta, NAMES_PREFIX)?;
        Ok(Names {
            table: RwLock::new(Arc::new(NameTable::from_stored(entries)?)),
            interning: Mutex::new(()),
        })
    }

    /// The table as it is now.
    pub(crate) fn current(&self) -> Arc<NameTable> {
        self.table.read().clone()
    }

    /// A table giving an id to every one of `names` (while the dictionary has room). Names it
    /// lacked are stored first, in a write of their own, so they are durable before any record
    /// using them is written.
    pub(crate) fn intern<'n>(
        &self,
        storage: &Storage,
        names: impl IntoIterator<Item = &'n str> + Clone,
    ) -> Result<Arc<NameTable>> {
        let table = self.current();
        if table.missing(names.clone()).is_empty() {
            return Ok(table);
        }
        let _interning = self.interning.lock();
        let table = self.current();
        let missing = table.missing(names);
        if missing.is_empty() {
            return Ok(table);
        }
        let (grown, entries) = table.extended(&missing);
        let mut batch = storage.batch()?;
        for (key, value) in &entries {
            batch.put(Cf::Meta, key, value);
        }
        storage.write(batch)?;
        let grown = Arc::new(grown);
        *self.table.write() = grown.clone();
        Ok(grown)
    }

    /// `f` of the table as it is now, without taking a reference to it (cheaper than
    /// [`Names::current`] for one record).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&NameTable) -> T) -> T {
        f(&self.table.read())
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use crate::{Batch, FieldDb, Record};

    #[test]
    fn a_refused_write_hands_out_no_id() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        batch
            .put("a", Record::new().set("fresh", 1))
            .put("b", Record::new().set("x", f64::NAN));
        assert!(db.write_batch(batch).is_err());
        let names = db.inner().names.current();
        assert_eq!((names.id("fresh"), names.id("x")), (None, None));
        db.put("a", Record::new().set("fresh", 1)).unwrap();
        assert_eq!(db.inner().names.current().id("fresh"), Some(0));
    }

    #[test]
    fn writers_bringing_the_same_names_at_once_get_one_id_each() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = FieldDb::open(dir.path()).unwrap();
            thread::scope(|s| {
                for t in 0..4 {
                    let db = &db;
                    s.spawn(move || {
                        for i in 0..50 {
                            // Each thread walks the same 50 names from its own starting point.
                            let n = (i + t * 13) % 50;
                            db.put(format!("{t}-{i}"), Record::new().set(format!("n{n}"), n))
                                .unwrap();
                        }
                    });
                }
            });
        }
        // A name stored twice would make the reopen fail as corruption.
        let db = FieldDb::open(dir.path()).unwrap();
        let names = db.inner().names.current();
        let mut ids: Vec<u32> = (0..50)
            .map(|n| names.id(&format!("n{n}")).unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..50).collect::<Vec<u32>>());
        assert_eq!(db.len().unwrap(), 200);
    }
}
