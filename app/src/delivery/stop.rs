//! Stop means stop: a delivery goes out only while its mailing is enabled and its owner is
//! active, checked at the last moment — in the claim that hands it to SMTP — whichever
//! way the mailing was disabled or the owner blocked (their pages, the API, the admin) and
//! whatever job already names it.
//!
//! - The claim takes only [`claimable`] rows: [`sendable`] ones whose address is not
//!   [`suppressed`]. The rare group where some row was not taken asks once more
//!   ([`cancel_stopped`]): the rows of a stopped mailing end `cancelled`, with the reason,
//!   and suppressed addresses `skipped`, instead of waiting for a job that would never send
//!   them. In-flight sends (claimed before the stop) finish.
//! - Every scheduler tick [`resume`]s the cancelled deliveries whose mailing is enabled
//!   and whose owner is active again: they are pending and unheld, and the tick's sweep
//!   queues them, each once (a claim takes a row once).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::consent::service as consent;
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::{client, mailing, user};

/// Why a delivery was cancelled or skipped (its `last_error`).
pub const MAILING_DISABLED: &str = "stopped: the mailing was disabled";
pub const OWNER_BLOCKED: &str = "stopped: the mailing's owner was blocked";
pub const SUPPRESSED: &str = "skipped: the address is on the suppression list";

/// Ids per statement at most (bound parameters stay far below the backends' limits).
const CHUNK: usize = 500;

/// The owner of the delivery row's mailing, joined, filtered by `condition` on them.
fn mailing_where(condition: Condition) -> SimpleExpr {
    let m = Alias::new("stop_m");
    let u = Alias::new("stop_u");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(mailing::Entity, m.clone())
            .join_as(
                JoinType::InnerJoin,
                user::Entity,
                u.clone(),
                Expr::col((u.clone(), user::Column::Id))
                    .equals((m.clone(), mailing::Column::OwnerId)),
            )
            .and_where(
                Expr::col((m.clone(), mailing::Column::Id))
                    .equals((delivery::Entity, delivery::Column::MailingId)),
            )
            .cond_where(condition)
            .to_owned(),
    )
}

/// The delivery row's mailing is enabled and its owner active: it may be sent.
pub fn sendable() -> SimpleExpr {
    let (m, u) = (Alias::new("stop_m"), Alias::new("stop_u"));
    mailing_where(
        Condition::all()
            .add(Expr::col((m, mailing::Column::IsEnabled)).eq(true))
            .add(Expr::col((u, user::Column::IsActive)).eq(true)),
    )
}

/// The delivery row's client has an address on its owner's suppression list (it
/// unsubscribed, bounced or complained, or the owner listed it) or on the instance's
/// global list (kept by the managers); see `consent`.
pub fn suppressed() -> SimpleExpr {
    let c = Alias::new("stop_c");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(client::Entity, c.clone())
            .and_where(
                Expr::col((c.clone(), client::Column::Id))
                    .equals((delivery::Entity, delivery::Column::ClientId)),
            )
            .cond_where(
                Condition::any()
                    .add(consent::listed_by_owner(&c, None))
                    .add(consent::listed_globally(&c)),
            )
            .to_owned(),
    )
}

/// What the claim takes besides a free pending row: [`sendable`], and not [`suppressed`].
pub fn claimable() -> Condition {
    Condition::all().add(sendable()).add(suppressed().not())
}

/// Sets rows to `status` with `why` as their last error, held by nobody (no claim, no
/// queued job's mark): the one shape of every change this module makes.
fn set_free(
    status: DeliveryStatus,
    why: SimpleExpr,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<delivery::Entity> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
        .col_expr(delivery::Column::LastError, why)
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            delivery::Column::NextTryAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
}

/// Pending rows held by no worker.
fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .add(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
}

/// Ends the rows of `ids` that are pending, held by no worker, and may not be sent: those
/// whose address is suppressed are skipped for good; those whose mailing is disabled or
/// whose owner is blocked are cancelled (with that reason) until both allow them again.
/// Returns how many rows it ended.
pub async fn cancel_stopped<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let m = Alias::new("stop_m");
    let disabled =
        mailing_where(Condition::all().add(Expr::col((m, mailing::Column::IsEnabled)).eq(false)));
    let reason = Expr::case(disabled, MAILING_DISABLED).finally(OWNER_BLOCKED);
    let mut ended = 0;
    for chunk in ids.chunks(CHUNK) {
        let end = |status: DeliveryStatus, why: SimpleExpr| {
            set_free(status, why, now)
                .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
                .filter(unclaimed(now))
        };
        ended += end(DeliveryStatus::Skipped, Expr::value(SUPPRESSED))
            .filter(suppressed())
            .exec(db)
            .await?
            .rows_affected;
        ended += end(DeliveryStatus::Cancelled, reason.clone().into())
            .filter(sendable().not())
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(ended)
}

/// Cancelled deliveries whose mailing is enabled and whose owner is active again become
/// pending, held by nobody: the sweep of the same tick queues them. Returns how many.
pub async fn resume<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let resumed = set_free(DeliveryStatus::Pending, Expr::value(None::<String>), now)
        .filter(delivery::Column::Status.eq(DeliveryStatus::Cancelled))
        .filter(sendable())
        .exec(db)
        .await?;
    Ok(resumed.rows_affected)
}
