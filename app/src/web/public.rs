//! Public pages (home, blog) as one anonymous HTML shared by every anonymous visitor.
//! Signed-in visitors, visitors with a flash message waiting and htmx fragment requests
//! never get it: their pages are rendered per request (from cached data), so nothing
//! personal is ever cached or served to another.
//!
//! The anonymous page carries no CSRF token and sets no cookie: it has no form, and a
//! visitor gets the token with the first page that has one (sign-in, registration, …).
//! htmx sends the token from `hx-headers` on `<main>`, which a boosted navigation replaces
//! with the new page's, so landing here and then signing in through htmx works.

use std::sync::Arc;

use futures::future::BoxFuture;
use minijinja::Value;
use poem::http::header::{self, HeaderName};
use poem::http::{HeaderValue, Method};
use poem::session::Session;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

use super::flash::has_flashes;
use super::page::PageContext;
use crate::cache::Lookup;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::page::{render_error, wants_fragment};

/// The response header that says whether the page (or its data) came from the cache.
pub const CACHE_HEADER: &str = "X-Cache";
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// Does this visitor see the page everybody sees: nobody signed in, no message waiting,
/// and the whole page rather than an htmx fragment?
pub fn sees_anonymous_page(req: &Request) -> bool {
    let signed_in = PageContext::has_viewer(req);
    let flash = req.extensions().get::<Session>().is_some_and(has_flashes);
    !signed_in && !flash && !wants_fragment(req)
}

/// `template` as an anonymous visitor at `path` sees it in `lang`.
pub fn render_anonymous(
    state: &AppState,
    lang: Lang,
    template: &str,
    path: &str,
    ctx: Value,
) -> anyhow::Result<String> {
    let base = minijinja::context! {
        request => minijinja::context! { path => path },
        lang => lang.code(),
    };
    state
        .templates
        .render(template, None, minijinja::context! { ..base, ..ctx })
        .map_err(|e| anyhow::anyhow!("template {template}: {e:#}"))
}

/// The anonymous page `body` as a response.
pub fn anonymous_response(body: Body, lookup: Lookup) -> Response {
    let mut response = Response::builder().body(body);
    let headers = response.headers_mut();
    // Room for these and the security headers at once.
    headers.reserve(8);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // What a page of the site would say (`page::add_vary`): the same URL answers htmx
    // requests with a fragment, rendered per request, in the language the browser asks
    // for or the switcher's cookie names.
    headers.insert(
        header::VARY,
        HeaderValue::from_static("HX-Request, HX-Target, Accept-Language, Cookie"),
    );
    headers.insert(X_CACHE, HeaderValue::from_static(lookup.as_str()));
    response
}

/// A cached page served whole, without a copy.
pub fn shared_body(cached: Arc<str>) -> Body {
    /// `Arc<str>` as the bytes of a body.
    struct Shared(Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    Body::from_bytes(bytes::Bytes::from_owner(Shared(cached)))
}

/// `html` with `marks` (byte offsets into it) in front: how the cache keeps a page whose
/// per-request parts go at known places, so that a hit finds them without searching.
pub fn with_marks(marks: &[usize], html: &str) -> String {
    let mut out = marks
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    out.push('\n');
    out.push_str(html);
    out
}

/// The marks and the page of a `with_marks` value; `None` unless every mark is a place in
/// the page, in order. (One pass over the short first line: this runs on every hit.)
pub fn marks(cached: &str) -> Option<(Vec<usize>, &str)> {
    let line_end = cached.bytes().position(|b| b == b'\n')?;
    let html = cached.get(line_end + 1..)?;
    let mut marks = Vec::with_capacity(16);
    let mut mark: Option<usize> = None;
    for b in cached.as_bytes()[..line_end].iter() {
        match b {
            b'0'..=b'9' => {
                let digit = usize::from(b - b'0');
                mark = Some(mark.unwrap_or(0).checked_mul(10)?.checked_add(digit)?);
            }
            b' ' => marks.push(mark.take()?),
            _ => return None,
        }
    }
    marks.push(mark?);
    let in_order = marks.windows(2).all(|w| w[0] <= w[1]);
    let places = marks.iter().all(|&m| html.is_char_boundary(m));
    (in_order && places).then_some((marks, html))
}

/// Renders the anonymous page of a registered path pattern, given the request and the
/// values of the pattern's `:params` in order; `Ok(None)` sends the request on to the site
/// (a query the page does not know, a post that does not exist, …).
pub type Renderer = for<'a> fn(
    &'a AppState,
    &'a Request,
    &'a [&'a str],
) -> BoxFuture<'a, anyhow::Result<Option<Response>>>;

