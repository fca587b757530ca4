//! The SMTP transport of the delivery engine: a small pool of lettre connections over our own
//! `TcpStream`s with `TCP_NODELAY`.
//!
//! Why not lettre's `AsyncSmtpTransport`: its stream leaves Nagle on, and the message body and
//! the final `.` go out as two writes, so every message waits ~40 ms for the server's delayed
//! ACK. Its `timeout` bounds only the TCP connect, and after an error it sends QUIT and waits
//! for the answer. Here every connection is ours (`set_nodelay(true)`), connection set-up is
//! bounded by [`SmtpConfig::connect_timeout`], each transaction (MAIL FROM … end of DATA) by
//! [`SmtpConfig::send_timeout`], and a connection is simply dropped after any error. Each
//! connection has a task of its own that takes messages from the pool's queue; where the
//! server offers PIPELINING, a waiting message rides along with the end of the one before
//! (see [`SmtpPool`]).
//!
//! Classification ([`SendError`]): only an explicit 5xx reply to MAIL FROM, RCPT TO, DATA or
//! the end of DATA is [`SendError::Permanent`]. A 4xx reply to RCPT TO or to the end of DATA
//! (greylisting, a full mailbox; not 421, which closes the session) is about this recipient
//! or message: [`SendError::Deferred`]. Everything else (other 4xx, refused/reset
//! connections, an early close, a reply that does not parse, our own timeouts, and also a 5xx
//! during connection set-up such as a 554 greeting or a 535 to AUTH, which is the server's or
//! our configuration's fault, not the message's) says the server or the way to it is unwell:
//! [`SendError::Transient`].
//!
//! URLs (`SMTP_URL`): `smtp://[user:pass@]host[:port][/hello-name][?tls=none|opportunistic|required]`.
//! Implicit TLS (`smtps://`, port 465) is not supported yet and is refused with a clear
//! configuration error: use `smtp://…?tls=required` (STARTTLS) instead.

use std::collections::VecDeque;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{anyhow, bail};
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

use crate::i18n::phrase;

/// Plain SMTP.
const SMTP_PORT: u16 = 25;
/// Message submission with STARTTLS; lettre's default when the URL asks for TLS.
const SUBMISSION_PORT: u16 = 587;
/// A connection with no message for this long is closed: servers drop idle clients (Postfix
/// after 300 s, some relays much sooner) and a reuse would cost a failed round trip.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// Whether to upgrade the connection with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain text (`?tls=none`, or no `tls` parameter, as in lettre's URLs).
    #[default]
    None,
    /// STARTTLS when the server advertises it, plain text otherwise.
    Opportunistic,
    /// STARTTLS or no mail: a server that does not advertise it fails every send.
    Required,
}

/// Where and how to send. Built from `SMTP_URL` by [`SmtpConfig::from_url`]; the timeouts,
/// pool size and hello name have defaults that the caller may override.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User name and password for AUTH PLAIN/LOGIN (the password is redacted in `Debug`).
    pub credentials: Option<(String, SecretString)>,
    /// Bounds TCP connect, greeting, EHLO, STARTTLS and AUTH together.
    pub connect_timeout: Duration,
    /// Bounds one transaction: MAIL FROM to the reply to the end of DATA.
    pub send_timeout: Duration,
    /// Connections (and so messages in flight) at most.
    pub pool_size: usize,
    /// The EHLO argument: a host name, or an address literal like `[192.0.2.1]`.
    pub hello_name: String,
}

