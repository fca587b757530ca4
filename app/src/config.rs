//! Typed, layered configuration: defaults → optional `mailer.toml` → environment.
//!
//! Environment names: `DATABASE_URL`, `REDIS_URL`, `SMTP_URL`, `SECRET_KEY`, and `MAILER_*`
//! for everything else (`MAILER_BIND`, nested keys with a double underscore:
//! `MAILER_WORKER__CONCURRENCY`). A bad value stops start-up with one line that names the
//! setting; secrets are `SecretString`s and never reach a log or an error message.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The settings that come straight from the environment, without the `MAILER_` prefix.
const RAW_ENV: [&str; 4] = ["DATABASE_URL", "REDIS_URL", "SMTP_URL", "SECRET_KEY"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: {setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the web server listens on (`--bind` / `MAILER_BIND`).
    pub bind: SocketAddr,
    /// Base URL used in links inside e-mails; defaults to `http://<bind>`.
    pub public_url: Option<String>,
    /// `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// When set, the job queue, page cache and sessions live in Redis.
    #[serde(serialize_with = "expose_opt")]
    pub redis_url: Option<SecretString>,
    /// Key prefix for everything this instance stores in Redis.
    pub redis_prefix: String,
    /// When set, mail goes out through this SMTP server; otherwise into `outbox_dir`.
    #[serde(serialize_with = "expose_opt")]
    pub smtp_url: Option<SecretString>,
    /// Signs sessions, CSRF tokens and e-mail links. Required outside the embedded default.
    #[serde(serialize_with = "expose_opt")]
    pub secret_key: Option<SecretString>,
    /// When set, `/metrics` answers Prometheus scrapes that carry
    /// `Authorization: Bearer <token>`; unset, `/metrics` is a 404.
    #[serde(serialize_with = "expose_opt")]
    pub metrics_token: Option<SecretString>,
    /// Folder for the SQLite file, the generated secret key, uploads and the outbox.
    pub data_dir: PathBuf,
    /// Where mail is written when there is no `SMTP_URL`; defaults to `<data_dir>/outbox`.
    pub outbox_dir: Option<PathBuf>,
    /// MiniJinja templates; defaults to `templates/` of this checkout.
    pub templates_dir: Option<PathBuf>,
    /// Reload templates on every render (development).
    pub templates_reload: bool,
    /// Mark cookies `Secure` (needs HTTPS in front of the server).
    pub secure_cookies: bool,
    /// The `From:` of every e-mail.
    pub mail_from: String,
    /// A postal address line at the foot of every mailing e-mail (and `sender.postal` in
    /// message templates); anti-spam laws such as CAN-SPAM ask bulk senders for one.
    pub mail_postal: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter used when `RUST_LOG` is not set.
    pub log_level: String,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// How long a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout_ms: u64,
    pub worker: WorkerConfig,
    pub pages: PagesConfig,
    pub throttle: ThrottleConfig,
    pub proxies: ProxiesConfig,
    pub bounces: BouncesConfig,
    /// DKIM signing of every outgoing e-mail (`MAILER_DKIM__*`, all three or none).
    pub dkim: crate::dkim::DkimSettings,
}

/// Limits on failed sign-ins and on account e-mails (`MAILER_THROTTLE__*`). An attacker
/// must not be able to lock an owner out: failures are refused per (e-mail, client address)
/// pair, while an e-mail failed from everywhere is only slowed down.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failures are counted in windows of this many seconds from the first one.
    pub window_secs: u64,
    /// Failed sign-ins for one e-mail from one client address before that pair is refused.
    pub failures_per_pair: u32,
    /// Failed sign-ins for one e-mail, from anywhere, before every try for it is slowed.
    pub failures_per_address: u32,
    /// How long each try for such an e-mail waits before the password is checked, in ms.
    pub slowdown_ms: u64,
    /// Failed sign-ins from one client address, for any e-mail, before it is refused.
    pub failures_per_ip: u32,
    /// Least time between two account e-mails (password links, confirmation links,
    /// registration notices) to one address, in seconds; requests meanwhile mail nothing.
    pub account_mail_interval_secs: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            failures_per_pair: 5,
            failures_per_address: 10,
            slowdown_ms: 2_000,
            failures_per_ip: 100,
            account_mail_interval_secs: 5 * 60,
        }
    }
}

