//! The one Page responder. A handler returns `Page::new(template, ctx)`; the
//! `render_pages` middleware renders it with the request in hand: the whole page, or only
//! a block of it for an htmx request that is neither boosted nor a history restore (the
//! block named for the request's `HX-Target`, else the page's own). Every response of the
//! site's pages says `Vary: HX-Request, HX-Target`, the headers that choice read, so a
//! shared cache never serves a fragment for a page or one fragment for another.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::Serde;
use poem::error::ResponseError;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::session::Session;
use poem::web::CsrfToken;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::flash::take_flashes;
use crate::error::AppError;
use crate::state::AppState;

/// Block rendered for htmx requests unless the handler names another one.
pub const DEFAULT_BLOCK: &str = "content";

#[derive(Clone)]
pub struct Page {
    template: String,
    block: Option<String>,
    /// `(element id, block)`: an htmx request aimed at that element gets that block.
    fragments: Vec<(String, String)>,
    ctx: Value,
    status: StatusCode,
}

impl Page {
    pub fn new(template: impl Into<String>, ctx: Value) -> Self {
        Self {
            template: template.into(),
            block: None,
            fragments: Vec::new(),
            ctx,
            status: StatusCode::OK,
        }
    }

    /// The block to send back to htmx (default: `content`).
    pub fn block(mut self, block: impl Into<String>) -> Self {
        self.block = Some(block.into());
        self
    }

    /// An htmx request whose `HX-Target` is `target` gets `block` (e.g. a list's rows).
    pub fn fragment(mut self, target: impl Into<String>, block: impl Into<String>) -> Self {
        self.fragments.push((target.into(), block.into()));
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = Response::builder().status(self.status).finish();
        response.extensions_mut().insert(self);
        response
    }
}

/// Values every template sees besides the handler's own: `request`, `csrf_token` and
/// `flashes` (added here), and what middlewares put in the request's extensions before the
/// handler runs (the signed-in user as [`VIEWER`], by the accounts' session middleware).
#[derive(Clone, Default)]
pub struct PageContext(pub BTreeMap<&'static str, Value>);

/// The page context's entry for the signed-in visitor. A request that has one is personal:
/// it never gets the page shared by anonymous visitors (`public::sees_anonymous_page`).
pub const VIEWER: &str = "viewer";

impl PageContext {
    /// Does the request's page context hold a signed-in visitor?
    pub fn has_viewer(req: &Request) -> bool {
        req.extensions()
            .get::<PageContext>()
            .is_some_and(|ctx| ctx.0.contains_key(VIEWER))
    }
}

/// Is this an htmx request that wants only a fragment?
pub fn wants_fragment(req: &Request) -> bool {
    let is = |name: &str| req.header(name) == Some("true");
    is("HX-Request") && !is("HX-Boosted") && !is("HX-History-Restore-Request")
}

pub async fn render_pages<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let fragment = wants_fragment(&req);
    let target = req.header("HX-Target").map(str::to_owned);
    let path = req.uri().path().to_owned();
    let state = req.data::<AppState>().cloned();
    let session = req.extensions().get::<Session>().cloned();
    let mut base = req
        .extensions()
        .get::<PageContext>()
        .cloned()
        .unwrap_or_default();
    if let Some(token) = req.extensions().get::<CsrfToken>() {
        base.0.insert("csrf_token", Value::from(token.0.clone()));
    }
    let mut response = match ep.call(req).await {
        Ok(r) => r.into_response(),
        // Errors render the site's page here: `poem::Error::into_response` would replace
        // the response's extensions, and the page with them.
        Err(e) => match e.downcast_ref::<AppError>() {
            Some(app_error) => app_error.as_response(),
            None => super::error::framework_error_page(&e),
        },
    };
    add_vary(response.headers_mut());
    // htmx follows redirects inside its XHR; a fragment request must navigate instead.
    if fragment
        && response.status().is_redirection()
        && let Some(location) = response.headers().get(header::LOCATION).cloned()
    {
        let mut redirect = Response::builder().status(StatusCode::OK).finish();
        redirect.headers_mut().insert("HX-Redirect", location);
        add_vary(redirect.headers_mut());
        return Ok(redirect);
    }
    let page = match response.extensions_mut().remove::<Page>() {
        Some(page) => Some(page),
        // Unknown routes get the site's own 404 page, not poem's bare text.
        None if response.status() == StatusCode::NOT_FOUND
            && !path.starts_with("/static/")
            && !path.starts_with("/api") =>
        {
            Some(super::error::error_page(StatusCode::NOT_FOUND, None))
        }
        None => None,
    };
    let (Some(page), Some(state)) = (page, state) else {
        return Ok(response);
    };
    base.0
        .insert("request", minijinja::context! { path => path });
    if !fragment && let Some(session) = &session {
        let flashes = take_flashes(session);
        if !flashes.is_empty() {
            base.0.insert("flashes", Value::from(Serde(flashes)));
        }
    }
    let ctx = minijinja::context! { ..Value::from(base.0), ..page.ctx.clone() };
    let targeted = page
        .fragments
        .iter()
        .find(|(id, _)| target.as_deref() == Some(id.as_str()))
        .map(|(_, block)| block.as_str());
    let block = fragment.then(|| targeted.or(page.block.as_deref()).unwrap_or(DEFAULT_BLOCK));
    Ok(fill(response, &page, &state, block, ctx))
}

