//! The apalis runtime of Mailer: one monitor with a worker per queue, on apalis-sqlite
//! (embedded default) or apalis-redis (`REDIS_URL`). Jobs are small and idempotent; the
//! monitor stops taking new jobs on SIGINT/SIGTERM and lets in-flight ones finish, bounded
//! by `MAILER_WORKER__SHUTDOWN_TIMEOUT_SECS`.

mod runtime;

use std::time::Duration;

use apalis::prelude::*;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use mailer::AppState;
use mailer::config::WorkerConfig;
use mailer::delivery::Outbound;
use mailer::delivery::fanout;
use mailer::delivery::hold::{self, Unheld};
use mailer::delivery::send::{Deliverer, DeliveryTask, Limits, Outcome};
use mailer::delivery::tick::{self, Handoff, TickSettings};
use mailer::delivery::transport::SendError;
use mailer::jobs::MailJob;
use mailer::mail::{MailError, Mailer};
pub use runtime::run;

/// A job that panicked: it ends for good (apalis marks it killed, neither the retry layer
/// nor the queue tries it again), and the worker goes on with the next one.
#[derive(Debug, thiserror::Error)]
#[error("the job panicked: {0}")]
pub struct JobPanicked(pub String);

/// Runs one job's future. A panic in it fails that job — logged with the job, not retried —
/// instead of ending the worker (apalis would stop it, and the watchdog the process; the
/// job, still queued, would then stop every worker that takes it).
pub async fn contained<J, F>(job: &J, run: F) -> Result<(), BoxDynError>
where
    J: std::fmt::Debug + Sync,
    F: Future<Output = Result<(), BoxDynError>>,
{
    match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let reason = mailer::delivery::panic_message(panic.as_ref());
            tracing::error!(?job, %reason, "a job panicked: dropped, not retried");
            Err(Box::new(AbortError::new(JobPanicked(reason))))
        }
    }
}

/// Sends one e-mail. Permanent failures (5xx, bad address) abort at once; others are
/// retried by the retry layer with backoff.
pub async fn send_mail(job: MailJob, mailer: Data<Mailer>) -> Result<(), BoxDynError> {
    contained(&job, deliver_mail(&job, &mailer)).await
}

async fn deliver_mail(job: &MailJob, mailer: &Mailer) -> Result<(), BoxDynError> {
    match mailer.send(job).await {
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
    /// Turns true when the process starts to shut down: jobs claim nothing more.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The groups being sent, each in a task of its own: a job cancelled by its timeout
    /// does not cut them off mid-send, and the process waits for them before it exits.
    pub groups: tokio_util::task::TaskTracker,
}

/// Groups of deliveries in flight at once per process (see [`run_batch`]).
const GROUPS_IN_FLIGHT: usize = 4;

impl DeliveryContext {
    /// This process's context: its deliverer (breaker, rate, recorder), its bound on the
    /// deliveries in flight, and `stopping` to hear when the process stops.
    fn new(state: &AppState, stopping: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<Self> {
        let config = &state.config.worker;
        Ok(Self {
            deliverer: Deliverer::new(
                state.db.clone(),
                Outbound::from_config(&state.config)?,
                (
                    state.config.sender()?,
                    mailer::consent::Links::of(state),
                    state.dkim.clone(),
                ),
                Limits::from_config(config),
            )
            .with_foot(state.config.mail_postal.as_deref(), state.templates.feet()),
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(config.concurrency)),
            state: state.clone(),
            stopping,
            groups: tokio_util::task::TaskTracker::new(),
        })
    }

    fn domain(&self) -> String {
        self.deliverer.from().email.domain().to_owned()
    }

    /// How long a claim, or a queued job's mark, holds a delivery (see `hold`).
    fn lease(&self) -> chrono::Duration {
        Limits::from_config(&self.state.config.worker).lease
    }

    /// The ranges an occurrence's fan-out makes its deliveries in.
    fn ranges(&self) -> fanout::Ranges {
        fanout::Ranges::of(self.state.config.worker.fan_out_range)
    }

    /// What this process's ticks do: sweep at most [`SWEEP_LIMIT`], and fan out in paced
    /// ranges (its jobs send each range while the next waits).
    fn tick_settings<'a>(&self, domain: &'a str) -> TickSettings<'a> {
        TickSettings {
            domain,
            lease: self.lease(),
            sweep_limit: Some(SWEEP_LIMIT),
            ranges: self.ranges(),
            paced: true,
        }
    }

    fn stopping(&self) -> bool {
        *self.stopping.borrow()
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
    let described = task.clone();
    contained(&described, run_delivery_task(task, &ctx)).await
}

