//! What stands between a delivery and the SMTP server: a circuit breaker and a send rate.
//!
//! The breaker counts consecutive failures that say the server is unwell
//! ([`SendError::Transient`]: refused or dropped connections, timeouts, 421, garbage, a
//! failed greeting, EHLO or MAIL FROM). After `breaker_threshold` of them it opens:
//! deliveries wait without being claimed, so a long outage does not burn their tries. After
//! a cooldown one probe goes through; its success closes the breaker, its failure doubles
//! the cooldown (up to a ceiling of a few seconds by default, so sending resumes soon after
//! the server is back). Any reply from the server — a 5xx, or a 4xx to one recipient
//! ([`SendError::Deferred`]: greylisting) — proves it is up: a greylisting server must not
//! pause everyone, its recipients retry on their own backoff. State is per worker process.
//!
//! The rate limit spaces sends `1 / messages_per_second` apart in this process.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::transport::{Reply, SendError};
use crate::config::WorkerConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        cooldown: Duration,
    },
    /// One probe is out; everyone else waits for its answer.
    HalfOpen {
        cooldown: Duration,
    },
}

/// The breaker's state as the outside sees it (health checks, tests, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone)]
pub struct GateConfig {
    /// Consecutive transient failures that open the breaker (0 = never).
    pub threshold: u32,
    pub cooldown: Duration,
    pub max_cooldown: Duration,
    /// Sends per second in this process (None = unlimited).
    pub rate: Option<f64>,
}

impl GateConfig {
    pub fn from_config(config: &WorkerConfig) -> Self {
        Self {
            threshold: config.breaker_threshold,
            cooldown: Duration::from_millis(config.breaker_cooldown_ms.max(1)),
            max_cooldown: Duration::from_secs(config.breaker_cooldown_max_secs.max(1)),
            rate: (config.messages_per_second > 0.0).then_some(config.messages_per_second),
        }
    }
}

struct Inner {
    config: GateConfig,
    state: Mutex<State>,
    /// The earliest instant the next send may start (rate limit).
    next_slot: tokio::sync::Mutex<Instant>,
}

/// Shared by every delivery of a worker process (cheap to clone).
#[derive(Clone)]
pub struct SendGate(Arc<Inner>);

/// May this delivery go now?
#[derive(Debug)]
pub enum Admission {
    Go(Permit),
    /// The breaker is open: come back after this long. Nothing was claimed or counted.
    Paused(Duration),
}

/// Leave to send one message; report its result with [`Permit::record`]. A probe permit
/// dropped without a result (the job was cancelled, or its row was taken by another
/// worker) lets the next delivery probe instead.
#[derive(Debug)]
pub struct Permit {
    gate: Option<SendGate>,
    probe: bool,
}

impl std::fmt::Debug for SendGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGate")
            .field("state", &self.state())
            .finish()
    }
}

impl SendGate {
    pub fn new(config: GateConfig) -> Self {
        Self(Arc::new(Inner {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
            next_slot: tokio::sync::Mutex::new(Instant::now()),
        }))
    }

