//! The bounce processor: reads the bounce mailbox over IMAP (`MAILER_BOUNCES__IMAP_*`),
//! applies each message ([`super::service::handle`]) and files it away.
//!
//! Every message in the folder is read with `BODY.PEEK[]`. One that was used, or that asks
//! nothing of us (a report of success), is flagged `\Seen` and moved to the processed
//! folder; one that cannot be used (not mail, no report of a delivery of ours) is moved to
//! the unparsed folder, logged at WARN and counted, for a person to look at. Nothing is
//! deleted. A database error leaves the message where it is, for the next round. One bad
//! message never stops the batch, and nothing a message holds can crash the processor.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::Addresses;
use super::service::{self, Applied};
use crate::config::BouncesConfig;
use crate::state::AppState;

/// Messages read per round at most: a flood is worked off over several rounds.
const BATCH: usize = 500;
/// Connecting, logging in and each command.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Used (recorded, unsubscribed) or nothing to do: moved to the processed folder.
    pub processed: usize,
    /// Could not be used: moved to the unparsed folder.
    pub unparsed: usize,
    /// A database error: left in place for the next round.
    pub failed: usize,
}

/// Whether a bounce mailbox is configured.
pub fn configured(config: &BouncesConfig) -> bool {
    config.imap_host.is_some()
}

/// One round over the mailbox. `Err` when the server cannot be reached or refuses us.
pub async fn process_once(state: &AppState) -> anyhow::Result<Summary> {
    let config = &state.config.bounces;
    let host = config
        .imap_host
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no bounce mailbox: set MAILER_BOUNCES__IMAP_HOST"))?;
    let port = config
        .imap_port
        .unwrap_or(if config.imap_tls { 993 } else { 143 });
    let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| anyhow::anyhow!("IMAP {host}:{port}: connection timed out"))?
        .map_err(|e| anyhow::anyhow!("IMAP {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let addresses = Addresses::of(state);
    if config.imap_tls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| anyhow::anyhow!("MAILER_BOUNCES__IMAP_HOST: {e}"))?;
        let stream = tokio::time::timeout(
            TIMEOUT,
            tokio_rustls::TlsConnector::from(Arc::new(tls)).connect(name, tcp),
        )
        .await
        .map_err(|_| anyhow::anyhow!("IMAP {host}:{port}: TLS handshake timed out"))??;
        session(state, &addresses, stream).await
    } else {
        session(state, &addresses, tcp).await
    }
}

/// Logs in, works through the folder, logs out.
async fn session<T>(state: &AppState, addresses: &Addresses, stream: T) -> anyhow::Result<Summary>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let config = &state.config.bounces;
    let mut client = async_imap::Client::new(stream);
    tokio::time::timeout(TIMEOUT, client.read_response())
        .await
        .map_err(|_| anyhow::anyhow!("IMAP: no greeting"))??
        .ok_or_else(|| anyhow::anyhow!("IMAP: the server closed the connection"))?;
    let password = config
        .imap_password
        .as_ref()
        .map(|p| p.expose_secret().to_owned())
        .unwrap_or_default();
    let mut session = tokio::time::timeout(TIMEOUT, client.login(&config.imap_user, password))
        .await
        .map_err(|_| anyhow::anyhow!("IMAP: login timed out"))?
        .map_err(|(e, _)| anyhow::anyhow!("IMAP login as {}: {e}", config.imap_user))?;
    let result = work(state, addresses, &mut session).await;
    let _ = tokio::time::timeout(TIMEOUT, session.logout()).await;
    result
}

