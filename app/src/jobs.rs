//! Background job payloads and the queue they go through: apalis-sqlite in the same file
//! as the data on the embedded default, apalis-redis when `REDIS_URL` is set. The web
//! server only pushes; `mailer-worker` runs them.

use std::sync::LazyLock;

use apalis::prelude::TaskSink;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::config::Config;
pub use crate::delivery::send::DeliveryTask;

/// An e-mail to send (account mails: verification, password reset…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailJob {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// apalis 1.0 can miss a poll wake-up and then waits for the next heartbeat (30 s by
/// default; apalis-sqlite#58): a short heartbeat bounds that stall, and also brings the jobs
/// of a dead worker back sooner.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// One apalis storage for jobs of type `T`, on whichever backend the config chose.
pub enum Queue<T> {
    Sqlite(SqliteStorage<T>),
    Redis(RedisStorage<T>),
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        match self {
            Queue::Sqlite(s) => Queue::Sqlite(s.clone()),
            Queue::Redis(s) => Queue::Redis(s.clone()),
        }
    }
}

impl<T> Queue<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static,
{
    pub async fn push(&self, job: T) -> anyhow::Result<()> {
        match self.clone() {
            Queue::Sqlite(mut s) => s.push(job).await.map_err(|e| anyhow::anyhow!("{e}"))?,
            Queue::Redis(mut s) => s.push(job).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        }
        Ok(())
    }

    /// Pushes many jobs in few round trips.
    pub async fn push_many(&self, jobs: Vec<T>) -> anyhow::Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        match self.clone() {
            Queue::Sqlite(mut s) => s
                .push_bulk(jobs)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            Queue::Redis(mut s) => s
                .push_bulk(jobs)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        }
        Ok(())
    }

    /// Pushes `job` to run no sooner than `delay` from now (whole seconds, rounded up).
    pub async fn push_after(&self, job: T, delay: std::time::Duration) -> anyhow::Result<()> {
        use apalis::prelude::TaskBuilder;
        let delay = std::time::Duration::from_secs(delay.as_secs_f64().ceil() as u64);
        let task = TaskBuilder::new(job).run_after(delay).build();
        match self.clone() {
            Queue::Sqlite(mut s) => s
                .push_task(task)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            Queue::Redis(mut s) => s
                .push_task(task)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        }
        Ok(())
    }
}

/// The queue a job type goes through (apalis-sqlite's `job_type`, the middle of the Redis
/// keys).
pub trait QueueName {
    const QUEUE: &'static str;
}

impl QueueName for MailJob {
    const QUEUE: &'static str = "mail";
}

impl QueueName for DeliveryTask {
    const QUEUE: &'static str = "delivery";
}

impl<T> Queue<T>
where
    T: DeserializeOwned + QueueName,
{
    /// The jobs not finished yet: waiting, scheduled, or taken by a worker (alive, or dead
    /// and not yet given back to the queue).
    pub async fn unfinished(&self) -> anyhow::Result<Vec<T>> {
        let raw: Vec<Vec<u8>> = match self.clone() {
            Queue::Sqlite(s) => {
                sqlx::query_scalar(
                    "SELECT job FROM Jobs WHERE job_type = ?1 AND (status IN \
                     ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
                )
                .bind(T::QUEUE)
                .fetch_all(s.pool())
                .await?
            }
            Queue::Redis(mut s) => {
                let config = s.get_config().clone();
                UNFINISHED
                    .key(config.active_jobs_list())
                    .key(config.scheduled_jobs_set())
                    .key(config.workers_set())
                    .key(config.inflight_jobs_set())
                    .key(config.job_data_hash())
                    .invoke_async(s.get_connection())
                    .await?
            }
        };
        // A payload this version cannot read (written by another version during a deploy,
        // or damaged) names no delivery we know: skipped, so it cannot stop every sweep.
        Ok(raw
            .iter()
            .filter_map(|job| match serde_json::from_slice(job) {
                Ok(job) => Some(job),
                Err(e) => {
                    tracing::warn!(queue = T::QUEUE, error = %e, "a queued job's payload cannot be read; the sweep ignores it");
                    None
                }
            })
            .collect())
    }

    /// Removes what finished jobs leave in the queue: on Redis their ids in the done and
    /// dead sets, their payloads and metadata; on SQLite their rows. Returns how many.
    pub async fn forget_finished(&self) -> anyhow::Result<u64> {
        match self.clone() {
            Queue::Sqlite(s) => {
                let done = sqlx::query(
                    "DELETE FROM Jobs WHERE job_type = ?1 AND (status IN ('Done', 'Killed') \
                     OR (status = 'Failed' AND attempts >= max_attempts))",
                )
                .bind(T::QUEUE)
                .execute(s.pool())
                .await?;
                Ok(done.rows_affected())
            }
            Queue::Redis(mut s) => {
                let config = s.get_config().clone();
                let mut forgotten = 0;
                // A bounded bite per call, so a backlog of finished jobs does not hold
                // Redis for long; the rest goes on the next calls.
                loop {
                    let n: u64 = FORGET_FINISHED
                        .key(config.done_jobs_set())
                        .key(config.dead_jobs_set())
                        .key(config.job_data_hash())
                        .key(config.job_meta_hash())
                        .arg(FORGET_BITE)
                        .invoke_async(s.get_connection())
                        .await?;
                    forgotten += n;
                    if n < FORGET_BITE {
                        return Ok(forgotten);
                    }
                }
            }
        }
    }
}

