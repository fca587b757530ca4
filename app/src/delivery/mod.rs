//! The delivery engine: schedule math, occurrence fan-out, one job per delivery, the
//! attempt log, and the transports (SMTP, or the outbox folder on the embedded default).

pub mod cli;
pub mod fanout;
pub mod schedule;
pub mod send;
pub mod transport;

use std::path::PathBuf;

use lettre::Address;

use crate::config::Config;
use transport::{Reply, SendError, SmtpConfig, SmtpPool};

/// Where deliveries go.
#[derive(Clone)]
pub enum Outbound {
    /// `.eml` files in a folder (no `SMTP_URL`).
    Outbox(PathBuf),
    Smtp(SmtpPool),
}

impl Outbound {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        Ok(match &config.smtp_url {
            Some(url) => {
                let worker = &config.worker;
                let smtp = SmtpConfig {
                    pool_size: worker.smtp_connections,
                    connect_timeout: std::time::Duration::from_secs(
                        worker.smtp_connect_timeout_secs,
                    ),
                    send_timeout: std::time::Duration::from_secs(worker.smtp_send_timeout_secs),
                    ..SmtpConfig::from_url(url.expose_secret())?
                };
                Outbound::Smtp(SmtpPool::new(smtp))
            }
            None => Outbound::Outbox(config.outbox_dir()),
        })
    }

    pub async fn send(
        &self,
        from: Address,
        to: Address,
        message: Vec<u8>,
    ) -> Result<Reply, SendError> {
        match self {
            Outbound::Smtp(pool) => pool.send(&from, &[to], &message).await,
            Outbound::Outbox(dir) => {
                let transient = |e: std::io::Error| SendError::Transient {
                    code: None,
                    text: format!("outbox: {e}"),
                };
                tokio::fs::create_dir_all(dir).await.map_err(transient)?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                    uuid::Uuid::new_v4().simple()
                );
                let path = dir.join(name);
                tokio::fs::write(&path, &message).await.map_err(transient)?;
                Ok(Reply {
                    code: 250,
                    text: format!("written to {}", path.display()),
                })
            }
        }
    }
}
