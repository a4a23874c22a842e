//! `Session`: runs parsed commands against an open database and renders each result twice —
//! as the one-line JSON object of `--json` mode and as human text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fielddb::{Covering, FieldDb, IndexInfo, IndexState, Page, QueryOptions, Record, ScanOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value as Json};

use crate::backups;
use crate::command::{Command, Paging, PutBody};
use crate::help;
use crate::render::{self, cell, human_bytes, table, Display};
use crate::transfer::{self, ImportOptions};
use fielddb_json::{
    hex, include_json, json_to_record, key_to_json, key_to_text, plan_to_json, plan_to_text,
    record_to_json, unhex, KeyJson, RecordJson, RecordViewJson,
};

/// What a successful command produced.
pub struct Output {
    /// The fields of the JSON reply (`"ok": true` is added by the caller).
    pub json: Map<String, Json>,
    /// The human rendering.
    pub text: String,
}

/// Why a command failed: a stable machine-readable code (the library's `Error::code()` for a
/// database error, `invalid_argument` for input the shell refused) and a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl From<fielddb::Error> for Failure {
    fn from(e: fielddb::Error) -> Self {
        Failure {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            code: "invalid_argument",
            message,
        }
    }
}

pub enum Outcome {
    Done(Output),
    /// A page of rows, rendered only in the mode asked for (`RowsOutput`).
    Rows(RowsOutput),
    Quit,
}

/// A page of rows, kept as records until printed: `--json` mode streams them straight to the
/// output (`write_json`), the human mode renders a table (`text`), and neither builds the
/// other's form. A query through a named index in `--json` mode comes already written
/// (`RowsBody::Json`), each row encoded from the stored bytes as it was read.
pub struct RowsOutput {
    body: RowsBody,
    next: Option<String>,
    display: Display,
}

enum RowsBody {
    Records(Page<(Vec<u8>, Record)>),
    /// The rows' JSON, `{"key":K,"record":{...}}` joined by commas, and how many there are.
    Json(Vec<u8>, usize),
}

impl RowsOutput {
    /// `{"ok":true,"rows":[{"key":K,"record":{...}},...],"next":N}` and a newline, byte for byte
    /// what building it as a `serde_json::Value` printed.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        out.write_all(b"{\"ok\":true,\"rows\":[")?;
        match &self.body {
            RowsBody::Records(page) => {
                for (i, (key, record)) in page.rows.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    write_row_json(out, key, &RecordJson(record))?;
                }
            }
            RowsBody::Json(rows, _) => out.write_all(rows)?,
        }
        out.write_all(b"],\"next\":")?;
        serde_json::to_writer(&mut *out, &self.next)?;
        out.write_all(b"}\n")
    }

    /// The rows as a table (or one field per line), then `(N rows)` and the cursor if any.
    pub fn text(&self) -> String {
        let page = match &self.body {
            RowsBody::Records(page) => page,
            RowsBody::Json(rows, n) => {
                // Written for `--json` mode only; shown as it is should a caller ask for text.
                let rows = String::from_utf8_lossy(rows);
                return format!("{rows}\n({n} row{})", if *n == 1 { "" } else { "s" });
            }
        };
        let mut columns: Vec<String> = Vec::new();
        for (_, r) in &page.rows {
            for name in r.names() {
                if !columns.iter().any(|c| c == name) {
                    columns.push(name.to_string());
                }
            }
        }
        let rows: Vec<Vec<String>> = page
            .rows
            .iter()
            .map(|(k, r)| {
                std::iter::once(key_to_text(k))
                    .chain(
                        columns
                            .iter()
                            .map(|c| r.get(c).map(cell).unwrap_or_default()),
                    )
                    .collect()
            })
            .collect();
        let headers: Vec<String> = std::iter::once("key".to_string()).chain(columns).collect();
        let mut text = if rows.is_empty() {
            String::new()
        } else {
            format!("{}\n", render::rows(&headers, &rows, self.display))
        };
        let n = page.rows.len();
        text.push_str(&format!("({n} row{})", if n == 1 { "" } else { "s" }));
        if let Some(next) = &self.next {
            text.push_str(&format!(" more: add `after {next}`"));
        }
        text
    }
}

