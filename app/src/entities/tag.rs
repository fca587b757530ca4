//! `tags`: an owner's labels for clients; a mailing may target them.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One label of one user; unique on (owner_id, name). Names are stored lower-cased.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique_key = "owner_name")]
    pub owner_id: i32,
    #[sea_orm(column_type = "String(StringLen::N(50))", unique_key = "owner_name")]
    pub name: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    #[sea_orm(has_many)]
    pub client_tags: HasMany<super::client_tag::Entity>,
    #[sea_orm(has_many)]
    pub mailing_tags: HasMany<super::mailing_tag::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
