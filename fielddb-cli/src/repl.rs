//! The interactive shell: line editing and persistent history (rustyline), tab completion of
//! commands, keywords and field names, `.timer on|off`, `.mode auto|table|line` (rows fitted to
//! the terminal's width, or one field per line), Ctrl-C to cancel a line, Ctrl-D to leave.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::command::COMMANDS;
use crate::render::{Display, Layout};
use crate::runner::{run_line, LineResult};
use crate::session::{Session, KEYWORDS};

struct ShellHelper {
    fields: Rc<RefCell<Vec<String>>>,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| c.is_whitespace() || c == '=' || c == ';')
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        let first_word = before[..start]
            .trim_start()
            .rsplit(';')
            .next()
            .is_none_or(|s| s.trim().is_empty());
        let mut candidates: Vec<String> = if first_word {
            COMMANDS.iter().map(|c| c.to_string()).collect()
        } else {
            KEYWORDS
                .iter()
                .map(|k| k.to_string())
                .chain(self.fields.borrow().iter().cloned())
                .collect()
        };
        candidates.retain(|c| c.starts_with(word) && c != word);
        candidates.sort();
        candidates.dedup();
        let pairs = candidates
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: format!("{c} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("FIELDDB_HISTORY")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".fielddb_history")))
}

/// The terminal's width in columns: `COLUMNS` when set, else the terminal's own; `None` when
/// neither says.
fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, cols)| usize::from(cols))
        })
        .filter(|&w| w > 0)
}

/// Runs the REPL until `quit` or Ctrl-D. Returns the exit status.
pub fn run(mut session: Session, db_path: &std::path::Path) -> Result<i32, String> {
    let fields = Rc::new(RefCell::new(Vec::new()));
    // Readline's convention: Tab completes the candidates' common prefix, a second Tab lists
    // them (rustyline's default cycles through them instead).
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot start the line editor: {e}"))?;
    editor.set_helper(Some(ShellHelper {
        fields: Rc::clone(&fields),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "fielddb {} on {} — type `help` for commands, Ctrl-D to leave",
        env!("CARGO_PKG_VERSION"),
        db_path.display()
    );
    let mut timer = false;
    loop {
        *fields.borrow_mut() = session.field_names().map(str::to_string).collect();
        match editor.readline("fielddb> ") {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(trimmed);
                if let Some(setting) = trimmed.strip_prefix(".mode") {
                    let layout = match setting.trim() {
                        "auto" => Some(Layout::Auto),
                        "table" => Some(Layout::Table),
                        "line" => Some(Layout::Line),
                        _ => None,
                    };
                    match layout {
                        Some(layout) => session.set_display(Display {
                            layout,
                            ..session.display()
                        }),
                        None => {
                            eprintln!("error: write `.mode auto`, `.mode table` or `.mode line`")
                        }
                    }
                    continue;
                }
                if let Some(setting) = trimmed.strip_prefix(".timer") {
                    match setting.trim() {
                        "on" => timer = true,
                        "off" => timer = false,
                        _ => eprintln!("error: write `.timer on` or `.timer off`"),
                    }
                    continue;
                }
                session.set_display(Display {
                    width: terminal_width(),
                    ..session.display()
                });
                let started = Instant::now();
                let result = run_line(&mut session, trimmed, false);
                if timer {
                    println!("time: {:.3} ms", started.elapsed().as_secs_f64() * 1000.0);
                }
                if result == LineResult::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(0)
}
