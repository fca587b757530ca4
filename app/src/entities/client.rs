//! `clients`: a user's recipients (address book); an address appears once per owner.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One recipient of one user; unique on (owner_id, email).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The user whose address book this is (cascade on delete).
    #[sea_orm(unique_key = "owner_email")]
    pub owner_id: i32,
    #[sea_orm(column_type = "String(StringLen::N(254))", unique_key = "owner_email")]
    pub email: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub full_name: String,
    /// Free-form note; empty string when none.
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    /// A JSON object of string to string (`{}` when none), checked by the clients
    /// service; read it with `crate::clients::attributes`.
    #[sea_orm(column_type = "Text")]
    pub attributes: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: BelongsTo<super::user::Entity>,
    /// Junction rows linking this client to mailings.
    #[sea_orm(has_many)]
    pub mailing_clients: HasMany<super::mailing_client::Entity>,
    /// Mailings that send to this client (many-to-many through `mailing_clients`).
    #[sea_orm(has_many, via = "mailing_client")]
    pub mailings: HasMany<super::mailing::Entity>,
    /// Junction rows linking this client to its tags.
    #[sea_orm(has_many)]
    pub client_tags: HasMany<super::client_tag::Entity>,
    #[sea_orm(has_many)]
    pub deliveries: HasMany<super::delivery::Entity>,
    /// Log rows (set to NULL rather than deleted when the client goes).
    #[sea_orm(has_many)]
    pub attempts: HasMany<super::attempt::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
