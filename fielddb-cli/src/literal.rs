//! Value literals in shell commands: a quoted token is a string, a bare word is read by
//! `fielddb_json::parse_word` (`42`, `4.5`, `true`, `null`, `0x00ff`, else a string), the same
//! rules the server applies to query-string values.

use fielddb::Value;

use crate::lexer::{syntax, SyntaxError, Token, TokenKind};

/// The value a token denotes.
pub fn parse_literal(token: &Token) -> Result<Value, SyntaxError> {
    let column = token.column;
    match &token.kind {
        TokenKind::Quoted(s) => Ok(Value::Str(s.clone())),
        TokenKind::Word(w) => {
            fielddb_json::parse_word(w).or_else(|message| syntax(column, message))
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

    fn lit(s: &str) -> Result<Value, SyntaxError> {
        parse_literal(&Token {
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
