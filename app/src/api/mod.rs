//! The JSON API (`/api`): the token owner's clients, messages and mailings (with their
//! attempts and reports), described by an OpenAPI document at `/api/openapi.json` and
//! browsable with Swagger UI at `/api/docs`.
//!
//! Requests authenticate with a personal token (`Authorization: Bearer mlr_…`), made on
//! the account page; no cookies are read, so no CSRF token is needed. Each operation goes
//! through the same services as the pages, so the rules and the ownership checks are the
//! same. Every error is JSON of one shape (`error::ErrorBody`).

pub mod account;
pub mod auth;
pub mod clients;
pub mod error;
pub mod mailings;
pub mod messages;
pub mod suppressions;
pub mod text;

use std::sync::Arc;

use poem::endpoint::make_sync;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get};
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiResponse, Enum, Object, OpenApiService, Tags};

use crate::paging::{ListQuery, PER_PAGE, Paginated};
use crate::web::middleware::limit_body;

/// Largest request body the API reads (a message body is at most 100,000 characters).
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

#[derive(Tags)]
pub enum ApiTags {
    /// Your recipients.
    Clients,
    /// Your messages (subject and body).
    Messages,
    /// Your mailings, their attempts and reports.
    Mailings,
    /// Addresses none of your mailings sends to.
    Suppressions,
    /// Your account and its time zone.
    Account,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SortDir {
    Asc,
    Desc,
}

/// One page of a list.
#[derive(Debug, Clone, Object)]
pub struct ListPage<T: ParseFromJSON + ToJSON> {
    pub items: Vec<T>,
    /// This page's number, from 1.
    pub page: u64,
    pub per_page: u64,
    /// Rows in all pages.
    pub total: u64,
    /// Number of pages (at least 1).
    pub pages: u64,
}

impl<T: ParseFromJSON + ToJSON> ListPage<T> {
    pub fn from_page<M: Into<T>>(p: Paginated<M>) -> Self {
        Self {
            items: p.items.into_iter().map(Into::into).collect(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            pages: p.pages,
        }
    }
}

#[derive(ApiResponse)]
pub enum Created<T: ParseFromJSON + ToJSON> {
    /// Created; `Location` is its URL.
    #[oai(status = 201)]
    Created(Json<T>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
}

/// Defaults of the paging parameters.
pub mod page_params {
    pub fn first() -> u64 {
        1
    }

    pub fn per_page() -> u64 {
        super::PER_PAGE
    }
}

/// The list query the services understand.
pub fn list_query(
    page: u64,
    q: Option<String>,
    sort: Option<&str>,
    dir: Option<SortDir>,
    status: Option<&str>,
) -> ListQuery {
    ListQuery {
        q: q.unwrap_or_default(),
        sort: sort.unwrap_or_default().to_owned(),
        dir: match dir {
            Some(SortDir::Asc) => "asc".to_owned(),
            Some(SortDir::Desc) => "desc".to_owned(),
            None => String::new(),
        },
        page: Some(page),
        status: status.unwrap_or_default().to_owned(),
        tag: String::new(),
    }
}

/// Everything under `/api`.
pub fn routes() -> impl Endpoint {
    let service = OpenApiService::new(
        (
            clients::ClientsApi,
            messages::MessagesApi,
            mailings::MailingsApi,
            suppressions::SuppressionsApi,
            account::AccountApi,
        ),
        "Mailer API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Your clients, messages and mailings, with the attempts and reports of each \
         mailing. Authenticate with a personal token from your account page: \
         `Authorization: Bearer mlr_…`. You only ever see your own objects: anybody \
         else's are 404. Every error is JSON: `{\"error\": code, \"message\": text, \
         \"fields\": {field: [text]}}`, where `fields` is filled for 422 (validation). \
         Request bodies are limited to 1 MiB, pages to 100 rows.",
    )
    .server("/api/v1");
    let spec = service.spec();
    let allow = Arc::new(AllowTable::from_spec(&spec));
    let docs = swagger_ui(service.swagger_ui_html());
    Route::new()
        .nest("/v1", service)
        .at(
            "/openapi.json",
            get(make_sync(move |_| {
                Response::builder()
                    .content_type("application/json; charset=utf-8")
                    .body(spec.clone())
            })),
        )
        .at("/docs", get(docs))
        .around(move |ep, req| json_only(ep, req, allow.clone()))
}

/// The methods each path of the API answers, for the `Allow` header of a 405.
struct AllowTable(Vec<(Vec<String>, String)>);

impl AllowTable {
    fn from_spec(spec: &str) -> Self {
        let doc: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut table = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
            for (path, ops) in paths {
                let methods: Vec<String> = ops
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                let segments = path.split('/').map(str::to_owned).collect();
                table.push((segments, methods.join(", ")));
            }
        }
        Self(table)
    }

    /// The `Allow` value for a request path under `/v1` (as the `/api` nest sees it).
    fn allow(&self, path: &str) -> Option<&str> {
        let path = path.strip_prefix("/v1")?.trim_end_matches('/');
        let parts: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| s.starts_with('{') || s == p)
            })
            .map(|(_, methods)| methods.as_str())
    }
}

/// Bodies over `MAX_BODY_BYTES` get 413 (declared or streamed, cut while streaming), and
/// every error answer is the JSON error shape.
async fn json_only<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    allow: Arc<AllowTable>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = match limit_body(ep, req, MAX_BODY_BYTES, too_large).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allow.allow(&path)
        && let Ok(value) = HeaderValue::from_str(methods)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(error::with_challenge(error::as_json(response).await))
}

/// The 413 answer (`as_json` gives it the error shape).
fn too_large(_limit: u64) -> Response {
    Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .body("The request body is larger than 1 MiB.")
}

/// Swagger UI, with a CSP of its own: poem-openapi's page is one HTML file with inline
/// script and style, which the site's CSP forbids. This one allows exactly those blocks
/// (by hash) and nothing else inline; the rest of the site keeps the strict policy.
fn swagger_ui(html: String) -> impl Endpoint {
    let csp = format!(
        "default-src 'self'; script-src 'self' {}; style-src 'self' {}; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; \
         object-src 'none'",
        inline_hashes(&html, "script"),
        inline_hashes(&html, "style"),
    );
    make_sync(move |_| {
        let mut response = poem::web::Html(html.clone()).into_response();
        if let Ok(value) = HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
        response
    })
}

/// `'sha256-…'` of the text of every `<tag>` element in `html`.
fn inline_hashes(html: &str, tag: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let Some(gt) = after.find('>') else { break };
        let content = &after[gt + 1..];
        let Some(end) = content.find(&close) else {
            break;
        };
        let digest = Sha256::digest(&content.as_bytes()[..end]);
        hashes.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &content[end + close.len()..];
    }
    hashes.join(" ")
}
