//! Value literals: `42`, `-3`, `4.5`, `1e3`, `true`, `false`, `null`, `"text"` (JSON string
//! escapes), bare-word strings, and bytes as `0x...` (an even number of hex digits). The shell
//! parses its tokens with `parse_word`; the server parses query-string values with
//! `parse_literal`. Also the hex form of opaque query cursors (`hex`, `unhex`).

use fielddb::Value;

fn looks_numeric(w: &str) -> bool {
    let rest = w.strip_prefix(['-', '+']).unwrap_or(w);
    rest.starts_with(|c: char| c.is_ascii_digit())
        || (rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The value a bare (unquoted) word denotes; the error says why the word is not a value.
pub fn parse_word(word: &str) -> Result<Value, String> {
    match word.to_ascii_lowercase().as_str() {
        "null" => return Ok(Value::Null),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        return unhex(hex).map(Value::Bytes).ok_or_else(|| {
            if hex.is_ascii() && hex.len() % 2 != 0 {
                format!("bytes literal `{word}` needs an even number of hex digits")
            } else {
                format!("bytes literal `{word}` has a character that is not hex")
            }
        });
    }
    if looks_numeric(word) {
        let digits = word.strip_prefix(['-', '+']).unwrap_or(word);
        if digits.chars().all(|c| c.is_ascii_digit()) {
            return word
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| format!("integer `{word}` is out of the 64-bit range"));
        }
        return match word.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!(
                "`{word}` is not a valid number; quote it to store it as a string"
            )),
        };
    }
    Ok(Value::from(word))
}

/// The value a literal denotes: a double-quoted JSON string is that string, anything else is
/// read as a bare word (`parse_word`).
pub fn parse_literal(text: &str) -> Result<Value, String> {
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text)
            .map(Value::from)
            .map_err(|e| format!("bad quoted string {text}: {e}"));
    }
    parse_word(text)
}

/// Lower-case hex of `bytes` (how opaque query cursors are printed).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string, or `None` when it is not an even number of hex digits.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_take_their_natural_types() {
        assert_eq!(parse_word("42").unwrap(), Value::Int(42));
        assert_eq!(parse_word("-3").unwrap(), Value::Int(-3));
        assert_eq!(parse_word("4.5").unwrap(), Value::Float(4.5));
        assert_eq!(parse_word("-.5").unwrap(), Value::Float(-0.5));
        assert_eq!(parse_word("1e3").unwrap(), Value::Float(1000.0));
        assert_eq!(parse_word("TRUE").unwrap(), Value::Bool(true));
        assert_eq!(parse_word("null").unwrap(), Value::Null);
        assert_eq!(parse_word("0x00ff").unwrap(), Value::Bytes(vec![0, 255]));
        assert_eq!(parse_word("0x").unwrap(), Value::Bytes(vec![]));
        assert_eq!(parse_word("Ada").unwrap(), Value::Str("Ada".into()));
        assert_eq!(parse_word("nan").unwrap(), Value::Str("nan".into()));
    }

    #[test]
    fn malformed_literals_are_errors() {
        for bad in [
            "0x0",
            "0xzz",
            "0xaé1",
            "99999999999999999999",
            "1.2.3",
            "1e999",
        ] {
            assert!(parse_word(bad).is_err(), "{bad}");
        }
        assert!(parse_literal("\"unterminated").is_err());
    }

    #[test]
    fn quoted_literals_are_strings() {
        assert_eq!(parse_literal("\"42\"").unwrap(), Value::Str("42".into()));
        assert_eq!(
            parse_literal("\"a\\\"b\"").unwrap(),
            Value::Str("a\"b".into())
        );
        assert_eq!(parse_literal("42").unwrap(), Value::Int(42));
    }

    #[test]
    fn cursors_round_trip_through_hex() {
        assert_eq!(unhex(&hex(&[0, 1, 0xab])).unwrap(), vec![0, 1, 0xab]);
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
        assert!(unhex("é1").is_none());
    }
}
