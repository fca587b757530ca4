//! The API's one error shape, for every status:
//! `{"error": "<code>", "message": "<text>", "fields": {"<field>": ["<text>", …]}}`.
//! `fields` is filled for `validation` (422) and empty otherwise.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::http::header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::AppError;
use crate::i18n::english;
use crate::messages::template::TemplateError;
use crate::validation::{FieldErrors, SaveError};

/// An error answer of the API.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ErrorBody {
    /// Stable code: `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`,
    /// `conflict`, `payload_too_large`, `unsupported_media_type`, `validation`, `internal`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// For `validation`: the messages per field of the request body (`""` for the body as a
    /// whole). Empty for other errors.
    pub fields: BTreeMap<String, Vec<String>>,
    /// For `validation` of a message: each mistake in its templates, with where it is.
    /// Absent otherwise.
    #[oai(default, skip_serializing_if_is_empty)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub template_errors: Vec<TemplateErrorOut>,
}

/// A mistake in a message's subject or body template.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "TemplateError")]
pub struct TemplateErrorOut {
    /// `subject` or `body`.
    pub field: String,
    /// From 1.
    pub line: u32,
    /// From 1, in characters.
    pub column: u32,
    pub message: String,
}

impl From<TemplateError> for TemplateErrorOut {
    fn from(e: TemplateError) -> Self {
        Self {
            field: e.field.name().to_owned(),
            line: u32::try_from(e.line).unwrap_or(u32::MAX),
            column: u32::try_from(e.column).unwrap_or(u32::MAX),
            message: english(&e.message),
        }
    }
}

impl ErrorBody {
    fn new(error: &str, message: impl Into<String>) -> Json<Self> {
        Json(Self {
            error: error.to_owned(),
            message: english(&message.into()),
            fields: BTreeMap::new(),
            template_errors: Vec::new(),
        })
    }
}

#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request could not be read: malformed JSON, a value of the wrong type, a bad
    /// query or path parameter, a page size out of range.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No token, an unknown or revoked one, or its owner is blocked.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// No such object among the token owner's (other users' objects are never visible).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The object's state does not allow it (a message used by a mailing, a disabled
    /// mailing sent now).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The request body is larger than 1 MiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not `application/json`.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The body was read but its values break the rules; `fields` says which and why.
    #[oai(status = 422)]
    Validation(Json<ErrorBody>),
    /// Our fault; the details are in the server log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database does not answer right now; try again shortly.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn unauthorized(message: &str) -> Self {
        ApiError::Unauthorized(ErrorBody::new("unauthorized", message))
    }

    pub fn not_found() -> Self {
        ApiError::NotFound(ErrorBody::new("not_found", "Not found."))
    }

    pub fn internal() -> Self {
        ApiError::Internal(ErrorBody::new(
            "internal",
            "Something went wrong on our side.",
        ))
    }

    pub fn validation(errors: FieldErrors) -> Self {
        // The pages write the messages in the reader's language; the API in English.
        let errors = FieldErrors(
            errors
                .0
                .into_iter()
                .map(|(field, messages)| (field, messages.iter().map(|m| english(m)).collect()))
                .collect(),
        );
        let message = errors
            .0
            .values()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| "The request is not valid.".to_owned());
        ApiError::Validation(Json(ErrorBody {
            error: "validation".to_owned(),
            message,
            fields: errors.0,
            template_errors: Vec::new(),
        }))
    }

    /// A validation error that also lists the mistakes in a message's templates.
    pub fn validation_with_templates(errors: FieldErrors, templates: Vec<TemplateError>) -> Self {
        match ApiError::validation(errors) {
            ApiError::Validation(Json(mut body)) => {
                body.template_errors = templates.into_iter().map(Into::into).collect();
                ApiError::Validation(Json(body))
            }
            other => other,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            // Another user's object is as invisible as a missing one.
            AppError::NotFound | AppError::Forbidden => ApiError::not_found(),
            AppError::Conflict(m) => ApiError::Conflict(ErrorBody::new("conflict", m)),
            AppError::BadRequest(m) => ApiError::BadRequest(ErrorBody::new("bad_request", m)),
            AppError::LoginRequired(_) => ApiError::unauthorized("An API token is required."),
            AppError::Unavailable(e) => {
                crate::error::log_unavailable(&e);
                ApiError::Unavailable(ErrorBody::new(
                    "unavailable",
                    "The service cannot reach its storage right now. Try again in a few seconds.",
                ))
            }
            AppError::Unexpected(e) => {
                tracing::error!(error = %format!("{e:#}"), "API request failed");
                ApiError::internal()
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::from(e).into()
    }
}

impl From<SaveError> for ApiError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Invalid(errors) => ApiError::validation(errors),
            SaveError::App(e) => e.into(),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::validation(errors)
    }
}

/// The code of the error shape for an HTTP status.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Any error answer that is not JSON yet (poem-openapi's own plain-text 400 for a bad
/// body or parameter, 401 for a missing token, 404/405 from the router…) as the one
/// error shape, with the same status.
pub async fn as_json(response: poem::Response) -> poem::Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = body.into_string().await.ok();
    let message = match (status, text) {
        (s, _) if s.is_server_error() => "Something went wrong on our side.".to_owned(),
        // poem-openapi's words for a missing or non-Bearer `Authorization` header.
        (StatusCode::UNAUTHORIZED, _) => {
            "An API token is required: `Authorization: Bearer <token>`.".to_owned()
        }
        (_, Some(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        (s, _) => s.canonical_reason().unwrap_or("Error").to_owned() + ".",
    };
    let body = ErrorBody {
        error: code_of(status).to_owned(),
        message,
        fields: BTreeMap::new(),
        template_errors: Vec::new(),
    };
    let mut out = poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::to_vec(&body).unwrap_or_default());
    // Keep what the router said besides the body (Allow on a 405…).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Every 401 names the scheme it wants (RFC 9110).
pub fn with_challenge(mut response: poem::Response) -> poem::Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"mailer\""),
        );
    }
    response
}
