//! CSRF protection by one mechanism for every route: poem's `Csrf` issues the token (a
//! cookie plus a per-request token), and `csrf_guard` rejects any state-changing request
//! whose token is missing or wrong — before a handler runs. The token travels in the
//! `X-CSRF-Token` header (htmx sends it from `hx-headers` on `<main>`), a `csrf_token`
//! form field, or for multipart forms the `csrf_token` query parameter of the action URL.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::CsrfVerifier;
use poem::{Endpoint, IntoResponse, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::error::error_page;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
pub const COOKIE: &str = "mailer_csrf";

/// The 32-byte key of poem's CSRF protection, derived from the secret key.
pub fn key(secret: &SecretString) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"mailer csrf key|");
    hasher.update(secret.expose_secret().as_bytes());
    hasher.finalize().into()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub async fn csrf_guard<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    if !is_safe(req.method()) {
        let sent = req
            .header(HEADER)
            .map(str::to_owned)
            .or_else(|| token_from_query(&req));
        let token = match sent {
            Some(token) => Some(token),
            // Without the cookie no token is valid: refuse before reading the body.
            None if super::has_cookie(&req, COOKIE) => token_from_form(&mut req).await?,
            None => None,
        };
        let valid = match (token, req.extensions().get::<CsrfVerifier>()) {
            (Some(token), Some(verifier)) => verifier.is_valid(&token),
            _ => false,
        };
        if !valid {
            tracing::warn!(method = %req.method(), path = %req.uri().path(), "CSRF check failed");
            return Ok(error_page(
                StatusCode::FORBIDDEN,
                Some(
                    "This form has expired or was sent from another site. Reload the page and try again."
                        .into(),
                ),
            )
            .into_response());
        }
    }
    Ok(ep.call(req).await?.into_response())
}

fn token_from_query(req: &Request) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned())
}

/// Reads the token from an urlencoded body (cut at its limit by `limit_body`, which answers
/// 413 when it is longer) and puts the body back for the handler.
async fn token_from_form(req: &mut Request) -> poem::Result<Option<String>> {
    let is_form = req
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let body = req.take_body().into_bytes().await?;
    let token = form_urlencoded::parse(&body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    req.set_body(body);
    Ok(token)
}
