//! Account e-mails: rendered from `templates/mail/<name>.txt` and `.html` in the account's
//! language (English when it has none), and handed to the job queue — never sent inside a
//! request. The subject is the text `mail-subject-<name>` of that language.

use minijinja::value::Serde;
use minijinja::{Value, context};

use crate::entities::user;
use crate::i18n::Lang;
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
    let lang = to
        .language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    let subject = state
        .templates
        .catalog()
        .message(lang, &subject_id(template), None)
        .unwrap_or_else(|| subject.to_owned());
    let ctx = context! {
        ..ctx,
        ..context! {
            user => Value::from(Serde(to)),
            site_url => state.config.public_url(),
            subject => &subject,
            lang => lang.code(),
        }
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
            subject,
            text,
            html: Some(html),
        })
        .await
}

/// The id of the subject of the e-mail `template` (`mail-subject-reset-password`).
pub fn subject_id(template: &str) -> String {
    format!("mail-subject-{}", template.replace('_', "-"))
}
