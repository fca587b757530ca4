//! Background job payloads and the queue they go through: apalis-sqlite in the same file
//! as the data on the embedded default, apalis-redis when `REDIS_URL` is set. The web
//! server only pushes; `mailer-worker` runs them.

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
                        // Our own attempt log is the record; apalis's copy of every result
                        // would only cost a write per job.
                        .persist_results(false)
                };
                Ok(Queues {
                    mail: Queue::Redis(RedisStorage::new(conn.clone()).with_config(named("mail"))),
                    delivery: Queue::Redis(RedisStorage::new(conn).with_config(named("delivery"))),
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
                    mail: Queue::Sqlite(SqliteStorage::new(pool).with_config(named("mail"))),
                    delivery: Queue::Sqlite(
                        SqliteStorage::new(pool).with_config(named("delivery")),
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
