//! A client's custom attributes: string keys to string values (`plan: gold`, `city:
//! Kazan`), usable in message templates. Keys are 1–40 ASCII letters, digits and
//! underscores, starting with a letter, lower-cased (they become template names); values
//! are one line of up to 1,000 characters; at most 50 a client. Stored as a JSON object
//! in `clients.attributes`.

use std::collections::BTreeMap;

use crate::entities::client;
use crate::i18n::phrase;
use crate::validation::breaks_line;

pub const MAX_KEYS: usize = 50;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 1000;
/// A client's own fields and the export's columns: not attribute names, so templates and
/// CSV files never have two meanings for one name.
pub const RESERVED: [&str; 6] = ["email", "full_name", "comment", "tags", "state", "since"];

/// Key → value, ordered by key.
pub type Attributes = BTreeMap<String, String>;

/// `client`'s attributes. Tolerant of what is stored: anything but a JSON object of
/// strings (a row written by hand, a future format) reads as no attributes.
pub fn attributes(client: &client::Model) -> Attributes {
    from_json(&client.attributes)
}

/// Stored JSON to attributes; see [`attributes`].
pub fn from_json(json: &str) -> Attributes {
    serde_json::from_str(json).unwrap_or_default()
}

/// Attributes as stored.
pub fn to_json(attributes: &Attributes) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

/// One `key: value` line each, as the form's text area shows them.
pub fn to_lines(attributes: &Attributes) -> String {
    attributes
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A key as typed, normalised: trimmed and lower-cased.
pub fn normalize_key(key: &str) -> String {
    key.trim().to_lowercase()
}

/// What is wrong with a (normalised) key, if anything.
pub fn key_problem(key: &str) -> Option<String> {
    let shown = shown(key);
    if key.is_empty() {
        return Some("An attribute needs a name.".to_owned());
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Some(phrase(
            "clients-attr-name-too-long",
            &[("name", &shown), ("count", &MAX_KEY_CHARS)],
        ));
    }
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some(phrase("clients-attr-name-start", &[("name", &shown)]));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(phrase("clients-attr-name-letters", &[("name", &shown)]));
    }
    if RESERVED.contains(&key) {
        return Some(phrase("clients-attr-name-reserved", &[("name", &shown)]));
    }
    None
}

/// What is wrong with a value, if anything.
pub fn value_problem(key: &str, value: &str) -> Option<String> {
    let key = shown(key);
    if value.contains('\0') {
        return Some(phrase("clients-attr-value-nul", &[("name", &key)]));
    }
    if breaks_line(value) {
        return Some(phrase("clients-attr-value-line", &[("name", &key)]));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Some(phrase(
            "clients-attr-value-too-long",
            &[("name", &key), ("count", &MAX_VALUE_CHARS)],
        ));
    }
    None
}

/// A key for quoting in a message: at most 40 characters of it.
fn shown(key: &str) -> String {
    let mut s: String = key.chars().take(MAX_KEY_CHARS).collect();
    if key.chars().count() > MAX_KEY_CHARS {
        s.push('…');
    }
    s.replace('\0', "")
}

