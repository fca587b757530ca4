//! Post bodies are Markdown written by content managers. They are rendered without raw HTML
//! (an `<script>` or `<img onerror>` typed into a post shows as text) and links or images
//! may only point at http(s), mail or this site: a post is shown to every visitor, so one
//! careless or compromised editor account must not be able to run script in their pages.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// The body as HTML that is safe to insert into a page.
pub fn to_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
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
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
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
    fn excerpt_is_plain_text_cut_at_a_character_boundary() {
        assert_eq!(
            excerpt("# Title\n\nSome **bold** text.", 100),
            "Title Some bold text."
        );
        assert_eq!(excerpt("Привет, мир и все остальные", 10), "Привет, м…");
    }
}
