//! The shell's commands and their parser: tokens (from `lexer`) to a `Command`, with errors
//! that name the column and, for an unknown command, suggest the nearest one.

use std::ops::Bound;

use fielddb::{Query, Value};

use crate::lexer::{syntax, tokenize, SyntaxError, Token, TokenKind};
use crate::literal::parse_literal;

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
    Scan {
        from: Option<String>,
        to: Option<String>,
        filter: Option<(String, Query)>,
        paging: Paging,
    },
    CreateIndex {
        field: String,
        unique: bool,
        counted: bool,
    },
    DropIndex {
        field: String,
    },
    Indexes,
    Wait,
    /// A condition on `field`, and more on other fields (`and FIELD COND`).
    Query {
        field: String,
        query: Query,
        and: Vec<(String, Query)>,
        paging: Paging,
    },
    Count {
        field: String,
        query: Query,
        and: Vec<(String, Query)>,
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

/// A cursor over the tokens of one command.
struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn next(&mut self, what: &str) -> Result<Token, SyntaxError> {
        match self.tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => syntax(self.end_column, format!("expected {what}")),
        }
    }

    /// A key, field name or file: a bare word or a quoted string.
    fn name(&mut self, what: &str) -> Result<String, SyntaxError> {
        let t = self.next(what)?;
        match t.kind {
            TokenKind::Word(w) => Ok(w),
            TokenKind::Quoted(s) => Ok(s),
            _ => syntax(t.column, format!("expected {what}, found {}", t.describe())),
        }
    }

    fn value(&mut self, what: &str) -> Result<Value, SyntaxError> {
        let t = self.next(what)?;
        parse_literal(&t)
    }

    fn keyword(&mut self, word: &str) -> Result<(), SyntaxError> {
        let t = self.next(&format!("`{word}`"))?;
        if t.keyword().as_deref() == Some(word) {
            Ok(())
        } else {
            syntax(
                t.column,
                format!("expected `{word}`, found {}", t.describe()),
            )
        }
    }

    fn at_keyword(&self, word: &str) -> bool {
        self.peek().and_then(Token::keyword).as_deref() == Some(word)
    }

    fn done(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => syntax(t.column, format!("unexpected {}", t.describe())),
        }
    }

    fn number(&mut self, what: &str) -> Result<usize, SyntaxError> {
        let t = self.next(what)?;
        match &t.kind {
            TokenKind::Word(w) => w.parse().or_else(|_| {
                syntax(
                    t.column,
                    format!("{what} must be a whole number, not `{w}`"),
                )
            }),
            _ => syntax(t.column, format!("{what} must be a whole number")),
        }
    }

    /// `and FIELD COND`, again and again: the conditions after the first.
    fn more_conditions(&mut self) -> Result<Vec<(String, Query)>, SyntaxError> {
        let mut more = Vec::new();
        while self.at_keyword("and") {
            self.pos += 1;
            let field = self.name("a field after `and`")?;
            more.push((field, self.condition()?));
        }
        Ok(more)
    }

    /// An optional backup id: a whole number, if the next word is one.
    fn backup_id(&mut self) -> Result<Option<u32>, SyntaxError> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Word(w),
                column,
            }) if w.chars().all(|c| c.is_ascii_digit()) => {
                let column = *column;
                let id = w
                    .parse()
                    .or_else(|_| syntax(column, "a backup id is 1 to 4294967295"))?;
                self.pos += 1;
                Ok(Some(id))
            }
            _ => Ok(None),
        }
    }

    /// `limit N`, `after CURSOR`, `desc`, in any order, each at most once.
    fn paging(&mut self, allow_desc: bool) -> Result<Paging, SyntaxError> {
        let mut paging = Paging::default();
        while let Some(word) = self.peek().and_then(Token::keyword) {
            let column = self.column();
            match word.as_str() {
                "limit" if paging.limit.is_none() => {
                    self.pos += 1;
                    paging.limit = Some(self.number("the limit")?);
                }
                "after" if paging.after.is_none() => {
                    self.pos += 1;
                    paging.after = Some(self.name("a cursor after `after`")?);
                }
                "desc" if allow_desc && !paging.desc => {
                    self.pos += 1;
                    paging.desc = true;
                }
                "limit" | "after" | "desc" => {
                    return syntax(column, format!("`{word}` given twice"))
                }
                _ => break,
            }
        }
        Ok(paging)
    }

    /// A condition: `= V`, `OP V [and OP V]`, `between A and B`, `prefix S`.
    fn condition(&mut self) -> Result<Query, SyntaxError> {
        let column = self.column();
        let t = self.next("a condition (= < <= > >= between prefix)")?;
        match &t.kind {
            TokenKind::Op("=") => Ok(Query::Eq(self.value("a value after `=`")?)),
            TokenKind::Op(op) => {
                let first = (*op, self.value(&format!("a value after `{op}`"))?);
                // `and` then an operator: the other end of a range on this field (`and FIELD
                // COND` is another condition, read by `more_conditions`).
                let operator_follows = matches!(
                    self.tokens.get(self.pos + 1).map(|t| &t.kind),
                    Some(TokenKind::Op(_))
                );
                if self.at_keyword("and") && operator_follows {
                    self.pos += 1;
                    let column = self.column();
                    let op2 = match self.next("an operator after `and`")?.kind {
                        TokenKind::Op(op) if op != "=" => op,
                        _ => return syntax(column, "expected < <= > or >= after `and`"),
                    };
                    let second = (op2, self.value(&format!("a value after `{op2}`"))?);
                    two_sided(first, second, column)
                } else {
                    Ok(one_sided(first))
                }
            }
            TokenKind::Word(w) if w.eq_ignore_ascii_case("between") => {
                let lo = self.value("the lower bound after `between`")?;
                self.keyword("and")?;
                let hi = self.value("the upper bound after `and`")?;
                Ok(Query::range(Bound::Included(lo), Bound::Included(hi)))
            }
            TokenKind::Word(w) if w.eq_ignore_ascii_case("prefix") => {
                let t = self.next("a string or bytes after `prefix`")?;
                match parse_literal(&t)? {
                    v @ (Value::Str(_) | Value::Bytes(_)) => Ok(Query::Prefix(v)),
                    other => syntax(
                        t.column,
                        format!(
                            "a prefix must be a string or bytes, not {}",
                            other.type_name()
                        ),
                    ),
                }
            }
            _ => syntax(
                column,
                format!(
                    "expected a condition (= < <= > >= between prefix), found {}",
                    t.describe()
                ),
            ),
        }
    }
}

