//! Message templates: a message's subject and body are MiniJinja templates, rendered for
//! each recipient in a sandbox. Each template gets an environment of its own with no
//! loader (`{% include %}`, `{% import %}` and `{% extends %}` find nothing), a fuel budget
//! (no loop or macro recursion can keep a worker busy, nor allocate without bound), an
//! output cap, and strict undefined values, so a misspelt variable is an error, never an
//! empty hole in a sent e-mail.
//!
//! Mistakes are caught when the message is saved ([`validate`]): syntax errors, variables
//! that do not exist, placeholders of other tools (`{name}`, `%name%`, `[name]`) and
//! anything that fails on a sample recipient. Sending compiles a message once
//! ([`Compiled`]) and renders it per recipient ([`Compiled::render`]); a render that still
//! fails (a custom attribute the client lacks) fails that one delivery.
//!
//! The body is Markdown: the rendered text goes out as the `text/plain` part and, through
//! the safe renderer ([`crate::markdown`]), as the `text/html` part, both ending with the
//! unsubscribe link and the sender's postal line. Values inserted into the body are
//! escaped for Markdown in the HTML part, so a client named `<b>Bob</b>` or `[x](y)` shows
//! as typed and cannot add markup or links.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use minijinja::value::{Enumerator, Object};
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, Value, context};
use serde::Serialize;

use crate::i18n::{Catalog, Lang, phrase};
use crate::markdown;

/// Fuel per render: about 100,000 template instructions, or a few MB of data. A body of
/// 100,000 characters of plain text costs about 3,000.
const FUEL: u64 = 100_000;
/// Nesting of loops, conditions and macro calls (MiniJinja's default is 500).
const RECURSION_LIMIT: usize = 64;
/// What a rendered subject may hold, in bytes.
pub const SUBJECT_OUTPUT_MAX: usize = 2_000;
/// What a rendered body may hold, in bytes.
pub const BODY_OUTPUT_MAX: usize = 1 << 20;
/// The one template of each environment.
const NAME: &str = "message";
/// Around each value printed into the body while rendering: the text part drops them, the
/// HTML part escapes what lies between for Markdown. Private-use characters, removed from
/// the values themselves first.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The variables a template may use at the top level.
const ROOTS: [&str; 5] = ["client", "sender", "unsubscribe_url", "today", "now"];
const CLIENT_FIELDS: [&str; 4] = ["full_name", "email", "comment", "attributes"];
const SENDER_FIELDS: [&str; 3] = ["name", "email", "postal"];
const VARIABLES: &str = "client.full_name, client.email, client.comment, \
     client.attributes.<name>, sender.name, sender.email, sender.postal, unsubscribe_url, \
     today and now";

/// Which part of the message a template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Subject,
    Body,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Subject => "subject",
            Field::Body => "body",
        }
    }

    fn output_max(self) -> usize {
        match self {
            Field::Subject => SUBJECT_OUTPUT_MAX,
            Field::Body => BODY_OUTPUT_MAX,
        }
    }
}

/// A mistake in a template, where it is (line and column from 1, columns in characters).
/// `message` is a [`phrase`] (`messages-template-…`), written out in the reader's language
/// on pages and in English by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateError {
    pub field: Field,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl TemplateError {
    /// "Line N, column M: the mistake", as a [`phrase`] for a page.
    pub fn located(&self) -> String {
        phrase(
            "messages-template-at",
            &[
                ("line", &self.line),
                ("column", &self.column),
                ("problem", &self.message),
            ],
        )
    }
}

/// In English (a delivery's stored reason, the logs).
impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::i18n::english(&self.located()))
    }
}

/// A render that failed: the template's mistake, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub TemplateError);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} template failed: {}", self.0.field.name(), self.0)
    }
}

impl std::error::Error for RenderError {}

/// The recipient as templates see it (`client`).
#[derive(Debug, Clone, Default)]
pub struct Recipient {
    pub full_name: String,
    pub email: String,
    pub comment: String,
    pub attributes: BTreeMap<String, String>,
}

impl Recipient {
    /// `client` as its templates see it, with its custom attributes.
    pub fn of(client: &crate::entities::client::Model) -> Self {
        Self {
            full_name: client.full_name.clone(),
            email: client.email.clone(),
            comment: client.comment.clone(),
            attributes: crate::clients::attributes(client),
        }
    }
}

/// Who sends (`sender`).
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub name: String,
    pub email: String,
    /// A postal address line, shown at the foot of every e-mail when set.
    pub postal: Option<String>,
    /// The words around the unsubscribe link, in the sender's language.
    pub foot: Foot,
}

/// The words at the foot of a mailing's e-mail, around the recipient's unsubscribe link,
/// in one language: the text part says `{lead} {url}`, the HTML part
/// `{before} <a href="{url}">{link}</a>{after}`. Written out once per sender, not per
/// recipient. The default is English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foot {
    /// The language's tag, for `<html lang>` of the HTML part.
    pub lang: &'static str,
    pub lead: String,
    pub before: String,
    pub link: String,
    pub after: String,
}

impl Default for Foot {
    fn default() -> Self {
        Self {
            lang: Lang::En.code(),
            lead: "To stop getting these e-mails, unsubscribe:".into(),
            before: "To stop getting these e-mails,".into(),
            link: "unsubscribe".into(),
            after: ".".into(),
        }
    }
}

