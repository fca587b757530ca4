//! Account e-mails: rendered from `templates/mail/<name>.txt` and `.html`, and handed to
//! the job queue — never sent inside a request.

use minijinja::value::Serde;
use minijinja::{Value, context};

use crate::entities::user;
use crate::jobs::MailJob;
use crate::state::AppState;

pub async fn enqueue(
    state: &AppState,
    to: &user::Model,
    template: &str,
    subject: &str,
    ctx: Value,
) -> anyhow::Result<()> {
    enqueue_to(state, to, &to.email, template, subject, ctx).await
}

/// [`enqueue`] to another address of the user's (one they are confirming).
pub async fn enqueue_to(
    state: &AppState,
    to: &user::Model,
    address: &str,
    template: &str,
    subject: &str,
    ctx: Value,
) -> anyhow::Result<()> {
    let ctx = context! {
        ..ctx,
        ..context! { user => Value::from(Serde(to)), site_url => state.config.public_url(), subject => subject }
    };
    let text = state
        .templates
        .render(&format!("mail/{template}.txt"), None, ctx.clone())?;
    let html = state
        .templates
        .render(&format!("mail/{template}.html"), None, ctx)?;
    state
        .queues
        .mail
        .push(MailJob {
            to: address.to_owned(),
            subject: subject.to_owned(),
            text,
            html: Some(html),
        })
        .await
}