impl ThrottleConfig {
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs)
    }
    pub fn slowdown(&self) -> Duration {
        Duration::from_millis(self.slowdown_ms)
    }
    pub fn account_mail_interval(&self) -> Duration {
        Duration::from_secs(self.account_mail_interval_secs)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let at_least_one = [
            ("MAILER_THROTTLE__WINDOW_SECS", self.window_secs),
            (
                "MAILER_THROTTLE__FAILURES_PER_PAIR",
                self.failures_per_pair.into(),
            ),
            (
                "MAILER_THROTTLE__FAILURES_PER_ADDRESS",
                self.failures_per_address.into(),
            ),
            (
                "MAILER_THROTTLE__FAILURES_PER_IP",
                self.failures_per_ip.into(),
            ),
            (
                "MAILER_THROTTLE__ACCOUNT_MAIL_INTERVAL_SECS",
                self.account_mail_interval_secs,
            ),
        ];
        if let Some((setting, _)) = at_least_one.into_iter().find(|(_, v)| *v == 0) {
            return Err(invalid(setting, "must be at least 1"));
        }
        // A slowed sign-in holds its request: keep it well under any proxy's timeout.
        if self.slowdown_ms > 10_000 {
            return Err(invalid(
                "MAILER_THROTTLE__SLOWDOWN_MS",
                "must be at most 10000",
            ));
        }
        Ok(())
    }
}

/// Reverse proxies in front of the server (`MAILER_PROXIES__*`). Only a request whose peer
/// is one of them has its forwarding header read; by default none is, and the client is
/// the peer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxiesConfig {
    /// Addresses or CIDR ranges of the trusted proxies: a list, or one string separated by
    /// commas (`10.0.0.1, 10.1.0.0/16`).
    #[serde(with = "ip_ranges")]
    pub trusted: Vec<IpNet>,
    /// The header they set: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub header: ForwardedHeader,
}

impl ProxiesConfig {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

/// IP addresses and CIDR ranges, written as a list or as one comma-separated string (how
/// an environment variable holds them).
mod ip_ranges {
    use std::net::IpAddr;

    use ipnet::IpNet;
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(nets: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(nets.iter().map(ToString::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
        d.deserialize_any(Ranges)
    }

    pub(super) fn parse(item: &str) -> Result<IpNet, String> {
        item.parse::<IpNet>()
            .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| format!("{item:?} is not an IP address or a CIDR range"))
    }

    struct Ranges;

    impl<'de> Visitor<'de> for Ranges {
        type Value = Vec<IpNet>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("IP addresses or CIDR ranges, as a list or separated by commas")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| parse(item).map_err(E::custom))
                .collect()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut nets = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                nets.push(parse(item.trim()).map_err(de::Error::custom)?);
            }
            Ok(nets)
        }
    }
}

/// Bounces, complaints and unsubscribes by mail (`MAILER_BOUNCES__*`; see `bounces`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BouncesConfig {
    /// The inbound address: mailing e-mails go out with the envelope sender
    /// `<local>+<delivery>.<mac>@<domain>` (VERP), and `List-Unsubscribe` names
    /// `unsubscribe+<token>@<domain>`. Defaults to `bounces@` the domain of `mail_from`.
    pub address: Option<String>,
    /// Soft bounces (mailbox full, deferred to the end) of one address before it is
    /// suppressed as bounced.
    pub soft_limit: u32,
    /// Shared secret of `POST /bounces/inbound` (`Authorization: Bearer …`); the endpoint
    /// answers 404 without it.
    #[serde(serialize_with = "expose_opt")]
    pub secret: Option<SecretString>,
    /// The IMAP server holding the bounce mailbox; no processing without it.
    pub imap_host: Option<String>,
    /// Defaults to 993 with TLS, 143 without.
    pub imap_port: Option<u16>,
    /// Implicit TLS (`imaps`); off only for a server on the same host or in tests.
    pub imap_tls: bool,
    pub imap_user: String,
    #[serde(serialize_with = "expose_opt")]
    pub imap_password: Option<SecretString>,
    /// The folder read; handled mail goes to `<processed_folder>`, mail that could not be
    /// understood to `<unparsed_folder>`.
    pub imap_mailbox: String,
    pub processed_folder: String,
    pub unparsed_folder: String,
    /// How often the worker reads the mailbox, in seconds.
    pub poll_secs: u64,
}

