//! A circuit in front of Redis: a cache that stopped answering costs one failed command,
//! not one timeout per call. After a failure every call fails at once for a while; then
//! one call (the probe) tries again while the others keep failing fast, and its success
//! closes the circuit. A client that knows it is disconnected fails at once too.
//!
//! Callers treat a failure as a cache miss (pages are computed from the database) or as a
//! service outage (sessions): either way the request no longer waits for Redis.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fred::clients::Client;
use fred::prelude::ClientLike;

/// How long calls fail at once after Redis failed.
pub const OPEN_FOR: Duration = Duration::from_secs(3);

/// Redis is skipped: the circuit is open or the client is reconnecting.
#[derive(Debug, thiserror::Error)]
#[error("the Redis cache is unavailable (skipped until it answers again)")]
pub struct Unavailable;

pub struct Circuit {
    started: Instant,
    /// Calls fail at once until this many milliseconds after `started`; 0 = closed.
    open_until_ms: AtomicU64,
    /// Set when the outage was logged, cleared (with a log line) when Redis answers again.
    down: AtomicBool,
}

impl Default for Circuit {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            down: AtomicBool::new(false),
        }
    }
}

impl Circuit {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX / 2)
    }

    /// May a call go to Redis? Past the open period the first caller is the probe, and the
    /// circuit stays open for the others until its answer (or its own timeout).
    fn admit(&self, client: &Client, probe_for: Duration) -> bool {
        let until = self.open_until_ms.load(Ordering::Acquire);
        if until != 0 {
            let now = self.now_ms();
            if now < until {
                return false;
            }
            let probe_until = now.saturating_add(probe_for.as_millis() as u64);
            if self
                .open_until_ms
                .compare_exchange(until, probe_until, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return false;
            }
        }
        client.is_connected() || self.fail()
    }

    /// Records a failure: opens the circuit (logging the outage once). Returns `false`, the
    /// answer to "may this call go?".
    fn fail(&self) -> bool {
        let until = self.now_ms().saturating_add(OPEN_FOR.as_millis() as u64);
        self.open_until_ms.store(until.max(1), Ordering::Release);
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!(
                skip_secs = OPEN_FOR.as_secs_f64(),
                "Redis is not answering: the cache and sessions skip it until it does"
            );
        }
        false
    }

    /// Closes the circuit. Reads first: on the hot path (every command while Redis is up)
    /// this writes nothing, so the cores do not trade the cache line back and forth.
    fn succeed(&self) {
        if self.open_until_ms.load(Ordering::Acquire) != 0 {
            self.open_until_ms.store(0, Ordering::Release);
        }
        if self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("Redis answers again: the cache and sessions use it");
        }
    }

    /// Runs `call` on Redis unless the circuit is open; its outcome opens or closes it.
    pub async fn run<T>(
        &self,
        client: &Client,
        call: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        if !self.admit(client, super::COMMAND_TIMEOUT) {
            return Err(Unavailable.into());
        }
        match call.await {
            Ok(value) => {
                self.succeed();
                Ok(value)
            }
            Err(e) => {
                if is_outage(&e) {
                    self.fail();
                }
                Err(e)
            }
        }
    }
}

/// Does this error say Redis is unreachable or stalled (rather than, say, a script bug)?
fn is_outage(e: &anyhow::Error) -> bool {
    use fred::error::ErrorKind;
    e.chain().any(|cause| {
        cause.downcast_ref::<fred::error::Error>().is_some_and(|e| {
            matches!(
                e.kind(),
                ErrorKind::IO
                    | ErrorKind::Timeout
                    | ErrorKind::Canceled
                    | ErrorKind::Backpressure
                    | ErrorKind::Unknown
            )
        })
    })
}
