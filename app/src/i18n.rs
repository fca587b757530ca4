//! The site's languages (English and Russian) and their texts, with Fluent.
//!
//! Texts live in `templates/locales/<code>/*.ftl`, one file per area, the same ids in every
//! language. Templates ask for them with `{{ t("clients-title") }}` or, with values,
//! `{{ t("clients-count", count=total) }}`: Fluent picks the plural form by the language's
//! CLDR rules (1 клиент, 2 клиента, 5 клиентов) and writes numbers in the language's own
//! way (12,345 / 12 345).
//!
//! What Rust code says (validation errors, flash messages, the admin's labels) stays
//! English in the code and in the JSON API; pages show it through `{{ text|tr }}`, which
//! looks up the message whose id is [`server_key`] of the English text (`s-` and its
//! words: "Enter a name." is `s-enter-a-name`). A text without one shows as written.
//!
//! Which language a request gets: the account's setting, else the `lang` cookie the
//! switcher sets, else the best of `Accept-Language`, else English ([`choose`]).

use std::collections::BTreeSet;
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

/// A language of the site.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

/// The name of the cookie that keeps a visitor's choice from the switcher.
pub const COOKIE: &str = "lang";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The ISO 639-1 code (`<html lang>`, the cookie, the account's setting, the API).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language's name in itself, as the switcher shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }

    /// `en`, `ru`, and tags of them (`ru-RU`, `EN_us`); nothing else.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|lang| primary.eq_ignore_ascii_case(lang.code()))
    }

    /// A number as this language writes it: `12,345` / `12 345` (a no-break space).
    pub fn number(self, value: f64) -> String {
        // Russian leaves four-digit numbers whole (1234, 12 345).
        let (group, decimal, shortest_grouped) = match self {
            Lang::En => (",", ".", 4),
            Lang::Ru => ("\u{a0}", ",", 5),
        };
        let negative = value < 0.0;
        let text = if value.fract() == 0.0 {
            format!("{:.0}", value.abs())
        } else {
            format!("{}", value.abs())
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
        if negative {
            out.push('-');
        }
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 && whole.len() >= shortest_grouped {
                out.push_str(group);
            }
            out.push(digit);
        }
        if !fraction.is_empty() {
            out.push_str(decimal);
            out.push_str(fraction);
        }
        out
    }
}

/// The language of `Accept-Language` we have with the highest weight, if any.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for (order, item) in header.split(',').take(32).enumerate() {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let weight = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        // Equal weights: the earlier one wins.
        let weight = weight - order as f32 * 1e-4;
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// The account's setting, else the switcher's cookie, else `Accept-Language`, else English.
pub fn choose(account: Option<Lang>, cookie: Option<Lang>, accept: Option<&str>) -> Lang {
    account
        .or(cookie)
        .or_else(|| accept.and_then(from_accept_language))
        .unwrap_or_default()
}

/// The message id of a text written in Rust: `s-` and its lower-case words and numbers,
/// joined by `-` ("Enter a date between the years 1 and 9999." →
/// `s-enter-a-date-between-the-years-1-and-9999`).
pub fn server_key(english: &str) -> String {
    let mut key = String::from("s");
    for word in english
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        key.push('-');
        key.push_str(&word.to_ascii_lowercase());
    }
    key
}

/// A message with values for a page that shows it later (a flash message, kept in the
/// session until the next page; a form error): the id of a text and its values, written out
/// in the reader's language by `{{ text|tr }}` when shown (English on pages where `|tr` is
/// not used: the id). `i18n::phrase("flash-mailing-created", &[("name", name)])`. The
/// admin crate writes its own texts with values the same way.
pub use admin::phrase;

/// The values of a [`phrase`] that are counts (written as numbers, and choosing plural
/// forms); every other value is text as given (a subject "2024" stays "2024").
const COUNTS: &[&str] = &["count", "inserted", "invalid", "skipped", "own", "supers"];

/// The values of a [`phrase`] that are English words of the Rust code themselves (a
/// model's name the admin puts in its messages): written out in the reader's language too.
const WORDS: &[&str] = &["model", "models", "what", "problem", "field"];

