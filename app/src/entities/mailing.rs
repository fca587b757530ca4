//! `mailings`: a schedule that sends one message to a set of clients, once or repeatedly.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// How often a mailing repeats between `start_at` and `end_at`.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Periodicity {
    #[sea_orm(string_value = "once")]
    Once,
    #[sea_orm(string_value = "daily")]
    Daily,
    #[sea_orm(string_value = "weekly")]
    Weekly,
    #[sea_orm(string_value = "monthly")]
    Monthly,
}

impl Periodicity {
    pub const ALL: [Self; 4] = [Self::Once, Self::Daily, Self::Weekly, Self::Monthly];

    /// The value stored in the database (and used in forms and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    /// Human-readable name for pages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Once => "Once",
            Self::Daily => "Daily",
            Self::Weekly => "Weekly",
            Self::Monthly => "Monthly",
        }
    }
}

/// Life-cycle of a mailing: created (not started yet), running, finished.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum MailingStatus {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "finished")]
    Finished,
}

impl MailingStatus {
    pub const ALL: [Self; 3] = [Self::Created, Self::Running, Self::Finished];

    /// The value stored in the database (and used in forms and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Finished => "finished",
        }
    }

    /// Human-readable name for pages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Running => "Running",
            Self::Finished => "Finished",
        }
    }
}

/// The longest name a mailing may have, in characters (the column holds 200).
pub const NAME_MAX: usize = 200;

/// One mailing of one user; its recipients are in `mailing_clients`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "mailings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub owner_id: i32,
    /// What the owner calls it (required, one line, up to `NAME_MAX` characters).
    pub name: String,
    /// The message sent; that message cannot be deleted while this row exists.
    pub message_id: i32,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub periodicity: Periodicity,
    pub status: MailingStatus,
    /// A disabled mailing is skipped by the scheduler.
    pub is_enabled: bool,
    /// The planned time of the next occurrence; None once nothing is left to send.
    pub next_run_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "message_id", to = "id")]
    pub message: BelongsTo<super::message::Entity>,
    /// Junction rows linking this mailing to its recipients.
    #[sea_orm(has_many)]
    pub mailing_clients: HasMany<super::mailing_client::Entity>,
    /// Recipients (many-to-many through `mailing_clients`).
    #[sea_orm(has_many, via = "mailing_client")]
    pub clients: HasMany<super::client::Entity>,
    /// The tags it targets besides the hand-picked clients.
    #[sea_orm(has_many)]
    pub mailing_tags: HasMany<super::mailing_tag::Entity>,
    #[sea_orm(has_many)]
    pub deliveries: HasMany<super::delivery::Entity>,
    #[sea_orm(has_many)]
    pub attempts: HasMany<super::attempt::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
