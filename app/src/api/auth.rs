//! The API's bearer extractor: `Authorization: Bearer <token>` names the account a request
//! acts for. Tokens themselves (made, revoked, looked up) are an account feature:
//! `accounts::api_tokens`.

use std::sync::Arc;

use poem::Request;

use super::error::ApiError;
use crate::accounts::api_tokens::authenticate;
use crate::entities::user;
use crate::state::AppState;

/// The account an API request acts for (from `Authorization: Bearer <token>`).
#[derive(poem_openapi::SecurityScheme)]
#[oai(
    rename = "token",
    ty = "bearer",
    bearer_format = "mlr_…",
    checker = "check_token"
)]
pub struct TokenAuth(pub Arc<user::Model>);

async fn check_token(
    req: &Request,
    bearer: poem_openapi::auth::Bearer,
) -> poem::Result<Arc<user::Model>> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    match authenticate(&state.db, bearer.token.trim()).await {
        Ok(Ok(user)) => Ok(Arc::new(user)),
        Ok(Err(refusal)) => Err(ApiError::unauthorized(refusal.message()).into()),
        Err(e) => Err(ApiError::from(e).into()),
    }
}