async fn run_delivery_task(task: DeliveryTask, ctx: &DeliveryContext) -> Result<(), BoxDynError> {
    match task {
        DeliveryTask::FanOut { mailing_id } => {
            use sea_orm::EntityTrait;
            let Some(mailing) = mailer::entities::mailing::Entity::find_by_id(mailing_id)
                .one(&ctx.state.db)
                .await?
            else {
                return Ok(());
            };
            let ids = fanout::start(
                &ctx.state.db,
                &mailing,
                chrono::Utc::now(),
                &ctx.domain(),
                ctx.lease(),
                ctx.ranges(),
            )
            .await?;
            queue_deliveries(ctx, ids, Duration::ZERO, Marked::Already).await?;
            Ok(())
        }
        DeliveryTask::SendNow {
            mailing_id,
            occurrence,
        } => {
            let db = &ctx.state.db;
            let now = chrono::Utc::now();
            let ids = fanout::start_extra(
                db,
                mailing_id,
                occurrence,
                now,
                (&ctx.domain(), ctx.lease()),
                ctx.ranges(),
            )
            .await?;
            queue_deliveries(ctx, ids, Duration::ZERO, Marked::Already).await?;
            Ok(())
        }
        DeliveryTask::Deliver { delivery_id } => run_batch(ctx, vec![delivery_id]).await,
        DeliveryTask::DeliverMany { delivery_ids } => run_batch(ctx, delivery_ids).await,
    }
}

