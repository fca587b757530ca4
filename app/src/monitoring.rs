//! Prometheus metrics: one recorder per process (the `metrics` facade with
//! `metrics-exporter-prometheus`), rendered by [`scrape`] on the server's `/metrics` (behind
//! `MAILER_METRICS_TOKEN`) and on the worker's own `MAILER_WORKER__METRICS_BIND`.
//!
//! The names, so that dashboards and the tests agree:
//! - server: `mailer_http_requests_total{method,route,status}`,
//!   `mailer_http_request_duration_seconds{route}`, `mailer_cache_lookups_total{result}`,
//!   `mailer_sessions_total{kind}` (requests by signed-in or anonymous viewers);
//! - worker: `mailer_deliveries_total{outcome}` (sent, failed, retried, skipped, cancelled,
//!   paused), `mailer_smtp_reply_seconds`, `mailer_breaker_open` (0 or 1),
//!   `mailer_recorder_lag_seconds` (from a send to its row being written) and
//!   `mailer_deliveries_due` (rows waiting to be sent, read every tick).

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use secrecy::{ExposeSecret, SecretString};

pub const HTTP_REQUESTS: &str = "mailer_http_requests_total";
pub const HTTP_DURATION: &str = "mailer_http_request_duration_seconds";
pub const CACHE_LOOKUPS: &str = "mailer_cache_lookups_total";
pub const SESSIONS: &str = "mailer_sessions_total";
pub const DELIVERIES: &str = "mailer_deliveries_total";
pub const SMTP_REPLY: &str = "mailer_smtp_reply_seconds";
pub const BREAKER_OPEN: &str = "mailer_breaker_open";
pub const RECORDER_LAG: &str = "mailer_recorder_lag_seconds";
pub const DELIVERIES_DUE: &str = "mailer_deliveries_due";

/// Latency buckets, in seconds: 0.5 ms to 30 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs this process's recorder (once; later calls return the same handle). `None`
/// when another recorder was installed first, which only a test harness would do.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by route template and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer a request."
    );
    describe_counter!(CACHE_LOOKUPS, "Cache lookups, by hit or miss.");
    describe_counter!(SESSIONS, "Requests by signed-in or anonymous viewers.");
    describe_counter!(DELIVERIES, "Deliveries recorded, by outcome.");
    describe_histogram!(
        SMTP_REPLY,
        metrics::Unit::Seconds,
        "Time for the SMTP server to reply to one message."
    );
    describe_gauge!(BREAKER_OPEN, "1 while the SMTP breaker holds sending back.");
    describe_histogram!(
        RECORDER_LAG,
        metrics::Unit::Seconds,
        "From a send to its result being written."
    );
    describe_gauge!(DELIVERIES_DUE, "Deliveries waiting to be sent.");
}

/// The metrics as Prometheus text.
fn render(handle: &PrometheusHandle) -> Response {
    handle.run_upkeep();
    Response::builder()
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .body(handle.render())
}

/// The server's `/metrics`: 404 when no token is configured (metrics are off and the path
/// is like any unknown one), 401 without `Authorization: Bearer <token>`.
pub struct Scrape {
    pub token: Option<SecretString>,
}

impl Endpoint for Scrape {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let (Some(token), Some(handle)) = (&self.token, install()) else {
            return Ok(StatusCode::NOT_FOUND.into_response());
        };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same(given.as_bytes(), token.expose_secret().as_bytes()) {
            return Ok(Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header(header::WWW_AUTHENTICATE, "Bearer")
                .finish());
        }
        Ok(render(&handle))
    }
}

/// The worker's `/metrics` (on its own address, which the operator keeps private).
pub async fn scrape_open() -> Response {
    match install() {
        Some(handle) => render(&handle),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves the worker's `/metrics` on `addr` until the task is aborted.
pub async fn serve_worker_metrics(
    addr: std::net::SocketAddr,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    install();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener)?;
    tracing::info!(%addr, "worker metrics at /metrics");
    let app = poem::Route::new().at(
        "/metrics",
        poem::get(poem::endpoint::make(|_| scrape_open())),
    );
    Ok(tokio::spawn(async move {
        if let Err(e) = poem::Server::new_with_acceptor(acceptor).run(app).await {
            tracing::error!(error = %e, "worker metrics server stopped");
        }
    }))
}

/// Constant-time comparison (a token must not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The route template a request was answered by, filled in by the route itself (see
/// `web::Site`) and read by [`measure`] after the answer.
#[derive(Clone, Default)]
pub struct RouteLabel(Arc<OnceLock<Arc<str>>>);

impl RouteLabel {
    pub fn set(req: &Request, route: &Arc<str>) {
        if let Some(label) = req.data::<RouteLabel>() {
            let _ = label.0.set(route.clone());
        }
    }
}

/// The label of a request no site route claimed: its first path segment, so that a
/// scanner's random paths cannot make a new time series each.
fn fallback_label(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "" => "/",
        "api" => "/api/*",
        "static" => "/static/*",
        "media" => "/media/*",
        "unsubscribe" => "/unsubscribe/*",
        "bounces" => "/bounces/*",
        "healthz" => "/healthz",
        "metrics" => "/metrics",
        "favicon.ico" => "/favicon.ico",
        _ => "unmatched",
    }
}

/// Counts and times every request by its route template (outermost middleware).
pub async fn measure<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let started = std::time::Instant::now();
    let label = RouteLabel::default();
    req.extensions_mut().insert(label.clone());
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let response = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let route: Arc<str> = match label.0.get() {
        Some(route) => route.clone(),
        None => Arc::from(fallback_label(&path)),
    };
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.to_string(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route.to_string())
        .record(started.elapsed().as_secs_f64());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_paths_share_one_label() {
        assert_eq!(fallback_label("/wp-login.php"), "unmatched");
        assert_eq!(fallback_label("/api/v1/clients/7"), "/api/*");
        assert_eq!(fallback_label("/"), "/");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
