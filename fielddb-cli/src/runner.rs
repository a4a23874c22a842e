//! Running text: a line of one or more `;`-separated commands, printed as human text or JSON.

use std::io::Write;

use serde_json::{json, Value as Json};

use crate::command::parse;
use crate::session::{Failure, Outcome, Session};
use fielddb_json::lexer::split_commands;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineResult {
    /// Every command succeeded.
    Ok,
    /// At least one failed (the rest ran unless `bail`).
    Failed,
    /// `quit` was given.
    Quit,
}

/// Runs the commands of one line; prints results to stdout (as JSON in the session's `--json`
/// mode) and, in human mode, errors to stderr.
pub fn run_line(session: &mut Session, line: &str, bail: bool) -> LineResult {
    let json_mode = session.json_mode();
    let mut result = LineResult::Ok;
    for text in split_commands(line) {
        let outcome = parse(&text)
            .map_err(|e| Failure {
                code: "parse_error",
                message: e.to_string(),
            })
            .and_then(|command| session.execute(command));
        match outcome {
            Ok(Outcome::Quit) => return LineResult::Quit,
            Ok(Outcome::Rows(rows)) => {
                // Rows go through one buffered lock of stdout, written as they are encoded.
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
                let written = if json_mode {
                    rows.write_json(&mut out)
                } else {
                    writeln!(out, "{}", rows.text())
                };
                if written.and_then(|()| out.flush()).is_err() {
                    // stdout is gone (a closed pipe): nothing more can be shown.
                    return LineResult::Failed;
                }
            }
            Ok(Outcome::Done(output)) => {
                if json_mode {
                    let mut map = serde_json::Map::new();
                    map.insert("ok".into(), Json::Bool(true));
                    map.extend(output.json);
                    println!("{}", Json::Object(map));
                } else {
                    println!("{}", output.text);
                }
            }
            Err(Failure { code, message }) => {
                if json_mode {
                    println!("{}", json!({"ok": false, "error": message, "code": code}));
                } else {
                    eprintln!("error: {message}");
                }
                result = LineResult::Failed;
                if bail {
                    return result;
                }
            }
        }
    }
    result
}
