//! `messages`: e-mail templates (subject + body) a user sends through mailings.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One message template; cannot be deleted while a mailing uses it (ON DELETE RESTRICT).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub owner_id: i32,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    /// Mailings that send this message (they block its deletion).
    #[sea_orm(has_many)]
    pub mailings: HasMany<super::mailing::Entity>,
    /// Log rows (set to NULL rather than deleted when the message goes).
    #[sea_orm(has_many)]
    pub attempts: HasMany<super::attempt::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