impl Foot {
    /// The foot in `lang`, from the site's texts (`mail-foot-*`).
    pub fn of(catalog: &Catalog, lang: Lang) -> Self {
        let say = |id| catalog.text(lang, id, None);
        Self {
            lang: lang.code(),
            lead: say("mail-foot-lead"),
            before: say("mail-foot-before"),
            link: say("mail-foot-link"),
            after: say("mail-foot-after"),
        }
    }
}

/// The [`Foot`] of every language, written out once when a process starts.
#[derive(Debug, Clone, Default)]
pub struct Feet(Arc<HashMap<Lang, Foot>>);

impl Feet {
    pub fn of(catalog: &Catalog) -> Self {
        Self(Arc::new(
            Lang::ALL
                .into_iter()
                .map(|lang| (lang, Foot::of(catalog, lang)))
                .collect(),
        ))
    }

    /// The foot of e-mails whose owner chose `lang` (English when they chose none).
    pub fn get(&self, lang: Option<Lang>) -> Foot {
        self.0
            .get(&lang.unwrap_or_default())
            .cloned()
            .unwrap_or_default()
    }
}

impl Sender {
    /// The sender of `from`, with `postal` (blank means none) and `foot`.
    pub fn new(from: &lettre::message::Mailbox, postal: Option<&str>, foot: Foot) -> Self {
        Self {
            name: from.name.clone().unwrap_or_default(),
            email: from.email.to_string(),
            postal: postal
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            foot,
        }
    }
}

/// Everything one rendering sees.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub recipient: Recipient,
    pub sender: &'a Sender,
    pub unsubscribe_url: String,
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    fn value(&self) -> Value {
        let attributes = self
            .recipient
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), plain(v)))
            .collect::<BTreeMap<String, String>>();
        self.value_with(Value::from(attributes))
    }

    /// The context with these custom attributes.
    fn value_with(&self, attributes: Value) -> Value {
        let r = &self.recipient;
        let sender = self.sender;
        context! {
            client => context! {
                full_name => plain(&r.full_name),
                email => plain(&r.email),
                comment => plain(&r.comment),
                attributes => attributes,
            },
            sender => context! {
                name => plain(&sender.name),
                email => plain(&sender.email),
                postal => sender.postal.as_deref().map(plain),
            },
            unsubscribe_url => plain(&self.unsubscribe_url),
            today => self.now.format("%Y-%m-%d").to_string(),
            now => self.now.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// `value` without the characters that mark values in the output.
fn plain(value: &str) -> String {
    if value.contains([OPEN, CLOSE]) {
        value.replace([OPEN, CLOSE], "")
    } else {
        value.to_owned()
    }
}

/// A message rendered for one recipient: the subject on one line, the text part and the
/// HTML part (a whole document), both with the unsubscribe link and the postal line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message compiled once, to render for many recipients.
pub struct Compiled {
    subject: Environment<'static>,
    body: Environment<'static>,
    /// The HTML of each body skeleton met so far (see [`Skeleton`]).
    html: Mutex<HashMap<String, Option<Arc<Filled>>>>,
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled").finish_non_exhaustive()
    }
}

/// A sandbox holding `source` as its one template.
fn sandbox(field: Field, source: &str) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Every include, import or extends asks for a template that is not there (the
    // environment has no loader, and this is not the name of its one template).
    env.set_path_join_callback(|_, _| "(other templates cannot be used)".into());
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    if field == Field::Body {
        env.set_formatter(mark_values);
    }
    env.add_template_owned(NAME, source.to_owned())
        .map_err(|e| located(field, source, &e))?;
    Ok(env)
}

/// Prints a value between the markers (see [`OPEN`]).
fn mark_values(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let io = |_| minijinja::Error::from(ErrorKind::WriteFailure);
    out.write_str(OPEN.encode_utf8(&mut [0; 4])).map_err(io)?;
    minijinja::escape_formatter(out, state, value)?;
    out.write_str(CLOSE.encode_utf8(&mut [0; 4])).map_err(io)
}

impl Compiled {
    /// Compiles both templates (syntax only: see [`validate`] for the rest).
    pub fn new(subject: &str, body: &str) -> Result<Self, Vec<TemplateError>> {
        let subject_env = sandbox(Field::Subject, subject);
        let body_env = sandbox(Field::Body, body);
        match (subject_env, body_env) {
            (Ok(subject), Ok(body)) => Ok(Self {
                subject,
                body,
                html: Mutex::new(HashMap::new()),
            }),
            (s, b) => Err([s.err(), b.err()].into_iter().flatten().collect()),
        }
    }

    /// The message for one recipient.
    pub fn render(&self, context: &Context<'_>) -> Result<Rendered, RenderError> {
        let value = context.value();
        let subject = run(&self.subject, Field::Subject, value.clone()).map_err(RenderError)?;
        let body = run(&self.body, Field::Body, value).map_err(RenderError)?;
        // A value with a line break (a comment) cannot break the Subject header.
        let subject = subject
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(self.assemble(subject, &body, context))
    }

    /// The text and HTML parts of a rendered `body` (values marked), with the foot.
    fn assemble(&self, subject: String, body: &str, context: &Context<'_>) -> Rendered {
        let body = body.trim_end();
        let (mut text, markdown) = split_marked(body);
        let unsubscribe = &context.unsubscribe_url;
        let postal = context.sender.postal.as_deref();
        let foot = &context.sender.foot;
        text.push_str("\n\n-- \n");
        text.push_str(&format!("{} {unsubscribe}\n", foot.lead));
        if let Some(postal) = postal {
            text.push_str(postal);
            text.push('\n');
        }
        let body_html = self
            .cached_html(body)
            .unwrap_or_else(|| markdown::mail_html(&markdown));
        let html = html_document(&subject, &body_html, (unsubscribe, foot), postal);
        Rendered {
            subject,
            text,
            html,
        }
    }

    /// The HTML of a rendered body (values marked) from the HTML of its skeleton, when
    /// it has one: the Markdown of a message is read once per group of recipients, not
    /// once per recipient, as long as their values are plain words. `None`: render it.
    fn cached_html(&self, marked: &str) -> Option<String> {
        let Skeleton { source, values } = Skeleton::of(marked)?;
        let mut cache = self
            .html
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let filled = match cache.get(&source) {
            Some(filled) => filled.clone(),
            None => {
                let filled = Filled::of(&source).map(Arc::new);
                if cache.len() < SKELETONS_CACHED {
                    cache.insert(source, filled.clone());
                }
                filled
            }
        };
        drop(cache);
        filled?.fill(&values)
    }
}

/// Skeletons a [`Compiled`] keeps the HTML of (a template whose every recipient makes
/// another skeleton gains nothing from more).
const SKELETONS_CACHED: usize = 64;
/// The placeholders of a skeleton's values: private-use characters, one per value.
const PLACEHOLDER_FIRST: u32 = 0xE100;
const PLACEHOLDERS: u32 = 0x700;

fn placeholder(c: char) -> Option<usize> {
    let n = u32::from(c).checked_sub(PLACEHOLDER_FIRST)?;
    (n < PLACEHOLDERS).then_some(n as usize)
}

/// A rendered body with each value printed into it replaced by a placeholder: what the
/// bodies of all recipients of a personalised message share. Only when every value is
/// "inert" — it reads as the same plain text in every place Markdown could put it, so the
/// HTML of the body is the HTML of the skeleton with the values put back (checked, over
/// the cases that break it, by the tests):
///
/// - It starts with a letter and ends with a letter or digit, and holds only letters,
///   digits, spaces and `. - _ + @ ,`. So it cannot start a block (a list item, a heading,
///   a quote, code, HTML), take part in emphasis or a link, or end a line with blanks; it
///   flanks a `*` or `_` of the template as the placeholder does (neither blank nor
///   punctuation); the punctuation in it is escaped (see [`split_marked`]) and shows as
///   itself in text, and none of it needs escaping in HTML.
/// - It does not follow an `&` (and letters, digits or `#`): `&{{ v }};` could be an
///   entity with a value where the placeholder is none. Nor is it after a `<` not yet
///   closed by a `>`: `<{{ v }}>` could be a tag.
/// - Where the skeleton puts it is checked by [`markdown::mail_html_with_placeholders`]:
///   plain text (not code, raw HTML, a link's target), and no link reference definitions
///   a value could match.
///
/// Empty values are left out: the body is the same with or without them.
struct Skeleton<'a> {
    source: String,
    values: Vec<&'a str>,
}

