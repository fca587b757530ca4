//! Public pages (home, blog) as one anonymous HTML shared by every anonymous visitor. The
//! only per-visitor part of such a page is the CSRF token in the layout: the cached HTML
//! holds a slot for it, filled for each request. Signed-in visitors, visitors with a flash
//! message waiting and htmx fragment requests never get it: their pages are rendered per
//! request (from cached data), so nothing personal is ever cached or served to another.

use minijinja::{HtmlEscape, Value};
use poem::http::{HeaderValue, header};
use poem::session::Session;
use poem::web::CsrfToken;
use poem::{IntoResponse, Request, Response};

use crate::accounts::session::{Viewer, has_flashes};
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