/// The attributes read, or every problem found (too many being one).
fn verdict(out: Attributes, mut problems: Vec<String>) -> Result<Attributes, Vec<String>> {
    if out.len() > MAX_KEYS {
        problems.push(format!("At most {MAX_KEYS} attributes a client."));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Checks attributes given as an object (the API; a CSV file's columns): keys are
/// normalised; each problem is one message naming its key.
pub fn check_map(given: &Attributes) -> Result<Attributes, Vec<String>> {
    let mut out = Attributes::new();
    let mut problems = Vec::new();
    for (raw, value) in given {
        let key = normalize_key(raw);
        if let Some(p) = key_problem(&key).or_else(|| value_problem(&key, value)) {
            problems.push(p);
        } else if out.insert(key.clone(), value.trim().to_owned()).is_some() {
            problems.push(phrase("clients-attr-twice", &[("name", &key)]));
        }
    }
    verdict(out, problems)
}

/// Parses the form's text: one `key: value` per line, blank lines skipped. Each problem
/// is one message naming its line.
pub fn parse_lines(text: &str) -> Result<Attributes, Vec<String>> {
    let mut out = Attributes::new();
    let mut lines_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((raw, value)) = line.split_once(':') else {
            problems.push(phrase("clients-attr-line-no-colon", &[("line", &number)]));
            continue;
        };
        let key = normalize_key(raw);
        let value = value.trim();
        if let Some(p) = key_problem(&key).or_else(|| value_problem(&key, value)) {
            problems.push(phrase(
                "clients-attr-line-problem",
                &[("line", &number), ("problem", &p)],
            ));
        } else if let Some(first) = lines_of.get(&key) {
            problems.push(phrase(
                "clients-attr-line-repeated",
                &[("line", &number), ("name", &key), ("first", first)],
            ));
        } else {
            lines_of.insert(key.clone(), number);
            out.insert(key, value.to_owned());
        }
    }
    verdict(out, problems)
}

/// A CSV column header as an attribute key: lower-cased, each run of other characters
/// than a–z, 0–9 and _ made one `_`, trimmed of `_`. `None` when that is not a valid key
/// (empty, or not starting with a letter: “Город”, “2nd phone”).
pub fn key_from_header(header: &str) -> Option<String> {
    let mut key = String::new();
    for c in header.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            key.push(c);
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    let key = key.trim_matches('_').to_owned();
    key_problem(&key).is_none().then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_name_bad_lines() {
        let ok = parse_lines("Plan: gold\n\n city :  Kazan \nnote: a: b").unwrap();
        assert_eq!(ok["plan"], "gold");
        assert_eq!(ok["city"], "Kazan");
        assert_eq!(ok["note"], "a: b");
        let bad = parse_lines("plan: gold\n1st: x\nno colon\nplan: silver").unwrap_err();
        assert_eq!(bad.len(), 3);
        let start = phrase("clients-attr-name-start", &[("name", &"1st")]);
        assert_eq!(
            bad,
            [
                phrase(
                    "clients-attr-line-problem",
                    &[("line", &2), ("problem", &start)]
                ),
                phrase("clients-attr-line-no-colon", &[("line", &3)]),
                phrase(
                    "clients-attr-line-repeated",
                    &[("line", &4), ("name", &"plan"), ("first", &1)]
                ),
            ]
        );
    }

    #[test]
    fn maps_check_keys_values_and_count() {
        let mut given = Attributes::new();
        given.insert("Plan".into(), "gold".into());
        assert_eq!(check_map(&given).unwrap()["plan"], "gold");
        given.insert("plan".into(), "silver".into());
        assert!(check_map(&given).is_err(), "same name in two cases");
        let mut bad = Attributes::new();
        bad.insert("x-y".into(), "v".into());
        bad.insert("long".into(), "v".repeat(MAX_VALUE_CHARS + 1));
        bad.insert("line".into(), "a\nb".into());
        assert_eq!(check_map(&bad).unwrap_err().len(), 3);
        let many: Attributes = (0..=MAX_KEYS)
            .map(|i| (format!("k{i}"), "v".into()))
            .collect();
        assert!(check_map(&many).is_err());
        let key = "k".repeat(MAX_KEY_CHARS + 1);
        assert!(key_problem(&key).is_some());
        assert!(key_problem(&"k".repeat(MAX_KEY_CHARS)).is_none());
        assert!(key_problem("email").is_some(), "reserved");
    }

    #[test]
    fn headers_become_keys_or_nothing() {
        assert_eq!(key_from_header(" Plan Type "), Some("plan_type".into()));
        assert_eq!(key_from_header("utm-source"), Some("utm_source".into()));
        assert_eq!(key_from_header("Город"), None);
        assert_eq!(key_from_header("2nd phone"), None);
        assert_eq!(key_from_header(""), None);
    }

    #[test]
    fn stored_json_is_read_tolerantly() {
        assert_eq!(from_json("{\"a\":\"b\"}")["a"], "b");
        assert!(from_json("not json").is_empty());
        assert!(from_json("{\"a\":1}").is_empty());
        assert!(from_json("[]").is_empty());
        let mut m = Attributes::new();
        m.insert("k".into(), "v \"q\"".into());
        assert_eq!(from_json(&to_json(&m)), m);
    }
}