async fn work<T>(
    state: &AppState,
    addresses: &Addresses,
    session: &mut Session<T>,
) -> anyhow::Result<Summary>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let config = &state.config.bounces;
    for folder in [&config.processed_folder, &config.unparsed_folder] {
        // Fails when it exists already: fine either way, the move below tells.
        let _ = timed(session.create(folder)).await;
    }
    timed(session.select(&config.imap_mailbox)).await??;
    // Not those flagged deleted by a round whose expunge did not happen: they were filed.
    let mut uids: Vec<u32> = timed(session.uid_search("UNDELETED"))
        .await??
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids.truncate(BATCH);
    let mut summary = Summary::default();
    let mut to_processed = Vec::new();
    let mut to_unparsed = Vec::new();
    for uid in uids {
        let raw = match fetch(session, uid).await {
            Ok(Some(raw)) => raw,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(uid, error = %e, "bounce mailbox: cannot fetch a message");
                summary.failed += 1;
                continue;
            }
        };
        let handled = std::panic::AssertUnwindSafe(service::handle(
            &state.db,
            addresses,
            config.soft_limit,
            &raw,
        ));
        match futures::FutureExt::catch_unwind(handled).await {
            Ok(Ok(Ok(applied))) => {
                log_applied(uid, &applied);
                summary.processed += 1;
                to_processed.push(uid);
            }
            Ok(Ok(Err(unusable))) => {
                tracing::warn!(
                    uid,
                    size = raw.len(),
                    reason = %unusable,
                    folder = %config.unparsed_folder,
                    "bounce mailbox: a message could not be used; kept"
                );
                summary.unparsed += 1;
                to_unparsed.push(uid);
            }
            Ok(Err(e)) => {
                tracing::error!(uid, error = %e, "bounce mailbox: database error; the message stays for the next round");
                summary.failed += 1;
            }
            Err(panic) => {
                let reason = crate::delivery::panic_message(panic.as_ref());
                tracing::error!(uid, %reason, "bounce mailbox: handling a message panicked; kept");
                summary.unparsed += 1;
                to_unparsed.push(uid);
            }
        }
    }
    file(session, &to_processed, &config.processed_folder).await?;
    file(session, &to_unparsed, &config.unparsed_folder).await?;
    if !to_processed.is_empty() || !to_unparsed.is_empty() {
        let expunged = timed(session.expunge()).await??;
        let _: Vec<_> = timed(expunged.try_collect()).await??;
    }
    Ok(summary)
}

async fn fetch<T>(session: &mut Session<T>, uid: u32) -> anyhow::Result<Option<Vec<u8>>>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let fetched = timed(session.uid_fetch(uid.to_string(), "BODY.PEEK[]")).await??;
    let fetched: Vec<_> = timed(fetched.try_collect()).await??;
    Ok(fetched.iter().find_map(|f| f.body().map(<[u8]>::to_vec)))
}

/// Flags `uids` seen and deleted here after copying them to `folder` (a move that works on
/// every server; the expunge follows).
async fn file<T>(session: &mut Session<T>, uids: &[u32], folder: &str) -> anyhow::Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    if uids.is_empty() {
        return Ok(());
    }
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    timed(session.uid_store(&set, "+FLAGS.SILENT (\\Seen)"))
        .await??
        .try_collect::<Vec<_>>()
        .await?;
    timed(session.uid_copy(&set, folder)).await??;
    timed(session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)"))
        .await??
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn timed<F: Future>(f: F) -> anyhow::Result<F::Output> {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .map_err(|_| anyhow::anyhow!("IMAP: the server did not answer in {TIMEOUT:?}"))
}

fn log_applied(uid: u32, applied: &Applied) {
    match applied {
        Applied::Recorded {
            delivery_id,
            kind,
            email,
            new,
        } => {
            tracing::info!(uid, delivery_id, kind = kind.as_str(), %email, new, "bounce mailbox: recorded")
        }
        Applied::Unsubscribed {
            owner_id,
            client_id,
        } => tracing::info!(
            uid,
            owner_id,
            client_id,
            "bounce mailbox: unsubscribed by mail"
        ),
        Applied::Nothing => tracing::debug!(uid, "bounce mailbox: nothing to do"),
    }
}

/// The worker's loop: a round every `MAILER_BOUNCES__POLL_SECS` until `stopping` turns
/// true. A failed round (server down, wrong password) is logged and tried again next time.
pub async fn run(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(state.config.bounces.poll_interval());
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stopping.wait_for(|stop| *stop) => break,
        }
        let round = std::panic::AssertUnwindSafe(process_once(&state));
        match futures::FutureExt::catch_unwind(round).await {
            Ok(Ok(summary)) if summary != Summary::default() => {
                tracing::info!(?summary, "bounce mailbox read");
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "reading the bounce mailbox failed")
            }
            Err(panic) => {
                let reason = crate::delivery::panic_message(panic.as_ref());
                tracing::error!(%reason, "reading the bounce mailbox panicked");
            }
        }
    }
}
