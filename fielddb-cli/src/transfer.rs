//! `import` (CSV with a header row, or JSON lines) and `export` (JSON lines).
//!
//! An import reads the file twice: the first pass parses and checks every row, so a malformed
//! file writes nothing; the second builds the records and writes them in batches of 1,000. The
//! first pass builds a CSV row's record only when the row might be too long to store: what else
//! a write could refuse is in the header, checked once. Only a failure of the write
//! itself (a unique violation, a full disk) can stop an import part-way; the error then says how
//! many rows were written.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use fielddb::{Batch, FieldDb, Record, ScanOptions, Value, MAX_KEY_LEN, MAX_RECORD_LEN};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value as Json;

use fielddb_json::{json_to_key, json_to_record, key_to_json, record_to_json};

const BATCH_ROWS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    JsonLines,
}

fn format_of(path: &Path) -> Result<Format, String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::JsonLines),
        _ => Err(format!(
            "cannot tell the format of {}: use a .csv, .jsonl or .ndjson file",
            path.display()
        )),
    }
}

/// Types a CSV cell: int, then float, then true/false, else string.
pub fn csv_cell(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::Int(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() && text.chars().any(|c| c.is_ascii_digit()) {
            return Value::Float(f);
        }
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::from(text),
    }
}

pub struct ImportOptions<'a> {
    pub key_column: Option<&'a str>,
    pub null_token: Option<&'a str>,
    pub progress: bool,
}

/// How many rows pass between two updates of the progress bar (each update reads the clock).
const ROWS_PER_TICK: u64 = 1_024;

/// What a walk over the file does with each row.
enum Pass<'r> {
    /// Parses and checks every row, building a record only where a check needs one: the
    /// rows of a CSV file share the header's names, checked once, and their cells cannot
    /// hold a NaN, so a row's record is built only when it might be too long.
    Check,
    /// Hands each (key, record) to the function, which may stop the walk with an error.
    Write(&'r mut dyn FnMut(Vec<u8>, Record) -> Result<(), String>),
}

/// The key `auto_key` makes for the `n`th row: the file's stem, `:`, and `n` zero-padded to
/// ten digits, so keys sort in file order.
fn auto_key(stem: &str, n: u64) -> Vec<u8> {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    let mut rest = n;
    while rest > 0 {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let start = at.min(digits.len() - 10);
    let mut key = Vec::with_capacity(stem.len() + 1 + digits.len() - start);
    key.extend_from_slice(stem.as_bytes());
    key.push(b':');
    key.extend_from_slice(&digits[start..]);
    key
}

/// A bound on the encoded length of the record a CSV row makes: per cell, its name and its
/// text, a length prefix for each (at most 10 bytes) and a type tag; a number may take 10
/// bytes where its text is shorter. A row under the bound needs no record to know it fits.
fn csv_record_len_bound(row: &csv::StringRecord, names_len: usize) -> usize {
    1 + 10 + names_len + row.as_slice().len() + row.len() * (10 + 1 + 10 + 10)
}

/// Refuses a record longer than a write takes ([`MAX_RECORD_LEN`] in its self-describing
/// encoding, which is what a write measures), by encoding it: only for a row big enough that
/// it might be. A JSON line of `n` bytes encodes in well under `8 * n` bytes: each field's
/// name and value cost at most 21 bytes more than their text, and its JSON at least 4 more.
fn check_len(record: &Record) -> Result<(), String> {
    fielddb::encode_record(record)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Reads the file, doing `pass` with each row; returns the number of rows.
fn each_row(
    path: &Path,
    options: &ImportOptions,
    bar: &ProgressBar,
    mut pass: Pass,
) -> Result<u64, String> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("row")
        .to_string();
    let check_key = |key: &[u8], line: u64| -> Result<(), String> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(format!(
                "line {line}: the key must be 1 to {MAX_KEY_LEN} bytes"
            ));
        }
        Ok(())
    };
    let mut rows = 0u64;
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(BufReader::new(file));
            let headers = reader
                .headers()
                .map_err(|e| format!("{}: {e}", path.display()))?
                .clone();
            let key_column = match options.key_column {
                Some(k) => Some(headers.iter().position(|h| h == k).ok_or_else(|| {
                    format!(
                        "--key {k}: no such column (columns: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )
                })?),
                None => None,
            };
            let mut seen = std::collections::HashSet::new();
            for h in headers.iter() {
                if h.is_empty() || !seen.insert(h) {
                    return Err(format!(
                        "line 1: column names must be non-empty and unique (`{h}`)"
                    ));
                }
            }
            // Every row's record holds some of these names, each once, so checking them once
            // checks them for every row.
            headers
                .iter()
                .fold(Record::with_capacity(headers.len()), |mut r, h| {
                    r.push(h, Value::Null);
                    r
                })
                .validate()
                .map_err(|e| format!("line 1: {e}"))?;
            let names_len: usize = headers.iter().map(str::len).sum();
            let build = |row: &csv::StringRecord| {
                let mut record = Record::with_capacity(headers.len());
                for (name, text) in headers.iter().zip(row.iter()) {
                    if text.is_empty() || Some(text) == options.null_token {
                        continue;
                    }
                    record.push(name, csv_cell(text));
                }
                record
            };
            let mut record_line = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record_line) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                }
                rows += 1;
                let line = || record_line.position().map_or(rows + 1, |p| p.line());
                let key = match key_column {
                    Some(col) => {
                        let key = record_line.get(col).unwrap_or_default().as_bytes();
                        check_key(key, line())?;
                        Some(key)
                    }
                    None => None,
                };
                match &mut pass {
                    Pass::Check => {
                        if csv_record_len_bound(&record_line, names_len) > MAX_RECORD_LEN {
                            check_len(&build(&record_line))
                                .map_err(|e| format!("line {}: {e}", line()))?;
                        }
                    }
                    Pass::Write(row) => {
                        let key = key.map_or_else(|| auto_key(&stem, rows), <[u8]>::to_vec);
                        row(key, build(&record_line))?;
                    }
                }
                if rows % ROWS_PER_TICK == 0 {
                    bar.set_position(reader.position().byte());
                }
            }
        }
        Format::JsonLines => {
            let mut read = 0u64;
            for (i, text) in BufReader::new(file).lines().enumerate() {
                let line = i as u64 + 1;
                let text = text.map_err(|e| format!("line {line}: {e}"))?;
                read += text.len() as u64 + 1;
                if text.trim().is_empty() {
                    continue;
                }
                rows += 1;
                let json: Json =
                    serde_json::from_str(&text).map_err(|e| format!("line {line}: {e}"))?;
                let (key, record) = match &json {
                    Json::Object(map)
                        if map.len() == 2
                            && map.get("record").is_some_and(Json::is_object)
                            && map.contains_key("key") =>
                    {
                        let key =
                            json_to_key(&map["key"]).map_err(|e| format!("line {line}: {e}"))?;
                        (Some(key), json_to_record(&map["record"]))
                    }
                    _ => (None, json_to_record(&json)),
                };
                let record = record.map_err(|e| format!("line {line}: {e}"))?;
                let key = match (key, options.key_column) {
                    (Some(k), _) => k,
                    (None, Some(col)) => {
                        let v = json
                            .get(col)
                            .ok_or_else(|| format!("line {line}: no field `{col}` for the key"))?;
                        json_to_key(v).map_err(|e| format!("line {line}: {e}"))?
                    }
                    (None, None) => auto_key(&stem, rows),
                };
                check_key(&key, line)?;
                match &mut pass {
                    Pass::Check => {
                        record.validate().map_err(|e| format!("line {line}: {e}"))?;
                        if text.len() > MAX_RECORD_LEN / 8 {
                            check_len(&record).map_err(|e| format!("line {line}: {e}"))?;
                        }
                    }
                    Pass::Write(row) => row(key, record)?,
                }
                if rows % ROWS_PER_TICK == 0 {
                    bar.set_position(read);
                }
            }
        }
    }
    Ok(rows)
}

