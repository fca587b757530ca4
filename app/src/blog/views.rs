//! Every view of a post page counts, cached page or not: a view adds one to a counter in
//! the cache store (Redis `HINCRBY`, or an in-process map), and the counts are written to
//! `posts.view_count` in one transaction every `MAILER_PAGES__VIEW_FLUSH_SECS` and when the
//! server stops. A page shows the database count plus the views not yet written.
//!
//! On Redis the counters are shared by every server process and one flush at a time takes
//! them (a lock, and the taken counts stay in Redis until the database has them). The one
//! window for a wrong count: a process that dies between the database commit and deleting
//! the taken counts writes them again on the next flush.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use tokio::sync::watch;

use crate::entities::post;
use crate::state::AppState;

const GROUP: &str = "post-views";

/// Counts one view of post `id`; returns the views of it not yet in the database.
pub async fn count(state: &AppState, id: i32) -> i64 {
    match state.cache.counter_add(GROUP, &id.to_string(), 1).await {
        Ok(pending) => pending,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), post = id, "view not counted");
            0
        }
    }
}

/// Writes the counted views to the database; returns how many it wrote.
pub async fn flush(state: &AppState) -> anyhow::Result<i64> {
    let Some(batch) = state.cache.take_counters(GROUP).await? else {
        return Ok(0);
    };
    let counts: Vec<(i32, i64)> = batch
        .counts
        .iter()
        .filter_map(|(id, n)| Some((id.parse().ok()?, *n)))
        .filter(|(_, n)| *n != 0)
        .collect();
    let applied = apply(state, &counts).await;
    state.cache.finish_counters(batch, applied.is_ok()).await?;
    let slugs = applied?;
    // Cached post pages show the database count plus the pending views; both just moved.
    super::forget_articles(state, &slugs).await;
    Ok(counts.iter().map(|(_, n)| n).sum())
}

/// Adds the counts in one transaction; returns the slugs of the posts they touched.
async fn apply(state: &AppState, counts: &[(i32, i64)]) -> anyhow::Result<Vec<String>> {
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let txn = state.db.begin().await?;
    for (id, n) in counts {
        post::Entity::update_many()
            .col_expr(
                post::Column::ViewCount,
                Expr::col(post::Column::ViewCount).add(*n),
            )
            .filter(post::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    let slugs = post::Entity::find()
        .select_only()
        .column(post::Column::Slug)
        .filter(post::Column::Id.is_in(counts.iter().map(|(id, _)| *id)))
        .into_tuple::<String>()
        .all(&state.db)
        .await?;
    Ok(slugs)
}

/// Flushes every `interval` until `stop` turns true, then once more.
pub async fn run_flusher(state: AppState, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = flush(&state).await {
            tracing::warn!(error = %format!("{e:#}"), "writing post views failed; will retry");
        }
    }
    if let Err(e) = flush(&state).await {
        tracing::warn!(error = %format!("{e:#}"), "writing post views at shutdown failed");
    }
}
