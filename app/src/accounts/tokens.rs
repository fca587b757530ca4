//! Signed, expiring, single-purpose tokens for e-mail links (verification, password reset,
//! new password). Nothing is stored: the token carries the user id, the expiry and a
//! fingerprint of the account state it was issued for, and is signed with HMAC-SHA256 under
//! the secret key. When that state changes (the password, the verified flag) the fingerprint
//! no longer matches and the token is dead — which also makes each token single-use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    ResetPassword,
    NewPassword,
    /// A recipient's unsubscribe link (see `consent`): no expiry, no state.
    Unsubscribe,
    /// The VERP envelope sender of a delivery (see `bounces`).
    ReturnPath,
    /// A recipient's `mailto:` unsubscribe address (see `bounces`).
    UnsubscribeMail,
    /// Confirms a user's reply-to address (see `accounts::sender`).
    ReplyTo,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::ResetPassword => "reset",
            Purpose::NewPassword => "newpw",
            Purpose::Unsubscribe => "unsub",
            Purpose::ReturnPath => "verp",
            Purpose::UnsubscribeMail => "unsubmail",
            Purpose::ReplyTo => "replyto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("This link is not valid. Check that you copied all of it.")]
    Malformed,
    #[error("This link is not valid.")]
    BadSignature,
    #[error("This link has expired. Ask for a new one.")]
    Expired,
    #[error("This link has already been used.")]
    Used,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user_id: i32,
    pub fingerprint: String,
    pub expires_at: i64,
}

/// A short digest of account state, e.g. the password hash: enough to notice a change.
pub fn fingerprint(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(key: &SecretString, purpose: Purpose, payload: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(purpose.tag().as_bytes());
    mac.update(b"|");
    mac.update(payload.as_bytes());
    mac
}

/// `payload`, signed for `purpose`: anyone can read it, nobody without the key can make
/// or change one.
pub fn seal(key: &SecretString, purpose: Purpose, payload: &str) -> String {
    let payload = B64.encode(payload);
    let signature = B64.encode(mac(key, purpose, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// A short signature of `payload` for `purpose`: the HMAC truncated to 8 bytes, in lower
/// case hex (16 characters) — for e-mail addresses, whose local part is short (64 octets)
/// and whose case some servers do not keep.
pub fn short_tag(key: &SecretString, purpose: Purpose, payload: &str) -> String {
    let full = mac(key, purpose, payload).finalize().into_bytes();
    full[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `tag` is [`short_tag`] of `payload` (any case), compared in constant time.
pub fn check_short_tag(key: &SecretString, purpose: Purpose, payload: &str, tag: &str) -> bool {
    let expected = short_tag(key, purpose, payload);
    let tag = tag.to_ascii_lowercase();
    expected.len() == tag.len()
        && expected
            .bytes()
            .zip(tag.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The payload of a token [`seal`]ed for `purpose` under `key`.
pub fn open(key: &SecretString, purpose: Purpose, token: &str) -> Result<String, TokenError> {
    let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let signature = B64.decode(signature).map_err(|_| TokenError::Malformed)?;
    mac(key, purpose, payload)
        .verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
    String::from_utf8(payload).map_err(|_| TokenError::Malformed)
}

pub fn sign(
    key: &SecretString,
    purpose: Purpose,
    user_id: i32,
    fingerprint: &str,
    expires_at: DateTime<Utc>,
) -> String {
    seal(
        key,
        purpose,
        &format!("{user_id}.{}.{fingerprint}", expires_at.timestamp()),
    )
}

/// Checks the signature and the expiry; the caller compares the fingerprint with the
/// account's current state.
pub fn verify(key: &SecretString, purpose: Purpose, token: &str) -> Result<Claims, TokenError> {
    let payload = open(key, purpose, token)?;
    let mut parts = payload.splitn(3, '.');
    let (Some(user_id), Some(expires_at), Some(fingerprint)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let user_id = user_id.parse().map_err(|_| TokenError::Malformed)?;
    let expires_at: i64 = expires_at.parse().map_err(|_| TokenError::Malformed)?;
    if expires_at <= Utc::now().timestamp() {
        return Err(TokenError::Expired);
    }
    Ok(Claims {
        user_id,
        fingerprint: fingerprint.to_owned(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn key() -> SecretString {
        SecretString::from("k".repeat(40))
    }

    #[test]
    fn a_signed_token_verifies_for_its_purpose_only() {
        let exp = Utc::now() + Duration::hours(1);
        let token = sign(&key(), Purpose::ResetPassword, 7, "abc", exp);
        let claims = verify(&key(), Purpose::ResetPassword, &token).unwrap();
        assert_eq!(claims.user_id, 7);
        assert_eq!(claims.fingerprint, "abc");
        assert_eq!(
            verify(&key(), Purpose::Verify, &token),
            Err(TokenError::BadSignature)
        );
        let other_key = SecretString::from("x".repeat(40));
        assert_eq!(
            verify(&other_key, Purpose::ResetPassword, &token),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn tampered_expired_and_garbage_tokens_fail() {
        let exp = Utc::now() + Duration::hours(1);
        let token = sign(&key(), Purpose::Verify, 7, "abc", exp);
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", B64.encode(format!("8.{}.abc", exp.timestamp())));
        assert_eq!(
            verify(&key(), Purpose::Verify, &forged),
            Err(TokenError::BadSignature)
        );
        let old = sign(
            &key(),
            Purpose::Verify,
            7,
            "abc",
            Utc::now() - Duration::seconds(1),
        );
        assert_eq!(
            verify(&key(), Purpose::Verify, &old),
            Err(TokenError::Expired)
        );
        for junk in ["", ".", "abc", "a.b", "%%%.%%%"] {
            assert!(verify(&key(), Purpose::Verify, junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn fingerprints_change_with_the_state() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
        assert_eq!(fingerprint("a").len(), 24);
    }
}
