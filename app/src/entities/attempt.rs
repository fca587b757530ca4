//! `attempts`: the delivery log, one row per try. Owner, message and recipient are copied in
//! so that reports stay cheap (no joins over millions of rows) and survive a deleted client.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Outcome of one try.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    #[sea_orm(string_value = "success")]
    Success,
    #[sea_orm(string_value = "failure")]
    Failure,
}

impl AttemptStatus {
    pub const ALL: [Self; 2] = [Self::Success, Self::Failure];

    /// The value stored in the database (and used in forms and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// Human-readable name for pages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::Failure => "Failure",
        }
    }
}

/// One try to send one delivery.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Copied from the mailing so per-user reports need no join.
    pub owner_id: i32,
    pub mailing_id: i32,
    /// None once the message has been deleted.
    pub message_id: Option<i32>,
    /// None once the client has been deleted (`recipient` keeps the address).
    pub client_id: Option<i32>,
    /// None once the delivery row has been deleted.
    pub delivery_id: Option<i64>,
    /// The address the e-mail went to, copied so the log survives a deleted client.
    #[sea_orm(column_type = "String(StringLen::N(254))")]
    pub recipient: String,
    /// The planned time of the occurrence this try belongs to.
    pub occurrence_at: DateTimeUtc,
    pub attempted_at: DateTimeUtc,
    pub status: AttemptStatus,
    pub smtp_code: Option<i32>,
    /// The server's reply, or the error when there was none.
    #[sea_orm(column_type = "Text")]
    pub response: Option<String>,
    /// `response` as a phrase when the words are ours, not the server's: JSON of the
    /// catalog's id and values (`i18n::stored`), which pages write out in the reader's
    /// language. None for a server's reply and for rows written before it existed.
    #[sea_orm(column_type = "Text")]
    pub reason: Option<String>,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
    #[sea_orm(belongs_to, from = "message_id", to = "id")]
    pub message: BelongsTo<Option<super::message::Entity>>,
    #[sea_orm(belongs_to, from = "client_id", to = "id")]
    pub client: BelongsTo<Option<super::client::Entity>>,
    #[sea_orm(belongs_to, from = "delivery_id", to = "id")]
    pub delivery: BelongsTo<Option<super::delivery::Entity>>,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The reply as pages show it: our own words as a phrase (written out in the reader's
    /// language by the templates' `|said`), a server's reply as received. The API and the
    /// CSV files keep `response`, in English.
    pub fn shown_reply(&self) -> Option<String> {
        self.reason
            .as_deref()
            .and_then(crate::i18n::from_stored)
            .or_else(|| self.response.clone())
    }
}
