//! `report_slots`: the attempt log summed per (mailing, message, UTC quarter-hour). A
//! database trigger on `attempts` keeps it current (see the migration `report_slots`); the
//! code only reads it, so reports cost a few rows per mailing and sending time, not one per
//! attempt. Every time zone's offset is a whole number of quarter-hours, so a report sums
//! the slots of a local day exactly, in any zone.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "report_slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_id: i32,
    #[sea_orm(unique_key = "mailing_slot")]
    pub mailing_id: i32,
    /// The message the attempts sent; None once it has been deleted.
    #[sea_orm(unique_key = "mailing_slot")]
    pub message_id: Option<i32>,
    /// Quarter-hours since 1970-01-01T00:00Z (see [`slot_start`]).
    #[sea_orm(unique_key = "mailing_slot")]
    pub slot: i64,
    pub attempts: i32,
    pub successes: i32,
    /// Deliveries whose first try was made in this slot.
    pub first_tries: i32,
    pub last_attempt_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
    #[sea_orm(belongs_to, from = "message_id", to = "id")]
    pub message: BelongsTo<Option<super::message::Entity>>,
}

impl ActiveModelBehavior for ActiveModel {}

/// The first instant of `slot`.
pub fn slot_start(slot: i64) -> DateTimeUtc {
    chrono::DateTime::from_timestamp(slot.saturating_mul(migration::SLOT_SECONDS), 0)
        .unwrap_or_default()
}

/// The first slot that starts at or after `t`: the slots of [a, b) are those from
/// `first_slot_from(a)` up to, not including, `first_slot_from(b)`. (Every local midnight
/// of a real zone falls on a slot's start, so no slot straddles two local days.)
pub fn first_slot_from(t: DateTimeUtc) -> i64 {
    let s = t.timestamp();
    let slot = s.div_euclid(migration::SLOT_SECONDS);
    if s.rem_euclid(migration::SLOT_SECONDS) == 0 && t.timestamp_subsec_nanos() == 0 {
        slot
    } else {
        slot + 1
    }
}

/// (slot, attempts, successes) of the roll-up's rows that match `rows`, summed per slot
/// over mailings and messages.
pub async fn per_slot(
    db: &impl sea_orm::ConnectionTrait,
    rows: sea_orm::Condition,
) -> Result<Vec<(i64, i64, i64)>, sea_orm::DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{QueryFilter, QuerySelect};
    Entity::find()
        .select_only()
        .column(Column::Slot)
        .column_as(Expr::col(Column::Attempts).sum(), "attempts")
        .column_as(Expr::col(Column::Successes).sum(), "successes")
        .filter(rows)
        .group_by(Column::Slot)
        .into_tuple()
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_quarter_hours() {
        let t = |s: &str| s.parse::<DateTimeUtc>().unwrap();
        let midnight = t("2026-12-08T00:00:00Z");
        let slot = first_slot_from(midnight);
        assert_eq!(slot_start(slot), midnight);
        assert_eq!(slot_start(slot + 1), t("2026-12-08T00:15:00Z"));
        assert_eq!(first_slot_from(t("2026-12-08T00:00:01Z")), slot + 1);
        assert_eq!(first_slot_from(t("2026-12-08T00:14:59.5Z")), slot + 1);
        assert_eq!(first_slot_from(t("2026-12-07T23:59:59Z")), slot);
    }
}
