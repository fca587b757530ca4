//! Personal API tokens, an account feature: made, listed and revoked on the account page
//! (and by `mailer token create`), shown once, stored as a hash; `authenticate` finds the
//! owner of one. The API's bearer extractor that calls it is `api::auth`.
//!
//! A token is 32 random bytes (256 bits), so it cannot be guessed or brute-forced from its
//! hash: a plain SHA-256 is enough, and it is looked up by an index on every request.
//! Argon2 (for passwords, which are low-entropy) would cost ~0.1 s of CPU per API call for
//! no gain; an HMAC under `SECRET_KEY` would kill every token whenever the key is rotated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::entities::{api_token, user};
use crate::error::AppError;
use crate::validation::{FieldErrors, SaveError};

/// Every token starts with this, so it is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "mlr_";
/// How much of a token the account page shows (`mlr_` and 8 characters).
const SHOWN_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 8;
/// `last_used_at` is written at most once a minute per token, not on every request.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);
/// Tokens one account may hold at once.
pub const MAX_TOKENS_PER_USER: u64 = 20;
const MAX_NAME_CHARS: usize = 100;

/// A fresh token: the prefix and 32 random bytes in URL-safe base64 (47 characters).
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{TOKEN_PREFIX}{}", B64.encode(bytes))
}

/// What is stored of a token: its SHA-256, in hex.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user's tokens, newest first.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i32,
) -> Result<Vec<api_token::Model>, AppError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::CreatedAt)
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Makes a token named `name`; returns the row and the token itself (the only time it is
/// known: only its hash is kept).
pub async fn create(
    db: &DatabaseConnection,
    user_id: i32,
    name: &str,
) -> Result<(api_token::Model, String), SaveError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(SaveError::Invalid(FieldErrors::single(
            "name",
            format!("Name the token (up to {MAX_NAME_CHARS} characters), e.g. \"CI\"."),
        )));
    }
    let held = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .count(db)
        .await?;
    if held >= MAX_TOKENS_PER_USER {
        return Err(SaveError::Invalid(FieldErrors::single(
            "name",
            format!("You already have {MAX_TOKENS_PER_USER} tokens; revoke one first."),
        )));
    }
    let token = generate();
    let model = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        prefix: Set(token[..SHOWN_PREFIX_LEN].to_owned()),
        token_hash: Set(hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model, token))
}

/// Deletes the user's token `id` (404 for anybody else's). Returns its name.
pub async fn revoke(db: &DatabaseConnection, user_id: i32, id: i32) -> Result<String, AppError> {
    let token = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    api_token::Entity::delete_by_id(token.id).exec(db).await?;
    Ok(token.name)
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token we issued, or revoked.
    Unknown,
    /// The owner is blocked by a manager.
    Blocked,
    /// The owner has not confirmed the e-mail address (cannot happen through the site,
    /// which issues tokens only to signed-in, hence verified, users; refused all the same).
    Unverified,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unknown => "The API token is missing, malformed or revoked.",
            Refusal::Blocked => "This account is blocked.",
            Refusal::Unverified => "This account's e-mail address is not confirmed.",
        }
    }
}

/// The owner of `token`, if it is a live token of an active, verified account. Notes the
/// use (at most once a minute).
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
) -> Result<Result<user::Model, Refusal>, AppError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(Err(Refusal::Unknown));
    }
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(token)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((row, Some(owner))) = found else {
        return Ok(Err(Refusal::Unknown));
    };
    if !owner.is_active {
        return Ok(Err(Refusal::Blocked));
    }
    if !owner.is_verified {
        return Ok(Err(Refusal::Unverified));
    }
    let now = Utc::now();
    if row
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_RESOLUTION)
    {
        // Conditional, so concurrent requests of one token write once.
        let cutoff = now - LAST_USED_RESOLUTION;
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::Id.eq(row.id))
            .filter(
                sea_orm::Condition::any()
                    .add(api_token::Column::LastUsedAt.is_null())
                    .add(api_token::Column::LastUsedAt.lt(cutoff)),
            )
            .exec(db)
            .await?;
    }
    Ok(Ok(owner))
}
