//! `report_days`: the attempt log summed per (mailing, message, UTC day). A database
//! trigger on `attempts` keeps it current (see the migration `report_indexes`); the code
//! only reads it, so reports cost a few rows per mailing and day, not one per attempt.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "report_days")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_id: i32,
    #[sea_orm(unique_key = "mailing_day")]
    pub mailing_id: i32,
    /// The message the attempts sent; None once it has been deleted.
    #[sea_orm(unique_key = "mailing_day")]
    pub message_id: Option<i32>,
    /// UTC calendar day of the attempts.
    #[sea_orm(unique_key = "mailing_day")]
    pub day: Date,
    pub attempts: i32,
    pub successes: i32,
    /// Deliveries whose first try was made on this day.
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
