//! Throttles of the account pages, kept in the cache store (Redis in production, this
//! process's memory on the embedded default) as counters that expire with their window.
//!
//! Sign-in failures are counted per (e-mail, client address) pair, per e-mail, and per
//! client address. A pair past its limit is refused, so an attacker locks out only
//! themselves; an e-mail failed from many places is slowed down — every try for it waits
//! before the password is checked — but never refused, so its owner still gets in; a client
//! address is refused only past a limit meant to be high enough for an office behind one
//! NAT address. IPv6 clients are counted by their /64 network, which one subscriber holds.
//!
//! Account mail (password links, confirmation links, registration notices) goes to an
//! address at most once per interval, however many requests ask for it.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::Ipv6Net;

use super::tokens::fingerprint;
use crate::state::AppState;

/// What a sign-in attempt may do before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Wait this long first: the e-mail is being tried from many places.
    Slow(Duration),
    /// Too many failures from this client (for this e-mail, or at all).
    Refused,
}

/// The counters of one sign-in attempt.
pub struct SignIn {
    pair: String,
    email: String,
    client: String,
}

impl SignIn {
    /// `email` normalised; `client` as [`crate::web::client_ip::client_ip`] found it.
    pub fn new(email: &str, client: Option<IpAddr>) -> Self {
        let email = fingerprint(email);
        let client = client.map_or_else(|| "unknown".to_owned(), client_key);
        Self {
            pair: format!("sign-in:pair:{email}:{client}"),
            email: format!("sign-in:email:{email}"),
            client: format!("sign-in:ip:{client}"),
        }
    }

    /// Counts this attempt against every limit before its password is checked (so that a
    /// burst of tries at once cannot all pass before the first failure is counted), and
    /// says what it may do.
    pub async fn admit(&self, state: &AppState) -> Gate {
        let limits = &state.config.throttle;
        if add(state, &self.pair, 1).await > i64::from(limits.failures_per_pair) {
            return Gate::Refused;
        }
        if add(state, &self.client, 1).await > i64::from(limits.failures_per_ip) {
            // Refused before its password was looked at: no try of this pair.
            add(state, &self.pair, -1).await;
            return Gate::Refused;
        }
        if add(state, &self.email, 1).await > i64::from(limits.failures_per_address) {
            return Gate::Slow(limits.slowdown());
        }
        Gate::Open
    }

    /// The password was right: this attempt was no failure, and the client's earlier
    /// typos for this e-mail no longer count.
    pub async fn succeeded(&self, state: &AppState) {
        self.clear(state).await;
        add(state, &self.client, -1).await;
        add(state, &self.email, -1).await;
    }

    /// Forgets this pair's failures (a new password was set from this client).
    pub async fn clear(&self, state: &AppState) {
        if let Err(e) = state.cache.delete(&self.pair).await {
            tracing::warn!(error = %e, "cannot clear the sign-in throttle");
        }
    }
}

/// Adds `by` to a counter of the sign-in window. When the store cannot answer the attempt
/// goes ahead (0): an outage of Redis must not lock everyone out.
async fn add(state: &AppState, key: &str, by: i64) -> i64 {
    match state
        .cache
        .add(key, by, state.config.throttle.window())
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count a sign-in attempt");
            0
        }
    }
}

/// An IPv4 address as it is; an IPv6 address by its /64 network.
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => Ipv6Net::new_assert(v6, 64).trunc().to_string(),
    }
}

/// Whether an account mail may go to `email` now (and if so, it counts as sent). When the
/// store cannot answer, the mail goes: a lost link is worse than a second one.
pub async fn may_mail(state: &AppState, email: &str) -> bool {
    let key = format!("account-mail:{}", fingerprint(email));
    let interval = state.config.throttle.account_mail_interval();
    match state.cache.incr(&key, interval).await {
        Ok(sent) => sent == 1,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the account-mail limit; mailing anyway");
            true
        }
    }
}

/// How long a refusal lasts at most, as a number and its unit: seconds under a minute,
/// else minutes (rounded up).
pub fn wait_parts(window: Duration) -> (u64, &'static str) {
    let secs = window.as_secs();
    if secs < 60 {
        (secs, "seconds")
    } else {
        (secs.div_ceil(60), "minutes")
    }
}

/// "15 minutes", "1 minute", "30 seconds": how long a refusal lasts at most.
pub fn wait_text(window: Duration) -> String {
    match wait_parts(window) {
        (1, "minutes") => "1 minute".to_owned(),
        (n, unit) => format!("{n} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn waits_are_said_in_words() {
        assert_eq!(wait_text(Duration::from_secs(900)), "15 minutes");
        assert_eq!(wait_text(Duration::from_secs(61)), "2 minutes");
        assert_eq!(wait_text(Duration::from_secs(60)), "1 minute");
        assert_eq!(wait_text(Duration::from_secs(30)), "30 seconds");
    }
}
