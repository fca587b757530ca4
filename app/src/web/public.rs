//! Public pages (home, blog) as one anonymous HTML shared by every anonymous visitor. The
//! only per-visitor part of such a page is the CSRF token in the layout: the cached HTML
//! holds a slot for it, filled for each request. Signed-in visitors, visitors with a flash
//! message waiting and htmx fragment requests never get it: their pages are rendered per
//! request (from cached data), so nothing personal is ever cached or served to another.

use std::sync::Arc;

use minijinja::{HtmlEscape, Value};
use poem::http::{HeaderValue, Method, header};
use poem::session::Session;
use poem::web::CsrfToken;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::accounts::session::{self, Viewer, has_flashes};
use crate::cache::Lookup;
use crate::state::AppState;
use crate::web::page::wants_fragment;

/// Where the visitor's CSRF token goes. Every `<` of content is escaped on the way into a
/// page, so no post or title can forge this marker.
pub const CSRF_SLOT: &str = "<!--csrf-token-->";

/// The response header that says whether the page (or its data) came from the cache.
pub const CACHE_HEADER: &str = "X-Cache";

/// Does this visitor see the page everybody sees: nobody signed in, no message waiting,
/// and the whole page rather than an htmx fragment?
pub fn sees_anonymous_page(req: &Request) -> bool {
    let signed_in = req
        .extensions()
        .get::<Viewer>()
        .is_some_and(|v| v.0.is_some());
    let flash = req.extensions().get::<Session>().is_some_and(has_flashes);
    !signed_in && !flash && !wants_fragment(req)
}

/// `template` as an anonymous visitor at `path` sees it, with the CSRF slot.
pub fn render_anonymous(
    state: &AppState,
    template: &str,
    path: &str,
    ctx: Value,
) -> anyhow::Result<String> {
    let base = minijinja::context! {
        request => minijinja::context! { path => path },
        csrf_token => Value::from_safe_string(CSRF_SLOT.to_owned()),
    };
    state
        .templates
        .render(template, None, minijinja::context! { ..base, ..ctx })
        .map_err(|e| anyhow::anyhow!("template {template}: {e:#}"))
}

/// The anonymous page `html`, its CSRF slot filled with this visitor's token.
pub fn anonymous_response(req: &Request, html: &str, lookup: Lookup) -> Response {
    let token = req
        .extensions()
        .get::<CsrfToken>()
        .map(|t| HtmlEscape(&t.0).to_string())
        .unwrap_or_default();
    let body = html.replace(CSRF_SLOT, &token);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("HX-Request"));
    headers.insert(CACHE_HEADER, HeaderValue::from_static(lookup.as_str()));
    response
}

/// Does the request carry a session cookie (a visitor who may be signed in or have a
/// message waiting)?
fn has_session_cookie(req: &Request) -> bool {
    req.headers().get_all(header::COOKIE).iter().any(|value| {
        value.to_str().is_ok_and(|cookies| {
            cookies
                .split(';')
                .any(|c| c.trim_start().starts_with(session::COOKIE_NAME))
        })
    })
}

/// The fast path of the public pages: a GET from a visitor without a session cookie (so
/// nobody signed in and no message waiting) gets the anonymous page straight from the
/// cache, before sessions, the viewer, the page renderer and the route table run. It sits
/// inside `Csrf`, so the visitor's own token is filled in. Everything else — other paths,
/// a session cookie, htmx fragments, a page that does not exist, an error — goes on to the
/// site as usual.
pub async fn serve_anonymous<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    if req.method() == Method::GET
        && !wants_fragment(&req)
        && !has_session_cookie(&req)
        && let Some(state) = req.data::<AppState>()
    {
        let served = match req.uri().path() {
            "/" => crate::home::routes::anonymous_home(state, &req)
                .await
                .map(Some),
            "/blog" => match list_page(&req) {
                Some(page) => crate::blog::routes::anonymous_list(state, &req, page).await,
                None => Ok(None),
            },
            path => match path.strip_prefix("/blog/") {
                Some(slug) if is_plain_slug(slug) => {
                    crate::blog::routes::anonymous_post(state, &req, slug).await
                }
                _ => Ok(None),
            },
        };
        match served {
            Ok(Some(response)) => return Ok(response),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "public page fast path"),
        }
    }
    Ok(ep.call(req).await?.into_response())
}

/// `?page=N` of the blog list (1 without it); `None` for anything the list handler should
/// judge itself.
fn list_page(req: &Request) -> Option<u64> {
    let Some(query) = req.uri().query() else {
        return Some(1);
    };
    let mut page = Some(1);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "page" {
            page = value.parse().ok();
        }
    }
    page
}

/// A slug as it appears in a URL without escapes (anything else takes the usual route).
fn is_plain_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 200
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}