pub struct Session {
    db: FieldDb,
    path: PathBuf,
    /// Progress bars on stderr (a terminal, not JSON mode).
    progress: bool,
    /// Field names seen, for completion.
    fields: BTreeSet<String>,
    /// How rows are shown (the REPL sets the terminal's width and the `.mode`).
    display: Display,
    /// `--json` mode: every result is printed as JSON (`set_json_mode`).
    json_mode: bool,
}

fn out(json: Json, text: impl Into<String>) -> Outcome {
    let json = match json {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    Outcome::Done(Output {
        json,
        text: text.into(),
    })
}

/// One record as a field/type/value table, or `{"key", "record"}`.
fn record_output(key: &str, record: &Record) -> Outcome {
    let rows: Vec<Vec<String>> = record
        .iter()
        .map(|(n, v)| vec![n.to_string(), v.type_name().to_string(), cell(v)])
        .collect();
    let text = table(&["field".into(), "type".into(), "value".into()], &rows);
    out(json!({"key": key, "record": record_to_json(record)}), text)
}

fn state_name(info: &IndexInfo) -> &'static str {
    match info.state {
        IndexState::Building { .. } => "building",
        IndexState::Ready => "ready",
        IndexState::Dropping => "dropping",
    }
}

/// The filter of conditions joined by `and`.
fn filter_of(conditions: Vec<(String, fielddb::Query)>) -> fielddb::Filter {
    conditions
        .into_iter()
        .map(|(field, query)| fielddb::Filter::on(field, query))
        .reduce(fielddb::Filter::and)
        .unwrap_or_default()
}

