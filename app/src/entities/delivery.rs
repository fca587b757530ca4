//! `deliveries`: one row per (mailing, client, occurrence), the unit of work of the delivery
//! engine.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a delivery stands: waiting (first try or retry), sent, given up, cancelled (its
/// mailing was disabled or its owner blocked before it went out: pending again once both
/// allow it, see `delivery::stop`), or skipped (its address is suppressed).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Not sent, for good: its address is on the owner's suppression list.
    #[sea_orm(string_value = "skipped")]
    Skipped,
}

impl DeliveryStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Sent,
        Self::Failed,
        Self::Cancelled,
        Self::Skipped,
    ];

    /// The value stored in the database (and used in forms and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// Human-readable name for pages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Sent => "Sent",
            Self::Failed => "Failed",
            Self::Cancelled => "Stopped",
            Self::Skipped => "Skipped",
        }
    }
}

/// One e-mail to one client for one occurrence of a mailing; unique on
/// (mailing_id, client_id, occurrence_at).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique_key = "occurrence")]
    pub mailing_id: i32,
    #[sea_orm(unique_key = "occurrence")]
    pub client_id: i32,
    /// The planned time of the occurrence this delivery belongs to.
    #[sea_orm(unique_key = "occurrence")]
    pub occurrence_at: DateTimeUtc,
    pub status: DeliveryStatus,
    /// How many tries have been made so far.
    pub tries: i32,
    /// A worker holds the row until this instant (lease against double sends).
    pub claimed_until: Option<DateTimeUtc>,
    /// A queued job holds the row until this instant (its retry, or the job a fan-out or
    /// the sweep queued); after it, or when NULL, the scheduler's sweep may queue it again
    /// unless a job in the queue still names it (see `delivery::hold`).
    pub next_try_at: Option<DateTimeUtc>,
    /// Deterministic Message-ID, the same on every try.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub message_id_header: String,
    #[sea_orm(column_type = "Text")]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
    #[sea_orm(belongs_to, from = "client_id", to = "id")]
    pub client: BelongsTo<super::client::Entity>,
    /// The tries of this delivery (set to NULL rather than deleted when it goes).
    #[sea_orm(has_many)]
    pub attempts: HasMany<super::attempt::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
