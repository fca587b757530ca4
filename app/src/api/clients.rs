//! `/api/v1/clients`: the token owner's recipients, through `clients::service` (the same
//! rules and 404s as the pages).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::TokenAuth;
use super::error::ApiResult;
use super::text::Text;
use super::{ApiTags, Created, Deleted, ListPage, SortDir, list_query, page_params};
use crate::clients::service;
use crate::consent::service as consent;
use crate::state::AppState;

/// A recipient.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Client", skip_serializing_if_is_none)]
pub struct ClientOut {
    pub id: i32,
    /// Lower-cased; unique among the owner's clients.
    pub email: String,
    pub full_name: String,
    /// Empty when there is none.
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the address is mailed: `active`, or why not.
    pub state: ClientState,
    /// Since when the address is not mailed (absent while active).
    pub state_since: Option<DateTime<Utc>>,
    /// Custom attributes, name → value (names are lower-case).
    pub attributes: BTreeMap<String, String>,
    /// Tag names, sorted.
    pub tags: Vec<String>,
}

/// Where a client's address stands: `active` (mailed), `unsubscribed` (only the recipient
/// can undo it), `bounced`, `complained` (marked a message as spam), or `listed` (on your
/// suppression list or the instance's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ClientState", rename_all = "snake_case")]
pub enum ClientState {
    Active,
    Unsubscribed,
    Bounced,
    Complained,
    Listed,
}

impl From<consent::State> for ClientState {
    fn from(s: consent::State) -> Self {
        match s {
            consent::State::Active => Self::Active,
            consent::State::Unsubscribed => Self::Unsubscribed,
            consent::State::Bounced => Self::Bounced,
            consent::State::Complained => Self::Complained,
            consent::State::Listed => Self::Listed,
        }
    }
}

impl ClientState {
    fn key(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Listed => "listed",
        }
    }
}

impl From<service::Listed> for ClientOut {
    fn from(l: service::Listed) -> Self {
        let c = l.client;
        Self {
            attributes: crate::clients::attributes(&c),
            tags: l.tags,
            id: c.id,
            email: c.email,
            full_name: c.full_name,
            comment: c.comment,
            created_at: c.created_at,
            updated_at: c.updated_at,
            state: l.state.state.into(),
            state_since: l.state.since,
        }
    }
}

/// A recipient to create or replace. The rules (a valid address of at most 254
/// characters, unique among your clients; a name of 1–200 characters on one line; a
/// comment under 2,000; no NUL anywhere; attributes and tags as below) give 422 with the
/// messages per field.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ClientInput")]
pub struct ClientIn {
    pub email: Text,
    pub full_name: Text,
    #[oai(default)]
    pub comment: Text,
    /// Custom attributes, name → value: at most 50; a name is 1–40 letters a–z, digits
    /// and `_`, starting with a letter (lower-cased; not `email`, `full_name`,
    /// `comment`, `tags`, `state` or `since`); a value is one line of up to 1,000
    /// characters. Absent: left as they are (none for a new client); `{}` removes them.
    pub attributes: Option<BTreeMap<String, Text>>,
    /// Tag names (1–50 characters, no `,` or `;`, lower-cased), made when new; at most 50.
    /// Absent: left as they are; `[]` removes them.
    pub tags: Option<Vec<Text>>,
}

impl From<ClientIn> for service::ClientInput {
    fn from(c: ClientIn) -> Self {
        Self {
            email: c.email.into(),
            full_name: c.full_name.into(),
            comment: c.comment.into(),
            attributes: c.attributes.map(|map| {
                service::AttributesIn::Map(map.into_iter().map(|(k, v)| (k, v.0)).collect())
            }),
            tags: c
                .tags
                .map(|names| service::TagsIn::List(names.into_iter().map(|t| t.0).collect())),
        }
    }
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename = "ClientSort", rename_all = "snake_case")]
pub enum ClientSort {
    Name,
    Email,
    Created,
}

impl ClientSort {
    fn key(self) -> &'static str {
        match self {
            ClientSort::Name => "name",
            ClientSort::Email => "email",
            ClientSort::Created => "created",
        }
    }
}

pub struct ClientsApi;

#[OpenApi(prefix_path = "/clients", tag = "ApiTags::Clients")]
impl ClientsApi {
    /// List your clients
    ///
    /// Searches e-mail and name (case-insensitive), sorted by name unless told otherwise.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/", method = "get", operation_id = "list_clients")]
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
        /// Text to look for in the e-mail or the name.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        sort: Query<Option<ClientSort>>,
        dir: Query<Option<SortDir>>,
        /// Only clients whose address is in this state.
        #[oai(name = "state")]
        in_state: Query<Option<ClientState>>,
        /// Only clients carrying this tag (its name).
        #[oai(validator(max_length = 200))]
        tag: Query<Option<String>>,
    ) -> ApiResult<Json<ListPage<ClientOut>>> {
        let mut query = list_query(
            page.0,
            q.0,
            sort.0.map(ClientSort::key),
            dir.0,
            in_state.0.map(ClientState::key),
        );
        query.tag = tag.0.unwrap_or_default();
        let found = service::list_sized(&state.db, auth.0.id, &query, per_page.0).await?;
        Ok(Json(ListPage::from_page(found)))
    }

    /// Create a client
    #[oai(path = "/", method = "post", operation_id = "create_client")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<ClientIn>,
    ) -> ApiResult<Created<ClientOut>> {
        let client = service::create(&state.db, auth.0.id, body.0.into()).await?;
        let location = format!("/api/v1/clients/{}", client.id);
        let client = service::listed(&state.db, client).await?;
        Ok(Created::Created(Json(client.into()), location))
    }

    /// Get one of your clients
    #[oai(path = "/:id", method = "get", operation_id = "get_client")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Json<ClientOut>> {
        let client = service::find_listed(&state.db, auth.0.id, id.0).await?;
        Ok(Json(client.into()))
    }

    /// Replace one of your clients
    #[oai(path = "/:id", method = "put", operation_id = "update_client")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        body: Json<ClientIn>,
    ) -> ApiResult<Json<ClientOut>> {
        let client = service::update(&state.db, auth.0.id, id.0, body.0.into()).await?;
        let client = service::listed(&state.db, client).await?;
        Ok(Json(client.into()))
    }

    /// Delete one of your clients
    ///
    /// It leaves the mailings that sent to it; their attempts keep the address.
    #[oai(path = "/:id", method = "delete", operation_id = "delete_client")]
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