impl SmtpConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_POOL_SIZE: usize = 4;

    /// Parses `smtp://[user:pass@]host[:port][/hello-name][?tls=none|opportunistic|required]`.
    ///
    /// The default port is 25, or 587 when the URL asks for TLS (as lettre's own URL parser
    /// does, so one `SMTP_URL` means the same server everywhere). User and password are
    /// percent-decoded. `smtps://` is refused (not supported yet). Errors name `SMTP_URL` and
    /// never contain the URL itself, so the password cannot leak into a log.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let parsed =
            url::Url::parse(url).map_err(|e| anyhow!("SMTP_URL: not a valid URL ({e})"))?;
        match parsed.scheme() {
            "smtp" => {}
            "smtps" => bail!(
                "SMTP_URL: smtps:// (implicit TLS) is not supported yet; use smtp:// with ?tls=required"
            ),
            other => bail!("SMTP_URL: must start with smtp://, not {other}://"),
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => bail!("SMTP_URL: has no host"),
        };
        let mut tls = None;
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "tls" => {
                    tls = Some(match &*value {
                        "none" => TlsMode::None,
                        "opportunistic" => TlsMode::Opportunistic,
                        "required" => TlsMode::Required,
                        other => bail!(
                            "SMTP_URL: tls={other:?} is not one of none, opportunistic, required"
                        ),
                    })
                }
                other => bail!("SMTP_URL: unknown parameter {other:?} (only tls is understood)"),
            }
        }
        let port = parsed.port().unwrap_or(match tls {
            Some(TlsMode::Opportunistic | TlsMode::Required) => SUBMISSION_PORT,
            Some(TlsMode::None) | None => SMTP_PORT,
        });
        let credentials = if parsed.username().is_empty() {
            if parsed.password().is_some() {
                bail!("SMTP_URL: has a password but no user name");
            }
            None
        } else {
            let user = percent_decode(parsed.username()).ok_or_else(|| {
                anyhow!("SMTP_URL: the user name is not valid percent-encoded UTF-8")
            })?;
            let password = percent_decode(parsed.password().unwrap_or("")).ok_or_else(|| {
                anyhow!("SMTP_URL: the password is not valid percent-encoded UTF-8")
            })?;
            Some((user, SecretString::from(password)))
        };
        let path = parsed.path().trim_matches('/');
        let hello_name = if path.is_empty() {
            ClientId::default().to_string()
        } else {
            path.to_owned()
        };
        Ok(SmtpConfig {
            host,
            port,
            tls: tls.unwrap_or_default(),
            credentials,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            send_timeout: Self::DEFAULT_SEND_TIMEOUT,
            pool_size: Self::DEFAULT_POOL_SIZE,
            hello_name,
        })
    }
}

/// `%41` → `A`; `None` for a bad escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `[192.0.2.1]` / `[IPv6:2001:db8::1]` / bare IPs become address literals, anything else a
/// domain.
fn client_id(hello_name: &str) -> ClientId {
    let bare = hello_name
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .map(|s| s.strip_prefix("IPv6:").unwrap_or(s))
        .unwrap_or(hello_name);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ClientId::Ipv4(ip),
        Ok(IpAddr::V6(ip)) => ClientId::Ipv6(ip),
        Err(_) => ClientId::Domain(hello_name.to_owned()),
    }
}

/// The server's answer to the end of DATA, e.g. `250` `2.0.0 Ok: queued as 4Xyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The reply lines joined with spaces.
    pub text: String,
    /// `text` as a phrase when the words are ours, not a server's (the outbox's).
    pub reason: Option<String>,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 5xx: the server refused for good — log it, never retry.
    #[error("SMTP refused the message: {code} {text}")]
    Permanent {
        code: u16,
        text: String,
        /// `text` as a phrase (written out in the reader's language on pages) when the
        /// words are ours, not the server's.
        reason: Option<String>,
    },
    /// The server or the way to it is unwell (refused/reset connections, an early close, a
    /// garbage reply, timeouts, 421, a 4xx to the greeting, EHLO, MAIL FROM or DATA): retry
    /// later. These are what the circuit breaker counts.
    #[error("SMTP failed, try again later: {}{text}", code_prefix(*.code))]
    Transient {
        code: Option<u16>,
        text: String,
        /// As for `Permanent`.
        reason: Option<String>,
    },
    /// A 4xx reply to this recipient (RCPT TO) or this message (its end of DATA) —
    /// greylisting, a full mailbox: retry this one later. The server answered, so it says
    /// nothing against the server.
    #[error("SMTP deferred the message, try again later: {code} {text}")]
    Deferred { code: u16, text: String },
}

