//! The site's rendering of `crate::error::AppError`: the error page (HTML) with the right
//! status, logged once with the whole chain for unexpected errors; and the pages for poem's
//! own errors (a bad path, a body too large).

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};

use super::page::Page;
use crate::error::{AppError, log_unavailable};

/// Seconds a client is asked to wait before trying again after a 503.
const RETRY_AFTER_SECS: &str = "5";

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::LoginRequired(_) => StatusCode::SEE_OTHER,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        if let AppError::LoginRequired(next) = self {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            return see_other(&format!("/login?next={next}"));
        }
        let message = match self {
            AppError::Unexpected(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                None
            }
            AppError::Unavailable(e) => {
                log_unavailable(e);
                let message = "The service cannot reach its storage right now. Please try again in a few seconds.";
                let mut response = error_page(self.status(), Some(message.into())).into_response();
                response.headers_mut().insert(
                    poem::http::header::RETRY_AFTER,
                    poem::http::HeaderValue::from_static(RETRY_AFTER_SECS),
                );
                return response;
            }
            AppError::Conflict(m) | AppError::BadRequest(m) => Some(m.clone()),
            AppError::NotFound | AppError::Forbidden | AppError::LoginRequired(_) => None,
        };
        error_page(self.status(), message).into_response()
    }
}

/// `303 See Other` to `location`: the answer to a successful form POST.
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, location)
        .finish()
}

/// The site's error page for `status`, with an optional explanation for the user.
pub fn error_page(status: StatusCode, message: Option<String>) -> Page {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::METHOD_NOT_ALLOWED => "Not possible here",
        _ => "Something went wrong",
    };
    Page::new(
        "error.html",
        minijinja::context! { status => status.as_u16(), title => title, message => message },
    )
    .status(status)
}

/// The site's 413 page: the request body passed `limit` bytes.
pub fn too_large_page(limit: u64) -> Response {
    let message = crate::i18n::phrase(
        "site-request-too-large",
        &[("count", &limit.div_ceil(1024 * 1024))],
    );
    error_page(StatusCode::PAYLOAD_TOO_LARGE, Some(message)).into_response()
}

/// The site's error page for an error of poem's own: a path parameter that does not
/// parse names no page (404), a query or a form that does not parse is a bad request
/// (400), and so on — never poem's plain-text answer.
pub fn framework_error_page(error: &poem::Error) -> Response {
    let status = if error.is::<poem::error::ParsePathError>() {
        StatusCode::NOT_FOUND
    } else {
        error.status()
    };
    let message = match status {
        StatusCode::BAD_REQUEST => {
            Some("The address or the form sent is not valid for this page.".to_owned())
        }
        StatusCode::METHOD_NOT_ALLOWED => Some("This page cannot be used that way.".to_owned()),
        _ => None,
    };
    if status.is_server_error() {
        tracing::error!(error = %error, "request failed");
    } else {
        tracing::debug!(%status, error = %error, "request refused");
    }
    error_page(status, message).into_response()
}