impl<'a> Skeleton<'a> {
    fn of(marked: &'a str) -> Option<Self> {
        if marked.chars().any(|c| placeholder(c).is_some()) {
            return None;
        }
        let mut source = String::with_capacity(marked.len());
        let mut values = Vec::new();
        let mut rest = marked;
        while let Some(open) = rest.find(OPEN) {
            let (before, after) = (&rest[..open], &rest[open + OPEN.len_utf8()..]);
            let close = after.find(CLOSE)?;
            let value = &after[..close];
            if before.contains(CLOSE) || value.contains(OPEN) {
                return None;
            }
            source.push_str(before);
            rest = &after[close + CLOSE.len_utf8()..];
            if value.is_empty() {
                continue;
            }
            if !inert(value) || after_ampersand(&source) || in_angle_brackets(&source) {
                return None;
            }
            let n = u32::try_from(values.len()).ok()?;
            source.push(char::from_u32(PLACEHOLDER_FIRST + n).filter(|_| n < PLACEHOLDERS)?);
            values.push(value);
        }
        if rest.contains(CLOSE) {
            return None;
        }
        source.push_str(rest);
        Some(Self { source, values })
    }
}

/// See [`Skeleton`].
fn inert(value: &str) -> bool {
    value.chars().next().is_some_and(char::is_alphabetic)
        && value.chars().next_back().is_some_and(char::is_alphanumeric)
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '+' | '@' | ','))
}

/// Whether `text` ends with `&` and then only ASCII letters, digits or `#`.
fn after_ampersand(text: &str) -> bool {
    text.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '#')
        .ends_with('&')
}

/// Whether a `<` in `text` is still open at its end: a value there could make a tag (an
/// HTML block, inline HTML) or an autolink of what the placeholder leaves as text.
fn in_angle_brackets(text: &str) -> bool {
    text.rfind('<').is_some_and(|at| !text[at..].contains('>'))
}

/// The HTML of a skeleton, cut at its placeholders.
#[derive(Debug)]
struct Filled {
    /// The HTML before the first placeholder, between each two, and after the last.
    pieces: Vec<String>,
    /// Which value goes after each piece but the last.
    slots: Vec<usize>,
}