fn code_prefix(code: Option<u16>) -> String {
    code.map(|c| format!("{c} ")).unwrap_or_default()
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent { .. })
    }

    /// The server's reply code, when there was a reply.
    pub fn code(&self) -> Option<u16> {
        match self {
            SendError::Permanent { code, .. } | SendError::Deferred { code, .. } => Some(*code),
            SendError::Transient { code, .. } => *code,
        }
    }

    /// The server's reply text, or what went wrong on our side.
    pub fn text(&self) -> &str {
        match self {
            SendError::Permanent { text, .. }
            | SendError::Transient { text, .. }
            | SendError::Deferred { text, .. } => text,
        }
    }

    /// Our own words, as a phrase for pages (see `reason`).
    pub fn reason(&self) -> Option<&str> {
        match self {
            SendError::Permanent { reason, .. } | SendError::Transient { reason, .. } => {
                reason.as_deref()
            }
            SendError::Deferred { .. } => None,
        }
    }

    /// A failure for good in our own words: `english` and the same as a phrase.
    pub fn ours(english: String, reason: String) -> Self {
        SendError::Permanent {
            code: 0,
            text: english,
            reason: Some(reason),
        }
    }

    /// A transient failure in our own words: `english` and the same as a phrase.
    fn transient(english: String, reason: String) -> Self {
        SendError::Transient {
            code: None,
            text: english,
            reason: Some(reason),
        }
    }
}

/// Where a transaction was when it failed (for messages, and for the stale-connection retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Checking the message against the server's extensions; nothing sent yet.
    Start,
    MailFrom,
    RcptTo,
    Data,
    EndOfData,
}

impl Stage {
    /// The stage's key in the catalog (`delivery-reason-no-reply`, `…-at-stage`).
    fn key(self) -> &'static str {
        match self {
            Stage::Start => "start",
            Stage::MailFrom => "mail-from",
            Stage::RcptTo => "rcpt-to",
            Stage::Data => "data",
            Stage::EndOfData => "end-of-data",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Stage::Start => "the start of the transaction",
            Stage::MailFrom => "MAIL FROM",
            Stage::RcptTo => "RCPT TO",
            Stage::Data => "DATA",
            Stage::EndOfData => "the end of DATA (the server may have accepted the message)",
        }
    }
}

/// A pool of at most `pool_size` SMTP connections. Cheap to clone (shares the pool).
///
/// Each connection is driven by a task of its own that takes messages from the pool's
/// queue, in order. Where the server offers PIPELINING (RFC 2920), a driver that finishes a
/// message while another waits in the queue writes the next message's MAIL FROM, RCPT TO
/// and DATA in the same write as the end of the message before (the RFC's own example does
/// this): one write and one wait per message instead of two, at both ends.
#[derive(Clone)]
pub struct SmtpPool {
    inner: Arc<Inner>,
}

struct Inner {
    config: SmtpConfig,
    client_id: ClientId,
    queue: Mutex<Queue>,
    /// Wakes a driver that waits for work.
    wake: Notify,
}

/// The messages waiting for a connection, and the drivers (one per connection).
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    drivers: usize,
    /// Drivers waiting for a job, their connection open.
    idle: usize,
}

impl Queue {
    /// Whether another connection should open: more messages wait than idle drivers can
    /// take, and the pool has room.
    fn needs_driver(&self, pool_size: usize) -> bool {
        self.jobs.len() > self.idle && self.drivers < pool_size.max(1)
    }

    /// The first message whose sender still waits for it. One whose sender gave up (its
    /// group was cancelled, say by the job's timeout) is not sent: nobody would record it,
    /// and its delivery would go again once its lease ran out.
    fn pop(&mut self) -> Option<Job> {
        while let Some(job) = self.jobs.pop_front() {
            if !job.done.is_closed() {
                return Some(job);
            }
        }
        None
    }
}