/// Sends a job's deliveries in groups, each claimed, sent and committed together
/// ([`deliver_batch`]). At most `MAILER_WORKER__CONCURRENCY` deliveries are in flight
/// (claimed, not yet recorded) per process, whatever job they belong to, in groups of a
/// quarter of that: while one group is being recorded, the others keep the SMTP
/// connections busy.
/// A cancelled or crashed job loses nothing: whatever was not marked sent is sent by a
/// later job. A job keeps to half its timeout; what it could not start goes back to the
/// queue as one job (delayed while sending is paused), and transient failures go back with
/// exponential backoff and jitter. Once the process is stopping it claims nothing more:
/// the deliveries it did not start are released for the next tick (see `hold`).
async fn run_batch(ctx: &DeliveryContext, ids: Vec<i64>) -> Result<(), BoxDynError> {
    let budget = ctx.state.config.worker.job_timeout() / 2;
    let started = std::time::Instant::now();
    let mut pending = ids;
    let mut later = Vec::new();
    let mut later_wait = Duration::ZERO;
    // Not started (the process is stopping), or their retry could not be queued.
    let mut unqueued = Vec::new();
    let mut first_error = None;
    while !pending.is_empty() {
        if ctx.stopping() {
            unqueued.append(&mut pending);
            break;
        }
        if started.elapsed() >= budget {
            later.append(&mut pending);
            break;
        }
        // Even groups: 50 in groups of at most 16 is 13 + 13 + 12 + 12, not 16 + 16 + 16 + 2.
        let groups = pending.len().div_ceil(ctx.group_size());
        let group = pending.len().div_ceil(groups);
        let Ok(slots) = ctx
            .in_flight
            .clone()
            .acquire_many_owned(u32::try_from(group).unwrap_or(1))
            .await
        else {
            later.append(&mut pending);
            break;
        };
        // The stop may have come while this waited for its turn.
        if ctx.stopping() {
            unqueued.append(&mut pending);
            break;
        }
        let claim: Vec<i64> = pending.drain(..slots.num_permits()).collect();
        // Sent in a task of its own, holding its slots: if this job is cancelled (its
        // timeout) while the group is on the wire, the group still ends with its results
        // recorded. Cut off, a message the server had taken would stay unrecorded and be
        // sent again at the end of its lease.
        let group = ctx.groups.spawn({
            let (deliverer, claim) = (ctx.deliverer.clone(), claim.clone());
            async move {
                let outcomes = deliverer.deliver_batch(&claim).await;
                drop(slots);
                outcomes
            }
        });
        let outcomes = match group.await {
            Ok(Ok(outcomes)) => outcomes,
            // The database failed: these go back with the rest, and the job reports it.
            Ok(Err(e)) => {
                later.extend(claim);
                later.append(&mut pending);
                first_error = Some(e);
                break;
            }
            // A panic outside any one delivery's send: the job's own guard handles it.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is going down. The lease brings these back.
            Err(_) => {
                later.extend(claim);
                later.append(&mut pending);
                break;
            }
        };
        let mut paused = Vec::new();
        let mut pause = Duration::ZERO;
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Sent | Outcome::Skipped => {}
                Outcome::Failed(reason) => {
                    tracing::warn!(delivery_id = id, %reason, "delivery failed for good");
                }
                // Sending paused meanwhile (this was a failed probe, or the failure that
                // opened the breaker): it waits with the job's other paused deliveries
                // instead of going off into a job of its own, so a long outage does not
                // split batches into ever more jobs.
                Outcome::Retry {
                    error: SendError::Transient { .. },
                    ..
                } if let Some(wait) = ctx.deliverer.paused_for() => {
                    paused.push(id);
                    pause = pause.max(wait);
                }
                Outcome::Retry { error, tries } => {
                    tracing::info!(delivery_id = id, %error, "delivery failed, will retry");
                    let queued = ctx
                        .state
                        .queues
                        .delivery
                        .push_after(
                            DeliveryTask::Deliver { delivery_id: id },
                            retry_backoff(&ctx.state.config.worker, tries),
                        )
                        .await;
                    if let Err(e) = queued {
                        tracing::warn!(delivery_id = id, error = %e, "cannot queue the retry");
                        unqueued.push(id);
                    }
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
                // Woken early when the process stops: the loop then releases them.
                let mut stopping = ctx.stopping.clone();
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stopped(&mut stopping) => {}
                }
                pending.append(&mut paused);
            } else {
                later.append(&mut paused);
                later_wait = later_wait.max(wait);
            }
        }
    }
    if !unqueued.is_empty() {
        hold::release(&ctx.state.db, &unqueued).await?;
    }
    if !later.is_empty() {
        // Spread over a second or two: paused batches do not all come back at one instant.
        let spread = Duration::from_millis(rand::random_range(0..1_000));
        queue_deliveries(ctx, later, later_wait + spread, Marked::No).await?;
    }
    match first_error {
        Some(e) => Err(Box::new(e)),
        None => Ok(()),
    }
}

/// Resolves once the process is stopping (or whoever could stop it is gone).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
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

/// Whether the rows of deliveries about to be queued are marked held for their jobs already
/// (a fan-out's fresh rows are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marked {
    Already,
    No,
}