impl Session {
    /// The one condition of a query when an index is named by its field: the query then goes
    /// to that index (and reports it not ready while it builds), as `query FIELD COND` always
    /// has. Several conditions, or one on a field led only by a compound index, are planned.
    fn named_index_query<'c>(
        &self,
        conditions: &'c [(String, fielddb::Query)],
    ) -> Option<(&'c str, &'c fielddb::Query)> {
        match conditions {
            [(field, query)] if self.db.indexes().iter().any(|i| i.field == *field) => {
                Some((field.as_str(), query))
            }
            _ => None,
        }
    }

    /// Turns `--json` mode on or off, from now on: results are printed as JSON (`run_line`), and
    /// a query through a named index is encoded row by row from the stored bytes
    /// (`RowsBody::Json`).
    pub fn set_json_mode(&mut self, on: bool) {
        self.json_mode = on;
    }

    /// Whether `--json` mode is on; the one place the mode is kept.
    pub fn json_mode(&self) -> bool {
        self.json_mode
    }

    /// A query through the index on `field`, its rows written as `--json` mode prints them
    /// while they are read, with no record built.
    fn index_query_json(
        &self,
        field: &str,
        query: &fielddb::Query,
        options: &QueryOptions,
    ) -> Result<Outcome, Failure> {
        let mut rows = Vec::new();
        let mut n = 0usize;
        let mut written = Ok(());
        let next = self
            .db
            .query_by_index_each(field, query, options, |key, record| {
                if written.is_err() {
                    return;
                }
                if n > 0 {
                    rows.push(b',');
                }
                n += 1;
                written = write_row_json(&mut rows, key, &RecordViewJson(record));
            })
            .map_err(Failure::from)?;
        written.map_err(|e| format!("cannot write the rows as JSON: {e}"))?;
        Ok(Outcome::Rows(RowsOutput {
            body: RowsBody::Json(rows, n),
            next: next.as_deref().map(hex),
            display: self.display,
        }))
    }

    /// Shows rows as `display` says from now on.
    pub fn set_display(&mut self, display: Display) {
        self.display = display;
    }

    /// How rows are shown now.
    pub fn display(&self) -> Display {
        self.display
    }

    pub fn open(path: &Path, progress: bool) -> Result<Session, String> {
        let db = FieldDb::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut session = Session {
            db,
            path: path.to_path_buf(),
            progress,
            fields: BTreeSet::new(),
            display: Display::default(),
            json_mode: false,
        };
        session.learn_fields();
        Ok(session)
    }

    /// Field names for completion: the indexed fields and those of the first records.
    fn learn_fields(&mut self) {
        for info in self.db.indexes() {
            self.fields.insert(info.field);
        }
        if let Ok(page) = self.db.scan(&ScanOptions::new().limit(200)) {
            for (_, record) in page.rows {
                self.fields.extend(record.names().map(str::to_string));
            }
        }
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }

    pub fn execute(&mut self, command: Command) -> Result<Outcome, Failure> {
        let err = Failure::from;
        Ok(match command {
            Command::Put { key, body } => {
                let record = match body {
                    PutBody::Fields(fields) => fields.into_iter().collect::<Record>(),
                    PutBody::Json(text) => {
                        let json: Json = serde_json::from_str(&text)
                            .map_err(|e| format!("bad JSON object: {e}"))?;
                        json_to_record(&json)?
                    }
                };
                let names: Vec<String> = record.names().map(str::to_string).collect();
                self.db.put(&key, record).map_err(err)?;
                self.fields.extend(names);
                out(json!({}), "ok")
            }
            Command::Get { key } => match self.db.get(&key).map_err(err)? {
                Some(record) => record_output(&key, &record),
                None => out(
                    json!({"key": key, "record": null}),
                    format!("no record at key {key:?}"),
                ),
            },
            Command::Update {
                key,
                changes,
                create,
            } => {
                let mut update = fielddb::Update::new();
                for (field, value) in &changes {
                    update = match value {
                        Some(value) => update.set(field.as_str(), value.clone()),
                        None => update.unset(field.as_str()),
                    };
                }
                let record = if create {
                    self.db.upsert(&key, &update)
                } else {
                    self.db.update(&key, &update)
                }
                .map_err(err)?;
                self.fields.extend(record.names().map(str::to_string));
                record_output(&key, &record)
            }
            Command::Append { key, field, value } => {
                let record = self.db.append(&key, &field, value).map_err(err)?;
                self.fields.insert(field);
                record_output(&key, &record)
            }
            Command::Delete { key } => {
                let existed = self.db.delete(&key).map_err(err)?;
                let text = if existed {
                    "deleted"
                } else {
                    "no record at that key; nothing deleted"
                };
                out(json!({"deleted": existed}), text)
            }
            Command::Scan {
                from,
                to,
                filter,
                paging,
            } => {
                let mut options = ScanOptions::new().reverse(paging.desc);
                if let Some(f) = from {
                    options = options.from(f);
                }
                if let Some(t) = to {
                    options = options.to(t);
                }
                for (field, query) in filter {
                    options = options.filter(field, query);
                }
                if let Some(n) = paging.limit {
                    options = options.limit(n);
                }
                if let Some(after) = paging.after {
                    options = options.start_after(after);
                }
                let page = self.db.scan(&options).map_err(err)?;
                let next = page.next.as_deref().map(key_to_text);
                rows_output(page, next, self.display)
            }
            Command::Query {
                conditions,
                fields,
                paging,
            } => {
                let mut options = query_options(&paging)?;
                if let Some(fields) = fields {
                    options = options.fields(fields);
                }
                let named = self.named_index_query(&conditions);
                if let (true, Some((field, query))) = (self.json_mode, named) {
                    return self.index_query_json(field, query, &options);
                }
                let page = match named {
                    Some((field, query)) => self.db.query_by_index(field, query, &options),
                    None => self.db.query(&filter_of(conditions), &options),
                }
                .map_err(err)?;
                let next = page.next.as_deref().map(hex);
                rows_output(page, next, self.display)
            }
            Command::Count { conditions } => {
                let n = match self.named_index_query(&conditions) {
                    Some((field, query)) => self.db.count_by_index(field, query),
                    None => self.db.count(&filter_of(conditions)),
                }
                .map_err(err)?;
                out(json!({"count": n}), n.to_string())
            }
            Command::Explain { conditions } => {
                let plan = self.db.explain(&filter_of(conditions)).map_err(err)?;
                out(plan_to_json(&plan), plan_to_text(&plan))
            }
            Command::CreateIndex {
                fields,
                unique,
                counted,
                covering,
            } => {
                let mut spec = fielddb::IndexSpec::on_fields(fields.clone());
                spec = match &covering {
                    Covering::Nothing => spec,
                    Covering::Fields(names) => spec.include(names.clone()),
                    Covering::Record => spec.include_all(),
                };
                let field = spec.name();
                if unique {
                    spec = spec.unique();
                }
                if counted {
                    spec = spec.counted();
                }
                self.db.create_index(spec).map_err(err)?;
                self.fields.extend(fields.iter().cloned());
                let kind = match (unique, counted) {
                    (true, true) => "unique counted ",
                    (true, false) => "unique ",
                    (false, true) => "counted ",
                    (false, false) => "",
                };
                let mut reply = json!({"field": field, "fields": fields, "unique": unique, "counted": counted, "state": "building"});
                if let Some(include) = include_json(&covering) {
                    reply["include"] = include;
                }
                out(
                    reply,
                    format!("building {kind}index on {}{} in the background; `wait` or `indexes` to follow it", field, include_words(&covering)),
                )
            }
            Command::DropIndex { field } => {
                self.db.drop_index(&field).map_err(err)?;
                out(
                    json!({"field": field}),
                    format!("dropping index on {field}"),
                )
            }
            Command::Indexes => self.indexes_output(),
            Command::Wait => {
                self.wait_with_progress();
                self.indexes_output()
            }
            Command::Verify => {
                let report = self.db.verify().map_err(err)?;
                let per_index: Vec<Json> = report
                    .indexes
                    .iter()
                    .map(|i| json!({"field": i.field, "entries": i.entries, "missing": i.missing, "stale": i.stale, "wrong_counts": i.wrong_counts, "wrong_covered": i.wrong_covered}))
                    .collect();
                let corrupt: Vec<Json> = report
                    .corrupt_records
                    .iter()
                    .map(|k| key_to_json(k))
                    .collect();
                // Covered fields are reported only where some index covers fields.
                let covering = self
                    .db
                    .indexes()
                    .iter()
                    .any(|i| i.covering != Covering::Nothing);
                let covered = if covering {
                    format!(", {} wrong covered", report.wrong_covered())
                } else {
                    String::new()
                };
                let mut text = format!(
                    "{} records, {} missing, {} stale, {} wrong counts{covered}, {} corrupt records",
                    report.records,
                    report.missing(),
                    report.stale(),
                    report.wrong_counts(),
                    report.corrupt_records.len()
                );
                if !report.indexes.is_empty() {
                    let rows: Vec<Vec<String>> = report
                        .indexes
                        .iter()
                        .map(|i| {
                            let mut row = vec![
                                i.field.clone(),
                                i.entries.to_string(),
                                i.missing.to_string(),
                                i.stale.to_string(),
                                i.wrong_counts.to_string(),
                            ];
                            if covering {
                                row.push(i.wrong_covered.to_string());
                            }
                            row
                        })
                        .collect();
                    let mut header: Vec<String> =
                        ["index", "entries", "missing", "stale", "wrong counts"]
                            .into_iter()
                            .map(String::from)
                            .collect();
                    if covering {
                        header.push("wrong covered".into());
                    }
                    text = format!("{}\n{text}", table(&header, &rows));
                }
                out(
                    json!({"records": report.records, "missing": report.missing(), "stale": report.stale(), "wrong_counts": report.wrong_counts(), "wrong_covered": report.wrong_covered(), "corrupt": corrupt, "indexes": per_index}),
                    text,
                )
            }
            Command::Compact => {
                self.db.wait_for_tasks();
                self.db.compact().map_err(err)?;
                let s = self.db.storage_stats().map_err(err)?;
                out(
                    json!({"bytes": {"records": s.kv_file_bytes, "indexes": s.index_file_bytes, "catalog": s.meta_file_bytes, "memtables": s.memtable_bytes}}),
                    format!(
                        "compacted: record files {}, index files {}",
                        human_bytes(s.kv_file_bytes),
                        human_bytes(s.index_file_bytes)
                    ),
                )
            }
            Command::Stats => {
                let records = self.db.len().map_err(err)?;
                let s = self.db.storage_stats().map_err(err)?;
                let indexes = self.db.indexes();
                let mut text = format!(
                    "database      {}\nrecords       {records}\nrecord files  {}\nindex files   {}\nmemtables     {}",
                    self.path.display(),
                    human_bytes(s.kv_file_bytes),
                    human_bytes(s.index_file_bytes),
                    human_bytes(s.memtable_bytes),
                );
                if !indexes.is_empty() {
                    text.push('\n');
                    text.push_str(&indexes_table(&indexes));
                }
                out(
                    json!({
                        "path": self.path.display().to_string(),
                        "records": records,
                        "indexes": indexes_json(&indexes),
                        "bytes": {"records": s.kv_file_bytes, "indexes": s.index_file_bytes, "catalog": s.meta_file_bytes, "memtables": s.memtable_bytes},
                    }),
                    text,
                )
            }
            Command::Import {
                file,
                key_column,
                null_token,
            } => {
                let started = Instant::now();
                let options = ImportOptions {
                    key_column: key_column.as_deref(),
                    null_token: null_token.as_deref(),
                    progress: self.progress,
                };
                let n = transfer::import(&self.db, Path::new(&file), &options)?;
                let secs = started.elapsed().as_secs_f64();
                self.learn_fields();
                out(
                    json!({"imported": n, "seconds": secs}),
                    format!(
                        "imported {n} rows from {file} in {secs:.2} s ({:.0} rows/s)",
                        n as f64 / secs.max(1e-9)
                    ),
                )
            }
            Command::Export { file } => {
                let n = transfer::export(&self.db, Path::new(&file))?;
                out(
                    json!({"exported": n}),
                    format!("exported {n} records to {file}"),
                )
            }
            Command::Backup { dirs } => {
                let (json, text) = backups::backup(&self.db, &dirs, self.progress)?;
                out(json, text)
            }
            Command::Backups { dir } => {
                let (json, text) = backups::list(&dir)?;
                out(json, text)
            }
            Command::Restore { dir, id, to } => {
                let (json, text) = backups::restore(&dir, id, &to, self.progress)?;
                out(json, text)
            }
            Command::VerifyBackup { dir, id, deep } => {
                let (json, text) = backups::verify(&dir, id, deep)?;
                out(json, text)
            }
            Command::PurgeBackups { dir, keep } => {
                let (json, text) = backups::purge(&dir, keep)?;
                out(json, text)
            }
            Command::Help { topic } => match topic {
                None => out(json!({"help": help::summary_text()}), help::summary_text()),
                Some(t) => match help::detail(&t.to_ascii_lowercase()) {
                    Some(d) => out(json!({"help": d}), d),
                    None => {
                        let hint = crate::command::suggest(&t)
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default();
                        return Err(format!("no help for `{t}`{hint}").into());
                    }
                },
            },
            Command::Quit => Outcome::Quit,
        })
    }

    fn indexes_output(&self) -> Outcome {
        let indexes = self.db.indexes();
        let text = if indexes.is_empty() {
            "no indexes".to_string()
        } else {
            indexes_table(&indexes)
        };
        out(json!({"indexes": indexes_json(&indexes)}), text)
    }

    /// Blocks until background tasks finish, with a bar per building index on a terminal.
    fn wait_with_progress(&self) {
        if !self.progress {
            self.db.wait_for_tasks();
            return;
        }
        let bars = MultiProgress::new();
        let mut shown: Vec<(String, ProgressBar)> = Vec::new();
        loop {
            let indexes = self.db.indexes();
            for (field, bar) in &shown {
                if indexes
                    .iter()
                    .any(|i| i.field == *field && i.state == IndexState::Ready)
                {
                    bar.set_position(1000);
                }
            }
            let busy: Vec<&IndexInfo> = indexes
                .iter()
                .filter(|i| !matches!(i.state, IndexState::Ready))
                .collect();
            if busy.is_empty() {
                break;
            }
            for info in busy {
                let bar = match shown.iter().find(|(f, _)| *f == info.field) {
                    Some((_, b)) => b.clone(),
                    None => {
                        let b = bars.add(ProgressBar::new(1000));
                        if let Ok(style) = ProgressStyle::with_template(
                            "{msg:12} [{bar:40}] {percent:>3}% {elapsed}",
                        ) {
                            b.set_style(style.progress_chars("=> "));
                        }
                        b.set_message(info.field.clone());
                        shown.push((info.field.clone(), b.clone()));
                        b
                    }
                };
                bar.set_position((info.progress() * 1000.0) as u64);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.db.wait_for_tasks();
        for (_, bar) in shown {
            bar.finish_and_clear();
        }
    }
}

fn query_options(paging: &Paging) -> Result<QueryOptions, String> {
    let mut options = QueryOptions::new().reverse(paging.desc);
    if let Some(n) = paging.limit {
        options = options.limit(n);
    }
    if let Some(after) = &paging.after {
        let cursor = unhex(after).ok_or_else(|| {
            format!("`after {after}`: a query cursor is the hex string printed as `next`")
        })?;
        options = options.start_after(cursor);
    }
    Ok(options)
}

fn rows_output(page: Page<(Vec<u8>, Record)>, next: Option<String>, display: Display) -> Outcome {
    Outcome::Rows(RowsOutput {
        body: RowsBody::Records(page),
        next,
        display,
    })
}

/// `{"key":K,"record":R}`: one row of `--json` mode's `rows`.
fn write_row_json(
    out: &mut impl std::io::Write,
    key: &[u8],
    record: &impl serde::Serialize,
) -> std::io::Result<()> {
    out.write_all(b"{\"key\":")?;
    serde_json::to_writer(&mut *out, &KeyJson(key))?;
    out.write_all(b",\"record\":")?;
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"}")
}