/// One message to send, and where its outcome goes.
struct Job {
    envelope: Envelope,
    message: Vec<u8>,
    done: oneshot::Sender<Result<Reply, SendError>>,
}

impl Job {
    fn finish(self, result: Result<Reply, SendError>) {
        // The sender may have given up meanwhile: nobody to tell.
        let _ = self.done.send(result);
    }
}

/// An SMTP session, and whether its server takes pipelined commands (RFC 2920).
struct Connection {
    smtp: AsyncSmtpConnection,
    pipelining: bool,
}

impl fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.inner.queue();
        f.debug_struct("SmtpPool")
            .field("config", &self.inner.config)
            .field("connections", &queue.drivers)
            .field("waiting", &queue.jobs.len())
            .finish()
    }
}

impl SmtpPool {
    /// No connection is opened until the first [`send`](Self::send). A `pool_size` of 0 is
    /// taken as 1.
    pub fn new(config: SmtpConfig) -> Self {
        let client_id = client_id(&config.hello_name);
        SmtpPool {
            inner: Arc::new(Inner {
                config,
                client_id,
                queue: Mutex::new(Queue::default()),
                wake: Notify::new(),
            }),
        }
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.inner.config
    }

    /// Sends one message (`message` is the raw RFC 5322 text, CRLF line endings; a final CRLF
    /// is not doubled). At most `pool_size` connections exist (the other messages wait, in
    /// order); a connection is reused while healthy and dropped after any error (the next
    /// message reconnects).
    ///
    /// A connection that turns out dead at MAIL FROM (closed by the server while idle, or
    /// right after the message before: no parseable reply, or a 421) is not the message's
    /// fault: the send is retried once on a fresh connection. Nothing is ever resent once
    /// DATA has begun.
    ///
    /// All recipients share one outcome: a 5xx to any RCPT TO fails the whole message.
    pub async fn send(
        &self,
        from: &Address,
        to: &[Address],
        message: impl Into<Vec<u8>>,
    ) -> Result<Reply, SendError> {
        let envelope = Envelope::new(Some(from.clone()), to.to_vec()).map_err(|e| {
            SendError::transient(
                format!("bad envelope: {e}"),
                phrase("delivery-reason-bad-envelope", &[("detail", &e)]),
            )
        })?;
        let (done, outcome) = oneshot::channel();
        let job = Job {
            envelope,
            message: message.into(),
            done,
        };
        let start_driver = {
            let mut queue = self.inner.queue();
            queue.jobs.push_back(job);
            let start = queue.needs_driver(self.inner.config.pool_size);
            if start {
                queue.drivers += 1;
            }
            start
        };
        if start_driver {
            tokio::spawn(drive(self.inner.clone()));
        } else {
            self.inner.wake.notify_one();
        }
        outcome.await.unwrap_or_else(|_| {
            Err(SendError::transient(
                "the SMTP pool stopped".into(),
                phrase("delivery-reason-pool-stopped", &[]),
            ))
        })
    }
}

impl Inner {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next message if one is waiting right now.
    fn waiting_job(&self) -> Option<Job> {
        self.queue().pop()
    }

    async fn connect(&self) -> Result<Connection, SendError> {
        let config = &self.config;
        match tokio::time::timeout(config.connect_timeout, self.open()).await {
            Ok(result) => result,
            Err(_) => {
                let server = format!("{}:{}", config.host, config.port);
                let seconds = config.connect_timeout.as_secs();
                Err(SendError::transient(
                    format!(
                        "no SMTP session with {server} within {:?} (connect, greeting, EHLO, \
                         STARTTLS, AUTH)",
                        config.connect_timeout
                    ),
                    phrase(
                        "delivery-reason-no-session",
                        &[("server", &server), ("seconds", &seconds)],
                    ),
                ))
            }
        }
    }