impl Default for BouncesConfig {
    fn default() -> Self {
        Self {
            address: None,
            soft_limit: 3,
            secret: None,
            imap_host: None,
            imap_port: None,
            imap_tls: true,
            imap_user: String::new(),
            imap_password: None,
            imap_mailbox: "INBOX".into(),
            processed_folder: "Processed".into(),
            unparsed_folder: "Unparsed".into(),
            poll_secs: 60,
        }
    }
}

impl BouncesConfig {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_secs)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(address) = &self.address {
            address
                .parse::<lettre::Address>()
                .map_err(|e| invalid("MAILER_BOUNCES__ADDRESS", format!("not an address ({e})")))?;
        }
        if self.soft_limit == 0 || self.poll_secs == 0 {
            return Err(invalid(
                "MAILER_BOUNCES__SOFT_LIMIT / MAILER_BOUNCES__POLL_SECS",
                "must be at least 1",
            ));
        }
        if let Some(secret) = &self.secret
            && secret.expose_secret().len() < 16
        {
            return Err(invalid(
                "MAILER_BOUNCES__SECRET",
                "must be at least 16 characters",
            ));
        }
        if self.imap_host.is_some() && self.imap_user.is_empty() {
            return Err(invalid(
                "MAILER_BOUNCES__IMAP_USER",
                "is required with MAILER_BOUNCES__IMAP_HOST",
            ));
        }
        Ok(())
    }
}

/// The cached public pages: home and blog (`MAILER_PAGES__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagesConfig {
    /// Longest time a cached page is served, in seconds. Changes made through the site
    /// clear it at once; this bounds what no invalidation reaches (another process's
    /// in-process cache on the embedded default).
    pub ttl_secs: u64,
    /// How often counted page views are written to the database, in seconds.
    pub view_flush_secs: u64,
}

impl Default for PagesConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 60,
            view_flush_secs: 10,
        }
    }
}

