//! The process around the jobs: one apalis monitor with a worker per queue, the scheduler's
//! ticker beside it, a watchdog that ends the process when a worker dies, and the stop —
//! in-flight jobs and groups drained, bounded by `MAILER_WORKER__SHUTDOWN_TIMEOUT_SECS`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::layers::TimeoutLayer;
use apalis::layers::limit::ConcurrencyLimitLayer;
use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::tracing::TraceLayer;
use apalis::prelude::*;
use apalis_core::backend::BackendConfig;
use futures::FutureExt;
use mailer::AppState;
use mailer::config::WorkerConfig;
use mailer::jobs::{Queue, Queues};
use mailer::mail::Mailer;
use tokio::sync::{mpsc, watch};
use tokio_util::task::TaskTracker;

use crate::{DeliveryContext, is_retryable, run_delivery, send_mail, stopped, tick};

/// Runs every worker until `shutdown` resolves, then drains in-flight jobs.
pub async fn run(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = &state.config.worker;
    let settings = WorkerSettings::from_config(config)?;
    // Turns true as soon as the process starts to stop: the ticker and the delivery jobs
    // take no new work from then on (the monitor's drain only finishes what is in flight).
    let (stop, stopping) = watch::channel(false);
    let delivery = DeliveryContext::new(&state, stopping)?;
    let groups = delivery.groups.clone();
    let (watchdog, deaths) = Watchdog::new();
    let monitor = Monitor::new()
        .shutdown_timeout(config.shutdown_timeout())
        .should_restart({
            let watchdog = watchdog.clone();
            move |worker, error| watchdog.worker_died(worker, error)
        });
    let monitor = settings.register(
        monitor,
        &state.queues,
        state.mailer.clone(),
        delivery.clone(),
    );
    let metrics = match config.metrics_bind {
        Some(addr) => Some(mailer::monitoring::serve_worker_metrics(addr).await?),
        None => None,
    };
    let fan_outs = spawn_fan_outs(delivery.clone());
    let ticker = spawn_ticker(delivery, Duration::from_secs(config.tick_interval_secs));
    // The bounce mailbox, when one is configured.
    let bounces = mailer::bounces::imap::configured(&state.config.bounces)
        .then(|| tokio::spawn(mailer::bounces::imap::run(state.clone(), stop.subscribe())));
    tracing::info!(
        queue = ?state.queues.mode(),
        concurrency = settings.concurrency,
        poll_interval_ms = settings.poll.as_millis() as u64,
        "worker started"
    );
    // Whether the process was asked to stop: a monitor that ends without that lost its
    // workers some other way.
    let asked = Arc::new(AtomicBool::new(false));
    let result = monitor
        .run_with_signal(stop_signal(shutdown, deaths, stop, asked.clone()))
        .await;
    let _ = ticker.await;
    let _ = fan_outs.await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    if let Some(bounces) = bounces {
        let _ = bounces.await;
    }
    wait_for_groups(&groups, config.shutdown_timeout()).await;
    verdict(watchdog.first_death(), asked.load(Ordering::SeqCst), result)
}

/// The retry layer's policy: transient failures only ([`is_retryable`]), with exponential
/// backoff and jitter.
type Retry = RetryIfPolicy<BackoffRetryPolicy<Backoff>, fn(&BoxDynError) -> bool>;
type Backoff = <ExponentialBackoffMaker<HasherRng> as MakeBackoff>::Backoff;

/// Every worker's layers, outermost first: tracing, timeout, retry, concurrency (each try
/// is timed on its own), and the data its handler takes.
type Layers<D> = Stack<
    TraceLayer,
    Stack<
        TimeoutLayer,
        Stack<
            tower::retry::RetryLayer<Retry>,
            Stack<ConcurrencyLimitLayer, Stack<Data<D>, Identity>>,
        >,
    >,
>;

/// How this process builds its workers: the same for every queue, on either backend.
#[derive(Clone)]
struct WorkerSettings {
    /// Worker names are registered with the backend and must be unique across processes
    /// (apalis-sqlite refuses a second "mailer-delivery" with WORKER_ALREADY_EXISTS).
    instance: String,
    poll: Duration,
    concurrency: usize,
    timeout: Duration,
    retries: usize,
    backoff: Backoff,
}

impl WorkerSettings {
    fn from_config(config: &WorkerConfig) -> anyhow::Result<Self> {
        Ok(Self {
            instance: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            poll: config.poll_interval(),
            concurrency: config.concurrency,
            timeout: config.job_timeout(),
            retries: config.retries,
            backoff: backoff(config)?,
        })
    }