    /// TCP (with nodelay), greeting + EHLO, STARTTLS, AUTH, and a second EHLO to learn
    /// whether the server pipelines (lettre's parse of the first one keeps no PIPELINING).
    async fn open(&self) -> Result<Connection, SendError> {
        let config = &self.config;
        let server = format!("{}:{}", config.host, config.port);
        let tcp = TcpStream::connect((config.host.as_str(), config.port))
            .await
            .map_err(|e| {
                SendError::transient(
                    format!("cannot connect to {server}: {e}"),
                    phrase(
                        "delivery-reason-cannot-connect",
                        &[("server", &server), ("detail", &e)],
                    ),
                )
            })?;
        tcp.set_nodelay(true).map_err(|e| {
            SendError::transient(
                format!("cannot set TCP_NODELAY: {e}"),
                phrase("delivery-reason-nodelay", &[("detail", &e)]),
            )
        })?;
        let setup = |step: &str, e: SmtpError| {
            let detail = error_text(&e);
            // The step's key in the catalog (`delivery-reason-setup`).
            let key = match step {
                "greeting/EHLO" => "greeting",
                "TLS set-up" => "tls",
                "STARTTLS" => "starttls",
                "AUTH" => "auth",
                _ => "ehlo",
            };
            SendError::Transient {
                code: e.status().map(u16::from),
                text: format!("{step} with {server}: {detail}"),
                reason: Some(phrase(
                    "delivery-reason-setup",
                    &[("step", &key), ("server", &server), ("detail", &detail)],
                )),
            }
        };
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.client_id)
                .await
                .map_err(|e| setup("greeting/EHLO", e))?;
        let starttls = match config.tls {
            TlsMode::None => false,
            TlsMode::Opportunistic => connection.can_starttls(),
            TlsMode::Required => {
                if !connection.can_starttls() {
                    return Err(SendError::transient(
                        format!("{server} does not offer STARTTLS, and SMTP_URL says tls=required"),
                        phrase("delivery-reason-no-starttls", &[("server", &server)]),
                    ));
                }
                true
            }
        };
        if starttls {
            let parameters =
                TlsParameters::new(config.host.clone()).map_err(|e| setup("TLS set-up", e))?;
            connection
                .starttls(parameters, &self.client_id)
                .await
                .map_err(|e| setup("STARTTLS", e))?;
        }
        if let Some((user, password)) = &config.credentials {
            let credentials = Credentials::new(user.clone(), password.expose_secret().to_owned());
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|e| setup("AUTH", e))?;
        }
        let ehlo = connection
            .command(Ehlo::new(self.client_id.clone()))
            .await
            .map_err(|e| setup("EHLO", e))?;
        let pipelining = ehlo
            .message()
            .any(|line| line.trim().eq_ignore_ascii_case("PIPELINING"));
        Ok(Connection {
            smtp: connection,
            pipelining,
        })
    }
}

/// A connection's task: takes messages from the queue and sends them, one after the other,
/// until none has come for [`MAX_IDLE`].
async fn drive(inner: Arc<Inner>) {
    let mut seat = Seat {
        inner,
        waiting: false,
    };
    let mut connection = None;
    while let Some(job) = seat.next_job().await {
        send_chain(&seat.inner, &mut connection, job).await;
    }
}

/// A driver's place in the pool's counts. It is given back however the driver ends (idle
/// too long, a panic, its runtime shutting down), and a new driver takes over if messages
/// still wait: the counts never keep a driver that is gone.
struct Seat {
    inner: Arc<Inner>,
    /// Counted among the idle drivers.
    waiting: bool,
}

