//! Bounces and complaints: what receiving servers and recipients say back by mail.
//!
//! - **Synchronous**: a 5xx to RCPT TO (or the end of DATA) whose enhanced status code
//!   (RFC 3463) says the mailbox does not exist is recorded as a bounce by the delivery
//!   recorder, in its own transaction ([`classify_reply`], used by `delivery::send`).
//! - **Asynchronous**: every mailing e-mail goes out with a VERP envelope sender,
//!   `bounces+<delivery>.<mac>@<domain>` ([`Addresses`]), so a delivery status notification
//!   (RFC 3464) or an abuse report (ARF, RFC 5965) names its delivery, and a forged one
//!   cannot (the MAC is an HMAC under the secret key). Such mail is read from an IMAP
//!   mailbox ([`imap`]: the worker polls it; `mailer bounces --once`) or posted raw by an
//!   MTA's pipe to `POST /bounces/inbound` ([`routes`]), parsed ([`parse`]) and applied to
//!   the feedback log and suppression list ([`service`]).
//! - **Unsubscribe by mail**: `List-Unsubscribe` also names
//!   `mailto:unsubscribe+<owner>.<client>.<mailing>.<mac>@<domain>`; a mail to it
//!   unsubscribes that recipient.
//!
//! Soft bounces (a full mailbox, a deferral to the end, `Action: delayed`) only count; an
//! address with `MAILER_BOUNCES__SOFT_LIMIT` of them is suppressed as bounced.

pub mod imap;
pub mod parse;
pub mod routes;
pub mod service;

use secrecy::SecretString;

use crate::accounts::tokens::{self, Purpose};
use crate::consent::Recipient;
use crate::entities::feedback::Kind;

/// The local part that carries unsubscribe tokens.
const UNSUBSCRIBE: &str = "unsubscribe";

/// The inbound addresses of outgoing mail: the VERP envelope sender of each delivery and
/// the `mailto:` unsubscribe address of each recipient, both signed.
#[derive(Clone)]
pub struct Addresses {
    key: SecretString,
    /// Local part of the bounce address (`bounces`), lower case.
    local: String,
    /// Its domain, lower case.
    domain: String,
    /// `MAILER_BOUNCES__SOFT_LIMIT`.
    soft_limit: u32,
}

impl Addresses {
    /// `address` is `local@domain` (checked at start-up).
    pub fn new(key: SecretString, address: &str) -> Self {
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, "localhost"));
        Self {
            key,
            local: local.to_ascii_lowercase(),
            domain: domain.to_ascii_lowercase(),
            soft_limit: 3,
        }
    }

    /// Soft bounces that suppress an address (`MAILER_BOUNCES__SOFT_LIMIT`).
    pub fn soft_limit(&self) -> u32 {
        self.soft_limit
    }

    /// The addresses of this instance: `MAILER_BOUNCES__ADDRESS`, or `bounces@` the domain
    /// of `MAILER_MAIL_FROM`.
    pub fn of(state: &crate::state::AppState) -> Self {
        Self {
            soft_limit: state.config.bounces.soft_limit,
            ..Self::new(state.secret_key.clone(), &inbound_address(&state.config))
        }
    }

    /// The envelope sender of delivery `id`.
    pub fn return_path(&self, delivery_id: i64) -> String {
        let payload = delivery_id.to_string();
        let tag = tokens::short_tag(&self.key, Purpose::ReturnPath, &payload);
        format!("{}+{payload}.{tag}@{}", self.local, self.domain)
    }

    /// The `mailto:` address that unsubscribes `who`.
    pub fn unsubscribe_address(&self, who: Recipient) -> String {
        let payload = recipient_payload(who);
        let tag = tokens::short_tag(&self.key, Purpose::UnsubscribeMail, &payload);
        format!("{UNSUBSCRIBE}+{payload}.{tag}@{}", self.domain)
    }

    /// What an address of ours names, if it is one with a valid signature.
    pub fn read(&self, address: &str) -> Option<Named> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = address.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let (prefix, token) = local.split_once('+')?;
        let (payload, tag) = token.rsplit_once('.')?;
        if prefix.eq_ignore_ascii_case(&self.local) {
            let id: i64 = payload.parse().ok()?;
            return tokens::check_short_tag(&self.key, Purpose::ReturnPath, payload, tag)
                .then_some(Named::Delivery(id));
        }
        if prefix.eq_ignore_ascii_case(UNSUBSCRIBE) {
            let who = read_recipient(payload)?;
            return tokens::check_short_tag(&self.key, Purpose::UnsubscribeMail, payload, tag)
                .then_some(Named::Unsubscribe(who));
        }
        None
    }
}

/// What one of our inbound addresses stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// The return path of this delivery: mail to it is a bounce or a report about it.
    Delivery(i64),
    /// The recipient's `mailto:` unsubscribe address.
    Unsubscribe(Recipient),
}

fn recipient_payload(who: Recipient) -> String {
    format!(
        "{}.{}.{}",
        who.owner_id,
        who.client_id,
        who.mailing_id.unwrap_or(0)
    )
}

fn read_recipient(payload: &str) -> Option<Recipient> {
    let mut parts = payload.split('.');
    let owner_id = parts.next()?.parse().ok()?;
    let client_id = parts.next()?.parse().ok()?;
    let mailing: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(Recipient {
        owner_id,
        client_id,
        mailing_id: (mailing != 0).then_some(mailing),
    })
}

