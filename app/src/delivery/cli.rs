//! `mailer send`: the worker's delivery path run in this process — the same fan-out, the
//! same `deliver` with its lease, tries and attempt log — with the queue's work done by a
//! loop here: bounded concurrency, and transient failures retried with the configured
//! backoff (permanent ones are not; `deliver` fails a delivery once out of tries).

use std::cell::Cell;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use lettre::message::Mailbox;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::Outbound;
use super::fanout;
use super::hold::Unheld;
use super::send::{Deliverer, Outcome};
use super::tick::{self, Handoff, TickSettings};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::mailing;
use crate::state::AppState;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One mailing: its due occurrence if not sent yet, and its pending deliveries.
    Mailing(i32),
    /// What a scheduler tick does: every due mailing, and every pending delivery due.
    Due,
}

/// `--mailing ID` names no mailing.
#[derive(Debug, thiserror::Error)]
#[error("no mailing #{0}")]
pub struct NoSuchMailing(pub i32);

/// Where a run stands; reported when it starts and after every try.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Deliveries to send.
    pub total: usize,
    /// Deliveries settled: sent, failed for good, or taken by someone else.
    pub done: usize,
    pub sent: usize,
    pub failed: usize,
    /// Transient failures that were tried again.
    pub retried: usize,
}

impl Progress {
    /// The counts so far, as the run would end now.
    pub fn summary(&self) -> Summary {
        Summary {
            sent: self.sent,
            failed: self.failed,
            retried: self.retried,
            skipped: self.done - self.sent - self.failed,
            nothing_to_send: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: usize,
    pub failed: usize,
    pub retried: usize,
    /// Deliveries another process held or finished first.
    pub skipped: usize,
    /// Why nothing was sent at all (a disabled mailing, or one outside [start, end)).
    pub nothing_to_send: Option<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {}, failed {}, retried {}",
            self.sent, self.failed, self.retried
        )
    }
}

/// Sends `target` now, in this process; `progress` hears of every step.
pub async fn send(
    state: &AppState,
    target: Target,
    progress: impl Fn(Progress),
) -> anyhow::Result<Summary> {
    let db = &state.db;
    let from: Mailbox = state.config.sender()?;
    let domain = from.email.domain().to_owned();
    let now = Utc::now();
    let limits = super::send::Limits::from_config(&state.config.worker);
    let lease = limits.lease;
    let ids: Vec<i64> = match target {
        Target::Due => {
            let settings = TickSettings {
                domain: &domain,
                lease,
                sweep_limit: None,
                ranges: super::fanout::Ranges::of(state.config.worker.fan_out_range),
                paced: false,
            };
            let mut found = SendHere {
                state,
                ids: BTreeSet::new(),
            };
            tick::tick(db, settings, &mut found).await?;
            found.ids.into_iter().collect()
        }
        Target::Mailing(id) => {
            let mailing = mailing::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(NoSuchMailing(id))?;
            if let Some(reason) = idle_reason(&mailing, now) {
                return Ok(Summary {
                    nothing_to_send: Some(reason),
                    ..Summary::default()
                });
            }
            fanout::fan_out(db, &mailing, now, &domain, lease).await?;
            free_pending(db, id, Utc::now()).await?
        }
    };
    tracing::info!(deliveries = ids.len(), ?target, "sending");

    let config = &state.config.worker;
    let deliverer = Deliverer::new(
        db.clone(),
        Outbound::from_config(&state.config)?,
        (from, crate::consent::Links::of(state), state.dkim.clone()),
        limits,
    )
    .with_foot(state.config.mail_postal.as_deref(), state.templates.feet());
    let counts = Cell::new(Progress {
        total: ids.len(),
        ..Progress::default()
    });
    let step = |change: &dyn Fn(&mut Progress)| {
        let mut p = counts.get();
        change(&mut p);
        counts.set(p);
        progress(p);
    };
    step(&|_| {});
    let (deliverer, step) = (&deliverer, &step);
    let one = move |id: i64| async move {
        let mut retries = 0;
        loop {
            match deliverer.deliver(id).await? {
                Outcome::Retry { error, .. } => {
                    tracing::debug!(delivery_id = id, %error, "delivery failed, will retry");
                    step(&|p| p.retried += 1);
                    tokio::time::sleep(config.retry_backoff(retries)).await;
                    retries += 1;
                }
                Outcome::Paused(wait) => {
                    tracing::debug!(delivery_id = id, ?wait, "sending paused");
                    tokio::time::sleep(wait).await;
                }
                Outcome::Sent => {
                    step(&|p| {
                        p.sent += 1;
                        p.done += 1;
                    });
                    return Ok::<_, sea_orm::DbErr>(());
                }
                Outcome::Failed(reason) => {
                    tracing::debug!(delivery_id = id, %reason, "delivery failed for good");
                    step(&|p| {
                        p.failed += 1;
                        p.done += 1;
                    });
                    return Ok(());
                }
                Outcome::Skipped => {
                    step(&|p| p.done += 1);
                    return Ok(());
                }
            }
        }
    };
    let mut runs = futures::stream::iter(ids)
        .map(one)
        .buffer_unordered(config.concurrency.max(1));
    while let Some(result) = runs.next().await {
        result?;
    }
    Ok(counts.get().summary())
}

/// A tick's findings, kept to be sent in this process: the fresh deliveries and every one
/// that no worker's claim or queued job holds (see `hold`), whether a queued job names it
/// or not — `deliver`'s claim keeps the two from sending it twice.
struct SendHere<'a> {
    state: &'a AppState,
    ids: BTreeSet<i64>,
}

impl Handoff for SendHere<'_> {
    async fn statuses_changed(&mut self) {
        crate::home::invalidate(self.state).await;
    }

    async fn fanned_out(&mut self, ids: Vec<i64>) -> anyhow::Result<()> {
        self.ids.extend(ids);
        Ok(())
    }

    async fn unheld(&mut self, unheld: Unheld, _now: DateTime<Utc>) -> anyhow::Result<()> {
        self.ids.extend(unheld.into_ids());
        Ok(())
    }
}

/// Why `mailing` has nothing to send now, if so.
fn idle_reason(mailing: &mailing::Model, now: DateTime<Utc>) -> Option<String> {
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC");
    if !mailing.is_enabled {
        Some(format!("mailing #{} is disabled", mailing.id))
    } else if now < mailing.start_at {
        Some(format!(
            "mailing #{} starts at {}",
            mailing.id,
            at(mailing.start_at)
        ))
    } else if now >= mailing.end_at {
        Some(format!(
            "mailing #{} ended at {}",
            mailing.id,
            at(mailing.end_at)
        ))
    } else {
        None
    }
}

/// The mailing's pending deliveries (any occurrence) that no one holds.
async fn free_pending(
    db: &DatabaseConnection,
    mailing_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .order_by_asc(delivery::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use crate::config::WorkerConfig;

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let config = WorkerConfig {
            retry_backoff_ms: 100,
            retry_backoff_max_secs: 1,
            ..WorkerConfig::default()
        };
        let waits: Vec<u128> = (0..6)
            .map(|n| config.retry_backoff(n).as_millis())
            .collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(config.retry_backoff(40).as_millis(), 1000, "no overflow");
    }
}