    fn retry(&self) -> Retry {
        RetryPolicy::retries(self.retries)
            .with_backoff(self.backoff.clone())
            .retry_if(is_retryable as fn(&BoxDynError) -> bool)
    }

    /// A worker for the jobs of `backend`, named for `queue` and this process, that runs
    /// each with `handler` and `data` at hand. Layer order: concurrency → retry → timeout
    /// → tracing.
    fn worker<B, Args, D, H, Svc>(
        &self,
        queue: &str,
        backend: B,
        data: D,
        handler: H,
    ) -> Worker<Args, H::Backend, Svc, Layers<D>>
    where
        B: Backend,
        PollWith<B, IntervalStrategy>: Backend + BackendConfig<Args = Args>,
        H: IntoWorkerService<PollWith<B, IntervalStrategy>, Svc>,
        H::Backend: Backend + BackendConfig + Send + Unpin,
        Svc: Service<<H::Backend as Backend>::Task>,
        Args: Send + 'static,
    {
        WorkerBuilder::new(format!("{queue}-{}", self.instance))
            .backend(backend.poll_with_interval(self.poll))
            .data(data)
            .concurrency(self.concurrency)
            .retry(self.retry())
            .timeout(self.timeout)
            .enable_tracing()
            .build(handler)
    }
    /// Registers one worker per queue, on whichever backend the queue lives (the storages
    /// are of two types, hence an arm for each).
    fn register(
        &self,
        monitor: Monitor,
        queues: &Queues,
        mailer: Mailer,
        delivery: DeliveryContext,
    ) -> Monitor {
        let settings = self.clone();
        let monitor = match queues.mail.clone() {
            Queue::Sqlite(q) => monitor.register(move |_| {
                settings.worker("mailer-mail", q.clone(), mailer.clone(), send_mail)
            }),
            Queue::Redis(q) => monitor.register(move |_| {
                settings.worker("mailer-mail", q.clone(), mailer.clone(), send_mail)
            }),
        };
        let settings = self.clone();
        match queues.delivery.clone() {
            Queue::Sqlite(q) => monitor.register(move |_| {
                settings.worker("mailer-delivery", q.clone(), delivery.clone(), run_delivery)
            }),
            Queue::Redis(q) => monitor.register(move |_| {
                settings.worker("mailer-delivery", q.clone(), delivery.clone(), run_delivery)
            }),
        }
    }
}

fn backoff(config: &WorkerConfig) -> anyhow::Result<Backoff> {
    let mut maker = ExponentialBackoffMaker::new(
        Duration::from_millis(config.retry_backoff_ms.max(1)),
        Duration::from_secs(config.retry_backoff_max_secs.max(1)),
        0.5,
        HasherRng::default(),
    )
    .map_err(|e| anyhow::anyhow!("MAILER_WORKER__RETRY_BACKOFF_*: {e}"))?;
    Ok(maker.make_backoff())
}

/// Watchdog: a worker whose backend fails ends its future. apalis would keep the process
/// up without it, doing nothing; instead the whole process stops with an error so its
/// supervisor (systemd, Kubernetes, `just run`) notices and starts it again.
#[derive(Clone)]
struct Watchdog {
    died: mpsc::UnboundedSender<String>,
    /// The first death, kept aside: when every worker has died the monitor may end before
    /// the stop signal has seen the message, and the verdict must not depend on it.
    first_death: Arc<Mutex<Option<String>>>,
}

impl Watchdog {
    /// The watchdog, and where it tells of each death (see [`stop_signal`]).
    fn new() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (died, deaths) = mpsc::unbounded_channel();
        let watchdog = Self {
            died,
            first_death: Arc::new(Mutex::new(None)),
        };
        (watchdog, deaths)
    }

    /// The monitor's `should_restart`: tells of the death, and restarts nothing.
    fn worker_died(&self, worker: &WorkerContext, error: &WorkerError) -> bool {
        let reason = format!("{}: {error}", worker.name());
        self.first_death
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| reason.clone());
        let _ = self.died.send(reason);
        false
    }

    fn first_death(&self) -> Option<String> {
        self.first_death
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// The monitor's stop signal: resolves when the process is asked to stop (`shutdown`, and
/// then `asked` turns true) or a worker dies, and tells the ticker and the delivery jobs
/// through `stop` to take no more work.
async fn stop_signal(
    shutdown: impl Future<Output = ()>,
    mut deaths: mpsc::UnboundedReceiver<String>,
    stop: watch::Sender<bool>,
    asked: Arc<AtomicBool>,
) -> std::io::Result<()> {
    tokio::select! {
        () = shutdown => asked.store(true, Ordering::SeqCst),
        Some(reason) = deaths.recv() => {
            tracing::error!(worker = %reason, "a worker stopped: shutting the process down");
        }
    }
    let _ = stop.send(true);
    Ok(())
}

/// Runs the scheduler tick every `every` until the process stops.
fn spawn_ticker(ctx: DeliveryContext, every: Duration) -> tokio::task::JoinHandle<()> {
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        loop {
            tick_contained(&ctx).await;
            let wait = until_next_tick(&ctx, every).await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut stopping) => break,
            }
        }
    })
}

