//! Cross-cutting HTTP behaviour: one structured log line per request, and the security
//! headers every response carries.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Level;

const LOG_TARGET: &str = "mailer::http";

/// `method path status duration_ms` as one tracing event per request (a warning for a 5xx).
/// When neither would be written, the request runs without the clock or any copy.
pub async fn log_requests<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    if !tracing::enabled!(target: LOG_TARGET, Level::WARN) {
        return Ok(answer(ep.call(req).await));
    }
    let started = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = answer(ep.call(req).await);
    let status = response.status().as_u16();
    let duration_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    let path = uri.path();
    if status >= 500 {
        tracing::warn!(target: LOG_TARGET, %method, %path, status, duration_ms, "request");
    } else {
        tracing::info!(target: LOG_TARGET, %method, %path, status, duration_ms, "request");
    }
    Ok(response)
}

/// An error as the response it stands for.
fn answer<T: IntoResponse>(result: poem::Result<T>) -> Response {
    match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Largest request body the site accepts: uploads are at most 10 MB (CSV) or 5 MB
/// (avatars), plus the rest of the form.
pub const MAX_BODY_BYTES: u64 = 11 * 1024 * 1024;

/// 413 for a declared body over `MAX_BODY_BYTES`, before anything reads it. (poem's
/// `SizeLimit` also refuses requests without `Content-Length`, every GET included.)
pub async fn limit_body<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Ok(Response::builder()
            .status(poem::http::StatusCode::PAYLOAD_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("The upload is larger than 11 MB."));
    }
    Ok(ep.call(req).await?.into_response())
}

/// No inline scripts or styles may run (htmx reads its config from a meta tag), the site
/// cannot be framed, and browsers must not guess content types.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

pub async fn security_headers<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let mut response = ep.call(req).await?.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    Ok(response)
}
