//! `users`: accounts of the service (mailing owners, managers, content managers, superusers).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What an account may do; stored as a short string in `users.role`.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary customer: manages their own clients, messages and mailings.
    #[sea_orm(string_value = "user")]
    User,
    /// Sees every user's data and can block users, but cannot edit it.
    #[sea_orm(string_value = "manager")]
    Manager,
    /// Writes the blog posts.
    #[sea_orm(string_value = "content_manager")]
    ContentManager,
    /// Everything.
    #[sea_orm(string_value = "superuser")]
    Superuser,
}

impl Role {
    pub const ALL: [Self; 4] = [
        Self::User,
        Self::Manager,
        Self::ContentManager,
        Self::Superuser,
    ];

    /// The value stored in the database (and used in forms and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Manager => "manager",
            Self::ContentManager => "content_manager",
            Self::Superuser => "superuser",
        }
    }

    /// Human-readable name for pages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Manager => "Manager",
            Self::ContentManager => "Content manager",
            Self::Superuser => "Superuser",
        }
    }
}

/// One account; owns clients, messages, mailings and API tokens (all deleted with it).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Stored lower-cased: the login is case-insensitive and unique.
    #[sea_orm(column_type = "String(StringLen::N(254))", unique)]
    pub email: String,
    /// Argon2 PHC string; never serialized.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    #[serde(skip_serializing)]
    pub password_hash: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub phone: Option<String>,
    /// Path of the uploaded avatar image, if any.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub avatar: Option<String>,
    pub role: Role,
    /// Whether the e-mail address has been confirmed.
    pub is_verified: bool,
    /// false = blocked by a manager.
    pub is_active: bool,
    /// Sessions issued before this instant are dead (blocking, password change).
    pub sessions_valid_after: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login: Option<DateTimeUtc>,
    /// The display name of this user's mailings (beside the instance's own From address);
    /// empty: the instance's name.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub sender_name: String,
    /// Where replies to this user's mailings go; set only once confirmed by a link.
    #[sea_orm(column_type = "String(StringLen::N(254))")]
    pub reply_to: Option<String>,
    /// The postal line at the foot of each mailing (bulk-mail laws ask for one); may be empty.
    #[sea_orm(column_type = "String(StringLen::N(300))")]
    pub postal_address: String,
    /// The language chosen for the site and account e-mails (`crate::i18n::Lang` codes);
    /// none: as the browser asks.
    #[sea_orm(column_type = "String(StringLen::N(8))")]
    pub language: Option<String>,
    /// IANA time zone (`Europe/Berlin`, checked against `timezone::parse`): pages show and
    /// forms take times in it, and recurring mailings keep its local wall-clock time.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub timezone: String,
    #[sea_orm(has_many)]
    pub clients: HasMany<super::client::Entity>,
    #[sea_orm(has_many)]
    pub messages: HasMany<super::message::Entity>,
    #[sea_orm(has_many)]
    pub mailings: HasMany<super::mailing::Entity>,
    #[sea_orm(has_many)]
    pub attempts: HasMany<super::attempt::Entity>,
    /// Blog posts written by this user (`posts.author_id`).
    #[sea_orm(has_many)]
    pub posts: HasMany<super::post::Entity>,
    /// Admin actions performed by this user (`admin_log.actor_id`).
    #[sea_orm(has_many)]
    pub admin_log: HasMany<super::admin_log::Entity>,
    #[sea_orm(has_many)]
    pub api_tokens: HasMany<super::api_token::Entity>,
    #[sea_orm(has_many)]
    pub tags: HasMany<super::tag::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
