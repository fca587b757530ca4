//! Safe Markdown, for blog posts (written by content managers) and message bodies (written
//! by users, with their clients' values in them). Raw HTML is not rendered (an `<script>`
//! or `<img onerror>` typed into the source shows as text) and links or images may only
//! point at http(s), mail or this site: a post is shown to every visitor and an e-mail
//! goes to every client, so one careless or compromised account must not be able to run
//! script in their pages or hide markup in mail.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// The body as HTML that is safe to insert into a page.
pub fn to_html(source: &str) -> String {
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, safe_events(source));
    out
}

/// An e-mail body as HTML for the `text/html` part: what [`to_html`] makes, with a line
/// break where the source has one (people write mail as plain text, line by line) and
/// the inline styles mail programs keep (they drop `<style>` sheets and classes).
pub fn mail_html(source: &str) -> String {
    let events = safe_events(source).map(|event| match event {
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut plain = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut plain, events);
    inline_styles(&plain)
}

/// [`mail_html`] of a body in which placeholders — characters for which `is_placeholder`
/// holds — stand for values to be put in later: `None` unless every placeholder is plain
/// text there (not in code, raw HTML, a link's target or title), and the source defines no
/// link references. Then each placeholder is in the HTML exactly as written, and the HTML
/// of the body with a value in its place is this HTML with the value put in — provided
/// the value reads as plain text wherever it is (see `messages::template`).
pub fn mail_html_with_placeholders(
    source: &str,
    is_placeholder: impl Fn(char) -> bool,
) -> Option<String> {
    let options = markdown_options();
    let has = |text: &str| text.contains(&is_placeholder);
    let mut parser = Parser::new_ext(source, options);
    let mut in_code_block = false;
    for event in parser.by_ref() {
        let plain = match &event {
            Event::Text(text) => !(in_code_block && has(text)),
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                match kind {
                    pulldown_cmark::CodeBlockKind::Fenced(info) => !has(info),
                    pulldown_cmark::CodeBlockKind::Indented => true,
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                true
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            })
            | Event::Start(Tag::Image {
                dest_url, title, ..
            }) => !has(dest_url) && !has(title),
            Event::Code(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text)
            | Event::FootnoteReference(text) => !has(text),
            _ => true,
        };
        if !plain {
            return None;
        }
    }
    if parser.reference_definitions().iter().next().is_some() {
        return None;
    }
    Some(mail_html(source))
}

/// The style of each element [`mail_html`] may produce.
const MAIL_STYLES: [(&str, &str); 16] = [
    ("p", "margin:0 0 16px;"),
    ("a", "color:#0969da;text-decoration:underline;"),
    ("h1", "margin:0 0 16px;font-size:24px;line-height:1.25;"),
    ("h2", "margin:24px 0 12px;font-size:20px;line-height:1.25;"),
    ("h3", "margin:20px 0 8px;font-size:17px;line-height:1.25;"),
    ("ul", "margin:0 0 16px;padding-left:24px;"),
    ("ol", "margin:0 0 16px;padding-left:24px;"),
    ("li", "margin:0 0 4px;"),
    (
        "blockquote",
        "margin:0 0 16px;padding:0 0 0 12px;border-left:3px solid #d0d7de;color:#59636e;",
    ),
    (
        "pre",
        "margin:0 0 16px;padding:12px;background:#f6f8fa;border-radius:6px;overflow-x:auto;white-space:pre-wrap;",
    ),
    (
        "code",
        "font-family:SFMono-Regular,Consolas,monospace;font-size:14px;",
    ),
    ("img", "max-width:100%;height:auto;"),
    ("table", "border-collapse:collapse;margin:0 0 16px;"),
    ("th", "border:1px solid #d0d7de;padding:4px 8px;"),
    ("td", "border:1px solid #d0d7de;padding:4px 8px;"),
    (
        "hr",
        "border:none;border-top:1px solid #d0d7de;margin:24px 0;",
    ),
];

/// `html` (as the renderer writes it: every `<` of the text is escaped) with a `style`
/// attribute on each element of [`MAIL_STYLES`].
fn inline_styles(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 2);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let name_len = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        out.push('<');
        out.push_str(name);
        if let Some((_, style)) = MAIL_STYLES.iter().find(|(tag, _)| *tag == name) {
            out.push_str(" style=\"");
            out.push_str(style);
            out.push('"');
        }
        rest = &rest[1 + name_len..];
    }
    out.push_str(rest);
    out
}

/// The Markdown extensions every body may use.
fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The source's events with raw HTML turned into text and unsafe link targets dropped.
fn safe_events(source: &str) -> impl Iterator<Item = Event<'_>> {
    Parser::new_ext(source, markdown_options()).map(|event| match event {
        // Raw HTML is shown as the text it is.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    })
}

/// `url` when it is http(s), mailto or relative; `#` otherwise (`javascript:`, `data:`…).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme_end = lower.find([':', '/', '?', '#']);
    let has_scheme = scheme_end.is_some_and(|i| lower[i..].starts_with(':'));
    let allowed = !has_scheme
        || ["http:", "https:", "mailto:"]
            .iter()
            .any(|s| lower.starts_with(s));
    if allowed { url } else { CowStr::Borrowed("#") }
}

/// The first `max` characters of the body's text, without Markdown, for lists and cards.
pub fn excerpt(source: &str, max: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell,
            ) if !text.ends_with(' ') && !text.is_empty() => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max {
            break;
        }
    }
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html =
            to_html("Hello <script>alert(1)</script> *world*\n\n<img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<em>world</em>"), "{html}");
    }

    #[test]
    fn only_safe_link_targets_survive() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](https://example.com/x) [c](/blog/other) \
             [d](JavaScript:evil) [e](mailto:x@example.com) ![i](data:image/png;base64,AAA)",
        );
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://example.com/x""#), "{html}");
        assert!(html.contains(r#"href="/blog/other""#), "{html}");
        assert!(html.contains(r#"href="mailto:x@example.com""#), "{html}");
        assert_eq!(html.matches(r##"href="#""##).count(), 2, "{html}");
    }

    #[test]
    fn mail_html_keeps_line_breaks_and_styles_inline() {
        let html = mail_html("Hello,\nsee [this](https://x.test) <b>now</b>\n\n- a\n- b");
        assert!(html.contains("Hello,<br />"), "{html}");
        assert!(html.starts_with("<p style=\"margin:0 0 16px;\">"), "{html}");
        assert!(html.contains("<a style=\"color:#0969da;"), "{html}");
        assert!(html.contains("href=\"https://x.test\""), "{html}");
        assert!(html.contains("&lt;b&gt;now&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("<ul style=") && html.contains("</li>"),
            "{html}"
        );
    }

    #[test]
    fn excerpt_is_plain_text_cut_at_a_character_boundary() {
        assert_eq!(
            excerpt("# Title\n\nSome **bold** text.", 100),
            "Title Some bold text."
        );
        assert_eq!(excerpt("Привет, мир и все остальные", 10), "Привет, м…");
    }
}
