//! What an app's job queue holds, read straight from its store — the Redis keys under the
//! app's prefix, or SQLite's `Jobs` table — without the app's own queue code.

use std::time::Duration;

use fred::prelude::ClientLike;
use fred::types::{ClusterHash, CustomCommand};
use mailer::jobs::DeliveryTask;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::TestApp;

/// Where the app's queue lives: its Redis (URL and key prefix), or its database.
fn redis_of(app: &TestApp) -> Option<(String, String)> {
    use secrecy::ExposeSecret;
    app.config.redis_url.as_ref().map(|url| {
        (
            url.expose_secret().to_owned(),
            app.config.redis_prefix.clone(),
        )
    })
}

async fn client(url: &str) -> fred::clients::Client {
    let config = fred::prelude::Config::from_url(url).expect("redis url");
    let client = fred::prelude::Builder::from_config(config)
        .build()
        .expect("redis client");
    tokio::time::timeout(Duration::from_secs(3), client.init())
        .await
        .expect("redis answers")
        .expect("redis connects");
    client
}

async fn command<T: fred::types::FromValue>(
    client: &fred::clients::Client,
    name: &'static str,
    args: Vec<String>,
) -> T {
    client
        .custom(
            CustomCommand::new_static(name, ClusterHash::FirstKey, false),
            args,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What one Redis queue (`<prefix>:queue:<name>`) holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RedisQueue {
    /// Ids waiting in the active list.
    pub active: usize,
    pub scheduled: usize,
    /// Ids in every worker's in-flight set, dead workers' included.
    pub inflight: usize,
    pub done: usize,
    pub dead: usize,
    /// Payloads in the data hash (one per job the queue still knows).
    pub data: usize,
    /// Per-job metadata hashes.
    pub meta: usize,
}

/// Counts what the Redis queue `name` of the app holds.
pub async fn redis_queue_at(url: &str, prefix: &str, name: &str) -> RedisQueue {
    let client = client(url).await;
    let base = format!("{prefix}:queue:{name}");
    let keys = |pattern: String| command::<Vec<String>>(&client, "KEYS", vec![pattern]);
    let mut inflight = 0;
    for set in keys(format!("{base}:inflight:*")).await {
        inflight += command::<usize>(&client, "SCARD", vec![set]).await;
    }
    let counts = RedisQueue {
        active: command(&client, "LLEN", vec![format!("{base}:active")]).await,
        scheduled: command(&client, "ZCARD", vec![format!("{base}:scheduled")]).await,
        inflight,
        done: command(&client, "SCARD", vec![format!("{base}:done")]).await,
        dead: command(&client, "SCARD", vec![format!("{base}:dead")]).await,
        data: command(&client, "HLEN", vec![format!("{base}:data")]).await,
        meta: keys(format!("{base}:meta:*")).await.len(),
    };
    let _ = client.quit().await;
    counts
}

/// Counts what the app's Redis queue `name` holds (`None` on the embedded default).
pub async fn redis_queue(app: &TestApp, name: &str) -> Option<RedisQueue> {
    let (url, prefix) = redis_of(app)?;
    Some(redis_queue_at(&url, &prefix, name).await)
}

/// A delivery job not finished yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    pub task: DeliveryTask,
    /// A worker took it (it runs, or waits in that worker's buffer); otherwise it waits in
    /// the queue, or is scheduled for later. A job that runs still names every delivery it
    /// came with, those it handed on (a retry, a job for later) too.
    pub taken: bool,
}

/// The delivery jobs not finished yet, decoded.
pub async fn unfinished_delivery_jobs(app: &TestApp) -> Vec<QueuedJob> {
    let payloads: Vec<(Vec<u8>, bool)> = match redis_of(app) {
        Some((url, prefix)) => {
            let client = client(&url).await;
            let base = format!("{prefix}:queue:delivery");
            let range = |key: &str| vec![format!("{base}:{key}"), "0".into(), "-1".into()];
            let mut ids: Vec<(String, bool)> = Vec::new();
            for id in command::<Vec<String>>(&client, "LRANGE", range("active")).await {
                ids.push((id, false));
            }
            for id in command::<Vec<String>>(&client, "ZRANGE", range("scheduled")).await {
                ids.push((id, false));
            }
            let sets: Vec<String> =
                command(&client, "KEYS", vec![format!("{base}:inflight:*")]).await;
            for set in sets {
                for id in command::<Vec<String>>(&client, "SMEMBERS", vec![set]).await {
                    ids.push((id, true));
                }
            }
            let mut payloads = Vec::new();
            for (id, taken) in ids {
                let job: Option<Vec<u8>> =
                    command(&client, "HGET", vec![format!("{base}:data"), id]).await;
                payloads.extend(job.map(|job| (job, taken)));
            }
            let _ = client.quit().await;
            payloads
        }
        None => {
            let rows = app
                .state
                .db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT job, status FROM Jobs WHERE job_type = 'delivery' \
                     AND status IN ('Pending', 'Queued', 'Running')",
                ))
                .await
                .expect("read the Jobs table");
            rows.iter()
                .map(|row| {
                    let job = row.try_get::<Vec<u8>>("", "job").expect("a job payload");
                    let status = row.try_get::<String>("", "status").expect("a status");
                    (job, status != "Pending")
                })
                .collect()
        }
    };
    payloads
        .iter()
        .map(|(job, taken)| QueuedJob {
            task: serde_json::from_slice(job).expect("a delivery job"),
            taken: *taken,
        })
        .collect()
}

/// The delivery ids of `jobs`, one entry per job that names it.
pub fn delivery_ids<'a>(jobs: impl IntoIterator<Item = &'a QueuedJob>) -> Vec<i64> {
    jobs.into_iter()
        .flat_map(|job| match &job.task {
            DeliveryTask::Deliver { delivery_id } => vec![*delivery_id],
            DeliveryTask::DeliverMany { delivery_ids } => delivery_ids.clone(),
            DeliveryTask::FanOut { .. } | DeliveryTask::SendNow { .. } => Vec::new(),
        })
        .collect()
}
