//! `import` (CSV with a header row, or JSON lines) and `export` (JSON lines).
//!
//! An import reads the file twice: the first pass parses and checks every row, so a malformed
//! file writes nothing; the second writes batches of 1,000 records. Only a failure of the write
//! itself (a unique violation, a full disk) can stop an import part-way; the error then says how
//! many rows were written.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use fielddb::{Batch, FieldDb, Record, ScanOptions, Value, MAX_KEY_LEN};
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
        _ => Value::Str(text.to_string()),
    }
}

pub struct ImportOptions<'a> {
    pub key_column: Option<&'a str>,
    pub null_token: Option<&'a str>,
    pub progress: bool,
}

/// Reads the file, calling `row` with each (key, record); `row` may stop the walk with an error.
fn each_row(
    path: &Path,
    options: &ImportOptions,
    bar: &ProgressBar,
    mut row: impl FnMut(Vec<u8>, Record) -> Result<(), String>,
) -> Result<u64, String> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("row")
        .to_string();
    let auto_key = |n: u64| format!("{stem}:{n:010}").into_bytes();
    let check_key = |key: Vec<u8>, line: u64| -> Result<Vec<u8>, String> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(format!(
                "line {line}: the key must be 1 to {MAX_KEY_LEN} bytes"
            ));
        }
        Ok(key)
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
            if let Some(k) = options.key_column {
                if !headers.iter().any(|h| h == k) {
                    return Err(format!(
                        "--key {k}: no such column (columns: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            let mut seen = std::collections::HashSet::new();
            for h in headers.iter() {
                if h.is_empty() || !seen.insert(h) {
                    return Err(format!(
                        "line 1: column names must be non-empty and unique (`{h}`)"
                    ));
                }
            }
            let mut record_line = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record_line) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                }
                let line = record_line.position().map_or(rows + 2, |p| p.line());
                rows += 1;
                let mut record = Record::with_capacity(headers.len());
                let mut key = None;
                for (name, text) in headers.iter().zip(record_line.iter()) {
                    if Some(name) == options.key_column {
                        key = Some(text.as_bytes().to_vec());
                    }
                    if text.is_empty() || Some(text) == options.null_token {
                        continue;
                    }
                    record.push(name, csv_cell(text));
                }
                let key = match key {
                    Some(k) => check_key(k, line)?,
                    None => auto_key(rows),
                };
                record.validate().map_err(|e| format!("line {line}: {e}"))?;
                row(key, record)?;
                bar.set_position(reader.position().byte());
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
                    (None, None) => auto_key(rows),
                };
                let key = check_key(key, line)?;
                record.validate().map_err(|e| format!("line {line}: {e}"))?;
                row(key, record)?;
                bar.set_position(read);
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
    let rows = each_row(path, options, &check, |_, _| Ok(()))?;
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
    each_row(path, options, &bar, |key, record| {
        batch.put(key, record);
        if batch.len() >= BATCH_ROWS {
            flush(&mut batch, &mut written)?;
        }
        Ok(())
    })?;
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
}
