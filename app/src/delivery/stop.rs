//! Stop means stop: a delivery goes out only while its mailing is enabled and its owner is
//! active, checked at the last moment — in the claim that hands it to SMTP — whichever
//! way the mailing was disabled or the owner blocked (their pages, the API, the admin) and
//! whatever job already names it.
//!
//! - The claim takes only [`sendable`] rows. The rare group where some row was not taken
//!   asks once more ([`cancel_stopped`]): the rows of a stopped mailing end `cancelled`,
//!   with the reason, instead of waiting for a job that would never send them. In-flight
//!   sends (claimed before the stop) finish.
//! - Every scheduler tick [`resume`]s the cancelled deliveries whose mailing is enabled
//!   and whose owner is active again: they are pending and unheld, and the tick's sweep
//!   queues them, each once (a claim takes a row once).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::{mailing, user};

/// Why a delivery was cancelled (its `last_error`).
pub const MAILING_DISABLED: &str = "stopped: the mailing was disabled";
pub const OWNER_BLOCKED: &str = "stopped: the mailing's owner was blocked";

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

/// Cancels the rows of `ids` that are pending, held by no worker, and whose mailing is
/// disabled or whose owner is blocked (with that reason). Returns their ids.
pub async fn cancel_stopped<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    let m = Alias::new("stop_m");
    let disabled =
        mailing_where(Condition::all().add(Expr::col((m, mailing::Column::IsEnabled)).eq(false)));
    let reason = Expr::case(disabled, MAILING_DISABLED).finally(OWNER_BLOCKED);
    let mut cancelled = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(DeliveryStatus::Cancelled.as_str()),
            )
            .col_expr(delivery::Column::LastError, reason.clone().into())
            .col_expr(
                delivery::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(
                delivery::Column::NextTryAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
            .filter(unclaimed(now))
            .filter(sendable().not())
            .exec_with_returning(db)
            .await?;
        cancelled.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(cancelled)
}

/// Cancelled deliveries whose mailing is enabled and whose owner is active again become
/// pending, held by nobody: the sweep of the same tick queues them. Returns how many.
pub async fn resume<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let resumed = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending.as_str()),
        )
        .col_expr(delivery::Column::LastError, Expr::value(None::<String>))
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            delivery::Column::NextTryAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Cancelled))
        .filter(sendable())
        .exec(db)
        .await?;
    Ok(resumed.rows_affected)
}
