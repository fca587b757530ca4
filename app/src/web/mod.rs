//! The web surface: router assembly, middleware order, and the server loop.

pub mod assets;
pub mod client_ip;
pub mod csrf;
pub mod error;
pub mod forms;
pub mod list;
pub mod middleware;
pub mod page;
pub mod public;
pub mod redirect;
pub mod templates;

use std::future::Future;
use std::time::Duration;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::middleware::Csrf;
use poem::session::{CookieConfig, ServerSession};
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Route, get, post};

pub use error::AppError;
pub use page::Page;

use crate::accounts::{routes as accounts, session};
use crate::blog::routes as blog;
use crate::clients::routes as clients;
use crate::mailings::routes as mailings;
use crate::messages::routes as messages;
use crate::reports::routes as reports;
use crate::state::AppState;

/// The site's routes, recording which ones change state so a test can prove that every
/// one of them refuses a request without a CSRF token.
pub struct Site {
    route: Route,
    /// Every path, and the methods it answers.
    paths: Vec<(String, RouteKind)>,
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
    fn new() -> Self {
        Self {
            route: Route::new(),
            paths: Vec::new(),
        }
    }

    pub(crate) fn page(mut self, path: &str, ep: impl IntoEndpoint<Endpoint: 'static>) -> Self {
        self.route = self.route.at(path, get(ep));
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
        self.route = self.route.at(path, get(show).post(handle));
        self.paths.push((path.to_owned(), RouteKind::Form));
        self
    }

    /// A POST-only action (logout, resend, …).
    pub(crate) fn action(
        mut self,
        path: &str,
        handle: impl IntoEndpoint<Endpoint: 'static>,
    ) -> Self {
        self.route = self.route.at(path, post(handle));
        self.paths.push((path.to_owned(), RouteKind::Action));
        self
    }
}

fn site() -> Site {
    crate::admin_site::routes::register(Site::new())
        .page("/", crate::home::routes::home)
        .page("/blog", blog::list_posts)
        .page("/blog/:slug", blog::show_post)
        .form("/register", accounts::register_form, accounts::register)
        .page("/verify/:token", accounts::verify_email)
        .action("/verify/resend", accounts::resend_verification)
        .form("/login", accounts::login_form, accounts::login)
        .action("/logout", accounts::logout)
        .form(
            "/password/reset",
            accounts::reset_request_form,
            accounts::reset_request,
        )
        .form(
            "/password/reset/:token",
            accounts::reset_form,
            accounts::reset,
        )
        .form(
            "/password/new",
            accounts::new_password_request_form,
            accounts::new_password_request,
        )
        .form(
            "/password/new/:token",
            accounts::new_password_confirm_form,
            accounts::new_password_confirm,
        )
        .page("/account", accounts::account)
        .action("/account/tokens", accounts::create_api_token)
        .action("/account/tokens/:id/revoke", accounts::revoke_api_token)
        .form(
            "/account/edit",
            accounts::profile_form,
            accounts::update_profile,
        )
        .form(
            "/account/password",
            accounts::change_password_form,
            accounts::change_password,
        )
        .page("/clients", clients::list_clients)
        .form(
            "/clients/new",
            clients::new_client_form,
            clients::create_client,
        )
        .form(
            "/clients/:id/edit",
            clients::edit_client_form,
            clients::update_client,
        )
        .form(
            "/clients/:id/delete",
            clients::confirm_delete_client,
            clients::delete_client,
        )
        .form(
            "/clients/import",
            clients::import_form,
            clients::preview_import,
        )
        .action("/clients/import/confirm", clients::confirm_import)
        .page("/clients/export.csv", clients::export_clients)
        .page("/messages", messages::list_messages)
        .form(
            "/messages/new",
            messages::new_message_form,
            messages::create_message,
        )
        .page("/messages/:id", messages::show_message)
        .form(
            "/messages/:id/edit",
            messages::edit_message_form,
            messages::update_message,
        )
        .form(
            "/messages/:id/delete",
            messages::confirm_delete_message,
            messages::delete_message,
        )
        .page("/mailings", mailings::list_mailings)
        .form(
            "/mailings/new",
            mailings::new_mailing_form,
            mailings::create_mailing,
        )
        .page("/mailings/:id", mailings::show_mailing)
        .form(
            "/mailings/:id/edit",
            mailings::edit_mailing_form,
            mailings::update_mailing,
        )
        .action("/mailings/:id/toggle", mailings::toggle_mailing)
        .action("/mailings/:id/send", mailings::send_mailing_now)
        .page("/mailings/:id/progress", mailings::mailing_progress)
        .page("/mailings/:id/attempts.csv", mailings::export_attempts)
        .form(
            "/mailings/:id/delete",
            mailings::confirm_delete_mailing,
            mailings::delete_mailing,
        )
        .page("/dashboard", reports::dashboard)
        .page("/reports", reports::show_reports)
        .page("/reports/export.csv", reports::export_report)
}

/// Paths (with `:param` placeholders) that accept state-changing requests.
pub fn mutating_routes() -> Vec<String> {
    site()
        .paths
        .into_iter()
        .filter_map(|(path, kind)| kind.takes_post().then_some(path))
        .collect()
}

/// Every path of the site and what it answers (for tests that walk them all).
pub fn all_routes() -> Vec<(String, RouteKind)> {
    site().paths
}

/// Does the request carry a cookie named `name`? (The `Cookie` header itself: middleware
/// such as poem's `Csrf` adds cookies of its own to the request's jar.)
pub fn has_cookie(req: &poem::Request, name: &str) -> bool {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .any(|value| {
            value.to_str().is_ok_and(|cookies| {
                cookies.split(';').any(|c| {
                    c.trim_start()
                        .split_once('=')
                        .is_some_and(|(n, _)| n == name)
                })
            })
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

/// The whole application as one endpoint.
pub fn router(state: AppState) -> impl Endpoint {
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
    // viewer, the viewer comes from the session, and poem issues the CSRF token.
    let pages = site()
        .route
        .around(csrf::csrf_guard)
        .around(|ep, req| {
            let limit = middleware::page_body_limit(&req);
            middleware::limit_body(ep, req, limit, error::too_large_page)
        })
        .around(middleware::refuse_nul)
        .around(page::render_pages)
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
        .at("/static/*name", get(assets::serve_static))
        .at("/media/avatars/:name", get(accounts::serve_avatar))
        .at(
            "/media/posts/:name",
            get(crate::admin_site::images::serve_post_image),
        )
        // Token-authenticated JSON: no session, no CSRF (no cookie is read).
        .nest("/api", crate::api::routes())
        // A recipient's unsubscribe link: the signed token is the authority, no cookie.
        .nest("/unsubscribe", crate::consent::routes::routes())
        .nest("/", pages)
        .data(state.clone())
        // Cached public pages go to visitors without a session before anything else runs
        // but the request log and the security headers.
        .with(public::PublicPages(state))
        .around(middleware::security_headers)
        .around(middleware::log_requests)
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
