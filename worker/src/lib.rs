//! The apalis runtime of Mailer: one monitor with a worker per queue, on apalis-sqlite
//! (embedded default) or apalis-redis (`REDIS_URL`). Jobs are small and idempotent; the
//! monitor stops taking new jobs on SIGINT/SIGTERM and lets in-flight ones finish, bounded
//! by `MAILER_WORKER__SHUTDOWN_TIMEOUT_SECS`.

use std::time::Duration;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use mailer::AppState;
use mailer::config::WorkerConfig;
use mailer::jobs::{MailJob, Queue};
use mailer::mail::{MailError, Mailer};

/// Sends one e-mail. Permanent failures (5xx, bad address) abort at once; others are
/// retried by the retry layer with backoff.
pub async fn send_mail(job: MailJob, mailer: Data<Mailer>) -> Result<(), BoxDynError> {
    match mailer.send(&job).await {
        Ok(()) => {
            tracing::info!(to = %job.to, subject = %job.subject, "mail sent");
            Ok(())
        }
        Err(e) if e.is_transient() => {
            tracing::warn!(to = %job.to, error = %e, "mail failed, will retry");
            Err(Box::new(e))
        }
        Err(e) => {
            tracing::error!(to = %job.to, error = %e, "mail failed for good");
            Err(Box::new(AbortError::new(e)))
        }
    }
}

/// Retries transient failures only; an `AbortError` (see `send_mail`) ends the job.
fn is_retryable(error: &BoxDynError) -> bool {
    !error.is::<AbortError>()
        && error
            .downcast_ref::<MailError>()
            .is_none_or(MailError::is_transient)
}

fn backoff(
    config: &WorkerConfig,
) -> anyhow::Result<<ExponentialBackoffMaker<HasherRng> as MakeBackoff>::Backoff> {
    let mut maker = ExponentialBackoffMaker::new(
        Duration::from_millis(config.retry_backoff_ms.max(1)),
        Duration::from_secs(config.retry_backoff_max_secs.max(1)),
        0.5,
        HasherRng::default(),
    )
    .map_err(|e| anyhow::anyhow!("MAILER_WORKER__RETRY_BACKOFF_*: {e}"))?;
    Ok(maker.make_backoff())
}

/// Runs every worker until `shutdown` resolves, then drains in-flight jobs.
pub async fn run(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = state.config.worker.clone();
    let backoff = backoff(&config)?;
    let mailer = state.mailer.clone();
    let policy = move || {
        RetryPolicy::retries(config.retries)
            .with_backoff(backoff.clone())
            .retry_if(is_retryable)
    };
    let (poll, concurrency, timeout) = (
        config.poll_interval(),
        config.concurrency,
        config.job_timeout(),
    );
    let monitor = Monitor::new().shutdown_timeout(config.shutdown_timeout());
    // Layer order: concurrency → retry → timeout → tracing (each try is timed on its own).
    let monitor = match state.queues.mail.clone() {
        Queue::Sqlite(storage) => monitor.register(move |_| {
            WorkerBuilder::new("mailer-mail")
                .backend(storage.clone().poll_with_interval(poll))
                .data(mailer.clone())
                .concurrency(concurrency)
                .retry(policy())
                .timeout(timeout)
                .enable_tracing()
                .build(send_mail)
        }),
        Queue::Redis(storage) => monitor.register(move |_| {
            WorkerBuilder::new("mailer-mail")
                .backend(storage.clone().poll_with_interval(poll))
                .data(mailer.clone())
                .concurrency(concurrency)
                .retry(policy())
                .timeout(timeout)
                .enable_tracing()
                .build(send_mail)
        }),
    };
    tracing::info!(
        queue = ?state.queues.mode(),
        concurrency,
        poll_interval_ms = poll.as_millis() as u64,
        "worker started"
    );
    monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("worker stopped with an error: {e}"))?;
    tracing::info!("worker stopped");
    Ok(())
}
