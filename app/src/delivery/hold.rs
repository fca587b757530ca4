//! Who holds a pending delivery. Each one should be in the hands of exactly one job, so
//! that nothing waits for nobody and nothing is queued twice:
//!
//! - a worker that claimed it: its `claimed_until` (the lease, see
//!   [`Limits`](super::send::Limits)) lies ahead. A lease that ran out means its holder is
//!   gone, and the row is free again at once;
//! - a job in the queue: its `next_try_at` lies ahead. Whoever queues a job for a delivery
//!   first marks it held until the job should have claimed it (the job's delay plus the
//!   lease, [`held_until`]); a fan-out inserts its rows marked, a retry marks its row from
//!   the attempt's time;
//! - nobody: both lie behind (or are NULL). The scheduler tick finds these ([`unheld`]).
//!   A delivery whose claim ran out is queued again at once (its worker died mid-send).
//!   For the others it first looks at what the queue's unfinished jobs name ([`named`]): a
//!   job may wait longer than its mark said (behind a backlog, or through a pause of the
//!   breaker), and its rows are only marked again. The rest — whose job was lost with
//!   Redis, or could not be pushed — are queued once.
//!
//! A job that cannot be pushed, and a worker that stops with deliveries it did not start,
//! [`release`] them: the next tick of any worker queues them, without waiting for a mark to
//! run out.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::send::DeliveryTask;
use crate::entities::delivery::{self, DeliveryStatus};

/// Ids per statement at most (bound parameters stay far below the backends' limits).
const CHUNK: usize = 500;

/// Until when a job due after `delay` holds its deliveries: by then it should have claimed
/// them, and a worker's claim lasts `lease`.
pub fn held_until(
    now: DateTime<Utc>,
    delay: std::time::Duration,
    lease: chrono::Duration,
) -> DateTime<Utc> {
    let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(delay)
        .and_then(|t| t.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Marks the pending deliveries of `ids` as held by a queued job until `until`.
pub async fn hold<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    mark(db, ids, Some(until)).await
}

/// Marks the pending deliveries of `ids` as held by nobody: the next tick queues them.
pub async fn release<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), DbErr> {
    mark(db, ids, None).await
}

async fn mark<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    until: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    for chunk in ids.chunks(CHUNK) {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::NextTryAt, Expr::value(until))
            .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Pending deliveries that neither a worker's claim nor a queued job's mark holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unheld {
    /// Claimed once, and the claim ran out: their worker is gone. A job may still name
    /// them (the dead worker's, given back to the queue) but it got nowhere with them, or
    /// will take them if it comes first; they are queued again all the same, once.
    pub abandoned: Vec<i64>,
    /// Not claimed, and their mark ran out or was released: queued again unless a job
    /// in the queue still names them.
    pub unmarked: Vec<i64>,
}

impl Unheld {
    pub fn is_empty(&self) -> bool {
        self.abandoned.is_empty() && self.unmarked.is_empty()
    }

    pub fn into_ids(self) -> Vec<i64> {
        let mut ids = self.abandoned;
        ids.extend(self.unmarked);
        ids
    }
}

/// How many deliveries wait to be sent (pending, whoever holds them): the worker's
/// `mailer_deliveries_due` gauge.
pub async fn pending_count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(db)
        .await
}

/// The pending deliveries nobody holds at `now` (oldest first; at most `limit`, if given).
pub async fn unheld<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: Option<u64>,
) -> Result<Unheld, DbErr> {
    use sea_orm::QueryOrder;
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::ClaimedUntil)
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .filter(
            Condition::any()
                .add(delivery::Column::NextTryAt.is_null())
                .add(delivery::Column::NextTryAt.lte(now)),
        )
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut unheld = Unheld::default();
    for (id, claimed_until) in rows {
        match claimed_until {
            Some(_) => unheld.abandoned.push(id),
            None => unheld.unmarked.push(id),
        }
    }
    Ok(unheld)
}

/// Clears the claims of `ids` that ran out before `now` (a claim still running is left
/// alone): abandoned deliveries queued again count as merely unmarked from then on, so a
/// mark that runs out before their new job comes does not queue them once more.
pub async fn drop_lapsed_claims<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in ids.chunks(CHUNK) {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
            .filter(delivery::Column::ClaimedUntil.lt(now))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The deliveries `jobs` name.
pub fn named(jobs: &[DeliveryTask]) -> HashSet<i64> {
    jobs.iter()
        .flat_map(|job| match job {
            DeliveryTask::Deliver { delivery_id } => std::slice::from_ref(delivery_id),
            DeliveryTask::DeliverMany { delivery_ids } => delivery_ids.as_slice(),
            DeliveryTask::FanOut { .. } | DeliveryTask::SendNow { .. } => &[],
        })
        .copied()
        .collect()
}