/// The id and values of a [`phrase`]; `None` for plain text.
fn read_phrase<'a>(
    catalog: &Catalog,
    lang: Lang,
    text: &'a str,
) -> Option<(&'a str, FluentArgs<'a>)> {
    let (id, values) = admin::split_phrase(text)?;
    let mut args = FluentArgs::new();
    for (name, value) in values {
        if let Some(inner) = admin::inner_phrase(value) {
            args.set(name, catalog.server_text(lang, &inner));
            continue;
        }
        match value.parse::<i64>() {
            Ok(n) if COUNTS.contains(&name) => args.set(name, n),
            _ if WORDS.contains(&name) => args.set(name, catalog.server_text(lang, value)),
            _ => args.set(name, value),
        }
    }
    Some((id, args))
}

/// The texts the JSON API writes [`phrase`]s out with, in English (the API speaks
/// English): the site's, kept when they are loaded (a process loads them once).
static FOR_THE_API: std::sync::OnceLock<std::sync::Arc<Catalog>> = std::sync::OnceLock::new();

/// Keeps `catalog` for [`english`] (the first one a process loads).
pub fn keep_for_english(catalog: std::sync::Arc<Catalog>) {
    let _ = FOR_THE_API.set(catalog);
}

/// A text written in Rust as the JSON API shows it: a [`phrase`] written out in English,
/// plain text as it is. Before any texts are loaded a phrase shows its id and values.
pub fn english(text: &str) -> String {
    if let Some(catalog) = FOR_THE_API.get() {
        return catalog.server_text(Lang::En, text);
    }
    match admin::split_phrase(text) {
        Some((id, values)) => {
            let values: Vec<String> = values.iter().map(|(n, v)| format!("{n}={v}")).collect();
            format!("{id} ({})", values.join(", "))
        }
        None => text.to_owned(),
    }
}

/// A [`phrase`] as JSON for the database (`{"id": "…", "values": {"name": "value" or a
/// phrase}}`), so what is stored does not depend on how phrases are packed in a string;
/// `None` for plain text.
pub fn stored(text: &str) -> Option<String> {
    fn tree(text: &str) -> Option<serde_json::Value> {
        let (id, values) = admin::split_phrase(text)?;
        let values: serde_json::Map<String, serde_json::Value> = values
            .into_iter()
            .map(|(name, value)| {
                let value = admin::inner_phrase(value)
                    .and_then(|inner| tree(&inner))
                    .unwrap_or_else(|| value.into());
                (name.to_owned(), value)
            })
            .collect();
        Some(serde_json::json!({ "id": id, "values": values }))
    }
    tree(text).map(|value| value.to_string())
}

/// The [`phrase`] of [`stored`] JSON; `None` when it is not one.
pub fn from_stored(json: &str) -> Option<String> {
    fn build(value: &serde_json::Value) -> Option<String> {
        let id = value.get("id")?.as_str()?;
        let values = value.get("values")?.as_object()?;
        let mut texts: Vec<(&str, String)> = Vec::with_capacity(values.len());
        for (name, value) in values {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Object(_) => build(value)?,
                other => other.to_string(),
            };
            texts.push((name, text));
        }
        let args: Vec<(&str, &dyn std::fmt::Display)> = texts
            .iter()
            .map(|(name, text)| (*name, text as &dyn std::fmt::Display))
            .collect();
        Some(phrase(id, &args))
    }
    build(&serde_json::from_str(json).ok()?)
}

/// Every language's texts.
pub struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
    ids: Vec<(Lang, BTreeSet<String>)>,
}

