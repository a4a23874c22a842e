//! The text form of conditions, shared by the shell and the server's `GET /v1/query?where=`:
//! `FIELD COND [and FIELD COND]...`, where a condition is `= V`, `OP V` (`<`, `<=`, `>`, `>=`),
//! `OP V and OP V` (a two-sided range on the one field: an operator right after `and`),
//! `between A and B` or `prefix S`. Values are literals (`42`, `4.5`, `true`, `null`, `0x00ff`,
//! `"text"`, or a bare word as a string). [`Tokens`] is the cursor over a command's tokens the
//! shell's parser also uses for its own words.

use std::ops::Bound;

use fielddb::{Query, Value};

use crate::lexer::{syntax, tokenize, SyntaxError, Token, TokenKind};

/// Parses a whole text of conditions (`carrier = "UA" and dep_delay > 60`); anything left
/// over is an error at its column.
pub fn parse_conditions(text: &str) -> Result<Vec<(String, Query)>, SyntaxError> {
    let mut tokens = Tokens::new(tokenize(text)?, text.chars().count() + 1);
    let conditions = tokens.conditions("a field")?;
    tokens.done()?;
    Ok(conditions)
}

/// A cursor over the tokens of one command, with the column just past its end for errors
/// about what is missing.
pub struct Tokens {
    tokens: Vec<Token>,
    /// The position of the next token.
    pub pos: usize,
    /// The column just past the end of the input.
    pub end_column: usize,
}

impl Tokens {
    /// A cursor at the first of `tokens`.
    pub fn new(tokens: Vec<Token>, end_column: usize) -> Tokens {
        Tokens {
            tokens,
            pos: 0,
            end_column,
        }
    }

    /// The token `ahead` places after the next one (0: the next one).
    pub fn ahead(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead)
    }

    /// `FIELD COND [and FIELD COND]...`: one condition or more; `what` names the first field
    /// in the error when it is missing.
    pub fn conditions(&mut self, what: &str) -> Result<Vec<(String, Query)>, SyntaxError> {
        let field = self.name(what)?;
        let mut conditions = vec![(field, self.condition()?)];
        conditions.extend(self.more_conditions()?);
        Ok(conditions)
    }

    /// The next token, not taken.
    pub fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// The column of the next token (or just past the end).
    pub fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    /// Takes the next token; `what` names it in the error when there is none.
    pub fn next(&mut self, what: &str) -> Result<Token, SyntaxError> {
        match self.tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => syntax(self.end_column, format!("expected {what}")),
        }
    }

    /// A key, field name or file: a bare word or a quoted string.
    pub fn name(&mut self, what: &str) -> Result<String, SyntaxError> {
        let t = self.next(what)?;
        match t.kind {
            TokenKind::Word(w) => Ok(w),
            TokenKind::Quoted(s) => Ok(s),
            _ => syntax(t.column, format!("expected {what}, found {}", t.describe())),
        }
    }

    /// Takes a value literal.
    pub fn value(&mut self, what: &str) -> Result<Value, SyntaxError> {
        let t = self.next(what)?;
        token_value(&t)
    }

    /// Takes the keyword `word`, or fails naming it.
    pub fn keyword(&mut self, word: &str) -> Result<(), SyntaxError> {
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

    /// True when the next token is the keyword `word` (any case).
    pub fn at_keyword(&self, word: &str) -> bool {
        self.peek().and_then(Token::keyword).as_deref() == Some(word)
    }

    /// Fails at the first token left over.
    pub fn done(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => syntax(t.column, format!("unexpected {}", t.describe())),
        }
    }

    /// Takes a whole number.
    pub fn number(&mut self, what: &str) -> Result<usize, SyntaxError> {
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
    pub fn more_conditions(&mut self) -> Result<Vec<(String, Query)>, SyntaxError> {
        let mut more = Vec::new();
        while self.at_keyword("and") {
            self.pos += 1;
            let field = self.name("a field after `and`")?;
            more.push((field, self.condition()?));
        }
        Ok(more)
    }

    /// A condition: `= V`, `OP V [and OP V]`, `between A and B`, `prefix S`.
    pub fn condition(&mut self) -> Result<Query, SyntaxError> {
        let column = self.column();
        let t = self.next("a condition (= < <= > >= between prefix)")?;
        match &t.kind {
            TokenKind::Op("=") => Ok(Query::Eq(self.value("a value after `=`")?)),
            TokenKind::Op(op) => {
                let first = (*op, self.value(&format!("a value after `{op}`"))?);
                // `and` then an operator: the other end of a range on this field (`and FIELD
                // COND` is another condition, read by `more_conditions`).
                let operator_follows =
                    matches!(self.ahead(1).map(|t| &t.kind), Some(TokenKind::Op(_)));
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
                match token_value(&t)? {
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

/// The value a token denotes.
pub fn token_value(token: &Token) -> Result<Value, SyntaxError> {
    let column = token.column;
    match &token.kind {
        TokenKind::Quoted(s) => Ok(Value::from(s.as_str())),
        TokenKind::Word(w) => {
            crate::literal::parse_word(w).or_else(|message| syntax(column, message))
        }
        other => syntax(
            column,
            format!(
                "expected a value, found {}",
                Token {
                    kind: other.clone(),
                    column
                }
                .describe()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::TokenKind;

    fn lit(s: &str) -> Result<Value, SyntaxError> {
        token_value(&Token {
            kind: TokenKind::Word(s.into()),
            column: 1,
        })
    }

    #[test]
    fn literals_take_their_natural_types() {
        assert_eq!(lit("42").unwrap(), Value::Int(42));
        assert_eq!(lit("4.5").unwrap(), Value::Float(4.5));
        assert_eq!(lit("0x00ff").unwrap(), Value::Bytes(vec![0, 255]));
        assert_eq!(lit("Ada").unwrap(), Value::Str("Ada".into()));
    }

    #[test]
    fn malformed_literals_are_errors_at_their_column() {
        let err = lit("0x0").unwrap_err();
        assert_eq!(err.column, 1);
        assert!(err.message.contains("even number"));
        assert!(lit("0xzz").is_err());
        assert!(lit("99999999999999999999").is_err());
    }
}
