//! The server, assembled above every area: the site's route table from each area's
//! `routes(site)`, the middleware around it (in the order that matters), the routes outside
//! it (static files, media, the health check, the JSON API), and the serving loop.

use std::future::Future;
use std::time::Duration;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::middleware::Csrf;
use poem::session::{CookieConfig, ServerSession};
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};

use crate::accounts::session;
use crate::state::AppState;
use crate::web::public::PublicPages;
use crate::web::{RouteKind, Site, assets, csrf, error, middleware, page};

/// Every page of the site, each area adding its own.
fn site() -> Site {
    let site = crate::admin_site::routes(Site::new());
    let site = crate::home::routes(site);
    let site = crate::blog::routes(site);
    let site = crate::accounts::routes(site);
    let site = crate::clients::routes(site);
    let site = crate::consent::routes(site);
    let site = crate::messages::routes(site);
    let site = crate::mailings::routes(site);
    crate::reports::routes(site)
}

/// Paths (with `:param` placeholders) that accept state-changing requests.
pub fn mutating_routes() -> Vec<String> {
    site()
        .paths()
        .iter()
        .filter(|(_, kind)| kind.takes_post())
        .map(|(path, _)| path.clone())
        .collect()
}

/// Every path of the site and what it answers (for tests that walk them all).
pub fn all_routes() -> Vec<(String, RouteKind)> {
    site().paths().to_vec()
}

/// The whole application as one endpoint.
pub fn router(state: AppState) -> impl Endpoint {
    crate::monitoring::install();
    let secure = state.config.secure_cookies;
    let cookies = CookieConfig::default()
        .name(session::COOKIE_NAME)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(session::SESSION_TTL);
    let csrf = Csrf::new()
        .key(csrf::key(&state.secret_key))
        .cookie_name(csrf::COOKIE)
        .secure(secure)
        .same_site(SameSite::Lax);
    // Inside out: the CSRF guard runs before any handler (its 403 is a rendered page), the
    // body is cut at its limit before the guard or a handler reads it (the 413 is a rendered
    // page too), a NUL in the address is refused before either, pages are rendered with the
    // viewer in the viewer's language, the viewer comes from the session, and poem issues the CSRF token.
    let (routes, anonymous) = site().into_parts();
    let pages = routes
        .around(csrf::csrf_guard)
        .around(|ep, req| {
            let limit = middleware::page_body_limit(&req);
            middleware::limit_body(ep, req, limit, error::too_large_page)
        })
        .around(middleware::refuse_nul)
        .around(page::render_pages)
        .around(crate::web::language::choose_language)
        .around(session::load_viewer)
        .with(ServerSession::new(
            cookies,
            session::CacheSessionStorage::new(state.cache.clone()),
        ))
        .with(csrf)
        .around(page::render_early_errors);
    // Static files, avatars, the health check and the API carry no session or CSRF cookie.
    Route::new()
        .at("/healthz", get(crate::health::healthz))
        .at(
            "/metrics",
            get(crate::monitoring::Scrape {
                token: state.config.metrics_token.clone(),
            }),
        )
        .at("/static/*name", get(assets::serve_static))
        .at("/favicon.ico", get(assets::serve_favicon))
        .at(
            "/media/avatars/:name",
            get(crate::accounts::routes::serve_avatar),
        )
        .at(
            "/media/posts/:name",
            get(crate::admin_site::images::serve_post_image),
        )
        // Token-authenticated JSON: no session, no CSRF (no cookie is read).
        .nest("/api", crate::api::routes())
        // A recipient's unsubscribe link: the signed token is the authority, no cookie.
        .nest("/unsubscribe", crate::consent::routes::routes())
        // An MTA's pipe posting raw bounces: a shared secret is the authority, no cookie.
        .nest("/bounces", crate::bounces::routes::routes())
        .nest("/", pages)
        .data(state.clone())
        // Cached public pages go to visitors without a session before anything else runs
        // but the request log and the security headers.
        .with(PublicPages {
            state,
            session_cookie: session::COOKIE_NAME,
            pages: anonymous,
        })
        .around(middleware::security_headers)
        .around(middleware::log_requests)
        .around(crate::monitoring::measure)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded).
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    serve_with(state, None, listener, shutdown).await
}

/// Routes answered before the site and outside all of its middleware: every path that
/// starts with `prefix` goes to `routes` (the page benchmark's bare handlers).
pub struct Extra {
    pub prefix: &'static str,
    pub routes: Route,
}

/// The site, and the `Extra` routes in front of it (one comparison of the path, rather
/// than a route table and a nested router for every request).
struct WithExtra<E> {
    extra: Extra,
    site: E,
}

impl<E: Endpoint> Endpoint for WithExtra<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        if req.uri().path().starts_with(self.extra.prefix) {
            self.extra.routes.call(req).await
        } else {
            Ok(self.site.call(req).await?.into_response())
        }
    }
}

/// `serve`, with `extra` routes (if any) answered before the site. Post views counted
/// meanwhile are written to the database periodically and once more after the last request.
pub async fn serve_with(
    state: AppState,
    extra: Option<Extra>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop_flusher, stopped) = tokio::sync::watch::channel(false);
    let flusher = tokio::spawn(crate::blog::views::run_flusher(
        state.clone(),
        state.config.pages.view_flush_interval(),
        stopped,
    ));
    let grace = Duration::from_secs(state.config.shutdown_timeout_secs);
    let site = router(state);
    let served = match extra {
        None => run(site, listener, shutdown, grace).await,
        Some(extra) => run(WithExtra { extra, site }, listener, shutdown, grace).await,
    };
    let _ = stop_flusher.send(true);
    let _ = flusher.await;
    served
}

async fn run(
    app: impl Endpoint + 'static,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addrs: Vec<String> = acceptor
        .local_addr()
        .iter()
        .map(|a| a.to_string())
        .collect();
    tracing::info!(address = %addrs.join(", "), "listening");
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(grace))
        .await?;
    tracing::info!("server stopped");
    Ok(())
}
