//! Cross-cutting HTTP behaviour: one structured log line per request, request bodies cut
//! at their limit, and the security headers every response carries.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures::Stream;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use tracing::Level;

use super::error::error_page;

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

/// Largest body of a multipart form on the site: uploads are at most 10 MB (CSV) or 5 MB
/// (images), plus the rest of the form.
pub const MAX_UPLOAD_BODY_BYTES: u64 = 11 * 1024 * 1024;
/// Largest body of any other request to the site, and of one text field of a multipart
/// form: a message of 100,000 characters is at most 1.2 MB urlencoded.
pub const MAX_FORM_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// The limit of a request to the site: multipart forms may carry uploads.
pub fn page_body_limit(req: &Request) -> u64 {
    let multipart = req
        .content_type()
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if multipart {
        MAX_UPLOAD_BODY_BYTES
    } else {
        MAX_FORM_BODY_BYTES
    }
}

/// Cuts the request body at `limit` bytes, whether its length is declared or it is streamed
/// (chunked): a declared length over the limit is refused before anything is read, and a
/// stream fails as soon as it passes the limit, before more is buffered. Either way the
/// answer is `too_large(limit)`, whatever the endpoint made of the failed read. (poem's
/// `SizeLimit` only looks at `Content-Length`.)
pub async fn limit_body<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    limit: u64,
    too_large: fn(u64) -> Response,
) -> poem::Result<Response> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(too_large(limit));
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let body = req.take_body().into_bytes_stream();
    req.set_body(Body::from_bytes_stream(Capped {
        inner: Box::pin(body),
        left: limit,
        exceeded: exceeded.clone(),
    }));
    // Errors go on unchanged: the page renderer reads our own ones.
    let result = ep.call(req).await.map(IntoResponse::into_response);
    if exceeded.load(Ordering::Relaxed) {
        return Ok(too_large(limit));
    }
    result
}

/// A body stream that ends with an error once more than `left` bytes came through.
struct Capped {
    inner: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl Stream for Capped {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.exceeded.load(Ordering::Relaxed) {
            // Nothing more is read from the connection.
            return Poll::Ready(None);
        }
        let chunk = match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        match self.left.checked_sub(chunk.len() as u64) {
            Some(left) => {
                self.left = left;
                Poll::Ready(Some(Ok(chunk)))
            }
            None => {
                self.exceeded.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(std::io::Error::other(
                    "the request body is larger than allowed",
                ))))
            }
        }
    }
}

/// A path or a query that holds a NUL character (`%00`; a raw one cannot reach us) names
/// nothing the site has: the path is a 404 and the query a 400, on the site's page, before
/// any handler — or the database, where PostgreSQL refuses such text with an error — sees it.
pub async fn refuse_nul<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let holds_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if holds_nul(req.uri().path()) {
        return Ok(error_page(StatusCode::NOT_FOUND, None).into_response());
    }
    if req.uri().query().is_some_and(holds_nul) {
        let message = "The address holds a NUL character, which no value here may contain.";
        return Ok(error_page(StatusCode::BAD_REQUEST, Some(message.into())).into_response());
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
