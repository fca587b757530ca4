//! `/healthz`: which database, queue, cache and mail modes are in use, and whether each
//! answers right now. 200 when all do, 503 otherwise — for load balancers and humans. It
//! also says whether outgoing mail is DKIM-signed.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde::Serialize;

use crate::state::AppState;

/// A check that has not answered by then counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize)]
pub struct Component {
    pub mode: String,
    pub ok: bool,
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub database: Component,
    pub queue: Component,
    pub cache: Component,
    pub mail: Component,
    /// Whether outgoing mail is DKIM-signed, and with what (never the key).
    pub dkim: Dkim,
}

#[derive(Debug, Serialize)]
pub struct Dkim {
    pub signing: bool,
    #[serde(flatten)]
    pub with: Option<crate::dkim::SigningInfo>,
}

async fn bounded(check: impl Future<Output = bool>) -> bool {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or(false)
}

fn mode_name(mode: impl Serialize) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub async fn check(state: &AppState) -> Health {
    let redis_queue = state.queues.mode() == crate::jobs::QueueMode::Redis;
    let (database, cache, mail) = tokio::join!(
        bounded(crate::db::ping(&state.db)),
        bounded(state.cache.ping()),
        bounded(state.mailer.ping()),
    );
    // The queue lives in the database file, or on the same Redis server as the cache.
    let queue = if redis_queue { cache } else { database };
    let database_kind = state
        .config
        .database_kind()
        .map(mode_name)
        .unwrap_or_default();
    let all_ok = database && queue && cache && mail;
    Health {
        status: if all_ok { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database: Component {
            mode: database_kind,
            ok: database,
        },
        queue: Component {
            mode: mode_name(state.queues.mode()),
            ok: queue,
        },
        cache: Component {
            mode: state.cache.mode().to_owned(),
            ok: cache,
        },
        mail: Component {
            mode: mode_name(state.mailer.mode()),
            ok: mail,
        },
        dkim: Dkim {
            signing: state.dkim.is_some(),
            with: state.dkim.as_ref().map(|s| s.info()),
        },
    }
}

#[handler]
pub async fn healthz(Data(state): Data<&AppState>) -> Response {
    let health = check(state).await;
    let status = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = Json(health).with_status(status).into_response();
    response.headers_mut().insert(
        poem::http::header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static("no-store"),
    );
    response
}
