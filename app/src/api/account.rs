//! `/api/v1/me`: the token owner's account, and its time zone (the zone the pages show
//! times in and recurring mailings keep their local time in; the API itself speaks UTC
//! instants with their offset).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::auth::TokenAuth;
use super::error::ApiResult;
use super::text::Text;
use crate::accounts::service;
use crate::entities::user;
use crate::state::AppState;

/// Your account.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Account")]
pub struct AccountOut {
    pub id: i32,
    pub email: String,
    /// Absent when not given.
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    /// `user`, `manager`, `content_manager` or `superuser`.
    pub role: String,
    /// IANA time zone, e.g. `Europe/Berlin`: recurring mailings repeat at the same local
    /// wall-clock time in it across DST changes.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<&user::Model> for AccountOut {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            phone: u.phone.clone(),
            role: u.role.as_str().to_owned(),
            timezone: u.timezone.clone(),
            created_at: u.created_at,
        }
    }
}

/// Your account's settings to change.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AccountInput")]
pub struct AccountIn {
    /// An IANA time zone name (`Europe/Berlin`, `Asia/Tokyo`, `UTC`); anything else is 422.
    pub timezone: Text,
}

pub struct AccountApi;

#[OpenApi(prefix_path = "/me", tag = "ApiTags::Account")]
impl AccountApi {
    /// Get your account
    #[oai(path = "/", method = "get", operation_id = "get_account")]
    async fn get(&self, auth: TokenAuth) -> ApiResult<Json<AccountOut>> {
        Ok(Json(AccountOut::from(auth.0.as_ref())))
    }

    /// Change your account's settings
    #[oai(path = "/", method = "patch", operation_id = "update_account")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<AccountIn>,
    ) -> ApiResult<Json<AccountOut>> {
        let user =
            service::set_timezone(&state.db, auth.0.as_ref().clone(), &body.0.timezone.0).await?;
        Ok(Json(AccountOut::from(&user)))
    }
}
