//! The web toolkit the areas build their pages with: the `Site` route table they register
//! into, the `Page` responder (full page or htmx fragment), form extractors, flash
//! messages, CSRF, static assets, middleware, the public-page fast path, safe redirects
//! and the client's address. It imports no area; `crate::server` assembles the site from
//! every area's `routes(site)`.

pub mod assets;
pub mod client_ip;
pub mod csrf;
pub mod error;
pub mod flash;
pub mod forms;
pub mod language;
pub mod middleware;
pub mod page;
pub mod public;
pub mod redirect;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get, post};

pub use page::Page;
use public::{AnonymousPage, Renderer};

/// The site's routes, recording which ones change state so a test can prove that every
/// one of them refuses a request without a CSRF token, and which pages the public fast
/// path serves to anonymous visitors.
#[derive(Default)]
pub struct Site {
    route: Route,
    /// Every path, and the methods it answers.
    paths: Vec<(String, RouteKind)>,
    /// The pages of the fast path, in the order registered.
    anonymous: Vec<AnonymousPage>,
}

/// What a path of the site answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// GET only.
    Page,
    /// GET shows it, POST handles it.
    Form,
    /// POST only.
    Action,
}

impl RouteKind {
    pub fn takes_get(self) -> bool {
        self != RouteKind::Action
    }

    pub fn takes_post(self) -> bool {
        self != RouteKind::Page
    }
}

impl Site {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every path and what it answers (the data the CSRF and ownership tests walk).
    pub fn paths(&self) -> &[(String, RouteKind)] {
        &self.paths
    }

    /// The routes, and the pages of the public fast path.
    pub fn into_parts(self) -> (Route, Vec<AnonymousPage>) {
        (self.route, self.anonymous)
    }

    pub(crate) fn page(mut self, path: &str, ep: impl IntoEndpoint<Endpoint: 'static>) -> Self {
        self.route = self.route.at(path, labelled(path, get(ep)));
        self.paths.push((path.to_owned(), RouteKind::Page));
        self
    }

    /// A form: GET shows it, POST handles it.
    pub(crate) fn form(
        mut self,
        path: &str,
        show: impl IntoEndpoint<Endpoint: 'static>,
        handle: impl IntoEndpoint<Endpoint: 'static>,
    ) -> Self {
        self.route = self.route.at(path, labelled(path, get(show).post(handle)));
        self.paths.push((path.to_owned(), RouteKind::Form));
        self
    }

    /// A public page: `show` answers GET for everybody; `anonymous` renders the page shared
    /// by anonymous visitors, which the fast path (`public::PublicPages`) serves from the
    /// cache before the rest of the site runs.
    pub(crate) fn public_page(
        mut self,
        path: &'static str,
        show: impl IntoEndpoint<Endpoint: 'static>,
        anonymous: Renderer,
    ) -> Self {
        self.anonymous.push(AnonymousPage {
            pattern: path,
            render: anonymous,
        });
        self.page(path, show)
    }

    /// A POST-only action (logout, resend, …).
    pub(crate) fn action(
        mut self,
        path: &str,
        handle: impl IntoEndpoint<Endpoint: 'static>,
    ) -> Self {
        self.route = self.route.at(path, labelled(path, post(handle)));
        self.paths.push((path.to_owned(), RouteKind::Action));
        self
    }
}

/// `ep`, naming its route template (`path`) for the request metrics.
fn labelled<E: Endpoint + 'static>(path: &str, ep: E) -> impl Endpoint + 'static {
    let label: Arc<str> = Arc::from(path);
    ep.around(move |ep, req| {
        crate::monitoring::RouteLabel::set(&req, &label);
        async move { ep.call(req).await }
    })
}

/// Does the request carry a cookie named `name`? (The `Cookie` header itself: middleware
/// such as poem's `Csrf` adds cookies of its own to the request's jar.)
pub fn has_cookie(req: &poem::Request, name: &str) -> bool {
    cookie(req, name).is_some()
}

/// The value of the request's cookie `name`, as its `Cookie` header sends it.
pub fn cookie<'r>(req: &'r poem::Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|c| {
            c.trim_start()
                .split_once('=')
                .and_then(|(n, v)| (n == name).then_some(v.trim()))
        })
}

/// A CSV file to download: never cached, saved under `file_name`.
pub fn csv_download(file_name: &str, body: Vec<u8>) -> poem::Response {
    use poem::http::header;
    poem::Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
}
