//! The shell's commands and their parser: tokens (from `lexer`) to a `Command`, with errors
//! that name the column and, for an unknown command, suggest the nearest one.

use fielddb::{Covering, Query, Value};
use fielddb_json::lexer::{syntax, tokenize, SyntaxError, Token, TokenKind};
use fielddb_json::Tokens;

/// Every command name, for suggestions, completion and help.
pub const COMMANDS: &[&str] = &[
    "put",
    "get",
    "delete",
    "append",
    "update",
    "upsert",
    "scan",
    "create",
    "drop",
    "indexes",
    "wait",
    "query",
    "count",
    "import",
    "export",
    "verify",
    "stats",
    "compact",
    "backup",
    "backups",
    "restore",
    "verify-backup",
    "purge-backups",
    "help",
    "quit",
    "exit",
];

#[derive(Debug, Clone, PartialEq)]
pub enum PutBody {
    Fields(Vec<(String, Value)>),
    Json(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Paging {
    pub limit: Option<usize>,
    pub after: Option<String>,
    pub desc: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Put {
        key: String,
        body: PutBody,
    },
    Get {
        key: String,
    },
    Delete {
        key: String,
    },
    Append {
        key: String,
        field: String,
        value: Value,
    },
    /// Sets (`Some`) and removes (`None`) fields, in order; `create` for `upsert`.
    Update {
        key: String,
        changes: Vec<(String, Option<Value>)>,
        create: bool,
    },
    /// Records in key order; `filter` holds the conditions after `where`.
    Scan {
        from: Option<String>,
        to: Option<String>,
        filter: Vec<(String, Query)>,
        paging: Paging,
    },
    /// An index on one field, or on several (`create index carrier,dest`), covering some
    /// fields (`include name,score`) or the record (`include *`).
    CreateIndex {
        fields: Vec<String>,
        unique: bool,
        counted: bool,
        covering: Covering,
    },
    DropIndex {
        field: String,
    },
    Indexes,
    Wait,
    /// Conditions joined by `and` (`query carrier = UA and dest = IAH`), and the fields
    /// wanted (`fields name,score`; all when `None`).
    Query {
        conditions: Vec<(String, Query)>,
        fields: Option<Vec<String>>,
        paging: Paging,
    },
    Count {
        conditions: Vec<(String, Query)>,
    },
    /// The plan of a query's conditions.
    Explain {
        conditions: Vec<(String, Query)>,
    },
    Import {
        file: String,
        key_column: Option<String>,
        null_token: Option<String>,
    },
    Export {
        file: String,
    },
    Verify,
    Stats,
    /// Flush and compact the files (`FieldDb::compact`).
    Compact,
    /// Back the database up into each directory.
    Backup {
        dirs: Vec<String>,
    },
    /// List a backup directory's backups.
    Backups {
        dir: String,
    },
    /// Restore a backup (the newest without an id) into a new database directory.
    Restore {
        dir: String,
        id: Option<u32>,
        to: String,
    },
    /// Check a backup's files (and, deep, restore it aside and verify it).
    VerifyBackup {
        dir: String,
        id: Option<u32>,
        deep: bool,
    },
    /// Keep only the newest backups of a directory.
    PurgeBackups {
        dir: String,
        keep: usize,
    },
    Help {
        topic: Option<String>,
    },
    Quit,
}

/// An optional backup id: a whole number, if the next word is one.
fn backup_id(p: &mut Tokens) -> Result<Option<u32>, SyntaxError> {
    match p.peek() {
        Some(Token {
            kind: TokenKind::Word(w),
            column,
        }) if w.chars().all(|c| c.is_ascii_digit()) => {
            let column = *column;
            let id = w
                .parse()
                .or_else(|_| syntax(column, "a backup id is 1 to 4294967295"))?;
            p.pos += 1;
            Ok(Some(id))
        }
        _ => Ok(None),
    }
}

/// `limit N`, `after CURSOR`, `desc`, in any order, each at most once.
/// A list of fields written `a,b,c` (after `what`), refusing an empty one.
fn field_list(p: &mut Tokens, what: &str) -> Result<Vec<String>, SyntaxError> {
    let column = p.column();
    let list = p.name(&format!("fields after `{what}` (as `a,b`)"))?;
    let fields: Vec<String> = list.split(',').map(str::to_owned).collect();
    if fields.iter().any(String::is_empty) {
        return syntax(
            column,
            format!("`{list}` names an empty field; write the fields as `a,b`"),
        );
    }
    Ok(fields)
}

fn paging(p: &mut Tokens, allow_desc: bool) -> Result<Paging, SyntaxError> {
    let mut paging = Paging::default();
    while let Some(word) = p.peek().and_then(Token::keyword) {
        let column = p.column();
        match word.as_str() {
            "limit" if paging.limit.is_none() => {
                p.pos += 1;
                paging.limit = Some(p.number("the limit")?);
            }
            "after" if paging.after.is_none() => {
                p.pos += 1;
                paging.after = Some(p.name("a cursor after `after`")?);
            }
            "desc" if allow_desc && !paging.desc => {
                p.pos += 1;
                paging.desc = true;
            }
            "limit" | "after" | "desc" => return syntax(column, format!("`{word}` given twice")),
            _ => break,
        }
    }
    Ok(paging)
}

/// The command nearest to an unknown word, if one is close.
pub fn suggest(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Parses one command.
pub fn parse(input: &str) -> Result<Command, SyntaxError> {
    let tokens = tokenize(input)?;
    let mut p = Tokens::new(tokens, input.chars().count() + 1);
    let head = p.next("a command")?;
    let Some(word) = head.keyword() else {
        return syntax(
            head.column,
            format!("expected a command, found {}", head.describe()),
        );
    };
    let command = match word.as_str() {
        "put" => {
            let key = p.name("a key after `put`")?;
            let body = if let Some(Token {
                kind: TokenKind::Json(json),
                ..
            }) = p.peek().cloned()
            {
                p.pos += 1;
                PutBody::Json(json)
            } else {
                let mut fields = Vec::new();
                while p.peek().is_some() {
                    let name = p.name("a field name")?;
                    let eq = p.next("`=` after the field name")?;
                    if eq.kind != TokenKind::Op("=") {
                        return syntax(
                            eq.column,
                            format!("expected `=` after `{name}`, found {}", eq.describe()),
                        );
                    }
                    if p.peek().is_none() {
                        return syntax(
                            p.end_column,
                            format!("`{name}=` has no value; write {name}=\"\" for an empty string or {name}=null for null"),
                        );
                    }
                    let value = p.value("a value")?;
                    fields.push((name, value));
                }
                if fields.is_empty() {
                    return syntax(
                        p.end_column,
                        "expected FIELD=VALUE pairs or a {JSON object} after the key",
                    );
                }
                PutBody::Fields(fields)
            };
            Command::Put { key, body }
        }
        "get" => Command::Get {
            key: p.name("a key after `get`")?,
        },
        "delete" => Command::Delete {
            key: p.name("a key after `delete`")?,
        },
        "update" | "upsert" => {
            let create = word == "upsert";
            let key = p.name(&format!("a key after `{word}`"))?;
            let mut changes = Vec::new();
            while p.peek().is_some() {
                let unset = p.peek().and_then(Token::keyword).as_deref() == Some("unset")
                    && p.ahead(1).is_some_and(|t| t.kind != TokenKind::Op("="));
                if unset {
                    p.pos += 1;
                    changes.push((p.name("a field name after `unset`")?, None));
                    continue;
                }
                let name = p.name("FIELD=VALUE or unset FIELD")?;
                let eq = p.next("`=` after the field name")?;
                if eq.kind != TokenKind::Op("=") {
                    return syntax(
                        eq.column,
                        format!(
                            "expected `=` after `{name}` (or `unset {name}`), found {}",
                            eq.describe()
                        ),
                    );
                }
                changes.push((name, Some(p.value("a value")?)));
            }
            if changes.is_empty() {
                return syntax(
                    p.end_column,
                    "expected FIELD=VALUE or unset FIELD after the key",
                );
            }
            Command::Update {
                key,
                changes,
                create,
            }
        }
        "append" => Command::Append {
            key: p.name("a key after `append`")?,
            field: p.name("a field name after the key")?,
            value: p.value("a string or bytes value to append")?,
        },
        "scan" => {
            let (mut from, mut to, mut filter) = (None, None, Vec::new());
            loop {
                let column = p.column();
                match p.peek().and_then(Token::keyword).as_deref() {
                    Some("from") if from.is_none() => {
                        p.pos += 1;
                        from = Some(p.name("a key after `from`")?);
                    }
                    Some("to") if to.is_none() => {
                        p.pos += 1;
                        to = Some(p.name("a key after `to`")?);
                    }
                    Some("where") if filter.is_empty() => {
                        p.pos += 1;
                        filter = p.conditions("a field after `where`")?;
                    }
                    Some(w @ ("from" | "to" | "where")) => {
                        return syntax(column, format!("`{w}` given twice"))
                    }
                    _ => break,
                }
            }
            let paging = paging(&mut p, true)?;
            Command::Scan {
                from,
                to,
                filter,
                paging,
            }
        }
        "create" => {
            p.keyword("index")?;
            let column = p.column();
            let name = p.name("a field after `create index` (or fields: `a,b`)")?;
            let fields: Vec<String> = name.split(',').map(str::to_owned).collect();
            if fields.iter().any(String::is_empty) {
                return syntax(
                    column,
                    format!("`{name}` names an empty field; write the fields as `a,b`"),
                );
            }
            let (mut unique, mut counted) = (false, false);
            let mut covering = Covering::Nothing;
            loop {
                if p.at_keyword("unique") && !unique {
                    unique = true;
                } else if p.at_keyword("counted") && !counted {
                    counted = true;
                } else if p.at_keyword("include") && covering == Covering::Nothing {
                    p.pos += 1;
                    covering = match field_list(&mut p, "include")?.as_slice() {
                        [all] if all == "*" => Covering::Record,
                        list => Covering::Fields(list.to_vec()),
                    };
                    continue;
                } else {
                    break;
                }
                p.pos += 1;
            }
            Command::CreateIndex {
                fields,
                unique,
                counted,
                covering,
            }
        }
        "drop" => {
            p.keyword("index")?;
            Command::DropIndex {
                field: p.name("a field after `drop index`")?,
            }
        }
        "indexes" => Command::Indexes,
        "wait" => Command::Wait,
        "query" => {
            let conditions = p.conditions("a field after `query`")?;
            let fields = if p.at_keyword("fields") {
                p.pos += 1;
                Some(field_list(&mut p, "fields")?)
            } else {
                None
            };
            let paging = paging(&mut p, true)?;
            Command::Query {
                conditions,
                fields,
                paging,
            }
        }
        "count" => Command::Count {
            conditions: p.conditions("a field after `count`")?,
        },
        "explain" => {
            if p.at_keyword("query") {
                p.pos += 1;
            }
            Command::Explain {
                conditions: p.conditions("a field after `explain`")?,
            }
        }
        "import" => {
            let file = p.name("a file after `import`")?;
            let (mut key_column, mut null_token) = (None, None);
            while let Some(t) = p.peek().cloned() {
                match t.keyword().as_deref() {
                    Some("--key") if key_column.is_none() => {
                        p.pos += 1;
                        key_column = Some(p.name("a column after `--key`")?);
                    }
                    Some("--null") if null_token.is_none() => {
                        p.pos += 1;
                        null_token = Some(p.name("a token after `--null`")?);
                    }
                    _ => {
                        return syntax(
                            t.column,
                            format!(
                                "unexpected {}; import takes --key COLUMN and --null TOKEN",
                                t.describe()
                            ),
                        )
                    }
                }
            }
            Command::Import {
                file,
                key_column,
                null_token,
            }
        }
        "export" => Command::Export {
            file: p.name("a file after `export`")?,
        },
        "verify" => Command::Verify,
        "stats" => Command::Stats,
        "compact" => Command::Compact,
        "backup" => {
            let mut dirs = vec![p.name("a backup directory after `backup`")?];
            while p.peek().is_some() {
                dirs.push(p.name("a backup directory")?);
            }
            Command::Backup { dirs }
        }
        "backups" => Command::Backups {
            dir: p.name("a backup directory after `backups`")?,
        },
        "restore" => {
            let dir = p.name("a backup directory after `restore`")?;
            let id = backup_id(&mut p)?;
            let column = p.column();
            if p.peek().and_then(Token::keyword).as_deref() != Some("--to") {
                return syntax(
                    column,
                    "expected `--to NEWDB` (the directory to restore into)",
                );
            }
            p.pos += 1;
            let to = p.name("a directory after `--to`")?;
            Command::Restore { dir, id, to }
        }
        "verify-backup" => {
            let dir = p.name("a backup directory after `verify-backup`")?;
            let id = backup_id(&mut p)?;
            let deep = p.peek().and_then(Token::keyword).as_deref() == Some("--deep");
            if deep {
                p.pos += 1;
            }
            Command::VerifyBackup { dir, id, deep }
        }
        "purge-backups" => {
            let dir = p.name("a backup directory after `purge-backups`")?;
            let column = p.column();
            if p.peek().and_then(Token::keyword).as_deref() != Some("--keep") {
                return syntax(
                    column,
                    "expected `--keep N` (how many of the newest to keep)",
                );
            }
            p.pos += 1;
            let keep = p.number("the number of backups to keep")?;
            if keep == 0 {
                return syntax(column, "--keep must be at least 1");
            }
            Command::PurgeBackups { dir, keep }
        }
        "help" => Command::Help {
            topic: if p.peek().is_some() {
                Some(p.name("a command")?)
            } else {
                None
            },
        },
        "quit" | "exit" => Command::Quit,
        other => {
            let hint = suggest(other)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return syntax(
                head.column,
                format!("unknown command `{other}`{hint} (type `help` for the list)"),
            );
        }
    };
    p.done()?;
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ops::Bound;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_input_parses_or_fails_without_panicking(input in "\\PC{0,40}") {
            let _ = parse(&input);
        }

        #[test]
        fn command_shaped_input_parses_or_fails_without_panicking(
            words in proptest::collection::vec(prop_oneof![
                Just("put".to_string()), Just("query".to_string()), Just("scan".to_string()),
                Just("=".to_string()), Just("<=".to_string()), Just("and".to_string()),
                Just("between".to_string()), Just("prefix".to_string()), Just("limit".to_string()),
                Just("0xaé".to_string()), Just("\"a\\".to_string()), Just("{\"a\":".to_string()),
                "[a-z0-9.{}\"=<>-]{0,6}",
            ], 0..10)
        ) {
            let _ = parse(&words.join(" "));
        }
    }

    #[test]
    fn put_parses_pairs_and_json() {
        assert_eq!(
            parse("PUT k name=Ada age=36 score=4.5 ok=true no=null b=0x00ff").unwrap(),
            Command::Put {
                key: "k".into(),
                body: PutBody::Fields(vec![
                    ("name".into(), Value::Str("Ada".into())),
                    ("age".into(), Value::Int(36)),
                    ("score".into(), Value::Float(4.5)),
                    ("ok".into(), Value::Bool(true)),
                    ("no".into(), Value::Null),
                    ("b".into(), Value::Bytes(vec![0, 255])),
                ])
            }
        );
        assert!(matches!(
            parse(r#"put k {"a": 1}"#).unwrap(),
            Command::Put {
                body: PutBody::Json(_),
                ..
            }
        ));
    }

    #[test]
    fn update_parses_sets_and_unsets_in_order() {
        assert_eq!(
            parse("update ada age=37 unset note unset=1").unwrap(),
            Command::Update {
                key: "ada".into(),
                changes: vec![
                    ("age".into(), Some(Value::Int(37))),
                    ("note".into(), None),
                    ("unset".into(), Some(Value::Int(1))),
                ],
                create: false,
            }
        );
        assert!(matches!(
            parse("upsert k a=1").unwrap(),
            Command::Update { create: true, .. }
        ));
        let err = parse("update ada").unwrap_err();
        assert!(err.message.contains("unset FIELD"), "{}", err.message);
        let err = parse("update ada age 37").unwrap_err();
        assert!(
            err.message.contains("expected `=` after `age`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_empty_value_says_how_to_write_an_empty_string() {
        let err = parse("put k age=").unwrap_err();
        assert!(err.message.contains("age=\"\""), "{}", err.message);
        assert_eq!(err.column, 11);
    }

    #[test]
    fn conditions_on_several_fields_are_joined_by_and_and_a_range_stays_one() {
        match parse("query carrier = \"UA\" and dep_delay > 60 and dest prefix I limit 5").unwrap()
        {
            Command::Query {
                conditions, paging, ..
            } => {
                assert_eq!(
                    conditions,
                    vec![
                        ("carrier".to_owned(), Query::eq("UA")),
                        ("dep_delay".to_owned(), Query::gt(60)),
                        ("dest".to_owned(), Query::prefix("I")),
                    ]
                );
                assert_eq!(paging.limit, Some(5));
            }
            other => panic!("{other:?}"),
        }
        match parse("query dep_delay >= 10 and < 12.5 and dest = IAH").unwrap() {
            Command::Query { conditions, .. } => {
                assert_eq!(
                    conditions,
                    vec![
                        (
                            "dep_delay".to_owned(),
                            Query::range(
                                Bound::Included(Value::Int(10)),
                                Bound::Excluded(Value::Float(12.5))
                            )
                        ),
                        ("dest".to_owned(), Query::eq("IAH"))
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        match parse("explain query a = 1 and b between 2 and 3").unwrap() {
            Command::Explain { conditions } => assert_eq!(conditions.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(parse("query a = 1 and").is_err());
        assert!(parse("count a = 1 and b").is_err());
    }

    #[test]
    fn compound_indexes_scans_with_several_conditions_and_bad_conditions() {
        assert_eq!(
            parse("create index carrier,dest counted").unwrap(),
            Command::CreateIndex {
                fields: vec!["carrier".into(), "dest".into()],
                unique: false,
                counted: true,
                covering: Covering::Nothing,
            }
        );
        assert_eq!(
            parse("create index city include name,score counted").unwrap(),
            Command::CreateIndex {
                fields: vec!["city".into()],
                unique: false,
                counted: true,
                covering: Covering::Fields(vec!["name".into(), "score".into()]),
            }
        );
        match parse("create index city include *").unwrap() {
            Command::CreateIndex { covering, .. } => assert_eq!(covering, Covering::Record),
            other => panic!("{other:?}"),
        }
        let err = parse("create index city include name,").unwrap_err();
        assert_eq!(err.column, 27, "{err}");
        match parse("query city = Oslo fields name,score limit 2").unwrap() {
            Command::Query { fields, paging, .. } => {
                assert_eq!(fields, Some(vec!["name".into(), "score".into()]));
                assert_eq!(paging.limit, Some(2));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("query city = Oslo fields").is_err());
        let err = parse("create index carrier,").unwrap_err();
        assert_eq!(err.column, 14);
        assert!(err.message.contains("empty field"), "{}", err.message);
        match parse("scan where a = 1 and b > 2 limit 5").unwrap() {
            Command::Scan { filter, paging, .. } => {
                assert_eq!(
                    filter,
                    vec![
                        ("a".to_owned(), Query::eq(1)),
                        ("b".to_owned(), Query::gt(2))
                    ]
                );
                assert_eq!(paging.limit, Some(5));
            }
            other => panic!("{other:?}"),
        }
        // Contradicting conditions parse; they answer nothing when run.
        match parse("query a = 1 and a = 2").unwrap() {
            Command::Query { conditions, .. } => assert_eq!(conditions.len(), 2),
            other => panic!("{other:?}"),
        }
        // An unknown operator, and `and` without a condition, are refused at their column.
        let err = parse("query a ~ 1").unwrap_err();
        assert_eq!(err.column, 9, "{err}");
        assert!(err.message.contains("expected a condition"), "{err}");
        let err = parse("query a = 1 and").unwrap_err();
        assert_eq!(err.column, 16, "{err}");
        assert!(err.message.contains("a field after `and`"), "{err}");
        let err = parse("count a = 1 and b").unwrap_err();
        assert_eq!(err.column, 18, "{err}");
    }

    #[test]
    fn conditions_cover_every_form() {
        let q = |s: &str| match parse(s).unwrap() {
            Command::Query { conditions, .. } | Command::Count { conditions } => {
                conditions[0].1.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(q("query a = 1"), Query::eq(1));
        assert_eq!(q("query a > 1"), Query::gt(1));
        assert_eq!(
            q("query a < 5 and >= 1"),
            Query::range(
                Bound::Included(Value::Int(1)),
                Bound::Excluded(Value::Int(5))
            )
        );
        assert_eq!(q("count a between 1 and 2"), Query::between(1, 2));
        assert_eq!(q("query a prefix \"x\""), Query::prefix("x"));
        match parse("query a >= 3 limit 10 after c desc").unwrap() {
            Command::Query { paging, .. } => assert_eq!(
                paging,
                Paging {
                    limit: Some(10),
                    after: Some("c".into()),
                    desc: true
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_commands_get_a_suggestion_and_errors_a_column() {
        let err = parse("qeury a = 1").unwrap_err();
        assert!(
            err.message.contains("did you mean `query`"),
            "{}",
            err.message
        );
        let err = parse("query a between 1 2").unwrap_err();
        assert_eq!(err.column, 19);
        let err = parse("scan limit x").unwrap_err();
        assert!(err.message.contains("whole number"));
        assert!(parse("get").is_err());
        assert!(parse("get a b").is_err());
        assert!(parse("query a < 1 and < 2").is_err());
        assert!(parse("query a prefix 3").is_err());
    }
}