impl PagesConfig {
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }
    pub fn view_flush_interval(&self) -> Duration {
        Duration::from_secs(self.view_flush_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Background job settings (`MAILER_WORKER__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs processed at once per worker process.
    pub concurrency: usize,
    /// How often an idle worker asks the queue for new jobs, in milliseconds.
    pub poll_interval_ms: u64,
    /// How often the scheduler looks for due mailings, in seconds.
    pub tick_interval_secs: u64,
    /// A job running longer than this is cancelled and retried, in seconds.
    pub job_timeout_secs: u64,
    /// Retries of a failed job before it is given up.
    pub retries: usize,
    /// First retry delay in milliseconds; doubles each time, with jitter.
    pub retry_backoff_ms: u64,
    /// Ceiling of the retry delay, in seconds.
    pub retry_backoff_max_secs: u64,
    /// Seconds to let in-flight jobs finish on SIGTERM before giving up on them.
    pub shutdown_timeout_secs: u64,
    /// SMTP connections each worker process keeps open at most.
    pub smtp_connections: usize,
    /// Seconds to connect to the SMTP server (greeting, STARTTLS and AUTH included).
    pub smtp_connect_timeout_secs: u64,
    /// Seconds one message may take, MAIL FROM to the server's reply after DATA.
    pub smtp_send_timeout_secs: u64,
    /// Consecutive transient SMTP failures that pause sending (0 = never pause).
    pub breaker_threshold: u32,
    /// First pause, in milliseconds; doubles while the server keeps failing.
    pub breaker_cooldown_ms: u64,
    /// Longest pause between two probes of a failing server, in seconds: sending resumes
    /// at most this long after the server is back.
    pub breaker_cooldown_max_secs: u64,
    /// Messages per second each worker process sends at most (0 = no limit).
    pub messages_per_second: f64,
    /// `host:port` where the worker serves its Prometheus `/metrics` (no token: keep it on
    /// a private address); unset, it serves none.
    pub metrics_bind: Option<SocketAddr>,
    /// Recipients per range of an occurrence's fan-out (the first range takes at most
    /// 2,000, so the first e-mails leave at once).
    pub fan_out_range: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 8,
            poll_interval_ms: 250,
            tick_interval_secs: 15,
            job_timeout_secs: 60,
            retries: 5,
            retry_backoff_ms: 1_000,
            retry_backoff_max_secs: 300,
            shutdown_timeout_secs: 30,
            smtp_connections: 4,
            smtp_connect_timeout_secs: 10,
            smtp_send_timeout_secs: 60,
            breaker_threshold: 5,
            breaker_cooldown_ms: 2_000,
            breaker_cooldown_max_secs: 5,
            messages_per_second: 0.0,
            metrics_bind: None,
            fan_out_range: 10_000,
        }
    }
}

impl WorkerConfig {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    pub fn job_timeout(&self) -> Duration {
        Duration::from_secs(self.job_timeout_secs)
    }
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// The wait before retry number `retry` (0 for the first): the configured first delay,
    /// doubled per retry, capped at the ceiling.
    pub fn retry_backoff(&self, retry: u32) -> Duration {
        let first = Duration::from_millis(self.retry_backoff_ms.max(1));
        let cap = Duration::from_secs(self.retry_backoff_max_secs.max(1));
        first.saturating_mul(2_u32.saturating_pow(retry)).min(cap)
    }

    /// Tries of one delivery before it fails for good: the first and every retry.
    pub fn max_tries(&self) -> i32 {
        i32::try_from(self.retries.saturating_add(1)).unwrap_or(i32::MAX)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            public_url: None,
            database_url: "sqlite://var/mailer.db".into(),
            redis_url: None,
            redis_prefix: "mailer".into(),
            smtp_url: None,
            secret_key: None,
            metrics_token: None,
            data_dir: PathBuf::from("var"),
            outbox_dir: None,
            templates_dir: None,
            templates_reload: false,
            secure_cookies: false,
            mail_from: "Mailer <noreply@localhost>".into(),
            mail_postal: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            shutdown_timeout_secs: 10,
            db_acquire_timeout_ms: 3000,
            worker: WorkerConfig::default(),
            pages: PagesConfig::default(),
            throttle: ThrottleConfig::default(),
            proxies: ProxiesConfig::default(),
            bounces: BouncesConfig::default(),
            dkim: crate::dkim::DkimSettings::default(),
        }
    }
}

/// One line naming the setting as the user wrote it (`MAILER_WORKER__CONCURRENCY`,
/// `DATABASE_URL`, or the key in `mailer.toml`) and what is wrong with it.
fn describe(error: figment::Error) -> String {
    let source = error.metadata.as_ref().map(|m| m.name.to_string());
    let mut path = error.path.clone();
    if let figment::error::Kind::UnknownField(field, _) = &error.kind
        && path.last() != Some(field)
    {
        path.push(field.clone());
    }
    let setting = match source.as_deref() {
        Some(name) if name.contains("MAILER_") => {
            format!("MAILER_{}", path.join("__").to_uppercase())
        }
        Some(name) if name.contains("environment") => path.join("__").to_uppercase(),
        Some(name) => {
            let file = error
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map(|s| format!(" {s}"))
                .unwrap_or_default();
            format!("{} in {name}{file}", path.join("."))
        }
        None => path.join("."),
    };
    format!("{setting}: {}", error.kind)
}

fn expose_opt<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    // Only used to seed figment with the defaults, which hold no secrets.
    v.as_ref()
        .map(|x| x.expose_secret().to_owned())
        .serialize(s)
}

/// Which database the URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl Config {
    /// Defaults, then `mailer.toml` (or `MAILER_CONFIG`) when present, then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("MAILER_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("mailer.toml"));
        Self::from_figment(Self::figment(&file))
    }

    pub fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(
                Env::prefixed("MAILER_")
                    .ignore(&["CONFIG", "SUPERUSER_PASSWORD"])
                    .split("__")
                    .map(|k| k.as_str().to_ascii_lowercase().into()),
            )
            .merge(Env::raw().only(&RAW_ENV).lowercase(true))
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            ConfigError::Parse(e.into_iter().next().map(describe).unwrap_or_default())
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database_kind()?;
        if let Some(url) = &self.redis_url {
            let parsed = url::Url::parse(url.expose_secret())
                .map_err(|e| invalid("REDIS_URL", format!("not a URL ({e})")))?;
            if !matches!(parsed.scheme(), "redis" | "rediss") {
                return Err(invalid(
                    "REDIS_URL",
                    "must start with redis:// or rediss://",
                ));
            }
        }
        if let Some(url) = &self.smtp_url {
            let parsed = url::Url::parse(url.expose_secret())
                .map_err(|e| invalid("SMTP_URL", format!("not a URL ({e})")))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(invalid("SMTP_URL", "must start with smtp:// or smtps://"));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid("SMTP_URL", "has no host"));
            }
        }
        if let Some(key) = &self.secret_key
            && key.expose_secret().len() < 32
        {
            return Err(invalid("SECRET_KEY", "must be at least 32 characters"));
        }
        if self.secret_key.is_none() && self.database_kind()? == DatabaseKind::Postgres {
            return Err(invalid(
                "SECRET_KEY",
                "is required when DATABASE_URL points at PostgreSQL",
            ));
        }
        if let Some(url) = &self.public_url {
            url::Url::parse(url)
                .map_err(|e| invalid("MAILER_PUBLIC_URL", format!("not a URL ({e})")))?;
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(char::is_whitespace) {
            return Err(invalid("MAILER_REDIS_PREFIX", "must be a non-empty word"));
        }
        self.mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| invalid("MAILER_MAIL_FROM", format!("not an address ({e})")))?;
        let w = &self.worker;
        if w.concurrency == 0 {
            return Err(invalid("MAILER_WORKER__CONCURRENCY", "must be at least 1"));
        }
        if w.poll_interval_ms == 0 {
            return Err(invalid(
                "MAILER_WORKER__POLL_INTERVAL_MS",
                "must be at least 1",
            ));
        }
        if w.tick_interval_secs == 0 {
            return Err(invalid(
                "MAILER_WORKER__TICK_INTERVAL_SECS",
                "must be at least 1",
            ));
        }
        if w.fan_out_range == 0 {
            return Err(invalid(
                "MAILER_WORKER__FAN_OUT_RANGE",
                "must be at least 1",
            ));
        }
        if w.smtp_connections == 0 {
            return Err(invalid(
                "MAILER_WORKER__SMTP_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if w.smtp_connect_timeout_secs == 0 || w.smtp_send_timeout_secs == 0 {
            return Err(invalid(
                "MAILER_WORKER__SMTP_CONNECT_TIMEOUT_SECS / MAILER_WORKER__SMTP_SEND_TIMEOUT_SECS",
                "must be at least 1",
            ));
        }
        if !(w.messages_per_second.is_finite() && w.messages_per_second >= 0.0) {
            return Err(invalid(
                "MAILER_WORKER__MESSAGES_PER_SECOND",
                "must be a number, 0 or more (0 = no limit)",
            ));
        }
        if w.breaker_cooldown_ms == 0 || w.breaker_cooldown_max_secs == 0 {
            return Err(invalid(
                "MAILER_WORKER__BREAKER_COOLDOWN_MS / MAILER_WORKER__BREAKER_COOLDOWN_MAX_SECS",
                "must be at least 1",
            ));
        }
        if self.pages.ttl_secs == 0 || self.pages.view_flush_secs == 0 {
            return Err(invalid(
                "MAILER_PAGES__TTL_SECS / MAILER_PAGES__VIEW_FLUSH_SECS",
                "must be at least 1",
            ));
        }
        if w.job_timeout_secs == 0 {
            return Err(invalid(
                "MAILER_WORKER__JOB_TIMEOUT_SECS",
                "must be at least 1",
            ));
        }
        self.dkim
            .check()
            .map_err(|(setting, reason)| invalid(setting, reason))?;
        self.throttle.validate()?;
        self.bounces.validate()
    }

    pub fn database_kind(&self) -> Result<DatabaseKind, ConfigError> {
        let url = &self.database_url;
        if url.starts_with("sqlite:") {
            Ok(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseKind::Postgres)
        } else {
            Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ))
        }
    }

    /// `mail_from` as a mailbox (checked at start-up, so this fails only on a bad config).
    pub fn sender(&self) -> anyhow::Result<lettre::message::Mailbox> {
        self.mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAILER_MAIL_FROM: {e}"))
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.outbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }

    pub fn templates_dir(&self) -> PathBuf {
        if let Some(dir) = &self.templates_dir {
            return dir.clone();
        }
        let local = PathBuf::from("templates");
        if local.is_dir() {
            local
        } else {
            // Running from elsewhere in a checkout (tests, `cargo run -p`): use the repo's folder.
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
        }
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    #[test]
    fn trusted_proxies_are_a_list_or_a_comma_separated_string() {
        for toml in [
            "[proxies]\ntrusted = \"10.0.0.1, 10.1.0.0/16,::1\"",
            "[proxies]\ntrusted = [\"10.0.0.1\", \"10.1.0.0/16\", \"::1\"]",
        ] {
            let proxies = from_toml(toml).expect(toml).proxies;
            let trusted: Vec<String> = proxies.trusted.iter().map(ToString::to_string).collect();
            assert_eq!(trusted, ["10.0.0.1/32", "10.1.0.0/16", "::1/128"], "{toml}");
            assert!(proxies.trusts("10.1.200.3".parse().unwrap()));
            assert!(proxies.trusts("::ffff:10.0.0.1".parse().unwrap()));
            assert!(!proxies.trusts("10.2.0.1".parse().unwrap()));
        }
        assert!(Config::default().proxies.trusted.is_empty());
    }

    #[test]
    fn a_bad_proxy_or_throttle_setting_is_named() {
        let cases = [
            (
                "[proxies]\ntrusted = \"10.0.0.1, proxy.local\"",
                "\"proxy.local\" is not an IP address",
            ),
            ("[proxies]\nheader = \"x-real-ip\"", "proxies.header"),
            (
                "[throttle]\nfailures_per_pair = 0",
                "MAILER_THROTTLE__FAILURES_PER_PAIR",
            ),
            (
                "[throttle]\nslowdown_ms = 60000",
                "MAILER_THROTTLE__SLOWDOWN_MS",
            ),
            (
                "[bounces]\naddress = \"not an address\"",
                "MAILER_BOUNCES__ADDRESS",
            ),
            ("[bounces]\nsoft_limit = 0", "MAILER_BOUNCES__SOFT_LIMIT"),
            ("[bounces]\nsecret = \"short\"", "MAILER_BOUNCES__SECRET"),
            (
                "[bounces]\nimap_host = \"imap.example.com\"",
                "MAILER_BOUNCES__IMAP_USER",
            ),
        ];
        for (toml, names) in cases {
            let error = from_toml(toml).expect_err(toml).to_string();
            assert!(error.contains(names), "{toml}: {error}");
        }
    }
}
