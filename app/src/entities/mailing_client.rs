//! `mailing_clients`: the many-to-many junction between mailings and their recipients.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// "This mailing sends to this client"; deleted with either side.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "mailing_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mailing_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: i32,
    #[sea_orm(belongs_to, from = "mailing_id", to = "id")]
    pub mailing: BelongsTo<super::mailing::Entity>,
    #[sea_orm(belongs_to, from = "client_id", to = "id")]
    pub client: BelongsTo<super::client::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