    pub fn from_config(config: &WorkerConfig) -> Self {
        Self::new(GateConfig::from_config(config))
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long sending stays paused, if it is: the breaker is open and its cooldown has
    /// not run out, or its probe is still out. A batch asks this before claiming anything.
    pub fn paused_for(&self) -> Option<Duration> {
        pause_left(*self.lock(), Instant::now())
    }

    /// Asks the breaker, then waits for a send slot under the rate limit.
    pub async fn admit(&self) -> Admission {
        let probe = {
            let mut state = self.lock();
            if let Some(wait) = pause_left(*state, Instant::now()) {
                return Admission::Paused(wait);
            }
            // Closed, or open with its cooldown over: then this send is the probe.
            match *state {
                State::Open { cooldown, .. } => {
                    *state = State::HalfOpen { cooldown };
                    true
                }
                _ => false,
            }
        };
        let permit = Permit {
            gate: Some(self.clone()),
            probe,
        };
        self.wait_for_slot().await;
        Admission::Go(permit)
    }

    async fn wait_for_slot(&self) {
        let Some(rate) = self.0.config.rate else {
            return;
        };
        let spacing = Duration::from_secs_f64(1.0 / rate);
        let slot = {
            let mut next = self.0.next_slot.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + spacing;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    fn on_result(&self, probe: bool, result: &Result<Reply, SendError>) {
        let config = &self.0.config;
        let mut state = self.lock();
        let server_answered = match result {
            Ok(_) | Err(SendError::Permanent { .. } | SendError::Deferred { .. }) => true,
            Err(SendError::Transient { .. }) => false,
        };
        if server_answered {
            if !matches!(*state, State::Closed { .. }) {
                tracing::info!("SMTP server answers again: sending resumes");
                metrics::gauge!(crate::monitoring::BREAKER_OPEN).set(0.0);
            }
            *state = State::Closed { failures: 0 };
            return;
        }
        let error = result.as_ref().err().map(ToString::to_string);
        match *state {
            State::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if config.threshold > 0 && failures >= config.threshold {
                    tracing::warn!(
                        failures,
                        pause_ms = config.cooldown.as_millis() as u64,
                        error,
                        "SMTP server keeps failing: sending paused"
                    );
                    metrics::gauge!(crate::monitoring::BREAKER_OPEN).set(1.0);
                    *state = State::Open {
                        until: Instant::now() + config.cooldown,
                        cooldown: config.cooldown,
                    };
                } else {
                    *state = State::Closed { failures };
                }
            }
            State::HalfOpen { cooldown } if probe => {
                let cooldown = (cooldown * 2).min(config.max_cooldown);
                tracing::warn!(
                    pause_ms = cooldown.as_millis() as u64,
                    error,
                    "SMTP server still failing: sending stays paused"
                );
                *state = State::Open {
                    until: Instant::now() + cooldown,
                    cooldown,
                };
            }
            // A send that started before the breaker opened: it changes nothing.
            State::HalfOpen { .. } | State::Open { .. } => {}
        }
    }

    /// A probe that ended without an answer: let the next delivery probe at once.
    fn release_probe(&self) {
        let mut state = self.lock();
        if let State::HalfOpen { cooldown } = *state {
            *state = State::Open {
                until: Instant::now(),
                cooldown,
            };
        }
    }
}

/// How long a delivery asking now must wait in `state`.
fn pause_left(state: State, now: Instant) -> Option<Duration> {
    match state {
        State::Closed { .. } => None,
        State::Open { until, .. } if now >= until => None,
        State::Open { until, .. } => Some(until - now),
        // The probe's answer comes within one send timeout; look again soon.
        State::HalfOpen { cooldown } => Some(cooldown.min(Duration::from_secs(1))),
    }
}

impl Permit {
    /// Tells the breaker how the send went. True when this was a probe that failed: the
    /// breaker's test of a server that is still down, which should not cost the delivery
    /// one of its tries.
    pub fn record(mut self, result: &Result<Reply, SendError>) -> bool {
        if let Some(gate) = self.gate.take() {
            gate.on_result(self.probe, result);
        }
        self.probe && matches!(result, Err(SendError::Transient { .. }))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take()
            && self.probe
        {
            gate.release_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(threshold: u32, rate: Option<f64>) -> SendGate {
        SendGate::new(GateConfig {
            threshold,
            cooldown: Duration::from_millis(40),
            max_cooldown: Duration::from_millis(160),
            rate,
        })
    }

    fn transient() -> Result<Reply, SendError> {
        Err(SendError::Transient {
            code: None,
            text: "connection refused".into(),
            reason: None,
        })
    }

    fn ok() -> Result<Reply, SendError> {
        Ok(Reply {
            code: 250,
            text: "OK".into(),
            reason: None,
        })
    }

    async fn go(gate: &SendGate) -> Permit {
        match gate.admit().await {
            Admission::Go(permit) => permit,
            Admission::Paused(wait) => panic!("paused for {wait:?}"),
        }
    }

    fn paused(admission: Admission) -> Duration {
        match admission {
            Admission::Paused(wait) => wait,
            Admission::Go(_) => panic!("expected a pause"),
        }
    }

    #[tokio::test]
    async fn opens_after_threshold_probes_and_closes_on_success() {
        let gate = gate(3, None);
        for _ in 0..2 {
            go(&gate).await.record(&transient());
        }
        assert_eq!(gate.state(), BreakerState::Closed);
        go(&gate).await.record(&transient());
        assert_eq!(gate.state(), BreakerState::Open);
        let wait = paused(gate.admit().await);
        assert!(wait <= Duration::from_millis(40) && wait > Duration::ZERO);

        tokio::time::sleep(Duration::from_millis(41)).await;
        let probe = go(&gate).await;
        assert_eq!(gate.state(), BreakerState::HalfOpen);
        // While the probe is out, nobody else goes.
        paused(gate.admit().await);
        probe.record(&ok());
        assert_eq!(gate.state(), BreakerState::Closed);
        go(&gate).await.record(&ok());
    }

    #[tokio::test]
    async fn a_failed_probe_doubles_the_pause_up_to_the_ceiling() {
        let gate = gate(1, None);
        assert!(
            !go(&gate).await.record(&transient()),
            "an ordinary failure counts as the delivery's try"
        );
        let mut pauses = Vec::new();
        for _ in 0..4 {
            let wait = paused(gate.admit().await);
            tokio::time::sleep(wait).await;
            assert!(
                go(&gate).await.record(&transient()),
                "a failed probe is the breaker's, not the delivery's"
            );
            pauses.push(paused(gate.admit().await));
        }
        // Each pause is read just after it began: a little under its length.
        for (pause, expected) in pauses.iter().zip([80, 160, 160, 160]) {
            let expected = Duration::from_millis(expected);
            assert!(
                *pause <= expected && *pause + Duration::from_millis(30) > expected,
                "{pauses:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_5xx_proves_the_server_is_up() {
        let gate = gate(2, None);
        go(&gate).await.record(&transient());
        go(&gate).await.record(&Err(SendError::Permanent {
            code: 550,
            text: "no such user".into(),
            reason: None,
        }));
        go(&gate).await.record(&transient());
        assert_eq!(gate.state(), BreakerState::Closed, "the count restarted");
    }

    #[tokio::test]
    async fn a_dropped_probe_lets_the_next_delivery_probe() {
        let gate = gate(1, None);
        go(&gate).await.record(&transient());
        tokio::time::sleep(Duration::from_millis(60)).await;
        drop(go(&gate).await);
        assert_eq!(gate.state(), BreakerState::Open);
        let probe = go(&gate).await;
        assert_eq!(gate.state(), BreakerState::HalfOpen);
        probe.record(&ok());
        assert_eq!(gate.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_deferred_recipient_proves_the_server_is_up() {
        let gate = gate(2, None);
        let greylisted = || {
            Err(SendError::Deferred {
                code: 451,
                text: "4.7.1 greylisted".into(),
            })
        };
        for _ in 0..10 {
            assert!(!go(&gate).await.record(&greylisted()));
        }
        assert_eq!(gate.state(), BreakerState::Closed, "never opens");
        go(&gate).await.record(&transient());
        go(&gate).await.record(&greylisted());
        go(&gate).await.record(&transient());
        assert_eq!(gate.state(), BreakerState::Closed, "the count restarted");
    }

    #[tokio::test]
    async fn threshold_zero_never_opens() {
        let gate = gate(0, None);
        for _ in 0..50 {
            go(&gate).await.record(&transient());
        }
        assert_eq!(gate.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn the_rate_limit_spaces_sends() {
        let gate = gate(3, Some(100.0));
        let start = Instant::now();
        for _ in 0..21 {
            go(&gate).await.record(&ok());
        }
        // 21 sends at 100/s: the first at once, the last 200 ms later.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(199) && elapsed < Duration::from_millis(400),
            "{elapsed:?}"
        );
    }
}
