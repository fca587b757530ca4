//! `admin_log`: the admin audit trail: who did what to which object, and which fields changed.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One admin action; survives the actor's account (actor_id set to NULL, email kept).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "admin_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// None once the actor's account has been deleted.
    pub actor_id: Option<i32>,
    /// Kept as text so the trail outlives a deleted account.
    #[sea_orm(column_type = "String(StringLen::N(254))")]
    pub actor_email: String,
    /// add | change | delete | action:<name>
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub action: String,
    /// Admin model name of the object (e.g. "users").
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub model: String,
    /// Primary key of the object, as text.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub object_id: String,
    /// Human-readable description of the object at the time of the action.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub object_repr: String,
    /// JSON: {"field": [old, new], ...}
    #[sea_orm(column_type = "Text")]
    pub changes: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "actor_id", to = "id")]
    pub actor: BelongsTo<Option<super::user::Entity>>,
}

impl ActiveModelBehavior for ActiveModel {}
