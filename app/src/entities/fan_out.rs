//! `fan_outs`: an occurrence whose deliveries are still being made, range after range of
//! client ids (see `delivery::fanout`). The row goes when the last range is in.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "fan_outs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mailing_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub occurrence_at: DateTimeUtc,
    /// The recipients with a client id up to this one have their delivery.
    pub done_through: i32,
    /// The last range made began after this client id.
    pub last_from: i32,
    /// Ranges made so far.
    pub ranges: i32,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
