//! Consent: a recipient can say stop, and is never mailed by that owner again.
//!
//! Every mailing e-mail carries a per-recipient link (and the `List-Unsubscribe` headers of
//! RFC 2369 and RFC 8058 for the mail provider's one-click button). The link's token names
//! the owner and the client and is signed with HMAC-SHA256 under the secret key, so it is
//! checked without a database lookup, cannot be guessed, and cannot be turned into another
//! client's. Unsubscribing puts the client's address on its owner's suppression list
//! (`suppressions`), kept by address: it outlives deleting and importing the client again,
//! and the delivery claim skips every address on it (see `delivery::stop`).

pub mod routes;
pub mod service;

use secrecy::SecretString;

use crate::accounts::tokens::{self, Purpose, TokenError};

/// Whom an unsubscribe link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub owner_id: i32,
    pub client_id: i32,
}

/// Builds the unsubscribe links of outgoing mail.
#[derive(Clone)]
pub struct Links {
    key: SecretString,
    /// The site's public address, without a trailing slash.
    base: String,
}

impl Links {
    pub fn new(key: SecretString, base: &str) -> Self {
        Self {
            key,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The links of this instance: its secret key, its public address.
    pub fn of(state: &crate::state::AppState) -> Self {
        Self::new(state.secret_key.clone(), &state.config.public_url())
    }

    /// The page where `recipient` unsubscribes (and where a one-click POST goes).
    pub fn unsubscribe_url(&self, recipient: Recipient) -> String {
        format!("{}/unsubscribe/{}", self.base, token(&self.key, recipient))
    }
}

/// The signed token of `recipient`'s link.
pub fn token(key: &SecretString, recipient: Recipient) -> String {
    tokens::seal(
        key,
        Purpose::Unsubscribe,
        &format!("{}.{}", recipient.owner_id, recipient.client_id),
    )
}

/// Whom a token is for, if it is one of ours.
pub fn read_token(key: &SecretString, token: &str) -> Result<Recipient, TokenError> {
    let payload = tokens::open(key, Purpose::Unsubscribe, token)?;
    let (owner, client) = payload.split_once('.').ok_or(TokenError::Malformed)?;
    Ok(Recipient {
        owner_id: owner.parse().map_err(|_| TokenError::Malformed)?,
        client_id: client.parse().map_err(|_| TokenError::Malformed)?,
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
        };
        let t = token(&key(), ann);
        assert_eq!(read_token(&key(), &t), Ok(ann));
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
        });
        assert!(
            url.starts_with("https://mail.example.com/unsubscribe/"),
            "{url}"
        );
    }
}