impl Seat {
    /// The next message, or `None` when none has come for [`MAX_IDLE`].
    async fn next_job(&mut self) -> Option<Job> {
        loop {
            let notified = self.inner.wake.notified();
            tokio::pin!(notified);
            // Registered before the queue is read: a push after this wakes it.
            notified.as_mut().enable();
            {
                let mut queue = self.inner.queue();
                if let Some(job) = queue.pop() {
                    return Some(job);
                }
                queue.idle += 1;
                self.waiting = true;
            }
            let woken = tokio::time::timeout(MAX_IDLE, notified).await.is_ok();
            let mut queue = self.inner.queue();
            queue.idle -= 1;
            self.waiting = false;
            if let Some(job) = queue.pop() {
                return Some(job);
            }
            if !woken {
                return None;
            }
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let restart = {
            let mut queue = self.inner.queue();
            queue.drivers -= 1;
            if self.waiting {
                queue.idle -= 1;
            }
            let restart = queue.needs_driver(self.inner.config.pool_size);
            if restart {
                queue.drivers += 1;
            }
            restart
        };
        if restart {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(drive(self.inner.clone()));
                }
                Err(_) => self.inner.queue().drivers -= 1,
            }
        }
    }
}

/// Sends `job`, and while the server pipelines and messages wait, the ones after it on the
/// same connection (see [`SmtpPool`]). `slot` holds the connection between calls; it is
/// emptied (the connection dropped, no QUIT) after any error.
async fn send_chain(inner: &Inner, slot: &mut Option<Connection>, job: Job) {
    let timeout = inner.config.send_timeout;
    let mut job = job;
    // Whether `job`'s envelope went out with the end of the message before.
    let mut announced = false;
    // A dead connection at MAIL FROM gets one fresh try per message.
    let mut fresh_try_left = true;
    loop {
        // A message whose sender has given up meanwhile. If its envelope went out with the
        // message before, the connection is mid-transaction: it goes too.
        if job.done.is_closed() {
            if announced {
                *slot = None;
            }
            return;
        }
        if slot.as_ref().is_some_and(|c| c.smtp.has_broken()) {
            *slot = None;
        }
        let reused = slot.is_some();
        let connection = match slot {
            Some(connection) => connection,
            None => match inner.connect().await {
                Ok(connection) => slot.insert(connection),
                Err(error) => return job.finish(Err(error)),
            },
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut stage = Stage::Start;
        let opened = tokio::time::timeout_at(
            deadline,
            open_transaction(
                connection,
                &job.envelope,
                &job.message,
                announced,
                &mut stage,
            ),
        )
        .await;
        match opened {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                *slot = None;
                if (reused || announced)
                    && stage == Stage::MailFrom
                    && fresh_try_left
                    && looks_stale(&error)
                {
                    tracing::debug!(error = %error, "SMTP connection was dead; reconnecting");
                    fresh_try_left = false;
                    announced = false;
                    continue;
                }
                return job.finish(Err(error));
            }
            Err(_) => {
                *slot = None;
                return job.finish(Err(timed_out(stage, timeout)));
            }
        }
        // Its sender gave up while the envelope was on its way: the message is not sent
        // (the server is waiting for its content, so the connection goes).
        if job.done.is_closed() {
            *slot = None;
            return;
        }
        // lettre always appends "\r\n.\r\n": without this the message would gain an empty
        // line. As text it goes out with its end in one write (see `end_of_data`), and only
        // then can the next message ride along.
        let body = job.message.strip_suffix(b"\r\n").unwrap_or(&job.message);
        let text = std::str::from_utf8(body).ok();
        let next = if connection.pipelining && text.is_some() {
            inner.waiting_job()
        } else {
            None
        };
        let (next, mail_of_next) = match next {
            Some(next) => match envelope_commands(connection, &next.envelope, &next.message) {
                Ok(commands) => (Some(next), commands),
                Err(error) => {
                    next.finish(Err(error));
                    (None, String::new())
                }
            },
            None => (None, String::new()),
        };
        stage = Stage::EndOfData;
        let ended =
            tokio::time::timeout_at(deadline, end_of_data(connection, body, text, &mail_of_next))
                .await;
        let result = match ended {
            Ok(Ok(response)) => Ok(Reply {
                code: u16::from(response.code()),
                text: response.message().collect::<Vec<_>>().join(" "),
                reason: None,
            }),
            Ok(Err(e)) => Err(classify(stage, &e)),
            Err(_) => Err(timed_out(stage, timeout)),
        };
        let failed = result.is_err();
        job.finish(result);
        if failed {
            *slot = None;
        }
        match next {
            Some(next) => {
                job = next;
                // On a dropped connection its envelope went nowhere: it starts afresh.
                announced = !failed;
                fresh_try_left = true;
            }
            None => return,
        }
    }
}

