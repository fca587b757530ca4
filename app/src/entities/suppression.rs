//! `suppressions`: addresses an owner may no longer mail, and why (see `consent`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Why an address is suppressed.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The recipient asked, by the link or their mail provider's one-click button.
    #[sea_orm(string_value = "unsubscribed")]
    Unsubscribed,
    /// The receiving server said the mailbox does not exist.
    #[sea_orm(string_value = "bounced")]
    Bounced,
    /// The recipient marked a message as spam.
    #[sea_orm(string_value = "complained")]
    Complained,
    /// Put on the list by hand (the owner's page, a CSV import, the API, the admin).
    #[sea_orm(string_value = "listed")]
    Listed,
}

impl Reason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Listed => "listed",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Unsubscribed => "Unsubscribed",
            Self::Bounced => "Bounced",
            Self::Complained => "Complained",
            Self::Listed => "Listed",
        }
    }
}

/// One suppressed address of one owner (deleted with the owner); unique on
/// (email, owner_id). The address is stored in lower case.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "suppressions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub owner_id: i32,
    #[sea_orm(column_type = "String(StringLen::N(254))")]
    pub email: String,
    pub reason: Reason,
    #[sea_orm(column_type = "Text")]
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
