//! `feedback`: what recipients and their servers said back, one row per event (see
//! `consent::service::record`). Reports count these per mailing and message.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What happened.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The recipient unsubscribed (link, one-click or mail).
    #[sea_orm(string_value = "unsubscribed")]
    Unsubscribed,
    /// The recipient took an unsubscribe back.
    #[sea_orm(string_value = "resubscribed")]
    Resubscribed,
    /// The mailbox does not exist (or refuses mail for good): a hard bounce.
    #[sea_orm(string_value = "bounced")]
    Bounced,
    /// A temporary failure reported back (mailbox full, …); repeated ones suppress.
    #[sea_orm(string_value = "soft_bounced")]
    SoftBounced,
    /// The recipient marked the message as spam (an ARF report).
    #[sea_orm(string_value = "complained")]
    Complained,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Resubscribed => "resubscribed",
            Self::Bounced => "bounced",
            Self::SoftBounced => "soft_bounced",
            Self::Complained => "complained",
        }
    }
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_id: i32,
    /// Lower case.
    #[sea_orm(column_type = "String(StringLen::N(254))")]
    pub email: String,
    pub kind: Kind,
    pub mailing_id: Option<i32>,
    pub message_id: Option<i32>,
    pub delivery_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