impl Filled {
    /// `None` when the values cannot be put into the skeleton's HTML.
    fn of(source: &str) -> Option<Self> {
        let html = markdown::mail_html_with_placeholders(source, |c| placeholder(c).is_some())?;
        let mut pieces = Vec::new();
        let mut slots = Vec::new();
        let mut piece = String::new();
        for c in html.chars() {
            match placeholder(c) {
                Some(slot) => {
                    pieces.push(std::mem::take(&mut piece));
                    slots.push(slot);
                }
                None => piece.push(c),
            }
        }
        pieces.push(piece);
        // Each value once, as written.
        let mut sorted = slots.clone();
        sorted.sort_unstable();
        let expected = source.chars().filter(|&c| placeholder(c).is_some()).count();
        if sorted.iter().copied().ne(0..expected) {
            return None;
        }
        Some(Self { pieces, slots })
    }

    fn fill(&self, values: &[&str]) -> Option<String> {
        if self.slots.len() != values.len() {
            return None;
        }
        let len = self.pieces.iter().map(String::len).sum::<usize>()
            + values.iter().map(|v| v.len()).sum::<usize>();
        let mut html = String::with_capacity(len);
        for (piece, slot) in self.pieces.iter().zip(&self.slots) {
            html.push_str(piece);
            html.push_str(values.get(*slot)?);
        }
        html.push_str(self.pieces.last()?);
        Some(html)
    }
}

/// Renders the one template of `env`.
fn run(env: &Environment<'static>, field: Field, context: Value) -> Result<String, TemplateError> {
    let template = env.get_template(NAME).map_err(|e| located(field, "", &e))?;
    let out = template
        .render(context)
        .map_err(|e| located(field, template.source(), &e))?;
    if out.len() > field.output_max() {
        return Err(TemplateError {
            field,
            line: 1,
            column: 1,
            message: phrase(
                "messages-template-too-long",
                &[
                    ("part", &field.name()),
                    ("size", &out.len().div_ceil(1024)),
                    ("max", &(field.output_max() / 1024)),
                ],
            ),
        });
    }
    Ok(out)
}

/// Compiles and renders once (the preview; sending uses [`Compiled`]).
pub fn render(subject: &str, body: &str, context: &Context<'_>) -> Result<Rendered, RenderError> {
    let compiled =
        Compiled::new(subject, body).map_err(|mut errors| RenderError(errors.swap_remove(0)))?;
    compiled.render(context)
}

/// The body with the value markers dropped (the text part), and with the values between
/// them escaped for Markdown (the source of the HTML part).
fn split_marked(body: &str) -> (String, String) {
    let mut text = String::with_capacity(body.len());
    let mut source = String::with_capacity(body.len() + 16);
    let mut inside = false;
    for c in body.chars() {
        match c {
            OPEN => inside = true,
            CLOSE => inside = false,
            c => {
                text.push(c);
                if inside
                    && (c.is_ascii_punctuation()
                        && !matches!(
                            c,
                            ',' | '\'' | '"' | ':' | ';' | '/' | '?' | '@' | '%' | '$'
                        ))
                {
                    source.push('\\');
                }
                source.push(c);
            }
        }
    }
    (text, source)
}

