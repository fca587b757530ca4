//! Key-value store for the page cache and sessions: fred on Redis in production, an
//! in-process map with expiry on the embedded default. Both sit behind one type so callers
//! never branch on the mode.
//!
//! Besides plain keys it keeps *sections* (a Redis hash per section) for the public pages:
//! every entry of a section expires with it, one call clears a whole section, and an entry
//! computed from data older than the last clear is never stored (each section has an epoch,
//! bumped by every clear, checked when storing). `get_or_compute` recomputes a missing entry
//! once at a time: one request per key in this process, and on Redis one process at a time
//! (a short lock; the others wait for the value). And it keeps *counters* that are taken as
//! a batch (page views, flushed to the database).

mod circuit;
mod memory;
mod redis;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use fred::prelude::{
    Builder, ClientLike, Config as RedisConfig, Expiration, KeysInterface, ReconnectPolicy,
};
use secrecy::ExposeSecret;

use crate::config::Config;

pub use circuit::{Circuit, Unavailable};
pub use memory::MemoryStore;

/// Redis commands that take longer than this fail instead of holding a request.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub enum Cache {
    Memory(Arc<MemoryStore>),
    Redis {
        client: fred::clients::Client,
        prefix: Arc<str>,
        flights: Arc<Flights>,
        circuit: Arc<Circuit>,
    },
}

impl Cache {
    pub async fn from_config(config: &Config) -> anyhow::Result<Self> {
        let Some(url) = &config.redis_url else {
            return Ok(Cache::Memory(Arc::default()));
        };
        let client = redis_client(url.expose_secret()).await?;
        Ok(Cache::Redis {
            client,
            prefix: format!("{}:cache:", config.redis_prefix).into(),
            flights: Arc::default(),
            circuit: Arc::default(),
        })
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis { .. } => "redis",
        }
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        match self {
            Cache::Memory(store) => {
                let mut map = store.lock();
                match map.get(key) {
                    Some((_, Some(expiry))) if *expiry <= Instant::now() => {
                        map.remove(key);
                        Ok(None)
                    }
                    Some((value, _)) => Ok(Some(value.clone())),
                    None => Ok(None),
                }
            }
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async { Ok(client.get(format!("{prefix}{key}")).await?) })
                    .await
            }
        }
    }

    /// Stores `value` under `key`, for `ttl` when given.
    pub async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async {
                    let expiration = ttl.map(|t| Expiration::PX(t.as_millis().max(1) as i64));
                    let () = client
                        .set(format!("{prefix}{key}"), value, expiration, None, false)
                        .await?;
                    Ok(())
                })
                .await
            }
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.lock().remove(key);
                Ok(())
            }
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async {
                    let _: i64 = client.del(format!("{prefix}{key}")).await?;
                    Ok(())
                })
                .await
            }
        }
    }

    /// Adds one to the counter at `key` and returns the new value. The counter expires
    /// `window` after its first increment (a fixed window, as rate limits want).
    pub async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<i64> {
        self.add(key, 1, window).await
    }

    /// Adds `by` (which may be negative) to the counter at `key`, as one atomic step, and
    /// returns the new value. A negative `by` on a counter whose window has ended does
    /// nothing (and returns 0).
    pub async fn add(&self, key: &str, by: i64, window: Duration) -> anyhow::Result<i64> {
        match self {
            Cache::Memory(store) => Ok(store.add(key, by, window)),
            Cache::Redis { client, prefix, .. } => {
                self.guarded(redis::add_window(
                    client,
                    format!("{prefix}{key}"),
                    by,
                    window,
                ))
                .await
            }
        }
    }

    /// Is the store answering?
    pub async fn ping(&self) -> bool {
        match self {
            Cache::Memory(_) => true,
            Cache::Redis { client, .. } => client.ping::<String>(None).await.is_ok(),
        }
    }
}

/// Whether a response came from the cache (the `X-Cache` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
}