/// How long the ticker sleeps: `every`, or less when a mailing falls due sooner, so that
/// an occurrence planned for 09:00 starts at 09:00, not up to a tick interval later.
async fn until_next_tick(ctx: &DeliveryContext, every: Duration) -> Duration {
    // Not sooner than this: the tick that finds it due runs a moment after its time.
    const AT_LEAST: Duration = Duration::from_millis(50);
    let now = chrono::Utc::now();
    match mailer::delivery::fanout::next_due(&ctx.state.db, now).await {
        Ok(Some(due)) => (due - now + chrono::Duration::milliseconds(20))
            .to_std()
            .unwrap_or(Duration::ZERO)
            .clamp(AT_LEAST, every.max(AT_LEAST)),
        Ok(None) => every,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when the next mailing is due");
            every
        }
    }
}

/// How often the fan-outs under way are looked at between ticks: a range of 10,000
/// recipients is made when the last one is half sent, so at the bench's rate this is well
/// before the queue runs dry. One indexed read of an empty table when nothing is under way.
const FAN_OUT_EVERY: Duration = Duration::from_millis(250);

/// Goes on with the fan-outs under way between ticks (see `continue_fan_outs`), each round's
/// failure or panic logged, until the process stops.
fn spawn_fan_outs(ctx: DeliveryContext) -> tokio::task::JoinHandle<()> {
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(FAN_OUT_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    let round = std::panic::AssertUnwindSafe(crate::continue_fan_outs(&ctx))
                        .catch_unwind()
                        .await;
                    match round {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => {
                            tracing::error!(error = %format!("{e:#}"), "fan-out failed");
                        }
                        Err(panic) => {
                            let reason = mailer::delivery::panic_message(panic.as_ref());
                            tracing::error!(%reason, "fan-out panicked");
                        }
                    }
                }
                () = stopped(&mut stopping) => break,
            }
        }
    })
}

/// One tick, its failure or panic logged: a panic must not end the ticker, or nothing
/// would be scheduled any more, with the process still up.
async fn tick_contained(ctx: &DeliveryContext) {
    match std::panic::AssertUnwindSafe(tick(ctx)).catch_unwind().await {
        Ok(Ok(())) => {
            if ctx.state.config.worker.metrics_bind.is_some()
                && let Ok(due) = mailer::delivery::hold::pending_count(&ctx.state.db).await
            {
                metrics::gauge!(mailer::monitoring::DELIVERIES_DUE).set(due as f64);
            }
        }
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "scheduler tick failed");
        }
        Err(panic) => {
            let reason = mailer::delivery::panic_message(panic.as_ref());
            tracing::error!(%reason, "scheduler tick panicked");
        }
    }
}

/// Waits, up to `timeout`, for the groups still being sent: those whose job was cancelled
/// by its timeout are not the monitor's to wait for.
async fn wait_for_groups(groups: &TaskTracker, timeout: Duration) {
    groups.close();
    if tokio::time::timeout(timeout, groups.wait()).await.is_err() {
        tracing::warn!(
            groups = groups.len(),
            "groups still sending at the shutdown timeout: their messages may go out again"
        );
    }
}

/// How the process ends: with an error when a worker died or every worker stopped unasked
/// (so a supervisor starts it again), else with the monitor's own result.
fn verdict(
    died: Option<String>,
    asked: bool,
    result: Result<(), MonitorError>,
) -> anyhow::Result<()> {
    if let Some(reason) = died {
        anyhow::bail!("worker {reason}; exiting so a supervisor can start mailer-worker again");
    }
    if !asked {
        anyhow::bail!(
            "every worker stopped unasked (is the queue's backend gone?); exiting so a \
             supervisor can start mailer-worker again"
        );
    }
    result.map_err(|e| anyhow::anyhow!("worker stopped with an error: {e}"))?;
    tracing::info!("worker stopped");
    Ok(())
}
