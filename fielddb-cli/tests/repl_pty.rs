//! The interactive shell, driven through a pseudo-terminal: commands run, tab completes
//! commands and field names (the candidates' common prefix first, the candidates listed on a
//! second Tab), wide rows are fitted to the terminal or shown a field per line, Ctrl-C cancels
//! a line, history persists across sessions.

use rexpect::session::PtySession;

const PROMPT: &str = "fielddb> ";

fn start(db: &std::path::Path, history: &std::path::Path) -> PtySession {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fielddb"));
    cmd.arg("--db")
        .arg(db)
        .env("FIELDDB_HISTORY", history)
        .env("COLUMNS", "40")
        .env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(10_000)).expect("spawn in a pty");
    p.exp_string(PROMPT).expect("first prompt");
    p
}

/// Types `keys` (which end with Enter) and returns what was printed up to the next prompt.
/// Waiting for the prompt matters: the line editor drops keys typed before it is ready.
fn type_line(p: &mut PtySession, keys: &str) -> String {
    p.send(keys).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    // The first line break is the Enter (redraws while typing or completing use none).
    let echo = p.exp_string("\r\n").unwrap();
    let output = p.exp_string(PROMPT).unwrap();
    format!("{echo}\r\n{output}")
}

#[test]
fn the_repl_completes_remembers_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let history = dir.path().join("history");

    let mut p = start(&db, &history);
    assert!(type_line(&mut p, "put ada name=Ada born=1815").contains("ok"));
    // Tab completes the command `ge` -> `get `, and the field name `bo` -> `born`.
    let out = type_line(&mut p, "ge\tada");
    assert!(out.contains("Ada"), "{out:?}");
    assert!(type_line(&mut p, "create index bo\t").contains("building index on born"));
    // Ctrl-C abandons a half-typed line without running it.
    p.send("delete ada").unwrap();
    p.flush().unwrap();
    p.send_control('c').unwrap();
    p.exp_string(PROMPT).unwrap();
    // With several candidates, Tab completes their common prefix and a second Tab lists them.
    assert!(type_line(&mut p, "put f dep_delay=3 dest=IAH").contains("ok"));
    p.send("count de\t\t").unwrap();
    p.flush().unwrap();
    p.exp_string("dep_delay").unwrap();
    p.exp_string("dest").unwrap();
    // The line is drawn again under the list, still `count de`.
    p.exp_string(&format!("{PROMPT}count de")).unwrap();
    let out = type_line(&mut p, "st = IAH");
    assert!(out.contains("no index on field `dest`"), "{out:?}");
    // A row wider than the terminal (40 columns here) is cut to fit, with `…`; `.mode line`
    // shows one field per line.
    let long = "a=aaaaaaaaaaaaaaaaaaaa b=bbbbbbbbbbbbbbbbbbbb";
    assert!(type_line(&mut p, &format!("put w {long}")).contains("ok"));
    let out = type_line(&mut p, "scan from w");
    // (the pty's bytes arrive one char each: `…` is its three UTF-8 bytes)
    let ellipsis: String = "…".bytes().map(char::from).collect();
    assert!(
        out.contains(&ellipsis) && !out.contains(&"b".repeat(20)),
        "{out:?}"
    );
    type_line(&mut p, ".mode line");
    let out = type_line(&mut p, "scan from w");
    assert!(
        out.contains("-[ row 1 ]-") && out.contains("b    bbbbbbbbbbbbbbbbbbbb"),
        "{out:?}"
    );
    type_line(&mut p, ".mode auto");
    type_line(&mut p, ".timer on");
    let out = type_line(&mut p, "count born < 2000");
    assert!(out.contains("\n1\r\n") && out.contains("time: "), "{out:?}");
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();

    // A new session finds the history: Up-arrow recalls the last command.
    let mut p = start(&db, &history);
    let out = type_line(&mut p, "\x1b[A");
    assert!(
        out.contains("count born < 2000") && out.contains("\n1\r\n"),
        "{out:?}"
    );
    assert!(!out.contains("time: "), "the timer is off in a new session");
    assert!(
        type_line(&mut p, "get ada").contains("Ada"),
        "the cancelled delete did not run"
    );
    p.send_line("quit").unwrap();
    p.exp_eof().unwrap();
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("put ada name=Ada born=1815"), "{saved}");
    assert!(saved.contains("create index born"), "{saved}");
    assert!(
        !saved.lines().any(|l| l == "delete ada"),
        "a cancelled line is not history: {saved}"
    );
}