/// `MAILER_BOUNCES__ADDRESS`, or `bounces@` the domain of `MAILER_MAIL_FROM`.
pub fn inbound_address(config: &crate::config::Config) -> String {
    if let Some(address) = &config.bounces.address {
        return address.clone();
    }
    let domain = config
        .sender()
        .map(|m| m.email.domain().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!("bounces@{domain}")
}

/// The enhanced status code (RFC 3463, `class.subject.detail`) at the start of an SMTP
/// reply text or anywhere in a diagnostic, e.g. `5.1.1` in `550 5.1.1 <a@b>: User unknown`.
pub fn enhanced_code(text: &str) -> Option<(u8, u16, u16)> {
    // `550-5.1.1`: a multi-line reply's continuation.
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | '-' | '\'' | '=')
    })
    .find_map(|word| {
        let word = word.trim_end_matches([':', '.']);
        let mut parts = word.split('.');
        let class: u8 = parts.next()?.parse().ok()?;
        let subject: u16 = parts.next()?.parse().ok()?;
        let detail: u16 = parts.next()?.parse().ok()?;
        (parts.next().is_none() && matches!(class, 2 | 4 | 5) && subject < 1000)
            .then_some((class, subject, detail))
    })
}

/// What a failure with this enhanced status code says about the address: a hard bounce
/// (the mailbox does not exist or the address is bad: X.1.1, X.1.2, X.1.3, X.1.6, X.1.10,
/// X.2.1 disabled, in class 5), a soft one (any other failure: a full mailbox, a
/// deferral, a policy refusal), or nothing (success).
pub fn classify_status(code: (u8, u16, u16)) -> Option<Kind> {
    match code {
        (2, _, _) => None,
        (5, 1, 1 | 2 | 3 | 6 | 10) | (5, 2, 1) => Some(Kind::Bounced),
        _ => Some(Kind::SoftBounced),
    }
}

/// What a failed send's reply says about the recipient, for the delivery recorder: a hard
/// bounce for a 5xx whose enhanced code says the mailbox is not there (a bare 550 without
/// one says too little: it is also the code of many policy refusals), a soft bounce for a
/// per-recipient failure that ends the delivery (4xx deferred to the end; a 5xx for a full
/// or over-quota mailbox, X.2.2 / X.3.1), and nothing for the rest (our own errors, the
/// server's troubles, policy refusals, which are no fault of the address).
pub fn classify_reply(code: Option<u16>, text: &str, deferred: bool) -> Option<Kind> {
    let code = code?;
    let enhanced = enhanced_code(text);
    match (code / 100, enhanced) {
        (5, Some(e @ (5, _, _))) => match classify_status(e) {
            Some(Kind::Bounced) => Some(Kind::Bounced),
            _ if matches!(e, (5, 2, 2) | (5, 3, 1)) => Some(Kind::SoftBounced),
            _ => None,
        },
        (4, _) if deferred => Some(Kind::SoftBounced),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses() -> Addresses {
        Addresses::new(
            SecretString::from("k".repeat(40)),
            "Bounces@Mail.Example.com",
        )
    }

    #[test]
    fn a_return_path_names_its_delivery_and_cannot_be_forged() {
        let a = addresses();
        let verp = a.return_path(12345);
        assert!(verp.starts_with("bounces+12345."), "{verp}");
        assert!(verp.ends_with("@mail.example.com"), "{verp}");
        assert!(verp.split('@').next().unwrap().len() <= 64);
        assert_eq!(a.read(&verp), Some(Named::Delivery(12345)));
        assert_eq!(
            a.read(&format!("<{}>", verp.to_uppercase())),
            Some(Named::Delivery(12345))
        );
        let forged = verp.replace("12345", "12346");
        assert_eq!(a.read(&forged), None);
        let other = Addresses::new(
            SecretString::from("x".repeat(40)),
            "bounces@mail.example.com",
        );
        assert_eq!(other.read(&verp), None);
        assert_eq!(a.read("bounces@mail.example.com"), None);
        assert_eq!(a.read(&verp.replace("example.com", "example.org")), None);
    }

    #[test]
    fn an_unsubscribe_address_names_its_recipient() {
        let a = addresses();
        let who = Recipient {
            owner_id: 3,
            client_id: 17,
            mailing_id: Some(5),
        };
        let mail = a.unsubscribe_address(who);
        assert!(mail.starts_with("unsubscribe+3.17.5."), "{mail}");
        assert_eq!(a.read(&mail), Some(Named::Unsubscribe(who)));
        assert_eq!(a.read(&mail.replace("3.17.5", "3.18.5")), None);
        // A return path's signature does not make an unsubscribe address.
        let verp = a.return_path(7);
        let tag = verp.split('.').nth(1).unwrap().split('@').next().unwrap();
        assert_eq!(
            a.read(&format!("unsubscribe+7.{tag}@mail.example.com")),
            None
        );
    }

    #[test]
    fn replies_are_classified_by_their_enhanced_code() {
        let hard = [
            "5.1.1 <a@b.test>: Recipient address rejected: User unknown",
            "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found",
            "Requested action not taken: mailbox unavailable (5.2.1)",
        ];
        for text in hard {
            assert_eq!(
                classify_reply(Some(550), text, false),
                Some(Kind::Bounced),
                "{text}"
            );
        }
        assert_eq!(
            classify_reply(Some(552), "5.2.2 Mailbox full", false),
            Some(Kind::SoftBounced)
        );
        assert_eq!(
            classify_reply(Some(452), "4.2.2 Mailbox full", true),
            Some(Kind::SoftBounced)
        );
        assert_eq!(
            classify_reply(Some(550), "5.7.1 Spam detected", false),
            None
        );
        assert_eq!(classify_reply(Some(550), "no such user", false), None);
        assert_eq!(classify_reply(None, "connection refused", false), None);
        assert_eq!(classify_reply(Some(451), "4.3.0 try later", false), None);
        assert_eq!(enhanced_code("Status: 5.1.1"), Some((5, 1, 1)));
        assert_eq!(enhanced_code("version 1.2.3"), None);
    }
}