fn timed_out(stage: Stage, timeout: Duration) -> SendError {
    let seconds = timeout.as_secs_f64();
    SendError::transient(
        format!("no reply to {} within {timeout:?}", stage.describe()),
        phrase(
            "delivery-reason-no-reply",
            &[("stage", &stage.key()), ("seconds", &seconds)],
        ),
    )
}

/// MAIL FROM, RCPT TO… and DATA (or, when `announced`, only their replies): up to the
/// server's go-ahead for the message. `stage` tells the caller where it stopped (also after
/// a timeout, when this future is dropped).
async fn open_transaction(
    connection: &mut Connection,
    envelope: &Envelope,
    message: &[u8],
    announced: bool,
    stage: &mut Stage,
) -> Result<(), SendError> {
    let pipelining = connection.pipelining;
    if pipelining {
        // MAIL FROM, every RCPT TO and DATA in one write (or with the message before),
        // then their replies in order (after a negative one the caller drops the
        // connection, replies unread).
        if !announced {
            let commands = envelope_commands(connection, envelope, message)?;
            *stage = Stage::MailFrom;
            connection
                .smtp
                .command(commands)
                .await
                .map_err(|e| classify(*stage, &e))?;
        } else {
            *stage = Stage::MailFrom;
            connection
                .smtp
                .read_response()
                .await
                .map_err(|e| classify(*stage, &e))?;
        }
        *stage = Stage::RcptTo;
        for _ in envelope.to() {
            connection
                .smtp
                .read_response()
                .await
                .map_err(|e| classify(*stage, &e))?;
        }
        *stage = Stage::Data;
        connection
            .smtp
            .read_response()
            .await
            .map_err(|e| classify(*stage, &e))?;
        return Ok(());
    }
    let parameters = mail_parameters(&connection.smtp, envelope, message)?;
    let connection = &mut connection.smtp;
    *stage = Stage::MailFrom;
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(|e| classify(*stage, &e))?;
    *stage = Stage::RcptTo;
    for recipient in envelope.to() {
        connection
            .command(Rcpt::new(recipient.clone(), vec![]))
            .await
            .map_err(|e| classify(*stage, &e))?;
    }
    *stage = Stage::Data;
    connection
        .command(Data)
        .await
        .map_err(|e| classify(*stage, &e))?;
    Ok(())
}

