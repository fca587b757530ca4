//! The public home page: how many mailings there are, how many are active, how many
//! different clients they reach, and three random published posts. Cached, and served to
//! anonymous visitors by the public fast path (`crate::web::public`, with which `routes`
//! registers it); `invalidate` is called wherever a mailing is created, changed, enabled or
//! disabled, deleted, or changes status.
//!
//! Staleness is bounded three ways: explicit invalidation (in this process, and in every
//! process sharing Redis); an expiry at the next moment a mailing starts or ends or a
//! scheduled post appears, so counts that follow the clock are never stale; and the
//! `MAILER_PAGES__TTL_SECS` ceiling — which is what bounds it on the embedded default when
//! the separate worker process changes a status, as its in-process cache is its own.

pub mod routes;
pub mod service;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;
use crate::web::Site;

/// The home page, also served to anonymous visitors by the public fast path.
pub fn routes(site: Site) -> Site {
    site.public_page("/", routes::home, routes::anonymous_page)
}

/// The cache section of the home page.
pub const SECTION: &str = "home";

/// Call after anything the home page counts changed: it is recomputed on the next view.
pub async fn invalidate(state: &AppState) {
    clear_section(state, SECTION).await;
}

/// Clears a cache section; a failure is logged (the TTL still bounds the staleness) rather
/// than failing the change that was already committed.
pub(crate) async fn clear_section(state: &AppState, section: &str) {
    if let Err(e) = state.cache.section_clear(section).await {
        tracing::warn!(error = %format!("{e:#}"), section, "cache invalidation failed");
    }
}

/// `ttl`, or less when `next` (a moment the data changes by the clock) comes sooner.
pub fn until(ttl: Duration, now: DateTime<Utc>, next: Option<DateTime<Utc>>) -> Duration {
    let left = next.map(|t| (t - now).to_std().unwrap_or(Duration::ZERO));
    left.map_or(ttl, |left| left.min(ttl))
        .max(Duration::from_millis(1))
}