/// Queues `ids` in jobs of [`BATCH`], due after `delay`. Their rows are marked held for
/// those jobs first (unless they are already); should a push fail, the rows not pushed are
/// released, so the next tick queues them again instead of waiting for the mark to run out
/// (see `hold`).
async fn queue_deliveries(
    ctx: &DeliveryContext,
    ids: Vec<i64>,
    delay: Duration,
    marked: Marked,
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let db = &ctx.state.db;
    if marked == Marked::No {
        let until = hold::held_until(chrono::Utc::now(), delay, ctx.lease());
        if let Err(e) = hold::hold(db, &ids, until).await {
            // Queued all the same: the sweep sees that a job names them.
            tracing::warn!(error = %e, "cannot mark deliveries as queued");
        }
    }
    // Batches, pushed 20 at a time: one round trip per thousand deliveries, and the first
    // batches start while the rest go in.
    let jobs: Vec<DeliveryTask> = ids
        .chunks(BATCH)
        .map(|chunk| DeliveryTask::DeliverMany {
            delivery_ids: chunk.to_vec(),
        })
        .collect();
    let queue = &ctx.state.queues.delivery;
    for (n, group) in jobs.chunks(20).enumerate() {
        let pushed = if delay.is_zero() {
            queue.push_many(group.to_vec()).await
        } else {
            let mut pushed = Ok(());
            for job in group {
                pushed = queue.push_after(job.clone(), delay).await;
                if pushed.is_err() {
                    break;
                }
            }
            pushed
        };
        if let Err(e) = pushed {
            let unqueued = &ids[n * 20 * BATCH..];
            if let Err(release) = hold::release(db, unqueued).await {
                tracing::warn!(error = %release, "cannot release deliveries that were not queued");
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Pending deliveries the sweep takes up per tick at most.
const SWEEP_LIMIT: u64 = 10_000;

/// The scheduler tick (see [`tick::tick`]), with what it finds queued as jobs, and
/// finished jobs forgotten. Every worker process ticks; the claims in the database keep
/// them from doing the same work twice.
pub async fn tick(ctx: &DeliveryContext) -> anyhow::Result<()> {
    let domain = ctx.domain();
    tick::tick(
        &ctx.state.db,
        ctx.tick_settings(&domain),
        &mut QueueJobs(ctx),
    )
    .await?;
    let queues = &ctx.state.queues;
    let (mail, delivery) = tokio::join!(
        queues.mail.forget_finished(),
        queues.delivery.forget_finished()
    );
    tracing::debug!(jobs = mail? + delivery?, "finished jobs forgotten");
    Ok(())
}

/// The next ranges of the fan-outs under way (see [`tick::continue_fan_outs`]), queued as
/// delivery jobs: the worker runs it a few times a second between ticks.
pub async fn continue_fan_outs(ctx: &DeliveryContext) -> anyhow::Result<usize> {
    let domain = ctx.domain();
    tick::continue_fan_outs(
        &ctx.state.db,
        ctx.tick_settings(&domain),
        &mut QueueJobs(ctx),
    )
    .await
}

/// A tick's findings, queued as delivery jobs.
struct QueueJobs<'a>(&'a DeliveryContext);

impl Handoff for QueueJobs<'_> {
    async fn statuses_changed(&mut self) {
        // On Redis this reaches every server; on the embedded default the servers' own
        // in-process caches expire by MAILER_PAGES__TTL_SECS instead.
        mailer::home::invalidate(&self.0.state).await;
    }

    async fn fanned_out(&mut self, ids: Vec<i64>) -> anyhow::Result<()> {
        queue_deliveries(self.0, ids, Duration::ZERO, Marked::Already).await
    }

    async fn unheld(&mut self, unheld: Unheld, now: DateTime<Utc>) -> anyhow::Result<()> {
        sweep(self.0, unheld, now).await
    }
}

/// Queues the pending deliveries that nobody holds (see `hold`): those whose worker died
/// (their claim ran out) at once; those whose job was lost (Redis restarted without its
/// data) or never pushed unless a job in the queue still names them. Those a job waiting
/// in the queue names — behind a backlog, or paused by the breaker — only get their mark
/// renewed: a delivery is never queued a second time while its job waits, however long.
async fn sweep(ctx: &DeliveryContext, unheld: Unheld, now: DateTime<Utc>) -> anyhow::Result<()> {
    if unheld.is_empty() {
        return Ok(());
    }
    let db = &ctx.state.db;
    let mut waiting = Vec::new();
    let mut lost = Vec::new();
    if !unheld.unmarked.is_empty() {
        let named = hold::named(&ctx.state.queues.delivery.unfinished().await?);
        (waiting, lost) = unheld
            .unmarked
            .into_iter()
            .partition(|id| named.contains(id));
    }
    if !waiting.is_empty() {
        hold::hold(
            db,
            &waiting,
            hold::held_until(now, Duration::ZERO, ctx.lease()),
        )
        .await?;
    }
    let abandoned = unheld.abandoned;
    if !abandoned.is_empty() {
        hold::drop_lapsed_claims(db, &abandoned, now).await?;
    }
    if !abandoned.is_empty() || !lost.is_empty() {
        tracing::info!(
            count = abandoned.len() + lost.len(),
            abandoned = abandoned.len(),
            lost = lost.len(),
            "queueing deliveries that no job holds (their worker died, or their job was lost)"
        );
        let mut ids = abandoned;
        ids.append(&mut lost);
        queue_deliveries(ctx, ids, Duration::ZERO, Marked::No).await?;
    }
    Ok(())
}

/// Retries transient failures only; an `AbortError` (a permanent failure of `send_mail`, or
/// a job that panicked: see [`contained`]) ends the job.
pub fn is_retryable(error: &BoxDynError) -> bool {
    !error.is::<AbortError>()
        && error
            .downcast_ref::<MailError>()
            .is_none_or(MailError::is_transient)
}

/// The longest wait between two tries to start while a service does not answer.
const MAX_START_WAIT: Duration = Duration::from_secs(10);

/// Connects to everything the config names, as [`AppState::build`] does, but waits while the
/// database or Redis does not answer — trying again after 1, 2, 4… seconds (at most
/// [`MAX_START_WAIT`]) and saying so in the log — instead of failing at once: a restart
/// while a service is down then comes up by itself when it is back. Any other error (a bad
/// configuration) fails at once.
pub async fn start(config: mailer::Config) -> anyhow::Result<AppState> {
    let mut wait = Duration::from_secs(1);
    loop {
        let mut down = unreachable(&config).await;
        let mut error = None;
        if down.is_empty() {
            match AppState::build(config.clone()).await {
                Ok(state) => return Ok(state),
                Err(e) => {
                    // Gone between the look and the connection, or a configuration error.
                    down = unreachable(&config).await;
                    if down.is_empty() {
                        return Err(e);
                    }
                    error = Some(format!("{e:#}"));
                }
            }
        }
        tracing::warn!(
            error,
            retry_in_secs = wait.as_secs(),
            "cannot start: {} not answering; waiting for it",
            down.join(" and ")
        );
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_START_WAIT);
    }
}

/// The services of `config` that do not answer now, each asked once and briefly.
async fn unreachable(config: &mailer::Config) -> Vec<&'static str> {
    let (database, redis) = tokio::join!(
        database_answers(config),
        mailer::jobs::redis_answers(config)
    );
    let mut down = Vec::new();
    if !database {
        down.push("the database");
    }
    if !redis {
        down.push("Redis");
    }
    down
}

/// Whether PostgreSQL accepts a TCP connection at the host and port of `DATABASE_URL` (its
/// answers to the rest — authentication, the database — are `AppState::build`'s errors to
/// report). A SQLite file, or a Unix socket, is left to `AppState::build` to judge.
async fn database_answers(config: &mailer::Config) -> bool {
    let Ok(url) = url::Url::parse(&config.database_url) else {
        return true;
    };
    let socket = url.query_pairs().any(|(key, _)| key == "host");
    let (Some(host), false) = (url.host_str().filter(|h| !h.is_empty()), socket) else {
        return true;
    };
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return true;
    }
    let host = host.to_owned();
    let port = url.port().unwrap_or(5432);
    matches!(
        tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect((host.as_str(), port))
        )
        .await,
        Ok(Ok(_))
    )
}
