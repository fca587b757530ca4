//! Reading bounce mail: delivery status notifications (RFC 3464, `multipart/report;
//! report-type=delivery-status`), abuse reports (ARF, RFC 5965, `report-type=feedback-report`)
//! and the classic non-MIME bounce of Exim ("Mail delivery failed: returning message to
//! sender", with `X-Failed-Recipients`), with `mail-parser` for the MIME structure. What a
//! notice says is separated from whom it is about: [`Notice::addresses`] are the places a
//! VERP address or an unsubscribe address may hide (the envelope recipient headers, the
//! original message's return path and recipients), and [`Notice::message_ids`] the original
//! message's Message-ID, for [`super::service`] to match against deliveries.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::{classify_status, enhanced_code};
use crate::entities::feedback::Kind;

/// The largest message read (a bounce carries the original message; ours are small).
pub const MAX_SIZE: usize = 10 * 1024 * 1024;

/// What one piece of inbound mail says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notice {
    /// One per failed (or delayed) recipient of a DSN, or the complaint of an ARF report.
    /// Empty for plain mail (an unsubscribe request, say) and for reports of success.
    pub events: Vec<Event>,
    /// Whether this was a report at all (a DSN, an ARF report or a classic bounce).
    pub is_report: bool,
    /// Addresses that may be ours, best first: the envelope recipients and `To` of the
    /// notice, then the original message's return path and recipients.
    pub addresses: Vec<String>,
    /// The Message-ID of the original message (without angle brackets), when attached.
    pub message_ids: Vec<String>,
}

/// One thing a notice reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    /// The address it is about, as the report names it (`Final-Recipient`,
    /// `Original-Rcpt-To`, `X-Failed-Recipients`), lower case.
    pub recipient: Option<String>,
    /// What the report says, for the owner to read (status and diagnostic, or the
    /// feedback type).
    pub detail: String,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("message larger than {} MB", MAX_SIZE / 1024 / 1024)]
    TooLarge,
    #[error("not an e-mail message (no header block)")]
    NotMail,
}

/// Reads `raw` (RFC 5322 bytes). Never panics; anything that is not an e-mail is an error,
/// an e-mail that is no report is a [`Notice`] without events.
pub fn parse(raw: &[u8]) -> Result<Notice, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if raw.len() > MAX_SIZE {
        return Err(ParseError::TooLarge);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NotMail)?;
    // mail-parser takes anything: an e-mail has at least a From, a To or a Subject.
    let known = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Content-Type",
    ];
    if !known.iter().any(|h| message.header_raw(*h).is_some()) {
        return Err(ParseError::NotMail);
    }
    let mut notice = Notice::default();
    for header in [
        "X-Original-To",
        "Delivered-To",
        "Envelope-To",
        "X-Envelope-To",
    ] {
        for value in raw_values(&message, header) {
            push_addresses(&mut notice.addresses, &value);
        }
    }
    if let Some(to) = message.to() {
        for a in to.iter() {
            if let Some(address) = &a.address {
                push_address(&mut notice.addresses, address);
            }
        }
    }
    let report_type = message
        .root_part()
        .content_type()
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
        .filter(|ct| {
            ct.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .and_then(|ct| ct.attribute("report-type"))
        .map(str::to_ascii_lowercase);
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let (ctype, subtype) = (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        );
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                notice.is_report = true;
                delivery_status(&mut notice, part.contents());
            }
            ("message", "feedback-report") => {
                notice.is_report = true;
                feedback_report(&mut notice, part.contents());
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(original) = &part.body {
                    original_headers(&mut notice, original);
                }
            }
            ("text", "rfc822-headers") | ("message", "rfc822-headers") => {
                if let Some(original) = MessageParser::default().parse_headers(part.contents()) {
                    original_headers(&mut notice, &original);
                }
            }
            _ => {}
        }
    }
    if report_type.is_none() && !notice.is_report {
        classic_bounce(&mut notice, &message);
    }
    Ok(notice)
}

/// The values of header `name` (every occurrence), unfolded.
fn raw_values(message: &Message<'_>, name: &str) -> Vec<String> {
    message
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Every `local@domain` in `text` (angle brackets, display names and `rfc822;` prefixes
/// stripped).
fn push_addresses(list: &mut Vec<String>, text: &str) {
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>')) {
        let word = word.trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | '.'));
        if word.contains('@') {
            push_address(list, word);
        }
    }
}

fn push_address(list: &mut Vec<String>, address: &str) {
    let address = address.trim().to_ascii_lowercase();
    if address.contains('@') && !list.contains(&address) {
        list.push(address);
    }
}

