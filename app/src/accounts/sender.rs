//! Who a user's mailings come from. The From address is always the instance's own
//! (`MAILER_MAIL_FROM`: a sender may not forge another domain, and DKIM signs for the
//! instance's); the user chooses the display name beside it, the address replies go to —
//! used only once its owner has followed a link mailed to it — and the postal line at the
//! foot of each e-mail.

use chrono::{Duration, Utc};
use lettre::message::Mailbox;
use minijinja::context;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use validator::ValidateEmail;

use super::tokens::{self, Purpose, TokenError};
use super::{mails, throttle};
use crate::entities::user;
use crate::i18n::Lang;
use crate::messages::template::{Feet, Foot, Sender};
use crate::state::AppState;
use crate::validation::{FieldErrors, LINE_BREAK, breaks_line};

/// How long a reply-to confirmation link works.
pub const REPLY_TO_TTL: Duration = Duration::days(3);

/// What the sender form asks, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct SenderForm {
    #[serde(default)]
    pub sender_name: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub postal_address: String,
}

/// The form, checked and trimmed; the reply-to address is lower-cased, empty for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    name: String,
    reply_to: Option<String>,
    postal: String,
}

/// Checks every field; a bad one is an error beside it.
pub fn check(form: &SenderForm) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::default();
    errors.refuse_nul(&[
        ("sender_name", &form.sender_name),
        ("reply_to", &form.reply_to),
        ("postal_address", &form.postal_address),
    ]);
    let name = form.sender_name.trim().to_owned();
    if breaks_line(&name) {
        errors.add("sender_name", LINE_BREAK);
    } else if name.chars().count() > 100 {
        errors.add("sender_name", "Keep the name to 100 characters.");
    } else if name.contains(['<', '>', '@']) {
        errors.add(
            "sender_name",
            "Give a name only, without an address: the From address is this service's own.",
        );
    }
    let reply_to = form.reply_to.trim().to_lowercase();
    if !reply_to.is_empty() && (!reply_to.validate_email() || reply_to.len() > 254) {
        errors.add(
            "reply_to",
            "Enter a valid e-mail address, or leave it empty.",
        );
    }
    let postal = form.postal_address.trim().to_owned();
    if breaks_line(&postal) {
        errors.add("postal_address", "Keep the postal address on one line.");
    } else if postal.chars().count() > 300 {
        errors.add(
            "postal_address",
            "Keep the postal address to 300 characters.",
        );
    }
    errors.into_result()?;
    Ok(Checked {
        name,
        reply_to: (!reply_to.is_empty()).then_some(reply_to),
        postal,
    })
}

/// What saving did to the reply-to address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTo {
    /// As it was.
    Unchanged,
    /// Removed: replies go to the From address again.
    Cleared,
    /// A link to confirm it was mailed (`false`: one was mailed there lately, so none now);
    /// the old address stays in use until then.
    Pending { address: String, mailed: bool },
}

/// Saves the name and postal line at once; a new reply-to address is mailed a link and
/// used once it is followed.
pub async fn save(
    state: &AppState,
    user: &user::Model,
    checked: Checked,
) -> anyhow::Result<(user::Model, ReplyTo)> {
    let change = match &checked.reply_to {
        None if user.reply_to.is_none() => ReplyTo::Unchanged,
        None => ReplyTo::Cleared,
        Some(address) if user.reply_to.as_deref() == Some(address) => ReplyTo::Unchanged,
        Some(address) => ReplyTo::Pending {
            address: address.clone(),
            mailed: false,
        },
    };
    let mut active: user::ActiveModel = user.clone().into();
    active.sender_name = Set(checked.name);
    active.postal_address = Set(checked.postal);
    if change == ReplyTo::Cleared {
        active.reply_to = Set(None);
    }
    active.updated_at = Set(Utc::now());
    let saved = active.update(&state.db).await?;
    let change = match change {
        ReplyTo::Pending { address, .. } => {
            let mailed = throttle::may_mail(state, &address).await;
            if mailed {
                send_confirmation(state, &saved, &address).await?;
            }
            ReplyTo::Pending { address, mailed }
        }
        other => other,
    };
    Ok((saved, change))
}

async fn send_confirmation(
    state: &AppState,
    user: &user::Model,
    address: &str,
) -> anyhow::Result<()> {
    let expires = (Utc::now() + REPLY_TO_TTL).timestamp();
    let token = tokens::seal(
        &state.secret_key,
        Purpose::ReplyTo,
        &format!("{}.{expires}.{address}", user.id),
    );
    let link = format!("{}/account/reply-to/{token}", state.config.public_url());
    let ctx = context! { link => link, address => address, account => &user.email };
    let subject = "Confirm where replies to your mailings go";
    mails::enqueue_to(state, user, address, "confirm_reply_to", subject, ctx).await
}