impl Catalog {
    /// Reads `dir/<code>/*.ftl` for every language; a file that does not parse or an id
    /// given twice is an error (at start-up, not on a page).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut bundles = Vec::with_capacity(Lang::ALL.len());
        let mut all_ids = Vec::with_capacity(Lang::ALL.len());
        for lang in Lang::ALL {
            let mut ids = BTreeSet::new();
            let mut bundle = FluentBundle::new_concurrent(vec![langid(lang)]);
            // The text goes into HTML, where the isolation marks show as stray characters.
            bundle.set_use_isolating(false);
            bundle.set_formatter(Some(match lang {
                Lang::En => format_en,
                Lang::Ru => format_ru,
            }));
            let folder = dir.join(lang.code());
            let mut files: Vec<_> = std::fs::read_dir(&folder)
                .map_err(|e| anyhow::anyhow!("{}: {e}", folder.display()))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "ftl"))
                .collect();
            files.sort();
            for file in files {
                let source = std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let resource = FluentResource::try_new(source)
                    .map_err(|(_, errors)| anyhow::anyhow!("{}: {errors:?}", file.display()))?;
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(message) = entry {
                        ids.insert(message.id.name.to_owned());
                    }
                }
                bundle
                    .add_resource(resource)
                    .map_err(|errors| anyhow::anyhow!("{}: {errors:?}", file.display()))?;
            }
            bundles.push((lang, bundle));
            all_ids.push((lang, ids));
        }
        Ok(Self {
            bundles,
            ids: all_ids,
        })
    }

    fn bundle(&self, lang: Lang) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, bundle)| bundle)
    }

    /// The message `id` in `lang` with `args`; `None` when it has none.
    pub fn message(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundle(lang)?;
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(id, lang = lang.code(), ?errors, "a text's values are wrong");
        }
        Some(text.into_owned())
    }

    /// The message `id`, or `id` itself (logged) when the language has none: a page
    /// shows a wrong word rather than failing.
    pub fn text(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
        self.message(lang, id, args).unwrap_or_else(|| {
            tracing::warn!(id, lang = lang.code(), "no such text");
            id.to_owned()
        })
    }

    /// The text `id` in `lang` with number values (for text drawn in Rust: the charts).
    pub fn say(&self, lang: Lang, id: &str, values: &[(&str, i64)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(*name, *value);
        }
        self.text(lang, id, Some(&args))
    }

    /// A text written in Rust, in `lang` when it has been translated (see [`server_key`]),
    /// or a [`phrase`] written out in `lang`.
    pub fn server_text(&self, lang: Lang, english: &str) -> String {
        if let Some((id, args)) = read_phrase(self, lang, english) {
            return self.text(lang, id, Some(&args));
        }
        if lang == Lang::En {
            return english.to_owned();
        }
        self.message(lang, &server_key(english), None)
            .unwrap_or_else(|| english.to_owned())
    }

    /// A [`phrase`] written out in `lang`; any other text as it is (a server's reply,
    /// which must not be looked up by its words).
    pub fn phrase_text(&self, lang: Lang, text: &str) -> String {
        match read_phrase(self, lang, text) {
            Some((id, args)) => self.text(lang, id, Some(&args)),
            None => text.to_owned(),
        }
    }

    /// Does `lang` have a text for `english` (written in Rust)?
    pub fn has_server_text(&self, lang: Lang, english: &str) -> bool {
        self.bundle(lang)
            .is_some_and(|b| b.has_message(&server_key(english)))
    }

    /// The ids `lang` has, for the tests that keep the languages in step.
    pub fn ids(&self, lang: Lang) -> BTreeSet<String> {
        self.ids
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default()
    }
}

fn langid(lang: Lang) -> unic_langid::LanguageIdentifier {
    match lang {
        Lang::En => unic_langid::langid!("en"),
        Lang::Ru => unic_langid::langid!("ru"),
    }
}

fn format_number(lang: Lang, value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(lang.number(n.value)),
        _ => None,
    }
}

fn format_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    format_number(Lang::En, value)
}

fn format_ru<M>(value: &FluentValue, _: &M) -> Option<String> {
    format_number(Lang::Ru, value)
}

