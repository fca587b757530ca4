//! Outgoing mail: lettre over SMTP when `SMTP_URL` is set, otherwise `.eml` files in the
//! outbox folder with their links printed to the log, so a newcomer can click them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Config;
use crate::dkim::{SignError, Signer};
use crate::jobs::MailJob;

/// A send that took longer than this failed (lettre's own timeout covers only the connect).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Mailer {
    way: Way,
    /// DKIM-signs every e-mail when configured.
    dkim: Option<Arc<Signer>>,
}

#[derive(Clone)]
enum Way {
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        /// `host:port` of the server, for the health check.
        server: String,
        /// `smtps://`: the greeting comes only after the TLS handshake.
        implicit_tls: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailMode {
    Outbox,
    Smtp,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address {0:?}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("SMTP: no answer within {0:?}")]
    Timeout(Duration),
    #[error("outbox: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl MailError {
    /// What went wrong as a phrase, for a page in the reader's language (the words of
    /// lettre, of the server or of the system kept as they are).
    pub fn reason(&self) -> String {
        use crate::i18n::phrase;
        match self {
            MailError::Address(address) => phrase("mail-error-address", &[("address", address)]),
            MailError::Build(e) => phrase("mail-error-build", &[("detail", e)]),
            MailError::Smtp(e) => phrase("mail-error-smtp", &[("detail", e)]),
            MailError::Timeout(wait) => phrase("mail-error-timeout", &[("count", &wait.as_secs())]),
            MailError::Io(e) => phrase("mail-error-outbox", &[("detail", e)]),
            MailError::Sign(e) => phrase("mail-error-sign", &[("detail", e)]),
        }
    }

    /// Worth another try later (the server or the network may recover); a 5xx or a bad
    /// address will fail the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Address(_) | MailError::Build(_) | MailError::Sign(_) => false,
            MailError::Smtp(e) => !e.is_permanent(),
            MailError::Timeout(_) | MailError::Io(_) => true,
        }
    }
}

impl Mailer {
    /// `dkim`: the process's signer (see `AppState`), when signing is on.
    pub fn from_config(config: &Config, dkim: Option<Arc<Signer>>) -> anyhow::Result<Self> {
        let from: Mailbox = config.sender()?;
        let way = match &config.smtp_url {
            Some(url) => {
                let url = url.expose_secret();
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build();
                let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?;
                let port = parsed.port().unwrap_or(match parsed.scheme() {
                    "smtps" => 465,
                    _ => 587,
                });
                let server = format!("{}:{port}", parsed.host_str().unwrap_or("localhost"));
                Way::Smtp {
                    transport,
                    from,
                    server,
                    implicit_tls: parsed.scheme() == "smtps",
                }
            }
            None => Way::Outbox {
                dir: config.outbox_dir(),
                from,
            },
        };
        Ok(Self { way, dkim })
    }

    pub fn mode(&self) -> MailMode {
        match self.way {
            Way::Outbox { .. } => MailMode::Outbox,
            Way::Smtp { .. } => MailMode::Smtp,
        }
    }

    /// Can mail go out right now? (SMTP answers, or the outbox folder is writable.)
    pub async fn ping(&self) -> bool {
        match &self.way {
            Way::Outbox { dir, .. } => tokio::fs::create_dir_all(dir).await.is_ok(),
            // A new connection, not one from the pool: is the server accepting right now?
            Way::Smtp {
                server,
                implicit_tls,
                ..
            } => {
                matches!(
                    tokio::time::timeout(Duration::from_secs(3), greets(server, *implicit_tls))
                        .await,
                    Ok(Ok(true))
                )
            }
        }
    }

    pub async fn send(&self, job: &MailJob) -> Result<(), MailError> {
        match &self.way {
            Way::Outbox { dir, from } => {
                let (_, bytes) = self.build(from, job)?;
                tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(outbox_name());
                tokio::fs::write(&path, bytes).await?;
                let links = links(&job.text);
                tracing::info!(
                    to = %job.to,
                    subject = %job.subject,
                    file = %path.display(),
                    links = %links.join(" "),
                    "mail written to the outbox"
                );
                Ok(())
            }
            Way::Smtp {
                transport, from, ..
            } => {
                let (envelope, bytes) = self.build(from, job)?;
                match tokio::time::timeout(SEND_TIMEOUT, transport.send_raw(&envelope, &bytes))
                    .await
                {
                    Ok(result) => result.map(drop).map_err(MailError::from),
                    Err(_) => Err(MailError::Timeout(SEND_TIMEOUT)),
                }
            }
        }
    }

    /// Sends an e-mail already built (and signed, when DKIM is on) to `to`, with the
    /// instance's address as the envelope sender: into the outbox, or over SMTP at once.
    pub async fn send_raw(&self, to: &lettre::Address, bytes: &[u8]) -> Result<(), MailError> {
        match &self.way {
            Way::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(outbox_name());
                tokio::fs::write(&path, bytes).await?;
                tracing::info!(%to, file = %path.display(), "mail written to the outbox");
                Ok(())
            }
            Way::Smtp {
                transport, from, ..
            } => {
                let envelope =
                    lettre::address::Envelope::new(Some(from.email.clone()), vec![to.clone()])
                        .map_err(MailError::Build)?;
                match tokio::time::timeout(SEND_TIMEOUT, transport.send_raw(&envelope, bytes)).await
                {
                    Ok(result) => result.map(drop).map_err(MailError::from),
                    Err(_) => Err(MailError::Timeout(SEND_TIMEOUT)),
                }
            }
        }
    }

    /// The envelope and bytes of the e-mail of `job`, signed when DKIM is on. It has a
    /// Message-ID of the sender's domain: a relay would otherwise add one after the
    /// signature.
    fn build(
        &self,
        from: &Mailbox,
        job: &MailJob,
    ) -> Result<(lettre::address::Envelope, Vec<u8>), MailError> {
        let message = build(from, job)?;
        let mut bytes = message.formatted();
        if let Some(signer) = &self.dkim {
            bytes = signer.sign(bytes)?;
        }
        Ok((message.envelope().clone(), bytes))
    }
}

/// Connects and reads the greeting: `220` means the server is ready for mail.
/// With implicit TLS, an accepted connection is all we check.
async fn greets(server: &str, implicit_tls: bool) -> std::io::Result<bool> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server).await?;
    if implicit_tls {
        return Ok(true);
    }
    let mut greeting = [0u8; 3];
    stream.read_exact(&mut greeting).await?;
    let _ = stream.write_all(b"QUIT\r\n").await;
    Ok(&greeting == b"220")
}

fn build(from: &Mailbox, job: &MailJob) -> Result<Message, MailError> {
    let to: Mailbox = job
        .to
        .parse()
        .map_err(|_| MailError::Address(job.to.clone()))?;
    let message_id = format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    );
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(job.subject.clone())
        .message_id(Some(message_id));
    let message = match &job.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            job.text.clone(),
            html.clone(),
        ))?,
        None => builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(job.text.clone()),
        )?,
    };
    Ok(message)
}

/// A new file name in the outbox: the time first, so the folder lists in sending order.
pub fn outbox_name() -> String {
    format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
        uuid::Uuid::new_v4().simple()
    )
}

/// Every http(s) link in a text, for the log line of an outbox mail.
fn links(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .collect()
}
