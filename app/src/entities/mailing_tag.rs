//! `mailing_tags`: the tags a mailing targets (every client carrying one, at each
//! occurrence); deleted with either side.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// "This mailing sends to the clients carrying this tag".
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "mailing_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mailing_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i32,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
    #[sea_orm(belongs_to, from = "tag_id", to = "id")]
    pub tag: BelongsTo<super::tag::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
