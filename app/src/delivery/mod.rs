//! The delivery engine: schedule math, the scheduler tick, occurrence fan-out, who holds
//! a pending delivery, sending with its attempt log, and the transports (SMTP, or the
//! outbox folder on the embedded default). An occurrence has one delivery row per client;
//! the worker queues its deliveries in batches, one job each (`DeliverMany`), and a job
//! claims, sends and records its batch a group at a time. What a job could not start goes
//! back to the queue as one job; a delivery that failed transiently goes back alone
//! (`Deliver`), after a backoff.

pub mod cli;
pub mod fanout;
pub mod gate;
pub mod hold;
pub mod schedule;
pub mod send;
pub mod stop;
pub mod tick;
pub mod transport;

use std::path::PathBuf;

use lettre::Address;

use crate::config::Config;
use gate::{Admission, SendGate};
use transport::{Reply, SendError, SmtpConfig, SmtpPool};

/// The text of a caught panic's payload (`panic!` with a literal or with a format), for
/// the log and the attempt row of whatever it failed.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Where deliveries go, behind this process's circuit breaker and send rate.
#[derive(Clone)]
pub struct Outbound {
    target: Target,
    gate: SendGate,
}

#[derive(Clone)]
enum Target {
    /// `.eml` files in a folder (no `SMTP_URL`).
    Outbox(PathBuf),
    Smtp(SmtpPool),
}

impl Outbound {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let worker = &config.worker;
        let target = match &config.smtp_url {
            Some(url) => {
                let smtp = SmtpConfig {
                    pool_size: worker.smtp_connections,
                    connect_timeout: std::time::Duration::from_secs(
                        worker.smtp_connect_timeout_secs,
                    ),
                    send_timeout: std::time::Duration::from_secs(worker.smtp_send_timeout_secs),
                    ..SmtpConfig::from_url(url.expose_secret())?
                };
                Target::Smtp(SmtpPool::new(smtp))
            }
            None => Target::Outbox(config.outbox_dir()),
        };
        Ok(Self {
            target,
            gate: SendGate::from_config(worker),
        })
    }

    /// The breaker and rate limit of this process's sends.
    pub fn gate(&self) -> &SendGate {
        &self.gate
    }

    /// Waits for leave to send one message (see [`gate`]).
    pub async fn admit(&self) -> Admission {
        self.gate.admit().await
    }

    pub async fn send(
        &self,
        from: Address,
        to: Address,
        message: Vec<u8>,
    ) -> Result<Reply, SendError> {
        match &self.target {
            Target::Smtp(pool) => {
                let started = std::time::Instant::now();
                let result = pool.send(&from, &[to], message).await;
                metrics::histogram!(crate::monitoring::SMTP_REPLY)
                    .record(started.elapsed().as_secs_f64());
                result
            }
            Target::Outbox(dir) => {
                let transient = |e: std::io::Error| SendError::Transient {
                    code: None,
                    text: format!("outbox: {e}"),
                    reason: Some(crate::i18n::phrase(
                        "delivery-reason-outbox-failed",
                        &[("detail", &e)],
                    )),
                };
                tokio::fs::create_dir_all(dir).await.map_err(transient)?;
                let name = crate::mail::outbox_name();
                tokio::fs::write(dir.join(&name), &message)
                    .await
                    .map_err(transient)?;
                // The file's name only: this text is the attempt's reply, which users see
                // on their pages and in their CSV, and the server's paths are not theirs.
                Ok(Reply {
                    code: 250,
                    text: format!("written to the outbox as {name}"),
                    reason: Some(crate::i18n::phrase(
                        "delivery-reason-outbox",
                        &[("name", &name)],
                    )),
                })
            }
        }
    }
}