/// What a template shows that is not translated: prose outside `t(…)` (text between tags,
/// the words of `placeholder`, `title`, `alt`, `aria-label`, `label` and `hx-confirm`, and
/// string literals in `{{ … }}` / `{% … %}` that read as words). Code samples (`<code>`,
/// `<pre>`) and the names in [`UNTRANSLATED`] may stay as they are. A plain-text template
/// (an e-mail's `.txt`) is all text.
pub fn untranslated(template: &str, plain_text: bool) -> Vec<String> {
    let mut found = Vec::new();
    let source = strip_between(template, "{#", "#}");
    // The Jinja parts: their string literals are judged, and they leave a space behind.
    let mut html = String::with_capacity(source.len());
    let mut rest = source.as_str();
    while let Some(start) = rest.find(['{']) {
        let tail = &rest[start..];
        let close = if tail.starts_with("{{") {
            "}}"
        } else if tail.starts_with("{%") {
            "%}"
        } else {
            html.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        html.push_str(&rest[..start]);
        let end = tail.find(close).map_or(tail.len(), |e| e + 2);
        prose_literals(&tail[..end], &mut found);
        html.push(' ');
        rest = &tail[end..];
    }
    html.push_str(rest);
    if plain_text {
        words(&html, &mut found);
        return found;
    }
    for tag in ["script", "style", "code", "pre"] {
        html = strip_between(&html, &format!("<{tag}"), &format!("</{tag}>"));
    }
    let mut rest = html.as_str();
    while let Some(start) = rest.find('<') {
        words(&rest[..start], &mut found);
        let tail = &rest[start..];
        let end = tail.find('>').map_or(tail.len(), |e| e + 1);
        let tag = &tail[..end];
        for attribute in [
            "placeholder",
            "title",
            "alt",
            "aria-label",
            "label",
            "hx-confirm",
        ] {
            for quote in ['"', '\''] {
                let opening = format!(" {attribute}={quote}");
                let mut from = 0;
                while let Some(at) = tag[from..].find(&opening) {
                    let value_start = from + at + opening.len();
                    let value_end = tag[value_start..]
                        .find(quote)
                        .map_or(tag.len(), |e| value_start + e);
                    words(&tag[value_start..value_end], &mut found);
                    from = value_end;
                }
            }
        }
        rest = &tail[end..];
    }
    words(rest, &mut found);
    found
}

/// Names that read the same in every language of the site.
pub const UNTRANSLATED: &[&str] = &[
    "Mailer",
    "CSV",
    "API",
    "JSON",
    "SMTP",
    "DKIM",
    "IMAP",
    "ID",
    "Swagger",
    "UI",
    "OpenAPI",
    "Markdown",
    "HTML",
    "URL",
    "UTC",
    "Bearer",
    "English",
    "Русский",
    "ed25519",
    "RSA",
    "MiniJinja",
    "Jinja",
    "Reply-To",
    "List-Unsubscribe",
    "From",
    "To",
    // Pico styles `nav[aria-label=breadcrumb]`; readers hear the translated label the
    // admin's bar points at with `aria-labelledby`.
    "breadcrumb",
];

fn strip_between(text: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        rest = tail.find(close).map_or("", |e| &tail[e + close.len()..]);
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// The words of `text` (entities dropped) that are not names of [`UNTRANSLATED`].
fn words(text: &str, found: &mut Vec<String>) {
    let text = strip_between(text, "&", ";");
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if bare.chars().any(char::is_alphabetic) && !UNTRANSLATED.contains(&bare) {
            found.push(word.to_owned());
        }
    }
}

/// String literals of a Jinja tag that read as words ("Name", "Add client"), unless they
/// are the id of `t(…)`.
fn prose_literals(tag: &str, found: &mut Vec<String>) {
    let mut rest = tag;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let before = rest[..start].trim_end();
        let body_start = start + 1;
        let Some(len) = rest[body_start..].find(quote) else {
            return;
        };
        let literal = &rest[body_start..body_start + len];
        rest = &rest[body_start + len + 1..];
        if before.ends_with("t(") {
            continue;
        }
        let capitalised = literal.chars().next().is_some_and(char::is_uppercase)
            && literal.chars().any(char::is_lowercase);
        let spaced = literal
            .split(' ')
            .filter(|w| w.chars().any(char::is_alphabetic))
            .count()
            > 1;
        // HTML attributes handed to a macro (`attrs='list="zones" spellcheck="false"'`).
        let attributes = literal.contains("=\"");
        if (capitalised || spaced) && !attributes && !UNTRANSLATED.contains(&literal) {
            found.push(format!("\"{literal}\""));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
    }

    /// Every template under `templates/` but the texts themselves: (name, source).
    fn all_templates() -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut folders = vec![templates_dir()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if !path.ends_with("locales") {
                        folders.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "html" || e == "txt") {
                    let name = path
                        .strip_prefix(templates_dir())
                        .unwrap()
                        .display()
                        .to_string();
                    out.push((name, std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn no_template_shows_untranslated_text() {
        let mut report = String::new();
        for (name, source) in all_templates() {
            let found = untranslated(&source, name.ends_with(".txt"));
            if !found.is_empty() {
                report.push_str(&format!("{name}: {}\n", found.join(" ")));
            }
        }
        assert!(
            report.is_empty(),
            "text to put in templates/locales (t(\"id\")):\n{report}"
        );
    }

    #[test]
    fn the_checker_finds_text_outside_t() {
        let found = untranslated(
            r#"{% extends "base.html" %}<h1>{{ t("x") }}</h1><p>Hello {{ name }}</p>
            <input placeholder="Search by name" title="{{ t('y') }}">
            {{ field("email", "E-mail", value=v) }} {{ "s" if n else "" }}
            <code>curl -H "x"</code> &rarr; Mailer"#,
            false,
        );
        assert_eq!(found, ["\"E-mail\"", "Hello", "Search", "by", "name"]);
        assert_eq!(untranslated("Hi {{ name }},\n{{ t(\"a\") }}", true), ["Hi"]);
    }

    #[test]
    fn every_language_has_the_same_texts_and_every_text_asked_for_exists() {
        let catalog = Catalog::load(&templates_dir().join("locales")).unwrap();
        let own = |lang| -> BTreeSet<String> {
            catalog
                .ids(lang)
                .into_iter()
                .filter(|id| !id.starts_with("s-"))
                .collect()
        };
        let english = own(Lang::En);
        for lang in Lang::ALL {
            let ids = own(lang);
            let missing: Vec<_> = english.difference(&ids).collect();
            let extra: Vec<_> = ids.difference(&english).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(extra.is_empty(), "{} has only in it {extra:?}", lang.code());
        }
        let mut unknown = Vec::new();
        for (name, source) in all_templates() {
            for quote in ['"', '\''] {
                let call = format!("t({quote}");
                for (at, _) in source.match_indices(&call) {
                    let before = source[..at].chars().last();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let id_start = at + call.len();
                    let id: String = source[id_start..]
                        .chars()
                        .take_while(|c| *c != quote)
                        .collect();
                    // `t("mailing-status-" ~ status)`: the ids are in a `t-ids` comment.
                    if !english.contains(&id) && !id.ends_with('-') {
                        unknown.push(format!("{name}: {id}"));
                    }
                }
            }
        }
        // Ids a template builds (`t("mailing-status-" ~ status)`) are listed in a comment.
        for (name, source) in all_templates() {
            for (at, _) in source.match_indices("{# t-ids:") {
                let list = &source[at + "{# t-ids:".len()..];
                let list = &list[..list.find("#}").unwrap_or(list.len())];
                for id in list.split_whitespace() {
                    if !english.contains(id) {
                        unknown.push(format!("{name}: {id}"));
                    }
                }
            }
        }
        // Phrases of the Rust code, the admin crate's too (`phrase("id", …)`).
        for (path, source) in rust_sources() {
            for (at, _) in source.match_indices("phrase(") {
                // `split_phrase(`, or the words in a string: not a call of `phrase`.
                let before = source[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"') {
                    continue;
                }
                let rest = source[at + 7..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    continue;
                };
                let id: String = rest.chars().take_while(|c| *c != '"').collect();
                if !english.contains(&id) && id != "id" {
                    unknown.push(format!("{path}: {id}"));
                }
            }
        }
        assert!(unknown.is_empty(), "no such texts: {unknown:#?}");
    }

    /// The Rust files of the site and of the admin crate: (path, source).
    fn rust_sources() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        let mut folders = vec![root.join("src"), root.join("../admin/src")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let source = std::fs::read_to_string(&path).unwrap();
                    out.push((path.display().to_string(), source));
                }
            }
        }
        out.sort();
        out
    }

    /// The sentences a Rust source writes as plain string literals ("Enter a number."):
    /// capitalised, more than a word, ending in `.`, `?` or `!`, with no `{}` of a format
    /// string; comments and tests left out.
    fn sentences(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let code: String = code
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = Vec::new();
        let mut chars = code.chars().peekable();
        while let Some(c) = chars.next() {
            // The character literal `'"'` opens no string.
            if c == '\'' && chars.peek() == Some(&'"') {
                chars.next();
                continue;
            }
            if c != '"' {
                continue;
            }
            let mut literal = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        // A line continuation: the next line's indentation is not in it.
                        Some('\n') => while chars.next_if(|c| c.is_whitespace()).is_some() {},
                        Some(escaped) => literal.push(escaped),
                        None => break,
                    },
                    c => literal.push(c),
                }
            }
            let mut letters = literal.chars();
            let sentence = letters.next().is_some_and(char::is_uppercase)
                && letters.next().is_some_and(|c| c.is_lowercase() || c == ' ')
                && literal.contains(' ')
                && literal.ends_with(['.', '?', '!'])
                && !literal.contains('{');
            if sentence {
                found.push(literal);
            }
        }
        found
    }

    /// What the JSON API, the CLI and the metrics say stays English; the admin crate's
    /// own tests speak of a toy model of books.
    const ENGLISH_ONLY: &[&str] = &[
        "/api/",
        "/bin/",
        "monitoring.rs",
        "seed.rs",
        "cli.rs",
        "admin/src/tests/",
    ];

    #[test]
    fn every_sentence_the_rust_code_shows_has_russian() {
        let catalog = Catalog::load(&templates_dir().join("locales")).unwrap();
        let mut missing = Vec::new();
        for (path, source) in rust_sources() {
            if ENGLISH_ONLY.iter().any(|part| path.contains(part)) {
                continue;
            }
            for sentence in sentences(&source) {
                if !catalog.has_server_text(Lang::Ru, &sentence) {
                    missing.push(format!("{path}: {} = {sentence}", server_key(&sentence)));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "put these in templates/locales/ru/server.ftl:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn sentences_are_found_in_rust_literals() {
        let source = "let a = \"Enter a number.\";\n    // \"Not this one.\"\n\
            let b = format!(\"At most {n} characters.\"); let c = \"label\";\n\
            Err(\"A quote (\\\") opens a cell \\\n     and is never closed.\")\n\
            #[cfg(test)] \"Also not this.\"";
        assert_eq!(
            sentences(source),
            [
                "Enter a number.",
                "A quote (\") opens a cell and is never closed."
            ]
        );
    }

    #[test]
    fn a_phrase_is_written_out_in_the_readers_language() {
        let catalog = Catalog::load(&templates_dir().join("locales")).unwrap();
        let text = phrase("pager-page-of", &[("page", &2), ("pages", &"7\u{1}")]);
        assert_eq!(catalog.server_text(Lang::En, &text), "Page 2 of 7");
        assert_eq!(catalog.server_text(Lang::Ru, &text), "Страница 2 из 7");
        // A count is a number in the reader's way; other values are text as given.
        let text = phrase("blog-views", &[("count", &12345)]);
        assert_eq!(catalog.server_text(Lang::En, &text), "views");
        let text = phrase("pager-page-of", &[("page", &"2024"), ("pages", &"007")]);
        assert_eq!(catalog.server_text(Lang::En, &text), "Page 2024 of 007");
        assert_eq!(catalog.server_text(Lang::Ru, "plain"), "plain");
    }

    #[test]
    fn nested_phrases_are_written_out_at_every_depth_and_stored_as_json() {
        let catalog = Catalog::load(&templates_dir().join("locales")).unwrap();
        let problem = phrase(
            "messages-template-unknown-variable",
            &[("name", &"nme"), ("variables", &"client.email")],
        );
        let located = phrase(
            "messages-template-at",
            &[("line", &2), ("column", &4), ("problem", &problem)],
        );
        let flash = phrase("messages-test-cannot-render", &[("reason", &located)]);
        assert_eq!(
            catalog.server_text(Lang::Ru, &flash),
            "Сообщение не удаётся собрать: Строка 2, столбец 4: Неизвестная переменная `nme`. \
             Можно использовать client.email."
        );
        assert_eq!(
            catalog.server_text(Lang::En, &flash),
            "The message cannot be rendered: Line 2, column 4: Unknown variable `nme`. \
             You can use client.email."
        );
        let json = stored(&flash).unwrap();
        assert!(
            json.starts_with(r#"{"id":"messages-test-cannot-render""#),
            "{json}"
        );
        let back = from_stored(&json).unwrap();
        assert_eq!(
            catalog.server_text(Lang::Ru, &back),
            catalog.server_text(Lang::Ru, &flash)
        );
        assert_eq!(stored("250 OK"), None);
        assert_eq!(from_stored("not json"), None);
        assert_eq!(catalog.phrase_text(Lang::Ru, "250 OK"), "250 OK");
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_we_have() {
        assert_eq!(
            from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(
            from_accept_language("de-DE, en;q=0.5, ru;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(from_accept_language("en;q=0.2, ru;q=0.9"), Some(Lang::Ru));
        assert_eq!(from_accept_language("de, fr"), None);
        assert_eq!(from_accept_language("ru;q=0"), None);
        assert_eq!(from_accept_language("*"), None);
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language("ru;q=abc, en"), Some(Lang::En));
    }

    #[test]
    fn the_account_wins_then_the_cookie_then_the_browser() {
        assert_eq!(choose(Some(Lang::Ru), Some(Lang::En), Some("en")), Lang::Ru);
        assert_eq!(choose(None, Some(Lang::Ru), Some("en")), Lang::Ru);
        assert_eq!(choose(None, None, Some("ru")), Lang::Ru);
        assert_eq!(choose(None, None, Some("de")), Lang::En);
        assert_eq!(choose(None, None, None), Lang::En);
    }

    #[test]
    fn numbers_are_grouped_per_language() {
        assert_eq!(Lang::En.number(12345.0), "12,345");
        assert_eq!(Lang::Ru.number(12345.0), "12\u{a0}345");
        assert_eq!(Lang::En.number(1234.0), "1,234");
        assert_eq!(Lang::Ru.number(1234.0), "1234");
        assert_eq!(Lang::En.number(1_000_000.0), "1,000,000");
        assert_eq!(Lang::Ru.number(2.5), "2,5");
        assert_eq!(Lang::En.number(-98765.0), "-98,765");
        assert_eq!(Lang::En.number(7.0), "7");
    }

    #[test]
    fn russian_plurals_follow_cldr() {
        let catalog = Catalog::load(&templates_dir().join("locales")).unwrap();
        let views = |lang, count: i64| {
            let mut args = FluentArgs::new();
            args.set("count", count);
            catalog.text(lang, "blog-views", Some(&args))
        };
        for (count, word) in [
            (1, "просмотр"),
            (2, "просмотра"),
            (4, "просмотра"),
            (5, "просмотров"),
            (11, "просмотров"),
            (12, "просмотров"),
            (21, "просмотр"),
            (22, "просмотра"),
            (111, "просмотров"),
        ] {
            assert_eq!(views(Lang::Ru, count), word, "{count}");
        }
        assert_eq!(views(Lang::En, 1), "view");
        assert_eq!(views(Lang::En, 0), "views");
        assert_eq!(views(Lang::En, 21), "views");
        let mut args = FluentArgs::new();
        args.set("page", 1);
        args.set("pages", 12345);
        assert_eq!(
            catalog.text(Lang::Ru, "pager-page-of", Some(&args)),
            "Страница 1 из 12\u{a0}345"
        );
    }

    #[test]
    fn server_keys_are_the_words_of_the_text() {
        assert_eq!(
            server_key("Enter a date between the years 1 and 9999."),
            "s-enter-a-date-between-the-years-1-and-9999"
        );
        assert_eq!(server_key("E-mail: taken!"), "s-e-mail-taken");
    }
}
