//! "Send a test to me": a message rendered for one of the owner's clients (or a sample
//! recipient) goes at once to the owner's own confirmed address, through the same way out
//! as account mail (SMTP or the outbox), signed like every e-mail. It is no delivery: no
//! row, no attempt, nothing in the reports. A few per user in a window, so the button
//! cannot be used to mail-bomb the owner's inbox or the SMTP server.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::service;
use crate::accounts::sender::Identity;
use crate::delivery::send::Reason;
use crate::entities::{client, user};
use crate::error::AppError;
use crate::mail::MailError;
use crate::state::AppState;

/// Tests one user may send per [`WINDOW`].
pub const TESTS_PER_WINDOW: i64 = 5;
/// The window of [`TESTS_PER_WINDOW`].
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
pub enum TestSendError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(
        "You have sent {TESTS_PER_WINDOW} tests in the last 10 minutes. Try again in a few minutes."
    )]
    Throttled,
    #[error("Your account's address is not confirmed: confirm it first.")]
    Unconfirmed,
    /// Why, in English and as a phrase for the flash.
    #[error("The message cannot be rendered: {}", .0.english)]
    Template(Reason),
    #[error("The test could not be sent: {0}")]
    Mail(#[from] MailError),
}

/// Sends the test; returns the address it went to.
pub async fn send(
    state: &AppState,
    user: &user::Model,
    message_id: i32,
    client_id: Option<i32>,
) -> Result<String, TestSendError> {
    let message = service::find_owned(&state.db, user.id, message_id).await?;
    let owned = || client::Entity::find().filter(client::Column::OwnerId.eq(user.id));
    let client = match client_id {
        Some(id) => Some(
            owned()
                .filter(client::Column::Id.eq(id))
                .one(&state.db)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound)?,
        ),
        None => owned()
            .order_by_asc(client::Column::Id)
            .one(&state.db)
            .await
            .map_err(AppError::from)?,
    };
    let client = client.unwrap_or_else(|| sample(user.id));
    if !user.is_verified {
        return Err(TestSendError::Unconfirmed);
    }
    let to: lettre::Address = user.email.parse().map_err(|_| TestSendError::Unconfirmed)?;
    let sent = state
        .cache
        .incr(&format!("test-send:{}", user.id), WINDOW)
        .await
        .unwrap_or(1);
    if sent > TESTS_PER_WINDOW {
        return Err(TestSendError::Throttled);
    }
    let instance = state.config.sender().map_err(AppError::Unexpected)?;
    let identity = Identity::of(
        user,
        (&instance, state.config.mail_postal.as_deref()),
        state.templates.feet(),
    );
    let bytes = crate::delivery::send::test_email(
        &message,
        identity,
        &client,
        &to,
        (&state.config.public_url(), state.dkim.as_deref()),
    )
    .map_err(TestSendError::Template)?;
    state
        .mailer
        .send_raw(&to, &bytes)
        .await
        .map_err(TestSendError::Mail)?;
    tracing::info!(user_id = user.id, message_id, "test e-mail sent");
    Ok(user.email.clone())
}

/// The recipient of a test when the owner has no client yet.
fn sample(owner_id: i32) -> client::Model {
    client::Model {
        id: 0,
        owner_id,
        email: "recipient@example.com".into(),
        full_name: "Sample Recipient".into(),
        comment: String::new(),
        attributes: "{}".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}
