//! `api_tokens`: personal API tokens. Only a hash is stored; the prefix lets a user recognise
//! a token.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One API token of one user (deleted with the user).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// The user's label for the token.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub name: String,
    /// First characters of the token in clear, so a user can recognise it.
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub prefix: String,
    /// Hash of the full token; the token itself is never stored. Never serialized.
    #[sea_orm(column_type = "String(StringLen::N(128))", unique)]
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