/// The fields of a report part: groups separated by blank lines, each a list of
/// `Name: value` (continuation lines unfolded), names lower case.
fn field_groups(body: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(body);
    let mut groups: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim().is_empty() {
            if groups.last().is_some_and(|g| !g.is_empty()) {
                groups.push(Vec::new());
            }
            continue;
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `rfc822; a@b.test` → `a@b.test`.
fn typed_address(value: &str) -> String {
    value
        .split_once(';')
        .map_or(value, |(_, a)| a)
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

/// RFC 3464: a per-message group, then one group per recipient.
fn delivery_status(notice: &mut Notice, body: &[u8]) {
    let groups = field_groups(body);
    for group in &groups {
        if let Some(envelope) = field(group, "original-envelope-id") {
            push_addresses(&mut notice.addresses, envelope);
        }
        let Some(action) = field(group, "action") else {
            continue;
        };
        let action = action.to_ascii_lowercase();
        let status = field(group, "status").unwrap_or("");
        let diagnostic_code = field(group, "diagnostic-code").and_then(enhanced_code);
        // Exim says `Status: 5.0.0` and the real code in the diagnostic.
        let code = match enhanced_code(status) {
            Some((class, 0, 0)) => diagnostic_code
                .filter(|d| d.0 == class)
                .or(Some((class, 0, 0))),
            code => code.or(diagnostic_code),
        };
        let kind = match action.split_whitespace().next().unwrap_or("") {
            "failed" => match code {
                Some(code) => classify_status(code),
                None => Some(Kind::SoftBounced),
            },
            // Not failed yet: counts as a soft bounce.
            "delayed" => Some(Kind::SoftBounced),
            // delivered, relayed, expanded: nothing wrong.
            _ => None,
        };
        let Some(kind) = kind else { continue };
        let recipient = field(group, "final-recipient")
            .or_else(|| field(group, "original-recipient"))
            .map(typed_address);
        let diagnostic = field(group, "diagnostic-code").map(|d| {
            d.split_once(';')
                .map_or(d, |(_, text)| text)
                .trim()
                .to_owned()
        });
        let detail = match diagnostic {
            Some(d) if !d.is_empty() => format!("{action} {status}: {d}"),
            _ => format!("{action} {status}"),
        };
        notice.events.push(Event {
            kind,
            recipient,
            detail: clip(&detail),
        });
    }
}

/// RFC 5965: one group of fields. Every feedback type but `not-spam` is a complaint.
fn feedback_report(notice: &mut Notice, body: &[u8]) {
    let fields: Vec<(String, String)> = field_groups(body).into_iter().flatten().collect();
    let feedback_type = field(&fields, "feedback-type")
        .unwrap_or("abuse")
        .to_ascii_lowercase();
    for name in ["original-mail-from", "original-rcpt-to"] {
        if let Some(value) = field(&fields, name) {
            push_addresses(&mut notice.addresses, value);
        }
    }
    if feedback_type == "not-spam" {
        return;
    }
    let recipient = field(&fields, "original-rcpt-to").map(typed_address);
    let source = field(&fields, "user-agent").unwrap_or("");
    notice.events.push(Event {
        kind: Kind::Complained,
        recipient,
        detail: clip(format!("complaint ({feedback_type}) {source}").trim()),
    });
}

/// The attached original message (or its headers): its return path, recipients and
/// Message-ID.
fn original_headers(notice: &mut Notice, original: &Message<'_>) {
    for header in ["Return-Path", "X-Original-To", "Delivered-To"] {
        for value in raw_values(original, header) {
            push_addresses(&mut notice.addresses, &value);
        }
    }
    for value in raw_values(original, "To") {
        push_addresses(&mut notice.addresses, &value);
    }
    if let Some(id) = original.message_id() {
        let id = id.trim().trim_start_matches('<').trim_end_matches('>');
        if !id.is_empty() && !notice.message_ids.iter().any(|m| m == id) {
            notice.message_ids.push(id.to_owned());
        }
    }
}

/// The marker before the copy of the original message in Exim's classic bounce.
const EXIM_COPY: &str = "------ This is a copy of the message";

/// Exim's classic bounce: `X-Failed-Recipients`, the reason in the text, the original
/// message after a marker line.
fn classic_bounce(notice: &mut Notice, message: &Message<'_>) {
    let failed = raw_values(message, "X-Failed-Recipients");
    if failed.is_empty() {
        return;
    }
    notice.is_report = true;
    let text = message.body_text(0).unwrap_or_default();
    let (reason, copy) = match text.find(EXIM_COPY) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (&text[..], None),
    };
    let code = enhanced_code(reason);
    let kind = match code {
        Some(code) => classify_status(code),
        // "retry timeout exceeded" and the like: a soft failure.
        None => Some(Kind::SoftBounced),
    };
    if let Some(copy) = copy {
        // After the marker line, the original headers (and body).
        let original = copy.split_once('\n').map_or("", |(_, rest)| rest);
        let original = original.trim_start_matches(['\r', '\n']);
        if let Some(original) = MessageParser::default().parse_headers(original.as_bytes()) {
            original_headers(notice, &original);
        }
    }
    let Some(kind) = kind else { return };
    let mut lines = reason.lines().map(str::trim);
    let diagnostic = lines
        .clone()
        .find(|l| enhanced_code(l).is_some())
        .or_else(|| lines.find(|l| l.contains("SMTP error")))
        .unwrap_or("delivery failed");
    let mut recipients = Vec::new();
    for value in &failed {
        push_addresses(&mut recipients, value);
    }
    for recipient in recipients {
        notice.events.push(Event {
            kind,
            recipient: Some(recipient),
            detail: clip(&format!("failed: {diagnostic}")),
        });
    }
}

/// At most 500 characters of a detail.
fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERP: &str = "bounces+42.0123456789abcdef@mailer.test";

    /// A fixture of `tests/fixtures/bounces` with its placeholders filled in.
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/bounces/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read(path).unwrap();
        match String::from_utf8(raw) {
            Ok(text) => text
                .replace("{{TO}}", VERP)
                .replace("{{VERP}}", VERP)
                .replace("{{RCPT_LOCAL}}", "ann")
                .replace("{{RCPT}}", "Ann@Example.net")
                .replace("{{MESSAGE_ID}}", "<42.7@mailer.test>")
                .into_bytes(),
            Err(e) => e.into_bytes(),
        }
    }

    fn one_event(name: &str) -> (Notice, Event) {
        let notice = parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(notice.is_report, "{name}");
        assert_eq!(notice.events.len(), 1, "{name}: {:?}", notice.events);
        let event = notice.events[0].clone();
        (notice, event)
    }

    #[test]
    fn hard_bounces_of_every_shape_name_the_recipient_and_the_verp_address() {
        for name in [
            "postfix.eml",
            "exim-classic.eml",
            "exim-dsn.eml",
            "gmail.eml",
            "outlook.eml",
        ] {
            let (notice, event) = one_event(name);
            assert_eq!(event.kind, Kind::Bounced, "{name}: {event:?}");
            assert_eq!(
                event.recipient.as_deref(),
                Some("ann@example.net"),
                "{name}"
            );
            assert!(
                event.detail.contains("5.1.1") || event.detail.contains("5.1.10"),
                "{name}: {}",
                event.detail
            );
            assert!(
                notice.addresses.contains(&VERP.to_owned()),
                "{name}: {:?}",
                notice.addresses
            );
            assert_eq!(notice.message_ids, ["42.7@mailer.test"], "{name}");
        }
    }

    #[test]
    fn a_delay_is_a_soft_bounce_and_an_abuse_report_a_complaint() {
        let (_, event) = one_event("soft-delayed.eml");
        assert_eq!(event.kind, Kind::SoftBounced);
        assert!(event.detail.contains("4.2.2"), "{}", event.detail);
        let (notice, event) = one_event("yahoo-arf.eml");
        assert_eq!(event.kind, Kind::Complained);
        assert_eq!(event.recipient.as_deref(), Some("ann@example.net"));
        assert!(
            notice.addresses.contains(&VERP.to_owned()),
            "{:?}",
            notice.addresses
        );
        assert_eq!(notice.message_ids, ["42.7@mailer.test"]);
    }

    #[test]
    fn plain_mail_is_no_report_and_garbage_is_refused_without_a_panic() {
        let notice = parse(&fixture("unsubscribe.eml")).unwrap();
        assert!(!notice.is_report);
        assert!(notice.events.is_empty());
        assert_eq!(notice.addresses, [VERP]);
        for name in ["garbage-not-mime.txt", "garbage-binary.bin"] {
            assert_eq!(parse(&fixture(name)), Err(ParseError::NotMail), "{name}");
        }
        for name in ["garbage-truncated.eml", "garbage-huge-header.eml"] {
            let notice = parse(&fixture(name)).unwrap();
            assert!(notice.events.is_empty(), "{name}");
            assert!(!notice.is_report, "{name}");
        }
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(&vec![b'a'; MAX_SIZE + 1]), Err(ParseError::TooLarge));
        // Every prefix of a real report parses without a panic.
        let raw = fixture("gmail.eml");
        for end in (0..raw.len()).step_by(7) {
            let _ = parse(&raw[..end]);
        }
    }
}
