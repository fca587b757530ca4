//! The web surface: router assembly, middleware order, and the server loop.

pub mod assets;
pub mod error;
pub mod middleware;
pub mod page;
pub mod templates;

use std::future::Future;
use std::time::Duration;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::{EndpointExt, Route, get};

pub use error::AppError;
pub use page::Page;

use crate::state::AppState;

/// The whole application as one endpoint.
pub fn router(state: AppState) -> impl poem::Endpoint {
    Route::new()
        .at("/", get(crate::home::routes::home))
        .at("/healthz", get(crate::health::healthz))
        .at("/static/*name", get(assets::serve_static))
        .around(page::render_pages)
        .around(middleware::security_headers)
        .around(middleware::log_requests)
        .data(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded).
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(state.config.shutdown_timeout_secs);
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addrs: Vec<String> = acceptor
        .local_addr()
        .iter()
        .map(|a| a.to_string())
        .collect();
    tracing::info!(address = %addrs.join(", "), "listening");
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(router(state), shutdown, Some(grace))
        .await?;
    tracing::info!("server stopped");
    Ok(())
}