/// The same as the shell writes it: ` include name,score`, ` include *`, or nothing.
fn include_words(covering: &Covering) -> String {
    match covering {
        Covering::Nothing => String::new(),
        Covering::Fields(names) => format!(" include {}", names.join(",")),
        Covering::Record => " include *".into(),
    }
}

fn indexes_json(indexes: &[IndexInfo]) -> Vec<Json> {
    indexes
        .iter()
        .map(|i| {
            let mut index = json!({"field": i.field, "unique": i.unique, "counted": i.counted, "state": state_name(i), "progress": i.progress()});
            if let Some(include) = include_json(&i.covering) {
                index["include"] = include;
            }
            if let Some(failure) = &i.failure {
                index["failure"] = json!(failure);
            }
            index
        })
        .collect()
}

/// The state column: the state, and why its background task failed when it did.
fn state_words(info: &IndexInfo) -> String {
    match &info.failure {
        Some(failure) => format!("{} (failed: {failure})", state_name(info)),
        None => state_name(info).to_string(),
    }
}

fn indexes_table(indexes: &[IndexInfo]) -> String {
    let rows: Vec<Vec<String>> = indexes
        .iter()
        .map(|i| {
            vec![
                format!("{}{}", i.field, include_words(&i.covering)),
                if i.unique { "yes" } else { "no" }.to_string(),
                if i.counted { "yes" } else { "no" }.to_string(),
                state_words(i),
                format!("{:.0}%", i.progress() * 100.0),
            ]
        })
        .collect();
    table(
        &[
            "index".into(),
            "unique".into(),
            "counted".into(),
            "state".into(),
            "progress".into(),
        ],
        &rows,
    )
}

/// Used by `help` and completion: the keywords that may follow a command.
pub const KEYWORDS: &[&str] = &[
    "index", "unique", "counted", "include", "fields", "from", "to", "where", "limit", "after",
    "desc", "between", "and", "prefix", "--key", "--null",
];
