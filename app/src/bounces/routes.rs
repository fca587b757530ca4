//! `POST /bounces/inbound`: a raw bounce, complaint or unsubscribe mail (RFC 5322 bytes, as
//! an MTA's pipe hands it over, e.g. `curl --data-binary @-`), outside the site's sessions
//! and CSRF guard, authenticated by `Authorization: Bearer <MAILER_BOUNCES__SECRET>`.
//!
//! Answers: 200 with what was done; 401 without the right secret; 404 while no secret is
//! configured (the endpoint is off); 413 over 10 MB; 422 for mail that cannot be used (not
//! mail, or a report of no delivery of ours), logged at WARN — the MTA keeps or bounces it,
//! as its pipe is set up; 503 when the database is unavailable (the MTA retries).

use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{Body, EndpointExt, IntoResponse, Request, Response, Route, handler, post};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::service::{self, Applied};
use super::{Addresses, parse};
use crate::state::AppState;
use crate::web::middleware;

/// The routes, nested under `/bounces` by the server.
pub fn routes() -> Route {
    Route::new().at(
        "/inbound",
        post(inbound)
            .around(|ep, req| middleware::limit_body(ep, req, parse::MAX_SIZE as u64, too_large)),
    )
}

fn too_large(limit: u64) -> Response {
    let error = format!("the message is larger than {limit} bytes");
    Json(json!({ "error": error }))
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        .into_response()
}

/// Whether the request carries `secret`, compared in constant time (as digests, so the
/// lengths tell nothing either).
fn authorized(req: &Request, secret: &str) -> bool {
    let Some(given) = req
        .header(header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (Sha256::digest(given.trim()), Sha256::digest(secret));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn error(status: StatusCode, text: &str) -> Response {
    Json(json!({ "error": text }))
        .with_status(status)
        .into_response()
}

#[handler]
async fn inbound(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let Some(secret) = &state.config.bounces.secret else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    if !authorized(req, secret.expose_secret()) {
        return error(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
            .into_response();
    }
    let raw = match body.into_vec().await {
        Ok(raw) => raw,
        Err(_) => return error(StatusCode::BAD_REQUEST, "cannot read the body"),
    };
    let addresses = Addresses::of(state);
    match service::handle(&state.db, &addresses, state.config.bounces.soft_limit, &raw).await {
        Ok(Ok(applied)) => Json(describe(&applied)).into_response(),
        Ok(Err(unusable)) => {
            tracing::warn!(size = raw.len(), reason = %unusable, "inbound bounce could not be used");
            error(StatusCode::UNPROCESSABLE_ENTITY, &unusable.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "inbound bounce: database error");
            error(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}

fn describe(applied: &Applied) -> serde_json::Value {
    match applied {
        Applied::Recorded {
            delivery_id,
            kind,
            email,
            new,
        } => json!({
            "result": "recorded",
            "kind": kind.as_str(),
            "delivery_id": delivery_id,
            "email": email,
            "new": new,
        }),
        Applied::Unsubscribed {
            owner_id,
            client_id,
        } => json!({ "result": "unsubscribed", "owner_id": owner_id, "client_id": client_id }),
        Applied::Nothing => json!({ "result": "nothing to do" }),
    }
}