/// Follows a reply-to confirmation link: the address it names becomes the user's
/// reply-to address. Following it again changes nothing.
pub async fn confirm(state: &AppState, token: &str) -> Result<user::Model, TokenError> {
    let payload = tokens::open(&state.secret_key, Purpose::ReplyTo, token)?;
    let mut parts = payload.splitn(3, '.');
    let (Some(user_id), Some(expires), Some(address)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let user_id: i32 = user_id.parse().map_err(|_| TokenError::Malformed)?;
    let expires: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    if Utc::now().timestamp() > expires {
        return Err(TokenError::Expired);
    }
    let user = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .ok_or(TokenError::BadSignature)?;
    if user.reply_to.as_deref() == Some(address) {
        return Ok(user);
    }
    let mut active: user::ActiveModel = user.into();
    active.reply_to = Set(Some(address.to_owned()));
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await.map_err(|e| {
        tracing::error!(error = %e, "cannot save the confirmed reply-to address");
        TokenError::Malformed
    })
}

/// Who one user's mailings come from, as each of their e-mails needs it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Their display name (or the instance's) with the instance's address.
    pub from: Mailbox,
    /// Their confirmed reply-to address, if any.
    pub reply_to: Option<Mailbox>,
    /// What templates see as `sender`; its postal line is theirs, else the instance's.
    pub sender: Sender,
}

impl Identity {
    /// `user`'s, on an instance that sends from `instance` with `instance_postal`
    /// (`MAILER_MAIL_POSTAL`) as the default postal line; the foot of their e-mails is in
    /// their language, one of `feet`.
    pub fn of(
        user: &user::Model,
        (instance, instance_postal): (&Mailbox, Option<&str>),
        feet: &Feet,
    ) -> Self {
        let from = from_mailbox(user, instance);
        let postal = Some(user.postal_address.as_str())
            .filter(|p| !p.trim().is_empty())
            .or(instance_postal);
        let lang = user.language.as_deref().and_then(Lang::parse);
        Self {
            sender: Sender::new(&from, postal, feet.get(lang)),
            reply_to: reply_to_mailbox(user),
            from,
        }
    }

    /// The instance's own, for mail of no user.
    pub fn instance(instance: &Mailbox, instance_postal: Option<&str>) -> Self {
        Self {
            sender: Sender::new(instance, instance_postal, Foot::default()),
            reply_to: None,
            from: instance.clone(),
        }
    }
}

/// The From mailbox of `user`'s mailings: their display name (the instance's when they
/// chose none) with the instance's address.
pub fn from_mailbox(user: &user::Model, instance: &Mailbox) -> Mailbox {
    if user.sender_name.trim().is_empty() {
        instance.clone()
    } else {
        Mailbox::new(Some(user.sender_name.clone()), instance.email.clone())
    }
}

/// The confirmed reply-to mailbox of `user`'s mailings, if any (a stored address that no
/// longer parses is left out rather than failing the e-mail).
pub fn reply_to_mailbox(user: &user::Model) -> Option<Mailbox> {
    let address = user.reply_to.as_deref()?.parse().ok()?;
    let name = (!user.sender_name.trim().is_empty()).then(|| user.sender_name.clone());
    Some(Mailbox::new(name, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, reply_to: &str, postal: &str) -> SenderForm {
        SenderForm {
            sender_name: name.into(),
            reply_to: reply_to.into(),
            postal_address: postal.into(),
        }
    }

    #[test]
    fn a_good_form_is_trimmed_and_lower_cased() {
        let checked = check(&form(" Shop ", " Ann@Example.COM ", " 1 Main St ")).expect("ok");
        assert_eq!(checked.name, "Shop");
        assert_eq!(checked.reply_to.as_deref(), Some("ann@example.com"));
        assert_eq!(checked.postal, "1 Main St");
        assert_eq!(check(&form("", "", "")).expect("ok").reply_to, None);
    }

    #[test]
    fn bad_fields_are_named() {
        let errors = check(&form("A\r\nBcc: x@y", "not an address", "a\nb")).expect_err("bad");
        for field in ["sender_name", "reply_to", "postal_address"] {
            assert!(errors.0.contains_key(field), "{field}: {errors:?}");
        }
        let errors = check(&form("Eve <eve@bank.example>", "", "")).expect_err("address");
        assert!(errors.0.contains_key("sender_name"));
        let errors = check(&form(&"x".repeat(101), "", "")).expect_err("long");
        assert!(errors.0.contains_key("sender_name"));
    }
}
