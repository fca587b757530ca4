//! Key-value store for the page cache and sessions: fred on Redis in production, an
//! in-process map with expiry on the embedded default. Both sit behind one type so callers
//! never branch on the mode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::prelude::{
    Builder, ClientLike, Config as RedisConfig, Expiration, KeysInterface, ReconnectPolicy,
};
use secrecy::ExposeSecret;

use crate::config::Config;

/// Redis commands that take longer than this fail instead of holding a request.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub enum Cache {
    Memory(Arc<MemoryStore>),
    Redis {
        client: fred::clients::Client,
        prefix: Arc<str>,
    },
}

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, (String, Option<Instant>)>>,
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
            Cache::Redis { client, prefix } => Ok(client.get(format!("{prefix}{key}")).await?),
        }
    }

    /// Stores `value` under `key`, for `ttl` when given.
    pub async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                let expiry = ttl.map(|t| Instant::now() + t);
                store
                    .lock()
                    .insert(key.to_owned(), (value.to_owned(), expiry));
                Ok(())
            }
            Cache::Redis { client, prefix } => {
                let expiration = ttl.map(|t| Expiration::PX(t.as_millis().max(1) as i64));
                let () = client
                    .set(format!("{prefix}{key}"), value, expiration, None, false)
                    .await?;
                Ok(())
            }
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.lock().remove(key);
                Ok(())
            }
            Cache::Redis { client, prefix } => {
                let _: i64 = client.del(format!("{prefix}{key}")).await?;
                Ok(())
            }
        }
    }

    /// Adds one to the counter at `key` and returns the new value. The counter expires
    /// `window` after its first increment (a fixed window, as rate limits want).
    pub async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<i64> {
        match self {
            Cache::Memory(store) => {
                let mut map = store.lock();
                let now = Instant::now();
                let entry = map
                    .entry(key.to_owned())
                    .or_insert_with(|| ("0".to_owned(), Some(now + window)));
                if entry.1.is_some_and(|expiry| expiry <= now) {
                    *entry = ("0".to_owned(), Some(now + window));
                }
                let value = entry.0.parse::<i64>().unwrap_or(0) + 1;
                entry.0 = value.to_string();
                Ok(value)
            }
            Cache::Redis { client, prefix } => {
                let key = format!("{prefix}{key}");
                let value: i64 = client.incr(&key).await?;
                if value == 1 {
                    let _: bool = client
                        .pexpire(&key, window.as_millis().max(1) as i64, None)
                        .await?;
                }
                Ok(value)
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

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Option<Instant>)>> {
        // A panic while holding the lock leaves a usable map behind: recover it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
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