/// The MAIL FROM parameters the message needs, if the server offers them.
fn mail_parameters(
    connection: &AsyncSmtpConnection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<Vec<MailParameter>, SendError> {
    let mut parameters = Vec::new();
    let mut addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.any(|a: &Address| !AsRef::<str>::as_ref(a).is_ascii()) {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(SendError::transient(
                "an address is not ASCII but the server does not offer SMTPUTF8".into(),
                phrase("delivery-reason-no-smtputf8", &[]),
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            return Err(SendError::transient(
                "the message is not ASCII but the server does not offer 8BITMIME".into(),
                phrase("delivery-reason-no-8bitmime", &[]),
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(parameters)
}

/// MAIL FROM, every RCPT TO and DATA as one pipelined group.
fn envelope_commands(
    connection: &Connection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<String, SendError> {
    let parameters = mail_parameters(&connection.smtp, envelope, message)?;
    let mut commands = Mail::new(envelope.from().cloned(), parameters).to_string();
    for recipient in envelope.to() {
        commands.push_str(&Rcpt::new(recipient.clone(), vec![]).to_string());
    }
    commands.push_str(&Data.to_string());
    Ok(commands)
}

/// The message's `body` (`text` when it is UTF-8) and its end, with `then` (the next
/// message's envelope, if any) in one write, and the server's reply to the message.
async fn end_of_data(
    connection: &mut Connection,
    body: &[u8],
    text: Option<&str>,
    then: &str,
) -> Result<lettre::transport::smtp::response::Response, SmtpError> {
    match text {
        Some(text) => {
            let mut out = with_end_of_data(text);
            out.push_str(then);
            connection.smtp.command(out).await
        }
        // Not UTF-8: lettre's codec, in two writes (`then` is always empty here).
        None => connection.smtp.message(body).await,
    }
}

/// `body` made transparent (a line that starts with `.` gets another, as lettre's codec
/// does) and ended with `CRLF . CRLF`.
fn with_end_of_data(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 8);
    if body.starts_with('.') {
        out.push('.');
    }
    out.push_str(&body.replace("\r\n.", "\r\n.."));
    out.push_str("\r\n.\r\n");
    out
}

/// A 5xx reply is permanent; a 4xx one to RCPT TO or the end of DATA is deferred (the
/// recipient's or message's), except 421; any other 4xx is transient, and so is anything
/// that is not a reply (I/O error, early close, garbage).
fn classify(stage: Stage, e: &SmtpError) -> SendError {
    match e.status().map(u16::from) {
        Some(code) if e.is_permanent() => SendError::Permanent {
            code,
            text: error_text(e),
            reason: None,
        },
        Some(code) if matches!(stage, Stage::RcptTo | Stage::EndOfData) && code != 421 => {
            SendError::Deferred {
                code,
                text: error_text(e),
            }
        }
        Some(code) => SendError::Transient {
            code: Some(code),
            text: error_text(e),
            reason: None,
        },
        None => {
            let detail = error_text(e);
            SendError::transient(
                format!("at {}: {detail}", stage.describe()),
                phrase(
                    "delivery-reason-at-stage",
                    &[("stage", &stage.key()), ("detail", &detail)],
                ),
            )
        }
    }
}

/// For a negative reply, the server's text; otherwise lettre's description with its cause.
fn error_text(e: &SmtpError) -> String {
    match (e.status(), std::error::Error::source(e)) {
        (Some(_), Some(source)) => source.to_string(),
        _ => e.to_string(),
    }
}

/// A reused connection failing at MAIL FROM without a real answer (or with `421`, the
/// "closing transmission channel" code idle-timeout servers send) was dead before we came.
fn looks_stale(error: &SendError) -> bool {
    matches!(
        error,
        SendError::Transient {
            code: None | Some(421),
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_data_is_transparent() {
        assert_eq!(with_end_of_data("a\r\nb"), "a\r\nb\r\n.\r\n");
        assert_eq!(
            with_end_of_data(".x\r\n.\r\n..y\r\nz."),
            "..x\r\n..\r\n...y\r\nz.\r\n.\r\n"
        );
        assert_eq!(with_end_of_data(""), "\r\n.\r\n");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%2Fc").as_deref(), Some("a@b/c"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn hello_names() {
        assert_eq!(
            client_id("mx.example.com"),
            ClientId::Domain("mx.example.com".into())
        );
        assert_eq!(
            client_id("[127.0.0.1]"),
            ClientId::Ipv4([127, 0, 0, 1].into())
        );
        assert_eq!(client_id("10.0.0.1"), ClientId::Ipv4([10, 0, 0, 1].into()));
        assert!(matches!(client_id("[IPv6:::1]"), ClientId::Ipv6(_)));
        // Round trip with lettre's own default (hostname, or an address literal).
        let default = ClientId::default();
        assert_eq!(client_id(&default.to_string()), default);
    }
}
