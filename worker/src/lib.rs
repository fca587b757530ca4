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
use mailer::delivery::Outbound;
use mailer::delivery::fanout;
use mailer::delivery::send::{DeliveryTask, Limits, Outcome, deliver};
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

/// What a delivery job needs besides its payload.
#[derive(Clone)]
pub struct DeliveryContext {
    pub state: AppState,
    pub outbound: Outbound,
    pub from: lettre::message::Mailbox,
    /// Tries of one delivery, and how long a claim on it lasts.
    pub limits: Limits,
}

impl DeliveryContext {
    fn domain(&self) -> String {
        self.from.email.domain().to_owned()
    }
}

/// Runs one delivery task: a fan-out pushes one `Deliver` per pending delivery; a
/// delivery that failed transiently returns an error so the retry layer tries it again.
pub async fn run_delivery(
    task: DeliveryTask,
    ctx: Data<DeliveryContext>,
) -> Result<(), BoxDynError> {
    match task {
        DeliveryTask::FanOut { mailing_id } => {
            use sea_orm::EntityTrait;
            let Some(mailing) = mailer::entities::mailing::Entity::find_by_id(mailing_id)
                .one(&ctx.state.db)
                .await?
            else {
                return Ok(());
            };
            let ids =
                fanout::fan_out(&ctx.state.db, &mailing, chrono::Utc::now(), &ctx.domain()).await?;
            push_deliveries(&ctx.state, ids).await?;
            Ok(())
        }
        DeliveryTask::SendNow {
            mailing_id,
            occurrence,
        } => {
            let db = &ctx.state.db;
            fanout::insert_deliveries(
                db,
                mailing_id,
                occurrence,
                chrono::Utc::now(),
                &ctx.domain(),
            )
            .await?;
            let ids = fanout::pending_ids(db, mailing_id, occurrence).await?;
            push_deliveries(&ctx.state, ids).await?;
            Ok(())
        }
        DeliveryTask::Deliver { delivery_id } => {
            match deliver(
                &ctx.state.db,
                &ctx.outbound,
                &ctx.from,
                delivery_id,
                ctx.limits,
            )
            .await?
            {
                Outcome::Sent | Outcome::Skipped => Ok(()),
                Outcome::Failed(reason) => {
                    tracing::warn!(delivery_id, %reason, "delivery failed for good");
                    Ok(())
                }
                Outcome::Retry(e) => {
                    tracing::info!(delivery_id, error = %e, "delivery failed, will retry");
                    Err(Box::new(e))
                }
            }
        }
    }
}

async fn push_deliveries(state: &AppState, ids: Vec<i64>) -> anyhow::Result<()> {
    for delivery_id in ids {
        state
            .queues
            .delivery
            .push(DeliveryTask::Deliver { delivery_id })
            .await?;
    }
    Ok(())
}

/// The scheduler tick: status follows the clock, due mailings fan out, and deliveries
/// whose job was lost (a worker died) are pushed again. Every worker process ticks; the
/// claims in the database keep them from doing the same work twice.
pub async fn tick(ctx: &DeliveryContext) -> anyhow::Result<()> {
    let db = &ctx.state.db;
    let now = chrono::Utc::now();
    if fanout::settle_statuses(db, now).await? > 0 {
        // On Redis this reaches every server; on the embedded default the servers' own
        // in-process caches expire by MAILER_PAGES__TTL_SECS instead.
        mailer::home::invalidate(&ctx.state).await;
    }
    let ids = fanout::fan_out_due(db, now, &ctx.domain()).await?;
    push_deliveries(&ctx.state, ids).await?;
    let stale = chrono::Duration::seconds(
        i64::try_from(ctx.state.config.worker.job_timeout_secs.saturating_mul(2))
            .unwrap_or(i64::MAX),
    );
    let orphans = fanout::orphaned(db, now, stale).await?;
    if !orphans.is_empty() {
        tracing::info!(
            count = orphans.len(),
            "pushing deliveries whose job was lost"
        );
        push_deliveries(&ctx.state, orphans).await?;
    }
    Ok(())
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
    let delivery = DeliveryContext {
        outbound: Outbound::from_config(&state.config)?,
        from: state.config.sender()?,
        limits: Limits::from_config(&config),
        state: state.clone(),
    };
    let policy = {
        let (retries, backoff) = (config.retries, backoff.clone());
        move || {
            RetryPolicy::retries(retries)
                .with_backoff(backoff.clone())
                .retry_if(is_retryable)
        }
    };
    let (poll, concurrency, timeout) = (
        config.poll_interval(),
        config.concurrency,
        config.job_timeout(),
    );
    let monitor = Monitor::new().shutdown_timeout(config.shutdown_timeout());
    // Worker names are registered with the backend and must be unique across processes
    // (apalis-sqlite refuses a second "mailer-delivery" with WORKER_ALREADY_EXISTS).
    let instance = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let delivery_policy = {
        let (retries, backoff) = (config.retries, backoff.clone());
        move || RetryPolicy::retries(retries).with_backoff(backoff.clone())
    };
    // One worker per queue, on whichever backend the queue lives. Layer order: concurrency →
    // retry → timeout → tracing (each try is timed on its own).
    macro_rules! register {
        ($monitor:expr, $queue:expr, $name:literal, $data:expr, $policy:expr, $handler:expr) => {{
            let (data, policy) = ($data, $policy);
            let name = format!("{}-{instance}", $name);
            match $queue {
                Queue::Sqlite(storage) => $monitor.register(move |_| {
                    WorkerBuilder::new(name.clone())
                        .backend(storage.clone().poll_with_interval(poll))
                        .data(data.clone())
                        .concurrency(concurrency)
                        .retry(policy())
                        .timeout(timeout)
                        .enable_tracing()
                        .build($handler)
                }),
                Queue::Redis(storage) => $monitor.register(move |_| {
                    WorkerBuilder::new(name.clone())
                        .backend(storage.clone().poll_with_interval(poll))
                        .data(data.clone())
                        .concurrency(concurrency)
                        .retry(policy())
                        .timeout(timeout)
                        .enable_tracing()
                        .build($handler)
                }),
            }
        }};
    }
    let monitor = register!(
        monitor,
        state.queues.mail.clone(),
        "mailer-mail",
        mailer,
        policy,
        send_mail
    );
    let monitor = register!(
        monitor,
        state.queues.delivery.clone(),
        "mailer-delivery",
        delivery.clone(),
        delivery_policy,
        run_delivery
    );
    let (stop_tick, mut tick_stopped) = tokio::sync::watch::channel(false);
    let tick_every = Duration::from_secs(state.config.worker.tick_interval_secs);
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick_every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    if let Err(e) = tick(&delivery).await {
                        tracing::error!(error = %format!("{e:#}"), "scheduler tick failed");
                    }
                }
                _ = tick_stopped.changed() => break,
            }
        }
    });
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
    let _ = stop_tick.send(true);
    let _ = ticker.await;
    tracing::info!("worker stopped");
    Ok(())
}
