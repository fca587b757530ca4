//! `/api/v1/messages`: the token owner's messages, through `messages::service`.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::TokenAuth;
use super::error::{ApiError, ApiResult};
use super::text::Text;
use super::{ApiTags, Created, Deleted, ListPage, SortDir, list_query, page_params};
use crate::entities::message;
use crate::messages::service::{self, MessageRow};
use crate::state::AppState;
use crate::validation::SaveError;

/// A message: what a mailing sends.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Message")]
pub struct MessageOut {
    pub id: i32,
    pub subject: String,
    pub body: String,
    /// How many of your mailings send it (it cannot be deleted while any does).
    pub mailings: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MessageOut {
    fn new(m: message::Model, mailings: i64) -> Self {
        Self {
            id: m.id,
            subject: m.subject,
            body: m.body,
            mailings,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<MessageRow> for MessageOut {
    fn from(row: MessageRow) -> Self {
        Self::new(row.message, row.mailings)
    }
}

/// A message to create or replace. A subject of 1–255 characters on one line and a body
/// of 1–100,000 characters, both MiniJinja templates (`{{ client.full_name }}`; the body
/// in Markdown), or 422 with the messages per field and `template_errors` with the line
/// and column of each mistake in a template.
#[derive(Debug, Clone, Object)]
#[oai(rename = "MessageInput")]
pub struct MessageIn {
    pub subject: Text,
    pub body: Text,
}

impl From<MessageIn> for service::MessageInput {
    fn from(m: MessageIn) -> Self {
        Self {
            subject: m.subject.into(),
            body: m.body.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename = "MessageSort", rename_all = "snake_case")]
pub enum MessageSort {
    Subject,
    Created,
    Updated,
}

impl MessageSort {
    fn key(self) -> &'static str {
        match self {
            MessageSort::Subject => "subject",
            MessageSort::Created => "created",
            MessageSort::Updated => "updated",
        }
    }
}

/// A refused save; a refused input also gets its template mistakes, each with its line and
/// column.
fn refused(e: SaveError, input: service::MessageInput) -> ApiError {
    match e {
        SaveError::Invalid(fields) => {
            let templates = service::template_errors(&input.normalized());
            ApiError::validation_with_templates(fields, templates)
        }
        SaveError::App(e) => e.into(),
    }
}

async fn with_count(state: &AppState, owner: i32, m: message::Model) -> ApiResult<MessageOut> {
    let uses = service::mailings_using(&state.db, owner, m.id).await?;
    Ok(MessageOut::new(m, uses.len() as i64))
}

pub struct MessagesApi;

#[OpenApi(prefix_path = "/messages", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// List your messages
    ///
    /// Searches subject and body (case-insensitive); newest edits first unless told
    /// otherwise.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/", method = "get", operation_id = "list_messages")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        /// Page number from 1; a page past the end returns the last one.
        #[oai(
            default = "page_params::first",
            validator(minimum(value = "1"), maximum(value = "1000000"))
        )]
        page: Query<u64>,
        /// Rows per page, 1–100.
        #[oai(
            default = "page_params::per_page",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        per_page: Query<u64>,
        /// Text to look for in the subject or the body.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        sort: Query<Option<MessageSort>>,
        dir: Query<Option<SortDir>>,
    ) -> ApiResult<Json<ListPage<MessageOut>>> {
        let query = list_query(page.0, q.0, sort.0.map(MessageSort::key), dir.0, None);
        let found = service::list_sized(&state.db, auth.0.id, &query, per_page.0).await?;
        Ok(Json(ListPage::from_page(found)))
    }

    /// Create a message
    #[oai(path = "/", method = "post", operation_id = "create_message")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<MessageIn>,
    ) -> ApiResult<Created<MessageOut>> {
        let input = service::MessageInput::from(body.0);
        let message = service::create(&state.db, auth.0.id, input.clone())
            .await
            .map_err(|e| refused(e, input))?;
        let location = format!("/api/v1/messages/{}", message.id);
        Ok(Created::Created(
            Json(MessageOut::new(message, 0)),
            location,
        ))
    }

    /// Get one of your messages
    #[oai(path = "/:id", method = "get", operation_id = "get_message")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Json<MessageOut>> {
        let message = service::find_owned(&state.db, auth.0.id, id.0).await?;
        Ok(Json(with_count(&state, auth.0.id, message).await?))
    }

    /// Replace one of your messages
    #[oai(path = "/:id", method = "put", operation_id = "update_message")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        body: Json<MessageIn>,
    ) -> ApiResult<Json<MessageOut>> {
        let input = service::MessageInput::from(body.0);
        let message = service::update(&state.db, auth.0.id, id.0, input.clone())
            .await
            .map_err(|e| refused(e, input))?;
        Ok(Json(with_count(&state, auth.0.id, message).await?))
    }

    /// Delete one of your messages
    ///
    /// 409 while a mailing sends it.
    #[oai(path = "/:id", method = "delete", operation_id = "delete_message")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Deleted> {
        service::delete(&state.db, auth.0.id, id.0).await?;
        Ok(Deleted::Deleted)
    }
}
