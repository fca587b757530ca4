//! The one Page responder (DESIGN rule 4). A handler returns `Page::new(template, ctx)`;
//! the `render_pages` middleware renders it with the request in hand: the whole page, or
//! only the named block for an htmx request that is neither boosted nor a history restore.
//! Responses always carry `Vary: HX-Request` so caches keep the two apart.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::Serde;
use poem::error::ResponseError;
use poem::http::{HeaderValue, StatusCode, header};
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
    // htmx follows redirects inside its XHR; a fragment request must navigate instead.
    if fragment
        && response.status().is_redirection()
        && let Some(location) = response.headers().get(header::LOCATION).cloned()
    {
        let mut redirect = Response::builder().status(StatusCode::OK).finish();
        redirect.headers_mut().insert("HX-Redirect", location);
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
    headers.append(header::VARY, HeaderValue::from_static("HX-Request"));
    response.set_body(body);
    response
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
