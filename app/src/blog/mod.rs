//! The public blog: a list of published posts and a page per post, cached (see
//! `crate::cache` and `crate::web::public`), with every view counted (`views`). Posts are
//! written in the admin panel, which calls `invalidate` after each change.

pub mod routes;
pub mod service;
pub mod views;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;
use crate::web::Site;

/// The blog's list and posts, also served to anonymous visitors by the public fast path.
pub fn routes(site: Site) -> Site {
    site.public_page("/blog", routes::list_posts, routes::anonymous_list_page)
        .public_page(
            "/blog/:slug",
            routes::show_post,
            routes::anonymous_post_page,
        )
}

/// The cache section holding every blog page.
pub const SECTION: &str = "blog";

/// Call after a post is saved, published, unpublished or deleted: the blog and the home
/// page (it shows posts) are recomputed on their next view, in every server process that
/// shares the cache (Redis); on the embedded default, in this process.
pub async fn invalidate(state: &AppState) {
    crate::home::clear_section(state, SECTION).await;
    crate::home::invalidate(state).await;
}

/// Drops the cached pages of these posts (their view counts moved).
async fn forget_articles(state: &AppState, slugs: &[String]) {
    if slugs.is_empty() {
        return;
    }
    let fields: Vec<String> = slugs
        .iter()
        .flat_map(|s| {
            std::iter::once(routes::article_field(s)).chain(
                crate::i18n::Lang::ALL
                    .into_iter()
                    .map(|lang| routes::article_html_field(s, lang)),
            )
        })
        .collect();
    if let Err(e) = state.cache.section_remove(SECTION, &fields).await {
        tracing::warn!(error = %format!("{e:#}"), "could not refresh cached post pages");
    }
}

/// How long blog data computed at `now` may be cached: the configured TTL, but never past
/// the moment a scheduled post appears.
async fn ttl(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Duration> {
    let next = service::next_publication(&state.db, now).await?;
    Ok(crate::home::until(state.config.pages.ttl(), now, next))
}
