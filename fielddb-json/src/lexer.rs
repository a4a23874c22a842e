//! Splits one command into tokens, each with the column it starts at (1-based), so errors can
//! point at the place. Bare words stop at whitespace, quotes, `;` and the operators `= < > <= >=`;
//! double-quoted strings take JSON escapes; a `{` starts a JSON object that runs to its
//! matching `}`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A bare word: keyword, number, bare string, `0x` bytes.
    Word(String),
    /// A double-quoted string, escapes resolved.
    Quoted(String),
    /// `=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    /// A JSON object, as written.
    Json(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub column: usize,
}

impl Token {
    /// The token's text as the user would read it in a message.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Word(w) => format!("`{w}`"),
            TokenKind::Quoted(s) => format!("{s:?}"),
            TokenKind::Op(op) => format!("`{op}`"),
            TokenKind::Json(_) => "a JSON object".into(),
        }
    }

    /// The word, lower-cased, if the token is a bare word (for keywords).
    pub fn keyword(&self) -> Option<String> {
        match &self.kind {
            TokenKind::Word(w) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }
}

/// A parse or lex error at a column of the command.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

pub fn syntax<T>(column: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        column,
        message: message.into(),
    })
}

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | ';' | '=' | '<' | '>' | '{')
}

/// Tokenizes one command (no `;` separators inside; see `split_commands`).
pub fn tokenize(input: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let column_of = |i: usize| -> usize {
        chars.get(i).map_or(input.chars().count() + 1, |(b, _)| {
            input[..*b].chars().count() + 1
        })
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let column = column_of(i);
        match c {
            '"' => {
                let start = chars[i].0;
                let end = quoted_end(input, &chars, i).ok_or_else(|| SyntaxError {
                    column,
                    message: "unterminated string: add a closing \"".into(),
                })?;
                let text = &input[start..=chars[end].0];
                let value: String = serde_json::from_str(text).map_err(|e| SyntaxError {
                    column,
                    message: format!("bad string escape: {e}"),
                })?;
                tokens.push(Token {
                    kind: TokenKind::Quoted(value),
                    column,
                });
                i = end + 1;
            }
            '{' => {
                let end = json_end(&chars, i).ok_or_else(|| SyntaxError {
                    column,
                    message: "unterminated JSON object: add a closing }".into(),
                })?;
                let text = &input[chars[i].0..chars[end].0 + 1];
                tokens.push(Token {
                    kind: TokenKind::Json(text.to_string()),
                    column,
                });
                i = end + 1;
            }
            '<' | '>' => {
                let with_eq = chars.get(i + 1).map(|c| c.1) == Some('=');
                let op = match (c, with_eq) {
                    ('<', true) => "<=",
                    ('<', false) => "<",
                    ('>', true) => ">=",
                    _ => ">",
                };
                tokens.push(Token {
                    kind: TokenKind::Op(op),
                    column,
                });
                i += if with_eq { 2 } else { 1 };
            }
            '=' => {
                tokens.push(Token {
                    kind: TokenKind::Op("="),
                    column,
                });
                i += 1;
            }
            ';' => return syntax(column, "unexpected `;`"),
            _ => {
                let start = i;
                while i < chars.len() && !is_word_end(chars[i].1) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().map(|(_, c)| c).collect();
                tokens.push(Token {
                    kind: TokenKind::Word(text),
                    column,
                });
            }
        }
    }
    Ok(tokens)
}

/// The index of the closing quote of the string opening at `open`.
fn quoted_end(_input: &str, chars: &[(usize, char)], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i].1 {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The index of the `}` closing the object opening at `open`, skipping strings.
fn json_end(chars: &[(usize, char)], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i].1 {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i].1 != '"' {
                    if chars[i].1 == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits text into commands at `;` and line ends outside strings and JSON objects. A `#` where
/// a command would start comments out the rest of its line, `;` included. Blank pieces are
/// dropped.
pub fn split_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut depth = 0usize;
    let mut in_comment = false;
    for c in text.chars() {
        if in_comment {
            // A comment runs to the end of its line, `;` included.
            in_comment = c != '\n';
            if !in_comment {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '#' if depth == 0 && current.trim().is_empty() => {
                in_comment = true;
                current.clear();
                continue;
            }
            '\n' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_operators_strings_and_json_are_told_apart() {
        assert_eq!(
            kinds(r#"put k name="A \"q\"" age=3 {"x": "}"}"#),
            vec![
                TokenKind::Word("put".into()),
                TokenKind::Word("k".into()),
                TokenKind::Word("name".into()),
                TokenKind::Op("="),
                TokenKind::Quoted("A \"q\"".into()),
                TokenKind::Word("age".into()),
                TokenKind::Op("="),
                TokenKind::Word("3".into()),
                TokenKind::Json(r#"{"x": "}"}"#.into()),
            ]
        );
        assert_eq!(
            kinds("a<=1 b>2"),
            vec![
                TokenKind::Word("a".into()),
                TokenKind::Op("<="),
                TokenKind::Word("1".into()),
                TokenKind::Word("b".into()),
                TokenKind::Op(">"),
                TokenKind::Word("2".into()),
            ]
        );
    }

    #[test]
    fn errors_name_the_column() {
        let err = tokenize("get \"abc").unwrap_err();
        assert_eq!(err.column, 5);
        let err = tokenize("put k {\"a\": 1").unwrap_err();
        assert_eq!(err.column, 7);
    }

    #[test]
    fn a_comment_runs_to_the_end_of_its_line_semicolons_included() {
        assert_eq!(
            split_commands("# a; b\nget a # not a comment; get b\n  # c;d"),
            vec!["get a # not a comment".to_string(), "get b".to_string()]
        );
    }

    #[test]
    fn commands_split_at_semicolons_outside_strings() {
        assert_eq!(
            split_commands(r#"put a x="1;2"; get a ;; # note"#),
            vec![r#"put a x="1;2""#.to_string(), "get a".to_string()]
        );
    }
}