impl Lookup {
    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
        }
    }
}

/// A recomputed section entry and how long it may be served.
pub struct Computed {
    pub value: String,
    pub ttl: Duration,
}

/// This process's recomputations in flight: one lock per key, dropped when unused.
#[derive(Default)]
pub struct Flights {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Flights {
    fn lock_for(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= 1024 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key, Arc::downgrade(&lock));
        lock
    }
}

/// Counts taken from a counter group, to be applied and then finished.
pub struct CounterBatch {
    pub group: String,
    pub counts: Vec<(String, i64)>,
    held: Option<redis::Held>,
}

impl Cache {
    /// Runs a Redis call through the circuit, so a dead Redis costs no wait (the memory
    /// store has no circuit).
    async fn guarded<T>(&self, call: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        match self {
            Cache::Redis {
                client, circuit, ..
            // Boxed: the Redis futures are large, and nesting them in every caller's future
            // overflowed a test thread's stack in debug builds.
            } => circuit.run(client, Box::pin(call)).await,
            Cache::Memory(_) => call.await,
        }
    }

    fn flights(&self) -> &Flights {
        match self {
            Cache::Memory(store) => &store.flights,
            Cache::Redis { flights, .. } => flights,
        }
    }

    /// The entry `field` of `section`. In process memory the value is shared, not copied.
    pub async fn section_get(
        &self,
        section: &str,
        field: &str,
    ) -> anyhow::Result<Option<Arc<str>>> {
        match self {
            Cache::Memory(store) => Ok(store.section_get(section, field)),
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async {
                    Ok(redis::section_get(client, prefix, section, field)
                        .await?
                        .map(Arc::from))
                })
                .await
            }
        }
    }

    async fn section_epoch(&self, section: &str) -> anyhow::Result<u64> {
        match self {
            Cache::Memory(store) => Ok(store.section_epoch(section)),
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async { redis::section_epoch(client, prefix, section).await })
                    .await
            }
        }
    }

    /// Stores `value` unless the section was cleared since `epoch` was read.
    async fn section_put(
        &self,
        section: &str,
        field: &str,
        value: &str,
        ttl: Duration,
        epoch: u64,
    ) -> anyhow::Result<bool> {
        match self {
            Cache::Memory(store) => Ok(store.section_put(section, field, value, ttl, epoch)),
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async {
                    redis::section_put(client, prefix, (section, field, value), ttl, epoch).await
                })
                .await
            }
        }
    }

    /// Drops every entry of `section`; entries being computed meanwhile are not stored.
    pub async fn section_clear(&self, section: &str) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.section_remove(section, None);
                Ok(())
            }
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async { redis::section_remove(client, prefix, section, None).await })
                    .await
            }
        }
    }

    /// Drops some entries of `section` (and, like a clear, refuses values computed before).
    pub async fn section_remove(&self, section: &str, fields: &[String]) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.section_remove(section, Some(fields));
                Ok(())
            }
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async {
                    redis::section_remove(client, prefix, section, Some(fields)).await
                })
                .await
            }
        }
    }

    /// The entry `field` of `section`, computed by `compute` when missing — by one caller at
    /// a time; the others wait and get its result. `compute` returning `None` stores nothing.
    /// When the store fails, the value is computed and served without it.
    pub async fn get_or_compute<F, Fut>(
        &self,
        section: &str,
        field: &str,
        compute: F,
    ) -> anyhow::Result<(Option<Arc<str>>, Lookup)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<Computed>>>,
    {
        let found = self.lookup_or_compute(section, field, compute).await;
        if let Ok((_, lookup)) = &found {
            metrics::counter!(crate::monitoring::CACHE_LOOKUPS, "result" => lookup.as_str())
                .increment(1);
        }
        found
    }

    async fn lookup_or_compute<F, Fut>(
        &self,
        section: &str,
        field: &str,
        compute: F,
    ) -> anyhow::Result<(Option<Arc<str>>, Lookup)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<Computed>>>,
    {
        match self.section_get(section, field).await {
            Ok(Some(value)) => return Ok((Some(value), Lookup::Hit)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), section, "page cache unavailable");
                return Ok((compute().await?.map(|c| c.value.into()), Lookup::Miss));
            }
        }
        let flight = self.flights().lock_for(format!("{section}\n{field}"));
        let _turn = flight.lock().await;
        if let Ok(Some(value)) = self.section_get(section, field).await {
            return Ok((Some(value), Lookup::Hit));
        }
        let held = match self {
            Cache::Memory(_) => None,
            Cache::Redis { client, prefix, .. } => {
                match self
                    .guarded(redis::turn(client, prefix, section, field))
                    .await
                {
                    Ok(redis::Turn::Ready(value)) => return Ok((Some(value.into()), Lookup::Hit)),
                    Ok(redis::Turn::Compute(held)) => held,
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), section, "page cache lock failed");
                        None
                    }
                }
            }
        };
        // The epoch is read before the data: a clear after this point wins.
        let epoch = self.section_epoch(section).await;
        let computed = compute().await;
        if let (Ok(Some(c)), Ok(epoch)) = (&computed, epoch)
            && let Err(e) = self
                .section_put(section, field, &c.value, c.ttl, epoch)
                .await
        {
            tracing::warn!(error = %format!("{e:#}"), section, "page cache write failed");
        }
        if let (Some(held), Cache::Redis { client, .. }) = (held, self)
            && let Err(e) = self.guarded(redis::release(client, held)).await
        {
            tracing::warn!(error = %format!("{e:#}"), section, "page cache unlock failed");
        }
        Ok((computed?.map(|c| c.value.into()), Lookup::Miss))
    }

    /// Adds `by` to `member` of the counter `group`; returns its count not yet taken.
    pub async fn counter_add(&self, group: &str, member: &str, by: i64) -> anyhow::Result<i64> {
        match self {
            Cache::Memory(store) => Ok(store.counter_add(group, member, by)),
            Cache::Redis { client, prefix, .. } => {
                self.guarded(async { redis::counter_add(client, prefix, group, member, by).await })
                    .await
            }
        }
    }

    /// Takes every count of `group` (they restart from zero), or `None` when another
    /// process is taking them. Finish the batch with `finish_counters`.
    pub async fn take_counters(&self, group: &str) -> anyhow::Result<Option<CounterBatch>> {
        let (held, counts) = match self {
            Cache::Memory(store) => (None, store.take_counters(group).into_iter().collect()),
            Cache::Redis { client, prefix, .. } => {
                match self
                    .guarded(redis::take_counters(client, prefix, group))
                    .await?
                {
                    Some((held, counts)) => (Some(held), counts),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(CounterBatch {
            group: group.to_owned(),
            counts,
            held,
        }))
    }

    /// `applied`: the counts are recorded elsewhere and go; otherwise they are kept (and
    /// taken again by the next `take_counters`).
    pub async fn finish_counters(&self, batch: CounterBatch, applied: bool) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                if !applied {
                    store.restore_counters(&batch.group, &batch.counts);
                }
                Ok(())
            }
            Cache::Redis { client, prefix, .. } => match batch.held {
                Some(held) => {
                    self.guarded(redis::finish_counters(
                        client,
                        prefix,
                        &batch.group,
                        held,
                        applied,
                    ))
                    .await
                }
                None => Ok(()),
            },
        }
    }
}

/// A connected fred client with bounded command time and reconnects in the background.
pub async fn redis_client(url: &str) -> anyhow::Result<fred::clients::Client> {
    let config = RedisConfig::from_url(url).map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let client = Builder::from_config(config)
        .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(5);
            c.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
        .build()?;
    client
        .init()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach REDIS_URL: {e}"))?;
    Ok(client)
}