/// Text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part: the body in a centred column at most 600 px wide, with inline styles
/// (what mail programs keep), and a muted foot with the unsubscribe link and postal line.
fn html_document(
    subject: &str,
    body: &str,
    (unsubscribe, foot): (&str, &Foot),
    postal: Option<&str>,
) -> String {
    let postal = postal
        .map(|p| format!("<br>{}", escape_html(p)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f6f7f9;\">\n\
         <div style=\"max-width:600px;margin:0 auto;padding:24px 16px;background:#ffffff;\
         font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;\
         line-height:1.5;color:#1f2328;\">\n{body}\
         <hr style=\"border:none;border-top:1px solid #d0d7de;margin:32px 0 16px;\">\n\
         <p style=\"margin:0;font-size:13px;color:#59636e;\">{before} \
         <a href=\"{url}\" style=\"color:#59636e;\">{link}</a>{after}{postal}</p>\n\
         </div>\n</body></html>\n",
        lang = foot.lang,
        title = escape_html(subject),
        url = escape_html(unsubscribe),
        before = escape_html(&foot.before),
        link = escape_html(&foot.link),
        after = escape_html(&foot.after),
    )
}

/// Where `e` happened in `source`, in words for the user.
fn located(field: Field, source: &str, e: &minijinja::Error) -> TemplateError {
    let (line, column) = match e.range() {
        Some(range) => position(source, range.start),
        None => (e.line().unwrap_or(1), 1),
    };
    TemplateError {
        field,
        line,
        column,
        message: describe(e),
    }
}

/// The user's words for a MiniJinja error: a phrase of ours for each kind of mistake;
/// MiniJinja's own (English) detail only where none fits (a syntax error, an operation
/// the values do not allow), and the phrase says it is MiniJinja's.
fn describe(e: &minijinja::Error) -> String {
    let detail = e.detail().unwrap_or_default();
    // "filter upperr is unknown", "test x is unknown", "f is unknown".
    let unknown = detail
        .strip_suffix(" is unknown")
        .map(|name| {
            name.strip_prefix("filter ")
                .or_else(|| name.strip_prefix("test "))
                .unwrap_or(name)
        })
        .unwrap_or_default();
    match e.kind() {
        ErrorKind::OutOfFuel => phrase("messages-template-out-of-fuel", &[]),
        ErrorKind::TemplateNotFound | ErrorKind::BadInclude => {
            phrase("messages-template-no-include", &[])
        }
        ErrorKind::UndefinedError => {
            phrase("messages-template-undefined", &[("variables", &VARIABLES)])
        }
        ErrorKind::InvalidOperation if detail.contains("recursion") => {
            phrase("messages-template-too-deep", &[])
        }
        ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod
            if !unknown.is_empty() =>
        {
            let kind = match e.kind() {
                ErrorKind::UnknownFilter => "filter",
                ErrorKind::UnknownTest => "test",
                ErrorKind::UnknownMethod => "method",
                _ => "function",
            };
            phrase(
                "messages-template-unknown-name",
                &[("kind", &kind), ("name", &unknown)],
            )
        }
        ErrorKind::UnknownMethod => phrase("messages-template-unknown-method", &[]),
        ErrorKind::TooManyArguments => phrase("messages-template-too-many-arguments", &[]),
        ErrorKind::MissingArgument => phrase("messages-template-missing-argument", &[]),
        ErrorKind::CannotUnpack => phrase("messages-template-cannot-unpack", &[]),
        ErrorKind::SyntaxError => phrase("messages-template-syntax", &[("detail", &detail)]),
        _ => {
            let detail = if detail.is_empty() {
                e.kind().to_string()
            } else {
                format!("{}: {detail}", e.kind())
            };
            phrase("messages-template-other", &[("detail", &detail)])
        }
    }
}

/// Line and column (from 1, in characters) of byte `offset` of `source`.
fn position(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Checks a message before it is saved: each template compiles, uses only variables that
/// exist, holds no placeholder of another tool, and renders for a sample recipient within
/// its budget. Every mistake found, in order of field, line and column.
pub fn validate(subject: &str, body: &str) -> Result<(), Vec<TemplateError>> {
    let mut errors = Vec::new();
    for (field, source) in [(Field::Subject, subject), (Field::Body, body)] {
        errors.extend(check(field, source));
    }
    errors.sort_by_key(|e| (e.field == Field::Body, e.line, e.column));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check(field: Field, source: &str) -> Vec<TemplateError> {
    let mut errors = foreign_placeholders(field, source);
    let env = match sandbox(field, source) {
        Ok(env) => env,
        Err(e) => {
            errors.push(e);
            return errors;
        }
    };
    errors.extend(unknown_variables(&env, field, source));
    if errors.is_empty()
        && let Err(e) = run(&env, field, sample_context())
    {
        errors.push(e);
    }
    errors
}

/// What a sample recipient looks like: every custom attribute exists.
fn sample_context() -> Value {
    let sender = Sender {
        name: "Sender".into(),
        email: "sender@example.com".into(),
        postal: Some("1 Sample Street, Sampletown".into()),
        foot: Foot::default(),
    };
    Context {
        recipient: Recipient {
            full_name: "Sample Recipient".into(),
            email: "recipient@example.com".into(),
            comment: String::new(),
            attributes: BTreeMap::new(),
        },
        sender: &sender,
        unsubscribe_url: "https://example.com/unsubscribe/sample".into(),
        now: Utc::now(),
    }
    .value_with(Value::from_object(AnyAttributes))
}

/// Custom attributes at save time: any name has a sample value (the clients' own are
/// known only when sending).
#[derive(Debug)]
struct AnyAttributes;

impl Object for AnyAttributes {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        key.as_str().map(|k| Value::from(format!("({k})")))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Empty
    }
}

/// Variables the template reads that no context has.
fn unknown_variables(env: &Environment<'_>, field: Field, source: &str) -> Vec<TemplateError> {
    let Ok(template) = env.get_template(NAME) else {
        return Vec::new();
    };
    let globals: HashSet<&str> = env.globals().map(|(name, _)| name).collect();
    let mut unknown: Vec<(usize, String)> = Vec::new();
    for name in template.undeclared_variables(true) {
        let mut parts = name.split('.');
        let root = parts.next().unwrap_or_default();
        let attr = parts.next();
        let message = if globals.contains(root) || ROOTS.contains(&root) && attr.is_none() {
            continue;
        } else if root == "client" {
            match attr {
                Some(a) if CLIENT_FIELDS.contains(&a) => continue,
                Some(a) => match suggestion(a) {
                    Some(s) => phrase(
                        "messages-template-client-has-no-but",
                        &[("name", &a), ("suggestion", &s)],
                    ),
                    None => phrase("messages-template-client-has-no", &[("name", &a)]),
                },
                None => continue,
            }
        } else if root == "sender" {
            match attr {
                Some(a) if SENDER_FIELDS.contains(&a) => continue,
                Some(a) => phrase("messages-template-sender-has-no", &[("name", &a)]),
                None => continue,
            }
        } else if ROOTS.contains(&root) {
            continue;
        } else {
            match suggestion(root) {
                Some(s) => phrase(
                    "messages-template-unknown-variable-but",
                    &[("name", &root), ("suggestion", &s)],
                ),
                None => phrase(
                    "messages-template-unknown-variable",
                    &[("name", &root), ("variables", &VARIABLES)],
                ),
            }
        };
        let at = find_in_tags(source, &name).or_else(|| find_in_tags(source, root));
        unknown.push((at.unwrap_or(0), message));
    }
    unknown.sort();
    unknown.dedup_by(|a, b| a.1 == b.1);
    unknown
        .into_iter()
        .map(|(at, message)| {
            let (line, column) = position(source, at);
            TemplateError {
                field,
                line,
                column,
                message,
            }
        })
        .collect()
}

/// The variable people mean when they type `word` for a placeholder.
fn suggestion(word: &str) -> Option<&'static str> {
    let word = word.to_ascii_lowercase().replace(['-', ' '], "_");
    let found =
        match word.as_str() {
            "name" | "full_name" | "fullname" | "first_name" | "firstname" | "fname"
            | "last_name" | "lastname" | "lname" | "client_name" | "clientname" | "customer"
            | "customer_name" | "recipient" | "recipient_name" | "user" | "username"
            | "user_name" | "client" => "{{ client.full_name }}",
            "email" | "e_mail" | "mail" | "client_email" | "address" | "email_address" => {
                "{{ client.email }}"
            }
            "comment" | "note" | "notes" => "{{ client.comment }}",
            "unsubscribe" | "unsubscribe_link" | "unsubscribe_url" | "unsub" | "optout"
            | "opt_out" => "{{ unsubscribe_url }}",
            "date" | "today" | "current_date" => "{{ today }}",
            "time" | "now" | "datetime" => "{{ now }}",
            "sender" | "sender_name" | "from" | "from_name" | "company" | "company_name" => {
                "{{ sender.name }}"
            }
            "sender_email" | "from_email" | "reply_to" => "{{ sender.email }}",
            "postal" | "postal_address" | "company_address" => "{{ sender.postal }}",
            _ => return None,
        };
    Some(found)
}

/// Byte offsets of the template's `{{ … }}` and `{% … %}` tags.
fn tags(source: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = source[from..].find('{').map(|i| i + from) {
        let close = match source[start + 1..].chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                from = start + 1;
                continue;
            }
        };
        let end = source[start + 2..]
            .find(close)
            .map_or(source.len(), |i| start + 2 + i + 2);
        if close != "#}" {
            out.push(start..end);
        }
        from = end;
    }
    out
}