fn one_sided((op, v): (&str, Value)) -> Query {
    match op {
        "<" => Query::range(Bound::Unbounded, Bound::Excluded(v)),
        "<=" => Query::range(Bound::Unbounded, Bound::Included(v)),
        ">" => Query::range(Bound::Excluded(v), Bound::Unbounded),
        _ => Query::range(Bound::Included(v), Bound::Unbounded),
    }
}

fn two_sided(a: (&str, Value), b: (&str, Value), column: usize) -> Result<Query, SyntaxError> {
    let is_lower = |op: &str| op.starts_with('>');
    let (lower, upper) = match (is_lower(a.0), is_lower(b.0)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => {
            return syntax(
                column,
                "a two-sided range needs one of > >= and one of < <=",
            )
        }
    };
    let lo = if lower.0 == ">" {
        Bound::Excluded(lower.1)
    } else {
        Bound::Included(lower.1)
    };
    let hi = if upper.0 == "<" {
        Bound::Excluded(upper.1)
    } else {
        Bound::Included(upper.1)
    };
    Ok(Query::range(lo, hi))
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
    let mut p = Parser {
        tokens,
        pos: 0,
        end_column: input.chars().count() + 1,
    };
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
                    && p.tokens
                        .get(p.pos + 1)
                        .is_some_and(|t| t.kind != TokenKind::Op("="));
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
            let (mut from, mut to, mut filter) = (None, None, None);
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
                    Some("where") if filter.is_none() => {
                        p.pos += 1;
                        let field = p.name("a field after `where`")?;
                        filter = Some((field, p.condition()?));
                    }
                    Some(w @ ("from" | "to" | "where")) => {
                        return syntax(column, format!("`{w}` given twice"))
                    }
                    _ => break,
                }
            }
            let paging = p.paging(true)?;
            Command::Scan {
                from,
                to,
                filter,
                paging,
            }
        }
        "create" => {
            p.keyword("index")?;
            let field = p.name("a field after `create index`")?;
            let (mut unique, mut counted) = (false, false);
            loop {
                if p.at_keyword("unique") && !unique {
                    unique = true;
                } else if p.at_keyword("counted") && !counted {
                    counted = true;
                } else {
                    break;
                }
                p.pos += 1;
            }
            Command::CreateIndex {
                field,
                unique,
                counted,
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
            let field = p.name("a field after `query`")?;
            let query = p.condition()?;
            let and = p.more_conditions()?;
            let paging = p.paging(true)?;
            Command::Query {
                field,
                query,
                and,
                paging,
            }
        }
        "count" => {
            let field = p.name("a field after `count`")?;
            let query = p.condition()?;
            Command::Count {
                field,
                query,
                and: p.more_conditions()?,
            }
        }
        "explain" => {
            if p.at_keyword("query") {
                p.pos += 1;
            }
            let field = p.name("a field after `explain`")?;
            let query = p.condition()?;
            let mut conditions = vec![(field, query)];
            conditions.extend(p.more_conditions()?);
            Command::Explain { conditions }
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
            let id = p.backup_id()?;
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
            let id = p.backup_id()?;
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
                field,
                query,
                and,
                paging,
            } => {
                assert_eq!((field.as_str(), query), ("carrier", Query::eq("UA")));
                assert_eq!(
                    and,
                    vec![
                        ("dep_delay".to_owned(), Query::gt(60)),
                        ("dest".to_owned(), Query::prefix("I")),
                    ]
                );
                assert_eq!(paging.limit, Some(5));
            }
            other => panic!("{other:?}"),
        }
        match parse("query dep_delay >= 10 and < 12.5 and dest = IAH").unwrap() {
            Command::Query { query, and, .. } => {
                assert_eq!(
                    query,
                    Query::range(
                        Bound::Included(Value::Int(10)),
                        Bound::Excluded(Value::Float(12.5))
                    )
                );
                assert_eq!(and, vec![("dest".to_owned(), Query::eq("IAH"))]);
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
    fn conditions_cover_every_form() {
        let q = |s: &str| match parse(s).unwrap() {
            Command::Query { query, .. } | Command::Count { query, .. } => query,
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