fn progress_bar(path: &Path, show: bool, label: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    bar
}

/// Imports a file; returns the number of rows written.
pub fn import(db: &FieldDb, path: &Path, options: &ImportOptions) -> Result<u64, String> {
    // Pass 1: parse and check everything; nothing is written.
    let check = progress_bar(path, options.progress, "checking");
    let rows = each_row(path, options, &check, Pass::Check)?;
    check.finish_and_clear();

    // Pass 2: write in batches.
    let bar = progress_bar(path, options.progress, "importing");
    let mut batch = Batch::new();
    let mut written = 0u64;
    let flush = |batch: &mut Batch, written: &mut u64| -> Result<(), String> {
        let n = batch.len() as u64;
        db.write_batch(std::mem::take(batch))
            .map_err(|e| format!("{e} (after {written} rows were imported)"))?;
        *written += n;
        Ok(())
    };
    each_row(
        path,
        options,
        &bar,
        Pass::Write(&mut |key, record| {
            batch.put(key, record);
            if batch.len() >= BATCH_ROWS {
                flush(&mut batch, &mut written)?;
            }
            Ok(())
        }),
    )?;
    flush(&mut batch, &mut written)?;
    bar.finish_and_clear();
    debug_assert_eq!(rows, written);
    Ok(written)
}

/// Exports every record as JSON lines; returns how many.
pub fn export(db: &FieldDb, path: &Path) -> Result<u64, String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut options = ScanOptions::new().limit(1_000);
    let mut n = 0u64;
    loop {
        let page = db.scan(&options).map_err(|e| e.to_string())?;
        for (key, record) in &page.rows {
            let line =
                serde_json::json!({"key": key_to_json(key), "record": record_to_json(record)});
            writeln!(out, "{line}").map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
        match page.next {
            Some(cursor) => options = ScanOptions::new().limit(1_000).start_after(cursor),
            None => break,
        }
    }
    out.flush()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_typed_int_float_bool_string() {
        assert_eq!(csv_cell("42"), Value::Int(42));
        assert_eq!(csv_cell("-4.5"), Value::Float(-4.5));
        assert_eq!(csv_cell("true"), Value::Bool(true));
        assert_eq!(csv_cell("inf"), Value::Str("inf".into()));
        assert_eq!(csv_cell("NaN"), Value::Str("NaN".into()));
        assert_eq!(csv_cell("London"), Value::Str("London".into()));
    }

    #[test]
    fn automatic_keys_are_the_stem_and_the_row_number_padded_to_ten_digits() {
        for n in [0, 1, 42, 9_999_999_999, 10_000_000_000, u64::MAX] {
            assert_eq!(
                auto_key("flights", n),
                format!("flights:{n:010}").into_bytes()
            );
        }
    }
}
