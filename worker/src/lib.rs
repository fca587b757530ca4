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
use mailer::delivery::send::{Deliverer, DeliveryTask, Limits, Outcome};
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
    /// Sends and records deliveries (with this process's breaker, rate and recorder).
    pub deliverer: Deliverer,
    /// Deliveries in flight in this process, whatever batch they belong to.
    pub in_flight: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Groups of deliveries in flight at once per process (see [`run_batch`]).
const GROUPS_IN_FLIGHT: usize = 4;

impl DeliveryContext {
    fn domain(&self) -> String {
        self.deliverer.from().email.domain().to_owned()
    }

    /// Deliveries claimed and committed together.
    fn group_size(&self) -> usize {
        self.state
            .config
            .worker
            .concurrency
            .div_ceil(GROUPS_IN_FLIGHT)
            .max(1)
    }
}

/// Runs one delivery task: a fan-out pushes the pending deliveries in batches; a delivery
/// that failed transiently goes back to the queue on its own, after a backoff.
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
        DeliveryTask::Deliver { delivery_id } => run_batch(&ctx, vec![delivery_id]).await,
        DeliveryTask::DeliverMany { delivery_ids } => run_batch(&ctx, delivery_ids).await,
    }
}

/// Sends a job's deliveries in groups, each claimed, sent and committed together
/// ([`deliver_batch`]). At most `MAILER_WORKER__CONCURRENCY` deliveries are in flight
/// (claimed, not yet recorded) per process, whatever job they belong to, in groups of a
/// quarter of that: while one group is being recorded, the others keep the SMTP
/// connections busy.
/// A cancelled or crashed job loses nothing: whatever was not marked sent is sent by a
/// later job. A job keeps to half its timeout; what it could not start goes back to the
/// queue (delayed while sending is paused), and transient failures go back with
/// exponential backoff and jitter.
async fn run_batch(ctx: &DeliveryContext, ids: Vec<i64>) -> Result<(), BoxDynError> {
    let budget = ctx.state.config.worker.job_timeout() / 2;
    let started = std::time::Instant::now();
    let mut pending = ids;
    let mut later = Vec::new();
    let mut later_wait = Duration::ZERO;
    let mut first_error = None;
    while !pending.is_empty() {
        if started.elapsed() >= budget {
            later.append(&mut pending);
            break;
        }
        // Even groups: 50 in groups of at most 16 is 13 + 13 + 12 + 12, not 16 + 16 + 16 + 2.
        let groups = pending.len().div_ceil(ctx.group_size());
        let group = pending.len().div_ceil(groups);
        let Ok(slots) = ctx
            .in_flight
            .acquire_many(u32::try_from(group).unwrap_or(1))
            .await
        else {
            later.append(&mut pending);
            break;
        };
        let claim: Vec<i64> = pending.drain(..slots.num_permits()).collect();
        let outcomes = match ctx.deliverer.deliver_batch(&claim).await {
            Ok(outcomes) => outcomes,
            // The database failed: these go back with the rest, and the job reports it.
            Err(e) => {
                later.extend(claim);
                later.append(&mut pending);
                first_error = Some(e);
                break;
            }
        };
        drop(slots);
        let mut paused = Vec::new();
        let mut pause = Duration::ZERO;
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Sent | Outcome::Skipped => {}
                Outcome::Failed(reason) => {
                    tracing::warn!(delivery_id = id, %reason, "delivery failed for good");
                }
                Outcome::Retry { error, tries } => {
                    tracing::info!(delivery_id = id, %error, "delivery failed, will retry");
                    ctx.state
                        .queues
                        .delivery
                        .push_after(
                            DeliveryTask::Deliver { delivery_id: id },
                            retry_backoff(&ctx.state.config.worker, tries),
                        )
                        .await?;
                }
                Outcome::Paused(wait) => {
                    paused.push(id);
                    pause = pause.max(wait);
                }
            }
        }
        if !paused.is_empty() {
            let wait = pause + jitter();
            if started.elapsed() + wait < budget {
                tokio::time::sleep(wait).await;
                pending.append(&mut paused);
            } else {
                later.append(&mut paused);
                later_wait = later_wait.max(wait);
            }
        }
    }
    if !later.is_empty() {
        ctx.state
            .queues
            .delivery
            .push_after(
                DeliveryTask::DeliverMany {
                    delivery_ids: later,
                },
                later_wait,
            )
            .await?;
    }
    match first_error {
        Some(e) => Err(Box::new(e)),
        None => Ok(()),
    }
}