/// `response` with `page` rendered into it (the whole page, or `block` of it).
fn fill(
    mut response: Response,
    page: &Page,
    state: &AppState,
    block: Option<&str>,
    ctx: Value,
) -> Response {
    let body = match state.templates.render(&page.template, block, ctx) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(template = %page.template, error = %format!("{e:#}"), "template failed");
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong on our side. It has been logged.");
        }
    };
    response.set_status(page.status);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    add_vary(headers);
    response.set_body(body);
    response
}

/// The request headers the responder reads to choose what to send.
pub const VARY_ON: [&str; 3] = ["HX-Request", "HX-Target", "Accept-Language"];

/// Adds [`VARY_ON`] to the response's `Vary`, kept as one header with what it already
/// named (e.g. `Accept-Encoding`), each name once.
pub fn add_vary(headers: &mut HeaderMap) {
    let mut names: Vec<String> = Vec::new();
    for value in headers.get_all(header::VARY) {
        let Ok(value) = value.to_str() else { continue };
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.to_owned());
            }
        }
    }
    if names.iter().any(|n| n == "*") {
        return;
    }
    for name in VARY_ON {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_owned());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        headers.insert(header::VARY, value);
    }
}

/// Errors raised before the page layer runs (the session store or the viewer's lookup
/// failing while Redis or the database is down) still get the site's error page, as an
/// anonymous visitor sees it, instead of poem's bare status.
pub async fn render_early_errors<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let state = req.data::<AppState>().cloned();
    let error = match ep.call(req).await {
        Ok(response) => return Ok(response.into_response()),
        Err(e) => e,
    };
    match (error.downcast_ref::<AppError>(), state) {
        (Some(app_error), Some(state)) => Ok(render_error(&state, app_error, &path)),
        _ => Err(error),
    }
}

/// The site's page for `error`, outside the page layer (as an anonymous visitor sees it).
pub fn render_error(state: &AppState, error: &AppError, path: &str) -> Response {
    let mut response = error.as_response();
    let Some(page) = response.extensions_mut().remove::<Page>() else {
        return response;
    };
    let ctx = minijinja::context! {
        request => minijinja::context! { path => path },
        ..page.ctx.clone()
    };
    fill(response, &page, state, None, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vary(existing: &[&str]) -> Vec<String> {
        let mut headers = HeaderMap::new();
        for value in existing {
            headers.append(header::VARY, HeaderValue::from_str(value).unwrap());
        }
        add_vary(&mut headers);
        headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn vary_names_each_header_once_in_one_value() {
        assert_eq!(vary(&[]), ["HX-Request, HX-Target, Accept-Language"]);
        assert_eq!(
            vary(&["Accept-Encoding"]),
            ["Accept-Encoding, HX-Request, HX-Target, Accept-Language"]
        );
        assert_eq!(
            vary(&["hx-request", "Accept-Encoding, HX-Target"]),
            ["hx-request, Accept-Encoding, HX-Target, Accept-Language"]
        );
        assert_eq!(vary(&["*"]), ["*"]);
    }
}
