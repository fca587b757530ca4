//! Texts with values, for the application to write out in the reader's language.
//!
//! The admin is a library and has no catalog of its own: a text it shows that carries a
//! value ("At most 5 characters.") is a [`phrase`], a message id and its values packed in a
//! string, which the application's catalog writes out when the page is rendered (the ids
//! are the application's, `admin-…`; [`split_phrase`] reads one back). A text without
//! values is plain English, looked up by its words.

use std::fmt::Display;

/// Marks a [`phrase`]: the text that follows is an id and values, not words.
const PHRASE: char = '\u{1}';
/// Separates a phrase's id and its values.
const PHRASE_PART: char = '\u{1f}';
/// The marks of a phrase that is a value of another ("Line 3: {the problem}").
const INNER: char = '\u{2}';
const INNER_PART: char = '\u{1e}';

/// A message id and its values as one string:
/// `phrase("admin-at-most-characters", &[("count", &5)])`. Shown as written where nothing
/// translates it, so it goes only where the application does (its pages' messages). A
/// value may be a phrase itself (one level deep), written out in the same language.
pub fn phrase(id: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(64);
    out.push(PHRASE);
    out.push_str(id);
    for (name, value) in args {
        out.push(PHRASE_PART);
        out.push_str(name);
        out.push('=');
        let value = value.to_string();
        let inner = value.starts_with(PHRASE);
        // The marks cannot be in a value (they would cut it): control characters go.
        out.extend(value.chars().filter_map(|c| match c {
            PHRASE if inner => Some(INNER),
            PHRASE_PART if inner => Some(INNER_PART),
            c if c.is_control() => None,
            c => Some(c),
        }));
    }
    out
}

/// The phrase a value of [`split_phrase`] holds, if it holds one.
pub fn inner_phrase(value: &str) -> Option<String> {
    value.starts_with(INNER).then(|| {
        value
            .chars()
            .map(|c| match c {
                INNER => PHRASE,
                INNER_PART => PHRASE_PART,
                c => c,
            })
            .collect()
    })
}

/// The id and the `(name, value)` pairs of a [`phrase`]; `None` for plain text.
pub fn split_phrase(text: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let rest = text.strip_prefix(PHRASE)?;
    let mut parts = rest.split(PHRASE_PART);
    let id = parts.next()?;
    let args = parts
        .map(|part| part.split_once('='))
        .collect::<Option<Vec<_>>>()?;
    Some((id, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_reads_back_as_its_id_and_values() {
        let text = phrase("admin-no-object", &[("id", &"7\u{1}=x"), ("count", &3)]);
        assert_eq!(
            split_phrase(&text),
            Some(("admin-no-object", vec![("id", "7=x"), ("count", "3")]))
        );
        assert_eq!(split_phrase("Enter a number."), None);
        let inner = phrase("clients-attr-name-start", &[("name", &"1x")]);
        let outer = phrase(
            "clients-attr-line-problem",
            &[("line", &3), ("problem", &inner)],
        );
        let (_, values) = split_phrase(&outer).unwrap();
        assert_eq!(values[0], ("line", "3"));
        assert_eq!(inner_phrase(values[1].1), Some(inner));
        assert_eq!(inner_phrase("3"), None);
    }
}
