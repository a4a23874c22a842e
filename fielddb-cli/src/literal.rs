//! Value literals: `42`, `-3`, `4.5`, `1e3`, `true`, `false`, `null`, `"text"`, bare-word
//! strings, and bytes as `0x...` (an even number of hex digits).

use fielddb::Value;

use crate::lexer::{syntax, SyntaxError, Token, TokenKind};

fn looks_numeric(w: &str) -> bool {
    let rest = w.strip_prefix(['-', '+']).unwrap_or(w);
    rest.starts_with(|c: char| c.is_ascii_digit())
        || (rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The value a token denotes.
pub fn parse_literal(token: &Token) -> Result<Value, SyntaxError> {
    let column = token.column;
    let word = match &token.kind {
        TokenKind::Quoted(s) => return Ok(Value::Str(s.clone())),
        TokenKind::Word(w) => w,
        other => {
            return syntax(
                column,
                format!(
                    "expected a value, found {}",
                    Token {
                        kind: other.clone(),
                        column
                    }
                    .describe()
                ),
            )
        }
    };
    match word.to_ascii_lowercase().as_str() {
        "null" => return Ok(Value::Null),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        if !hex.is_ascii() {
            return syntax(
                column,
                format!("bytes literal `{word}` has a character that is not hex"),
            );
        }
        if hex.len() % 2 != 0 {
            return syntax(
                column,
                format!("bytes literal `{word}` needs an even number of hex digits"),
            );
        }
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map(Value::Bytes)
            .or_else(|_| {
                syntax(
                    column,
                    format!("bytes literal `{word}` has a character that is not hex"),
                )
            });
    }
    if looks_numeric(word) {
        let digits = word.strip_prefix(['-', '+']).unwrap_or(word);
        if digits.chars().all(|c| c.is_ascii_digit()) {
            return word.parse::<i64>().map(Value::Int).or_else(|_| {
                syntax(
                    column,
                    format!("integer `{word}` is out of the 64-bit range"),
                )
            });
        }
        return match word.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => syntax(
                column,
                format!("`{word}` is not a valid number; quote it to store it as a string"),
            ),
        };
    }
    Ok(Value::Str(word.clone()))
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
        assert_eq!(lit("-3").unwrap(), Value::Int(-3));
        assert_eq!(lit("4.5").unwrap(), Value::Float(4.5));
        assert_eq!(lit("-.5").unwrap(), Value::Float(-0.5));
        assert_eq!(lit("1e3").unwrap(), Value::Float(1000.0));
        assert_eq!(lit("TRUE").unwrap(), Value::Bool(true));
        assert_eq!(lit("null").unwrap(), Value::Null);
        assert_eq!(lit("0x00ff").unwrap(), Value::Bytes(vec![0, 255]));
        assert_eq!(lit("0x").unwrap(), Value::Bytes(vec![]));
        assert_eq!(lit("Ada").unwrap(), Value::Str("Ada".into()));
        assert_eq!(lit("nan").unwrap(), Value::Str("nan".into()));
    }

    #[test]
    fn malformed_literals_are_errors() {
        assert!(lit("0x0").is_err());
        assert!(lit("0xzz").is_err());
        assert!(lit("0xaé1").is_err());
        assert!(lit("99999999999999999999").is_err());
        assert!(lit("1.2.3").is_err());
        assert!(lit("1e999").is_err());
    }
}