/// A page served from the fast path: a path pattern as the route table writes it
/// (`/blog/:slug`) and what renders it. Areas register these with
/// `Site::public_page`, next to the page's own route.
#[derive(Clone, Copy)]
pub struct AnonymousPage {
    pub pattern: &'static str,
    pub render: Renderer,
}

impl AnonymousPage {
    /// The values of the pattern's `:params` if `path` matches it. A parameter matches
    /// only a plain segment (anything else takes the usual route, which judges it).
    fn matches<'p>(&self, path: &'p str) -> Option<Vec<&'p str>> {
        let mut params = Vec::new();
        let mut segments = path.split('/');
        for expected in self.pattern.split('/') {
            let segment = segments.next()?;
            if expected.starts_with(':') {
                if !is_plain_segment(segment) {
                    return None;
                }
                params.push(segment);
            } else if segment != expected {
                return None;
            }
        }
        segments.next().is_none().then_some(params)
    }
}

/// The fast path of the public pages: a GET from a visitor without a session cookie (so
/// nobody signed in and no message waiting) gets the anonymous page straight from the
/// cache, before the route tables, the request's data, CSRF, sessions, the viewer and the
/// page renderer (the request log and the security headers still run). Everything else —
/// other paths, a session cookie, htmx fragments, a page that does not exist, an error —
/// goes on to the site as usual.
pub struct PublicPages {
    pub state: AppState,
    /// The session cookie's name: a request that carries one goes on to the site.
    pub session_cookie: &'static str,
    /// The pages served here (`Site::anonymous_pages`).
    pub pages: Vec<AnonymousPage>,
}

impl<E: Endpoint> Middleware<E> for PublicPages {
    type Output = PublicPagesEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        PublicPagesEndpoint {
            inner,
            state: self.state.clone(),
            session_cookie: self.session_cookie,
            pages: self.pages.clone(),
        }
    }
}

pub struct PublicPagesEndpoint<E> {
    inner: E,
    state: AppState,
    session_cookie: &'static str,
    pages: Vec<AnonymousPage>,
}

impl<E: Endpoint> Endpoint for PublicPagesEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.method() == Method::GET
            && !wants_fragment(&req)
            && !super::has_cookie(&req, self.session_cookie)
        {
            match self.serve_anonymous(&req).await {
                Ok(Some(response)) => return Ok(response),
                Ok(None) => {}
                // The database is down: the site's 503 now, not a second wait for it below.
                Err(e) => match AppError::from_store(e) {
                    error @ AppError::Unavailable(_) => {
                        return Ok(render_error(&self.state, &error, req.uri().path()));
                    }
                    error => tracing::warn!(error = %format!("{error:#}"), "public page fast path"),
                },
            }
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

impl<E> PublicPagesEndpoint<E> {
    /// The anonymous page at the request's path, if it is one.
    async fn serve_anonymous(&self, req: &Request) -> anyhow::Result<Option<Response>> {
        let path = req.uri().path();
        for page in &self.pages {
            if let Some(params) = page.matches(path) {
                crate::monitoring::RouteLabel::set(req, &Arc::from(page.pattern));
                return (page.render)(&self.state, req, &params).await;
            }
        }
        Ok(None)
    }
}

/// A path segment as it appears in a URL without escapes.
fn is_plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 200
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_come_back_as_written() {
        let cached = with_marks(&[0, 3, 3, 5], "héllo");
        assert_eq!(marks(&cached), Some((vec![0, 3, 3, 5], "héllo")));
    }

    #[test]
    fn marks_off_the_page_are_refused() {
        for bad in [
            "4 2\nhello",
            "9\nhello",
            "2\nhéllo",
            "x\nhello",
            "1 2",
            "1  2\nhello",
            "\nhello",
            "99999999999999999999999\nhello",
        ] {
            assert_eq!(marks(bad), None, "{bad:?}");
        }
    }

    fn nothing<'a>(
        _: &'a AppState,
        _: &'a Request,
        _: &'a [&'a str],
    ) -> BoxFuture<'a, anyhow::Result<Option<Response>>> {
        Box::pin(async { Ok(None) })
    }

    #[test]
    fn patterns_match_plain_segments_only() {
        let page = |pattern| AnonymousPage {
            pattern,
            render: nothing,
        };
        assert_eq!(page("/").matches("/"), Some(vec![]));
        assert_eq!(page("/").matches("/blog"), None);
        assert_eq!(page("/blog").matches("/blog"), Some(vec![]));
        assert_eq!(page("/blog").matches("/blog/"), None);
        let post = page("/blog/:slug");
        assert_eq!(post.matches("/blog/hello-1.2_x"), Some(vec!["hello-1.2_x"]));
        for other in [
            "/blog",
            "/blog/",
            "/blog/a/b",
            "/blog/h%C3%A9",
            "/blogs/a",
            "/",
        ] {
            assert_eq!(post.matches(other), None, "{other}");
        }
    }
}
