//! `/api/v1/suppressions`: the token owner's suppression list, through `consent::list`
//! (the same rules as the page: an unsubscribe or a complaint cannot be taken off).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::TokenAuth;
use super::error::ApiResult;
use super::text::Text;
use super::{ApiTags, Created, Deleted, ListPage, list_query, page_params};
use crate::consent::list::{self, EntryInput};
use crate::entities::suppression::{self, Reason};
use crate::state::AppState;

/// Why an address is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "SuppressionReason", rename_all = "snake_case")]
pub enum ReasonOut {
    /// The recipient unsubscribed (only they can undo it).
    Unsubscribed,
    /// The address bounced.
    Bounced,
    /// The recipient marked a message as spam (only they can undo it).
    Complained,
    /// You put it on the list.
    Listed,
}

impl From<Reason> for ReasonOut {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Unsubscribed => Self::Unsubscribed,
            Reason::Bounced => Self::Bounced,
            Reason::Complained => Self::Complained,
            Reason::Listed => Self::Listed,
        }
    }
}

impl ReasonOut {
    fn key(self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Listed => "listed",
        }
    }
}

/// An address none of your mailings sends to.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Suppression", skip_serializing_if_is_none)]
pub struct SuppressionOut {
    pub id: i32,
    /// Lower-cased.
    pub email: String,
    pub reason: ReasonOut,
    /// Your note, or what the server said (a bounce's reply).
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Whether you may take it off the list (`DELETE`): what you listed, or a bounce.
    pub removable: bool,
}

impl From<suppression::Model> for SuppressionOut {
    fn from(s: suppression::Model) -> Self {
        Self {
            removable: list::removable(&s),
            id: s.id,
            email: s.email,
            reason: s.reason.into(),
            note: s.detail,
            created_at: s.created_at,
        }
    }
}

/// An address to put on your list. A valid address (at most 254 characters) and a note
/// under 500 characters, or 422; an address on the list already is 422 too.
#[derive(Debug, Clone, Object)]
#[oai(rename = "SuppressionInput")]
pub struct SuppressionIn {
    pub email: Text,
    #[oai(default)]
    pub note: Text,
}

pub struct SuppressionsApi;

#[OpenApi(prefix_path = "/suppressions", tag = "ApiTags::Suppressions")]
impl SuppressionsApi {
    /// List your suppression list
    ///
    /// Newest first; searches the address and the note.
    #[oai(path = "/", method = "get", operation_id = "list_suppressions")]
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
        /// Text to look for in the address or the note.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// Only entries with this reason.
        reason: Query<Option<ReasonOut>>,
    ) -> ApiResult<Json<ListPage<SuppressionOut>>> {
        let query = list_query(page.0, q.0, None, None, reason.0.map(ReasonOut::key));
        let found = list::list(&state.db, auth.0.id, &query, per_page.0).await?;
        Ok(Json(ListPage::from_page(found)))
    }

    /// Add an address to your suppression list
    #[oai(path = "/", method = "post", operation_id = "create_suppression")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<SuppressionIn>,
    ) -> ApiResult<Created<SuppressionOut>> {
        let input = EntryInput {
            email: body.0.email.into(),
            note: body.0.note.into(),
        };
        let entry = list::add(&state.db, auth.0.id, &input).await?;
        let location = format!("/api/v1/suppressions/{}", entry.id);
        Ok(Created::Created(Json(entry.into()), location))
    }

    /// Get one entry of your suppression list
    #[oai(path = "/:id", method = "get", operation_id = "get_suppression")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Json<SuppressionOut>> {
        Ok(Json(
            list::find_owned(&state.db, auth.0.id, id.0).await?.into(),
        ))
    }

    /// Take an address off your suppression list
    ///
    /// Only what you listed, or a bounce: an unsubscribe or a complaint is the recipient's
    /// to take back (409).
    #[oai(path = "/:id", method = "delete", operation_id = "delete_suppression")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Deleted> {
        list::remove(&state.db, auth.0.id, id.0).await?;
        Ok(Deleted::Deleted)
    }
}
