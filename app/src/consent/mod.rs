//! Consent: a recipient can say stop, and is never mailed by that owner again.
//!
//! Every mailing e-mail carries a per-recipient link (and the `List-Unsubscribe` headers of
//! RFC 2369 and RFC 8058 for the mail provider's one-click button). The link's token names
//! the owner and the client and is signed with HMAC-SHA256 under the secret key, so it is
//! checked without a database lookup, cannot be guessed, and cannot be turned into another
//! client's. Unsubscribing puts the client's address on its owner's suppression list
//! (`suppressions`), kept by address: it outlives deleting and importing the client again,
//! and the delivery claim skips every address on it (see `delivery::stop`).

pub mod list;
pub mod pages;
pub mod routes;
pub mod service;

use secrecy::SecretString;

use crate::web::Site;

use crate::accounts::tokens::{self, Purpose, TokenError};

/// The owner's suppression-list pages. (The recipients' unsubscribe pages are outside the
/// site's sessions and CSRF guard: the server nests [`routes::routes`] itself.)
pub fn routes(site: Site) -> Site {
    site.page("/suppressions", pages::show_list)
        .action("/suppressions/new", pages::add_entry)
        .form(
            "/suppressions/:id/delete",
            pages::confirm_remove,
            pages::remove_entry,
        )
        .form(
            "/suppressions/import",
            pages::import_form,
            pages::import_file,
        )
        .page("/suppressions/export.csv", pages::export_list)
}

/// Whom an unsubscribe link is for, and the mailing whose e-mail carried it (for the
/// reports; links made before mailings were named carry none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub owner_id: i32,
    pub client_id: i32,
    pub mailing_id: Option<i32>,
}

/// The token of the unsubscribe link in previews and test e-mails: its page says so and
/// changes nothing.
pub const PREVIEW_TOKEN: &str = "preview";

/// Builds the unsubscribe links of outgoing mail (and, through `inbound`, its VERP return
/// path and `mailto:` unsubscribe address: see `bounces`).
#[derive(Clone)]
pub struct Links {
    key: SecretString,
    /// The site's public address, without a trailing slash.
    base: String,
    pub inbound: crate::bounces::Addresses,
}

impl Links {
    pub fn new(key: SecretString, base: &str) -> Self {
        Self {
            inbound: crate::bounces::Addresses::new(key.clone(), "bounces@localhost"),
            key,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The links of this instance: its secret key, its public address, its inbound address.
    pub fn of(state: &crate::state::AppState) -> Self {
        Self {
            inbound: crate::bounces::Addresses::of(state),
            ..Self::new(state.secret_key.clone(), &state.config.public_url())
        }
    }

    /// The page where `recipient` unsubscribes (and where a one-click POST goes).
    pub fn unsubscribe_url(&self, recipient: Recipient) -> String {
        format!("{}/unsubscribe/{}", self.base, token(&self.key, recipient))
    }
}

/// The signed token of `recipient`'s link.
pub fn token(key: &SecretString, recipient: Recipient) -> String {
    let payload = match recipient.mailing_id {
        Some(mailing) => format!("{}.{}.{mailing}", recipient.owner_id, recipient.client_id),
        None => format!("{}.{}", recipient.owner_id, recipient.client_id),
    };
    tokens::seal(key, Purpose::Unsubscribe, &payload)
}

/// Whom a token is for, if it is one of ours.
pub fn read_token(key: &SecretString, token: &str) -> Result<Recipient, TokenError> {
    let payload = tokens::open(key, Purpose::Unsubscribe, token)?;
    let mut parts = payload.split('.');
    let mut id = || -> Result<Option<i32>, TokenError> {
        parts
            .next()
            .map(|p| p.parse().map_err(|_| TokenError::Malformed))
            .transpose()
    };
    let owner_id = id()?.ok_or(TokenError::Malformed)?;
    let client_id = id()?.ok_or(TokenError::Malformed)?;
    let mailing_id = id()?;
    if id()?.is_some() {
        return Err(TokenError::Malformed);
    }
    Ok(Recipient {
        owner_id,
        client_id,
        mailing_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretString {
        SecretString::from("k".repeat(40))
    }

    #[test]
    fn a_token_names_its_recipient_and_no_other() {
        let ann = Recipient {
            owner_id: 3,
            client_id: 17,
            mailing_id: Some(5),
        };
        let t = token(&key(), ann);
        assert_eq!(read_token(&key(), &t), Ok(ann));
        // A link made before links named their mailing still works.
        let old = Recipient {
            mailing_id: None,
            ..ann
        };
        assert_eq!(read_token(&key(), &token(&key(), old)), Ok(old));
        // Another client's payload under this signature.
        let (_, signature) = t.split_once('.').unwrap();
        let forged = format!("{}.{signature}", {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("3.18")
        });
        assert_eq!(read_token(&key(), &forged), Err(TokenError::BadSignature));
        let other_key = SecretString::from("x".repeat(40));
        assert_eq!(read_token(&other_key, &t), Err(TokenError::BadSignature));
        assert_eq!(read_token(&key(), "garbage"), Err(TokenError::Malformed));
        // A token of another purpose does not unsubscribe anybody.
        let reset = tokens::seal(&key(), Purpose::ResetPassword, "3.17");
        assert_eq!(read_token(&key(), &reset), Err(TokenError::BadSignature));
    }

    #[test]
    fn links_point_at_the_public_address() {
        let links = Links::new(key(), "https://mail.example.com/");
        let url = links.unsubscribe_url(Recipient {
            owner_id: 1,
            client_id: 2,
            mailing_id: None,
        });
        assert!(
            url.starts_with("https://mail.example.com/unsubscribe/"),
            "{url}"
        );
    }
}
