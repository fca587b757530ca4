//! `posts`: the public blog. Unpublished = draft; published with a future date = scheduled.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One blog post; survives its author (author_id set to NULL).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// None once the author's account has been deleted.
    pub author_id: Option<i32>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub title: String,
    /// URL part, unique.
    #[sea_orm(column_type = "String(StringLen::N(200))", unique)]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Path of the uploaded cover image, if any.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub image: Option<String>,
    pub view_count: i64,
    /// Unpublished = draft; published with a future `published_at` = scheduled.
    pub is_published: bool,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "author_id", to = "id")]
    pub author: BelongsTo<Option<super::user::Entity>>,
}

impl ActiveModelBehavior for ActiveModel {}
