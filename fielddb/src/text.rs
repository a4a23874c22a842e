//! `Text`: the content of a string value ([`Value::Str`](crate::Value::Str)). A string of up
//! to 24 bytes is held inline, so making one (decoding a record, building one) allocates
//! nothing; a longer one lives on the heap as a `String` would. It reads as a `&str`
//! everywhere (`Deref`, `AsRef`, `Borrow`, comparisons with `str` and `String`).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use compact_str::CompactString;

/// A UTF-8 string, inline up to 24 bytes.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(CompactString);

impl Text {
    /// The string.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Appends `s` (moving the string to the heap once it outgrows 24 bytes).
    pub(crate) fn push_str(&mut self, s: &str) {
        self.0.push_str(s);
    }

    /// The string, owned (allocating unless it already lay on the heap).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

/// Hashes as its `str` does, as `Borrow<str>` requires.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state)
    }
}

/// Shows as the string does: `"Ada"`.
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0.as_str(), f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.into_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.0.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn text_reads_compares_and_hashes_as_its_string() {
        for s in ["", "Ada", "exactly twenty-four byte", &"long ".repeat(20)] {
            let text = Text::from(s);
            assert_eq!(text.as_str(), s);
            assert_eq!(&*text, s);
            assert_eq!(text, s);
            assert_eq!(s, text);
            assert_eq!(text, s.to_string());
            assert_eq!(format!("{text}"), s);
            assert_eq!(format!("{text:?}"), format!("{s:?}"));
            assert_eq!(Text::from(s.to_string()), text);
            assert_eq!(String::from(text.clone()), s);
            let set: HashSet<Text> = [text].into_iter().collect();
            assert!(set.contains(s));
        }
        let mut sorted: Vec<Text> = ["b", "ab", "", "a"].into_iter().map(Text::from).collect();
        sorted.sort();
        assert_eq!(sorted, ["", "a", "ab", "b"]);
    }
}
