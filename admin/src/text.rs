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
/// Escapes the marks of a phrase that is a value of another ("Line 3: {the problem}",
/// itself "the subject template fails: {Line 3: …}"): `ESCAPE` and a letter stand for
/// [`PHRASE`], [`PHRASE_PART`] and `ESCAPE` itself, so phrases nest to any depth (each
/// level escapes the one inside once more).
const ESCAPE: char = '\u{1b}';
/// The marks of the one-level nesting of old (a flash still in a session).
const OLD_INNER: char = '\u{2}';
const OLD_INNER_PART: char = '\u{1e}';

/// A message id and its values as one string:
/// `phrase("admin-at-most-characters", &[("count", &5)])`. Shown as written where nothing
/// translates it, so it goes only where the application does (its pages' messages). A
/// value may be a phrase itself, to any depth, written out in the same language.
pub fn phrase(id: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(64);
    out.push(PHRASE);
    out.push_str(id);
    for (name, value) in args {
        out.push(PHRASE_PART);
        out.push_str(name);
        out.push('=');
        let value = value.to_string();
        if value.starts_with(PHRASE) {
            for c in value.chars() {
                match c {
                    PHRASE => out.extend([ESCAPE, 'p']),
                    PHRASE_PART => out.extend([ESCAPE, 's']),
                    ESCAPE => out.extend([ESCAPE, 'e']),
                    c => out.push(c),
                }
            }
        } else {
            // The marks cannot be in a value (they would cut it): control characters go.
            out.extend(value.chars().filter(|c| !c.is_control()));
        }
    }
    out
}

/// The phrase a value of [`split_phrase`] holds, if it holds one.
pub fn inner_phrase(value: &str) -> Option<String> {
    if value.starts_with(OLD_INNER) {
        return Some(
            value
                .chars()
                .map(|c| match c {
                    OLD_INNER => PHRASE,
                    OLD_INNER_PART => PHRASE_PART,
                    c => c,
                })
                .collect(),
        );
    }
    if !value.starts_with(ESCAPE) {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != ESCAPE {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'p' => PHRASE,
            's' => PHRASE_PART,
            'e' => ESCAPE,
            _ => return None,
        });
    }
    out.starts_with(PHRASE).then_some(out)
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

    #[test]
    fn phrases_nest_to_any_depth() {
        let deepest = phrase("messages-template-syntax", &[("detail", &"a=b; \u{1b}x")]);
        let middle = phrase(
            "messages-template-at",
            &[("line", &2), ("problem", &deepest)],
        );
        let outer = phrase("delivery-reason-field", &[("problem", &middle), ("n", &1)]);
        let top = phrase("messages-test-cannot-render", &[("reason", &outer)]);
        let (id, values) = split_phrase(&top).unwrap();
        assert_eq!((id, values.len()), ("messages-test-cannot-render", 1));
        let outer_back = inner_phrase(values[0].1).unwrap();
        assert_eq!(outer_back, outer);
        let (_, values) = split_phrase(&outer_back).unwrap();
        assert_eq!(values[1], ("n", "1"));
        let middle_back = inner_phrase(values[0].1).unwrap();
        assert_eq!(middle_back, middle);
        let (_, values) = split_phrase(&middle_back).unwrap();
        let deepest_back = inner_phrase(values[1].1).unwrap();
        assert_eq!(
            split_phrase(&deepest_back),
            Some(("messages-template-syntax", vec![("detail", "a=b; x")]))
        );
    }
}