/// Finished jobs forgotten per script call, from each of the done and dead sets.
const FORGET_BITE: u64 = 1_000;

/// The payloads of a Redis queue's unfinished jobs: waiting (active list), scheduled, and
/// in the in-flight set of every worker it knows.
static UNFINISHED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do table.insert(ids, id) end
for _, worker in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[4] .. ':' .. worker)) do
    table.insert(ids, id)
  end
end
local jobs = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[5], id)
  if job then table.insert(jobs, job) end
end
return jobs
",
    )
});

/// Takes up to ARGV[1] ids from each of the done and dead sets and deletes their payload
/// and metadata (what apalis-redis's own vacuum does, without reading every payload).
static FORGET_FINISHED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local forgotten = 0
for s = 1, 2 do
  for _, id in ipairs(redis.call('SPOP', KEYS[s], ARGV[1])) do
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[4] .. ':result', id)
    redis.call('DEL', KEYS[4] .. ':' .. id)
    forgotten = forgotten + 1
  end
end
return forgotten
",
    )
});

/// Whether the Redis server of `REDIS_URL` answers a PING within a few seconds (true
/// without one). One connection, closed after.
pub async fn redis_answers(config: &Config) -> bool {
    let Some(url) = &config.redis_url else {
        return true;
    };
    let ping = async {
        let client = redis::Client::open(url.expose_secret()).ok()?;
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(3), ping).await,
        Ok(Some(_))
    )
}

/// Every queue the application uses.
#[derive(Clone)]
pub struct Queues {
    pub mail: Queue<MailJob>,
    pub delivery: Queue<DeliveryTask>,
}

/// Where the queues live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    Sqlite,
    Redis,
}

impl Queues {
    /// Opens the queues. On SQLite they share the application's pool (and file), and
    /// apalis creates its own tables beside ours.
    pub async fn connect(config: &Config, db: &DatabaseConnection) -> anyhow::Result<Self> {
        // One fetch per poll brings at most this many jobs: at apalis's default of 10 a
        // worker polling every 50 ms could never run more than 200 jobs a second.
        let batch = config.worker.concurrency.max(10);
        match &config.redis_url {
            Some(url) => {
                let conn = apalis_redis::connect(url.expose_secret())
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("cannot reach REDIS_URL for the job queue: {e}")
                    })?;
                let named = |name: &str| {
                    apalis_redis::Config::default()
                        .queue(format!("{}:queue:{name}", config.redis_prefix))
                        .heartbeat_interval(HEARTBEAT)
                        .batch_size(batch)
                        // apalis-core 1.0 acknowledges a finished job only where results
                        // are persisted (its `TaskPersistLayer` acks iff `persist_results`):
                        // without it every finished job stayed in its worker's in-flight set
                        // with status Running, and all of them ran again once that worker
                        // was declared dead. What an acknowledged job leaves behind goes
                        // with `forget_finished`.
                        .persist_results(true)
                };
                Ok(Queues {
                    mail: Queue::Redis(
                        RedisStorage::new(conn.clone()).with_config(named(MailJob::QUEUE)),
                    ),
                    delivery: Queue::Redis(
                        RedisStorage::new(conn).with_config(named(DeliveryTask::QUEUE)),
                    ),
                })
            }
            None => {
                let crate::config::DatabaseKind::Sqlite = config.database_kind()? else {
                    anyhow::bail!(
                        "REDIS_URL is required for the job queue when DATABASE_URL points at PostgreSQL"
                    );
                };
                let pool = db.get_sqlite_connection_pool();
                SqliteStorage::setup(pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot prepare the SQLite job queue: {e}"))?;
                let named = |name: &str| {
                    apalis_sqlite::Config::default()
                        .queue(name)
                        .heartbeat_interval(HEARTBEAT)
                        .batch_size(batch)
                };
                Ok(Queues {
                    mail: Queue::Sqlite(
                        SqliteStorage::new(pool).with_config(named(MailJob::QUEUE)),
                    ),
                    delivery: Queue::Sqlite(
                        SqliteStorage::new(pool).with_config(named(DeliveryTask::QUEUE)),
                    ),
                })
            }
        }
    }

    pub fn mode(&self) -> QueueMode {
        match self.mail {
            Queue::Sqlite(_) => QueueMode::Sqlite,
            Queue::Redis(_) => QueueMode::Redis,
        }
    }
}