/// The wait before try `tries + 1`: the configured backoff for that retry, times a jitter
/// factor between 0.5 and 1.5.
fn retry_backoff(config: &WorkerConfig, tries: i32) -> Duration {
    let retry = u32::try_from(tries.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    config
        .retry_backoff(retry)
        .mul_f64(rand::random_range(0.5..1.5))
}

/// Up to 250 ms, so paused deliveries do not all knock at the same instant.
fn jitter() -> Duration {
    Duration::from_millis(rand::random_range(0..250))
}

/// Deliveries per job.
const BATCH: usize = 50;

async fn push_deliveries(state: &AppState, ids: Vec<i64>) -> anyhow::Result<()> {
    // Batches, pushed 20 at a time: one round trip per thousand deliveries, and the first
    // batches start while the rest go in.
    let jobs: Vec<DeliveryTask> = ids
        .chunks(BATCH)
        .map(|chunk| DeliveryTask::DeliverMany {
            delivery_ids: chunk.to_vec(),
        })
        .collect();
    for group in jobs.chunks(20) {
        state.queues.delivery.push_many(group.to_vec()).await?;
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
    let queues = &ctx.state.queues;
    let (mail, delivery) = tokio::join!(
        queues.mail.forget_finished(),
        queues.delivery.forget_finished()
    );
    tracing::debug!(jobs = mail? + delivery?, "finished jobs forgotten");
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
        deliverer: Deliverer::new(
            state.db.clone(),
            Outbound::from_config(&state.config)?,
            state.config.sender()?,
            Limits::from_config(&config),
        ),
        in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(config.concurrency)),
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
    // Watchdog: a worker whose backend fails ends its future. apalis would keep the
    // process up without it, doing nothing; instead the whole process stops with an error
    // so its supervisor (systemd, Kubernetes, `just run`) notices and starts it again.
    // The first death is also kept aside: when every worker has died the monitor may end
    // before the signal below has seen the message, and the verdict must not depend on it.
    let (died, mut death) = tokio::sync::mpsc::unbounded_channel::<String>();
    let first_death = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let monitor = Monitor::new()
        .shutdown_timeout(config.shutdown_timeout())
        .should_restart({
            let first_death = first_death.clone();
            move |worker, error| {
                let reason = format!("{}: {error}", worker.name());
                first_death
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert_with(|| reason.clone());
                let _ = died.send(reason);
                false
            }
        });
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
    // Whether the process was asked to stop: a monitor that ends without that lost its
    // workers some other way.
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signal_asked = asked.clone();
    let result = monitor
        .run_with_signal(async move {
            tokio::select! {
                () = shutdown => signal_asked.store(true, std::sync::atomic::Ordering::SeqCst),
                Some(reason) = death.recv() => {
                    tracing::error!(worker = %reason, "a worker stopped: shutting the process down");
                }
            }
            Ok(())
        })
        .await;
    let _ = stop_tick.send(true);
    let _ = ticker.await;
    let died = first_death.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(reason) = died {
        anyhow::bail!("worker {reason}; exiting so a supervisor can start mailer-worker again");
    }
    if !asked.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!(
            "every worker stopped unasked (is the queue's backend gone?); exiting so a \
             supervisor can start mailer-worker again"
        );
    }
    result.map_err(|e| anyhow::anyhow!("worker stopped with an error: {e}"))?;
    tracing::info!("worker stopped");
    Ok(())
}