/// Where the first whole-word `word` inside a tag starts.
fn find_in_tags(source: &str, word: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    tags(source).into_iter().find_map(|tag| {
        let text = &source[tag.clone()];
        text.match_indices(word).find_map(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            let bounded =
                !before.is_some_and(|c| is_word(c) || c == '.') && !after.is_some_and(is_word);
            bounded.then_some(tag.start + i)
        })
    })
}

/// Placeholders in the style of other tools, outside the template's tags: `{name}`,
/// `%name%`, `[name]`, `*|FNAME|*`, `{{{name}}}`-like variants, for the words people use
/// for a recipient's values. They would go out as typed.
fn foreign_placeholders(field: Field, source: &str) -> Vec<TemplateError> {
    let in_tag = tags(source);
    let mut errors = Vec::new();
    let bytes = source.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let close = match b {
            b'{' => b'}',
            b'%' => b'%',
            b'[' => b']',
            b'|' => b'|',
            _ => continue,
        };
        if in_tag.iter().any(|t| t.contains(&i)) {
            continue;
        }
        let rest = &source[i + 1..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if len == 0 || rest.as_bytes().get(len) != Some(&close) {
            continue;
        }
        let word = &rest[..len];
        // A Markdown link or reference (`[name](…)`, `[name][…]`, `[name]: …`) is no
        // placeholder.
        let next = rest[len + 1..].chars().next();
        if b == b'[' && matches!(next, Some('(' | '[' | ':')) {
            continue;
        }
        let Some(instead) = suggestion(word) else {
            continue;
        };
        let typed = format!("{}{word}{}", b as char, close as char);
        let (line, column) = position(source, i);
        errors.push(TemplateError {
            field,
            line,
            column,
            message: phrase(
                "messages-template-foreign",
                &[("typed", &typed), ("suggestion", &instead)],
            ),
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HTML put together from a skeleton's is the HTML of the body, whatever the
    /// template does around the values; and a plain personalised body takes that way.
    #[test]
    fn skeleton_html_is_the_body_html() {
        let templates = [
            "Dear {v},\n\nOur **sale** starts today.\n\n- wool\n- boots\n\n[Shop](https://x.test) for {v}.",
            "{v}. item",
            "1{v}. item",
            "- {v}\n- b",
            "**{v}**",
            "*{v}*x",
            "x*{v}*",
            "_{v}_",
            "x_{v}_x",
            "`{v}`",
            "    {v}",
            "```\n{v}\n```",
            "```{v}\nx\n```",
            "[{v}](https://x.test)",
            "[link](https://x.test/{v})",
            "[link](https://x.test \"{v}\")",
            "<{v}>",
            "<https://x.test/{v}>",
            "<span title={v}>x</span>",
            "<div>\n{v}\n</div>",
            "&{v};",
            "&#{v};",
            "&x{v};",
            "[{v}]\n\n[client one]: https://evil.test",
            "[{v}]",
            "# {v}",
            "{v}\n===",
            "> {v}",
            "| a | b |\n|---|---|\n| {v} | x |",
            "![{v}](https://x.test/i.png)",
            "{v}  \nnext",
            "{v}\\\nnext",
            "~~{v}~~",
            "{v}{v} and {v}",
            "a\n{v}\n---",
            "\u{E100} {v}",
        ];
        let values = [
            "Client 1",
            "client one",
            "c1@example.com",
            "1",
            "12",
            "a",
            "amp",
            "Zoë Ångström",
            "x_y",
            "a.b",
            "A  B",
            "",
            "a\nb",
            "*x*",
            "<b>",
            "a ",
            " a",
            "-a",
            "Ab-",
            "a\tb",
            "Name, Jr.",
            "https://x.test",
        ];
        let compiled = Compiled::new("s", "b").unwrap();
        let mut fast = 0;
        for template in templates {
            for value in values {
                let marked = template.replace("{v}", &format!("{OPEN}{value}{CLOSE}"));
                let expected = markdown::mail_html(&split_marked(&marked).1);
                // Twice: filling the cache, then from it.
                for _ in 0..2 {
                    if let Some(html) = compiled.cached_html(&marked) {
                        assert_eq!(html, expected, "{template:?} with {value:?}");
                        fast += 1;
                    }
                }
            }
        }
        assert!(fast > 100, "{fast}");
        let marked = templates[0].replace("{v}", &format!("{OPEN}Client 7{CLOSE}"));
        assert!(compiled.cached_html(&marked).is_some());
        let marked = templates[0].replace("{v}", &format!("{OPEN}c7@example.com{CLOSE}"));
        assert!(compiled.cached_html(&marked).is_some());
    }

    fn sender() -> Sender {
        Sender {
            name: "Shop".into(),
            email: "shop@example.com".into(),
            postal: Some("1 Main St, Springfield".into()),
            foot: Foot::default(),
        }
    }

    #[test]
    fn the_foot_speaks_the_senders_language() {
        let locales = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/locales");
        let catalog = Catalog::load(&locales).unwrap();
        // The English of the code is the English of the texts.
        assert_eq!(Foot::of(&catalog, Lang::En), Foot::default());
        let feet = Feet::of(&catalog);
        assert_eq!(feet.get(None), Foot::default());
        let sender = Sender {
            foot: feet.get(Some(Lang::Ru)),
            ..sender()
        };
        let compiled = Compiled::new("Hi", "Hello").unwrap();
        let out = compiled.render(&context(&sender, "Bob")).unwrap();
        assert!(out.html.contains("<html lang=\"ru\">"), "{}", out.html);
        assert!(
            out.text.contains(
                "Чтобы больше не получать эти письма, отпишитесь: https://mailer.test/unsubscribe/t0k\n"
            ),
            "{}",
            out.text
        );
        assert!(
            out.html.contains(
                "Чтобы больше не получать эти письма, <a href=\"https://mailer.test/unsubscribe/t0k\" \
                 style=\"color:#59636e;\">отпишитесь</a>."
            ),
            "{}",
            out.html
        );
    }

    fn context<'a>(sender: &'a Sender, name: &str) -> Context<'a> {
        Context {
            recipient: Recipient {
                full_name: name.into(),
                email: "bob@example.com".into(),
                comment: "likes tea".into(),
                attributes: [("city".to_owned(), "Oslo".to_owned())].into(),
            },
            sender,
            unsubscribe_url: "https://mailer.test/unsubscribe/t0k".into(),
            now: "2026-12-07T10:00:00Z".parse().unwrap(),
        }
    }

    fn catalog() -> Catalog {
        let locales = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/locales");
        Catalog::load(&locales).unwrap()
    }

    /// The mistakes found, with their messages written out in English.
    fn errors(subject: &str, body: &str) -> Vec<TemplateError> {
        let catalog = catalog();
        let mut found = validate(subject, body).err().unwrap_or_default();
        for e in &mut found {
            e.message = catalog.server_text(Lang::En, &e.message);
        }
        found
    }

    /// A mistake in Russian, located, as the messages page shows it to a Russian user.
    #[test]
    fn mistakes_are_written_in_the_readers_language() {
        let catalog = catalog();
        let found = validate("x", "Hi\n  {{ name }}").unwrap_err();
        let say = |lang, e: &TemplateError| catalog.server_text(lang, &e.located());
        assert_eq!(
            say(Lang::Ru, &found[0]),
            "Строка 2, столбец 6: Неизвестная переменная `name`. Может быть, вы имели в виду \
             {{ client.full_name }}?"
        );
        assert_eq!(
            say(Lang::En, &found[0]),
            "Line 2, column 6: Unknown variable `name`. Did you mean {{ client.full_name }}?"
        );
        let found = validate("x", "{{ client.full_name | upperr }}").unwrap_err();
        assert_eq!(
            say(Lang::Ru, &found[0]),
            "Строка 1, столбец 23: Неизвестный фильтр `upperr`.",
            "{found:?}"
        );
        let found = validate("x", "{{ client.full_name }").unwrap_err();
        assert!(
            say(Lang::Ru, &found[0])
                .starts_with("Строка 1, столбец 21: Синтаксическая ошибка (описание MiniJinja"),
            "{}",
            say(Lang::Ru, &found[0])
        );
        let found = validate("{{ 'x' * 100000 }}", "x").unwrap_err();
        assert!(
            say(Lang::Ru, &found[0]).contains("Тема после подстановки слишком длинная"),
            "{}",
            say(Lang::Ru, &found[0])
        );
    }

    #[test]
    fn renders_the_clients_values_in_both_parts() {
        let s = sender();
        let out = render(
            "Hi {{ client.full_name }}",
            "Dear **{{ client.full_name }}** from {{ client.attributes.city }},\nsee you.\n\n- one\n- two",
            &context(&s, "<b>Bob</b> *x* [a](http://evil)"),
        )
        .unwrap();
        assert_eq!(out.subject, "Hi <b>Bob</b> *x* [a](http://evil)");
        assert!(
            out.text
                .starts_with("Dear **<b>Bob</b> *x* [a](http://evil)** from Oslo,\nsee you.")
        );
        assert!(
            out.text
                .contains("unsubscribe: https://mailer.test/unsubscribe/t0k")
        );
        assert!(out.text.ends_with("1 Main St, Springfield\n"));
        assert!(
            out.html
                .contains("&lt;b&gt;Bob&lt;/b&gt; *x* [a](http://evil)"),
            "{}",
            out.html
        );
        assert!(!out.html.contains("<b>") && !out.html.contains("http://evil\""));
        assert!(
            out.html.contains("<strong"),
            "the template's own Markdown works"
        );
        assert!(out.html.contains("<br"), "a line break stays one");
        assert!(out.html.contains("<li"));
        assert!(
            out.html
                .contains("href=\"https://mailer.test/unsubscribe/t0k\"")
        );
        assert!(out.html.contains("1 Main St, Springfield"));
    }

    #[test]
    fn a_link_to_a_value_keeps_its_address() {
        let s = sender();
        let mut ctx = context(&s, "Bob");
        ctx.unsubscribe_url = "https://mailer.test/unsubscribe/a_b-c.d~e?x=1&y=(2)".into();
        let out = render(
            "x",
            "[Leave]({{ unsubscribe_url }}) {{ unsubscribe_url }}",
            &ctx,
        )
        .unwrap();
        assert!(
            out.html.contains(
                "href=\"https://mailer.test/unsubscribe/a_b-c.d~e?x=1&amp;y=(2)\">Leave</a> \
                 https://mailer.test/unsubscribe/a_b-c.d~e?x=1&amp;y=(2)"
            ),
            "{}",
            out.html
        );
    }

    #[test]
    fn a_subject_stays_on_one_line() {
        let s = sender();
        let mut ctx = context(&s, "Bob");
        ctx.recipient.comment = "two\r\nlines".into();
        let out = render("About {{ client.comment }}", "x", &ctx).unwrap();
        assert_eq!(out.subject, "About two lines");
    }

    #[test]
    fn syntax_errors_are_located() {
        let found = errors("Hello", "Line one\nand {{ client.full_name }\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].field, found[0].line), (Field::Body, 2));
        assert!(found[0].message.starts_with("Syntax error"), "{found:?}");
    }

    #[test]
    fn plain_placeholders_get_a_helpful_message() {
        let found = errors(
            "Hi {{name}}",
            "Hello {name}, %email% and [first_name] [link](x)",
        );
        let messages: Vec<String> = found
            .iter()
            .map(|e| format!("Line {}, column {}: {}", e.line, e.column, e.message))
            .collect();
        assert_eq!(found.len(), 4, "{messages:?}");
        assert_eq!(
            messages[0],
            "Line 1, column 6: Unknown variable `name`. Did you mean {{ client.full_name }}?"
        );
        assert!(messages[1].starts_with("Line 1, column 7: `{name}` would be sent as typed"));
        assert!(messages[2].contains("{{ client.email }}"), "{messages:?}");
        assert!(messages[3].contains("[first_name]"), "{messages:?}");
        let found = errors("x", "Hi {{ client.nmae }}\n{{ sender.phone }}");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("`client` has no `nmae`"));
        assert_eq!((found[1].line, found[1].column), (2, 4));
    }

    #[test]
    fn the_known_variables_filters_and_attributes_pass() {
        validate(
            "{{ client.full_name | default('friend') }} — {{ today }}",
            "{% if client.comment %}{{ client.comment | upper }}{% endif %}\n\
             {{ client.attributes.city | default('') }} {{ sender.name }} {{ sender.postal }}\n\
             {% for i in range(3) %}{{ i }}{% endfor %} {{ now }} {{ unsubscribe_url }}\n\
             50% off, [a link](https://x.test) and {braces} stay.",
        )
        .unwrap();
    }

    #[test]
    fn loops_recursion_and_other_templates_fail_cleanly() {
        let found = errors(
            "x",
            "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
        );
        assert!(found[0].message.contains("too much work"), "{found:?}");
        let found = errors("x", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
        assert_eq!(found.len(), 1, "{found:?}");
        let found = errors("x", "{% include 'message' %}");
        assert!(found[0].message.contains("cannot include"), "{found:?}");
        let found = errors("x", "{% extends 'base.html' %}");
        assert!(!found.is_empty());
        let found = errors("x", "{{ 'x' * 100000000 }}");
        assert!(!found.is_empty(), "huge output refused");
    }

    #[test]
    fn a_large_plain_body_fits_the_budget() {
        let body = "ж".repeat(100_000);
        validate("x", &body).unwrap();
        let s = sender();
        let out = render("x", &body, &context(&s, "Bob")).unwrap();
        assert!(out.text.starts_with(&body));
    }

    #[test]
    fn a_missing_attribute_fails_at_render_time() {
        let s = sender();
        let compiled = Compiled::new("x", "{{ client.attributes.plan }}").unwrap();
        let e = compiled.render(&context(&s, "Bob")).unwrap_err();
        assert_eq!(e.0.field, Field::Body);
        let message = catalog().server_text(Lang::En, &e.0.message);
        assert!(message.contains("does not exist"), "{message}");
    }
}
