//! `AppError`: the one domain error, shared by services, pages and the API. Each surface
//! renders it its own way: `web::error` as the site's error page (HTML, with the right
//! status, logged once with the whole chain), `api::error` as the API's JSON error shape.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    /// Anonymous visitor on a page that needs an account; carries the URL to come back to.
    #[error("login required")]
    LoginRequired(String),
    /// The database or the session store does not answer: a 503, logged once per outage.
    #[error("service unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&e) {
            AppError::Unavailable(e.into())
        } else {
            AppError::Unexpected(e.into())
        }
    }
}

impl AppError {
    /// An error of a store the site cannot work without (sessions, the cache): a 503 when
    /// it is down, otherwise unexpected.
    pub fn from_store(e: anyhow::Error) -> Self {
        let down = e.chain().any(|cause| {
            cause.is::<crate::cache::Unavailable>()
                || cause.is::<fred::error::Error>()
                || cause
                    .downcast_ref::<sea_orm::DbErr>()
                    .is_some_and(crate::db::is_unavailable)
        });
        if down {
            AppError::Unavailable(e)
        } else {
            AppError::Unexpected(e)
        }
    }
}

/// Logs an outage's first 503, then at most one line a minute (with the count in between),
/// so an outage under load does not flood the log.
pub fn log_unavailable(e: &anyhow::Error) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);
    static SINCE: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let last = LAST_LOGGED.load(Ordering::Relaxed);
    if now >= last.saturating_add(60)
        && LAST_LOGGED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let more = SINCE.swap(0, Ordering::Relaxed);
        tracing::error!(
            error = %format!("{e:#}"),
            unlogged_since_last = more,
            "service unavailable: answering 503"
        );
    } else {
        SINCE.fetch_add(1, Ordering::Relaxed);
    }
}
