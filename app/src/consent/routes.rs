//! The recipient's side of an unsubscribe link, outside the site's sessions and CSRF guard:
//! the recipient has no account, and a mail provider's one-click POST (RFC 8058) carries no
//! cookie. The signed token in the path is the whole authority.
//!
//! - `GET /unsubscribe/{token}` shows what the button does and changes nothing (mail
//!   scanners follow links);
//! - `POST /unsubscribe/{token}` — the page's button or the provider's one-click —
//!   unsubscribes at once, idempotently;
//! - `POST /unsubscribe/{token}/undo` takes it back.

use poem::http::StatusCode;
use poem::web::{Data, Html, Path};
use poem::{IntoResponse, Request, Response, Route, get, handler, post};
use serde::Serialize;

use super::service::{self, Standing};
use super::{Recipient, read_token};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::language;

/// The routes, nested under `/unsubscribe` by the server.
pub fn routes() -> Route {
    Route::new()
        .at("/:token", get(ask).post(unsubscribe))
        .at("/:token/undo", post(undo))
}

#[derive(Serialize)]
struct View<'a> {
    /// `ask`, `unsubscribed`, `resubscribed`, `gone`, `invalid` or `unavailable`.
    step: &'a str,
    token: &'a str,
    email: Option<String>,
    /// Suppressed for another reason (a bounce, a complaint): nothing to undo.
    reason: Option<&'static str>,
    /// The page's language: the recipient's browser's (they have no account here).
    lang: &'static str,
}

fn page(state: &AppState, status: StatusCode, view: &View<'_>) -> Response {
    let ctx = minijinja::Value::from(minijinja::value::Serde(view));
    match state
        .templates
        .render("consent/unsubscribe.html", None, ctx)
    {
        Ok(html) => Html(html).with_status(status).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the unsubscribe page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// Runs `act` for the token's recipient and shows where they stand after it as `step`.
async fn respond<F, Fut>(state: &AppState, lang: Lang, token: &str, step: &str, act: F) -> Response
where
    F: FnOnce(Recipient) -> Fut,
    Fut: Future<Output = Result<Option<Standing>, sea_orm::DbErr>>,
{
    let view = |step, email, reason| View {
        step,
        token,
        email,
        reason,
        lang: lang.code(),
    };
    // The stand-in of previews and test e-mails (see `messages::test_send`).
    if token == super::PREVIEW_TOKEN {
        return page(state, StatusCode::OK, &view("preview", None, None));
    }
    let Ok(who) = read_token(&state.secret_key, token) else {
        return page(state, StatusCode::NOT_FOUND, &view("invalid", None, None));
    };
    match act(who).await {
        Ok(None) => page(state, StatusCode::OK, &view("gone", None, None)),
        Ok(Some(standing)) => {
            let other = standing
                .suppressed
                .filter(|r| *r != crate::entities::suppression::Reason::Unsubscribed)
                .map(|r| r.label());
            let step = match (step, standing.suppressed) {
                // Asked, and already unsubscribed: say so, with the undo.
                ("ask", Some(_)) => "unsubscribed",
                _ => step,
            };
            page(
                state,
                StatusCode::OK,
                &view(step, Some(mask(&standing.email)), other),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "unsubscribe link: database error");
            page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                &view("unavailable", None, None),
            )
        }
    }
}

#[handler]
async fn ask(req: &Request, Data(state): Data<&AppState>, Path(token): Path<String>) -> Response {
    respond(state, language::anonymous(req), &token, "ask", |who| {
        service::standing(&state.db, who)
    })
    .await
}

#[handler]
async fn unsubscribe(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(token): Path<String>,
) -> Response {
    respond(
        state,
        language::anonymous(req),
        &token,
        "unsubscribed",
        |who| service::unsubscribe(&state.db, who),
    )
    .await
}

#[handler]
async fn undo(req: &Request, Data(state): Data<&AppState>, Path(token): Path<String>) -> Response {
    respond(
        state,
        language::anonymous(req),
        &token,
        "resubscribed",
        |who| service::resubscribe(&state.db, who),
    )
    .await
}

/// `ann@example.com` → `a***@example.com`: the recipient recognises it, a passer-by who
/// got hold of the link learns little.
fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}
