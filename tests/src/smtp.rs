//! A scriptable fake SMTP server for integration tests.
//!
//! SMTP is an external service: tests point the application at a [`FakeSmtp`]
//! instead of a real relay, then inspect what arrived with
//! [`FakeSmtp::messages`] / [`FakeSmtp::wait_for_messages`] and inject faults
//! with [`FakeSmtp::script`] / [`FakeSmtp::set_default`].
//!
//! Notes for test authors:
//! * Steps are consumed FIFO. [`Behavior::HangUp`] at the front of the script
//!   is consumed when a connection is accepted; [`Behavior::PermFail`] at the
//!   first `RCPT TO` of a message; everything else at the end of `DATA`. If a
//!   message reaches the end of `DATA` while `HangUp` is at the front, the
//!   message consumes it and the server stops replying on that connection.
//! * lettre's async transport only applies its `timeout` to the TCP connect,
//!   not to reading replies, so a `HangUp` (or a long `Delay`) blocks a
//!   `send` forever unless the caller wraps it in `tokio::time::timeout`.
//! * `refuse_connections(true)` only closes the listener; connections already
//!   open (e.g. pooled by lettre) keep working.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// Maximum message size advertised in EHLO (`SIZE`).
pub const MAX_MESSAGE_SIZE: usize = 10_485_760;
/// Longest accepted command line; longer lines close the connection.
const MAX_COMMAND_LINE: usize = 4096;
/// Longest accepted line inside DATA; longer lines close the connection.
const MAX_DATA_LINE: usize = MAX_MESSAGE_SIZE + 1024;

/// What the server does with the next message (or connection, for `HangUp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// `250` after DATA; the message is recorded.
    Accept,
    /// Sleep this long before replying to the end of DATA, then `250`. The
    /// message is recorded after the sleep whether or not the client is still
    /// connected.
    Delay(Duration),
    /// `451 4.3.0 Try again later` after DATA (message not recorded).
    TempFail,
    /// `421 4.3.2 Shutting down` after DATA, then the connection is closed (message not
    /// recorded; counted in `temp_failed`).
    ShutDown,
    /// `550 5.1.1 Mailbox unavailable` at `RCPT TO` (message not recorded).
    PermFail,
    /// Close the TCP connection without a reply when the DATA terminator arrives.
    Drop,
    /// Reply `this is not smtp` (no code) after DATA.
    Garbage,
    /// Accept the connection but never send the greeting (client times out).
    HangUp,
}

/// Counters of what the server did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages answered with 250 (including delayed ones whose reply was written).
    pub accepted: usize,
    /// Messages answered with 451.
    pub temp_failed: usize,
    /// Messages rejected with 550.
    pub perm_failed: usize,
    /// Messages whose connection was closed without a reply.
    pub dropped: usize,
    /// Messages answered with garbage.
    pub garbage: usize,
    /// Messages delayed by a `Delay` step.
    pub delayed: usize,
    /// Connections (or messages) that got a `HangUp` step.
    pub hung_up: usize,
    /// Commands that arrived while an earlier one was still unanswered (RFC 2920
    /// pipelining: after MAIL FROM, a pipelining client's RCPT TO and DATA).
    pub pipelined: usize,
    /// MAIL FROM commands that arrived together with the end of the message before (RFC
    /// 2920 allows the next transaction in the same group as the end of DATA).
    pub chained: usize,
    /// RCPT TO commands answered `451` by greylisting (see [`FakeSmtp::greylist`]).
    pub greylisted: usize,
}

/// Greylisting: a recipient is refused with `451 4.7.1` at `RCPT TO` until it was refused
/// `tries` times and `delay` has passed since its first try (as a real greylister does with
/// the sender, client and recipient triplet; here the recipient alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greylist {
    pub tries: usize,
    pub delay: Duration,
}

/// A message accepted by the fake server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// Raw message, dot-unstuffed, without the terminating "." line.
    pub data: String,
}

impl ReceivedMail {
    /// First header with this name (case-insensitive), unfolded, trimmed, with
    /// RFC 2047 encoded words (`=?utf-8?b?...?=`) decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.raw_header(name).map(|v| decode_rfc2047(&v))
    }

    /// Like [`header`](Self::header) but without decoding encoded words.
    pub fn raw_header(&self, name: &str) -> Option<String> {
        parse_entity(&self.data).header(name).map(str::to_owned)
    }

    /// Every header with this name (case-insensitive), unfolded and decoded.
    pub fn headers(&self, name: &str) -> Vec<String> {
        parse_entity(&self.data)
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_rfc2047(v))
            .collect()
    }

    /// The decoded `Subject` header.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The text/plain part if multipart (falling back to text/html when there
    /// is no text/plain part), else the body. Transfer encodings
    /// (quoted-printable, base64) are decoded and line endings normalised to `\n`.
    pub fn body_text(&self) -> String {
        let top = parse_entity(&self.data);
        if top.mime_type().starts_with("multipart/") {
            find_part(&self.data, "text/plain", 0)
                .or_else(|| find_part(&self.data, "text/html", 0))
                .unwrap_or_default()
        } else {
            decode_body(top.body, top.header("Content-Transfer-Encoding"))
        }
    }

    /// The decoded text/html part (or the body of a single-part text/html message).
    pub fn html_body(&self) -> Option<String> {
        find_part(&self.data, "text/html", 0)
    }

    /// Every http(s) URL found in [`body_text`](Self::body_text), in order.
    pub fn links(&self) -> Vec<String> {
        extract_links(&self.body_text())
    }
}

/// Handle to a running fake SMTP server. Cheap to clone; the server (listener
/// and all connection tasks) stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeSmtp {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for FakeSmtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSmtp")
            .field("addr", &self.handle.shared.addr)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Owned by the `FakeSmtp` clones only; dropping it stops the server.
struct Handle {
    shared: Arc<Shared>,
    /// Never sent on: tasks stop when it is dropped (`changed()` errors).
    _shutdown: watch::Sender<()>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Close the port right away rather than when the last task notices.
        let mut slot = self.shared.listener();
        slot.closed = true;
        slot.listener = None;
    }
}

struct Shared {
    addr: SocketAddr,
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
    listener: Mutex<ListenerSlot>,
    arrived: Notify,
}

struct State {
    default: Behavior,
    /// Whether EHLO offers PIPELINING.
    pipelining: bool,
    /// How long DATA waits before its 354.
    go_ahead_delay: Duration,
    script: VecDeque<Behavior>,
    greylist: Option<Greylist>,
    /// Recipients (lower case) refused at `RCPT TO` with this reply, every time.
    refused: std::collections::HashMap<String, String>,
    /// Per recipient: how often it was refused, and when first.
    greylisted: std::collections::HashMap<String, (usize, tokio::time::Instant)>,
    messages: Vec<ReceivedMail>,
    connections: usize,
    stats: Stats,
}

struct ListenerSlot {
    listener: Option<TcpListener>,
    /// Waker of the accept loop, woken when a listener is re-installed.
    waker: Option<Waker>,
    closed: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn listener(&self) -> MutexGuard<'_, ListenerSlot> {
        self.listener.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let mut slot = self.listener();
        slot.waker = Some(cx.waker().clone());
        match &slot.listener {
            Some(listener) => listener.poll_accept(cx),
            None => Poll::Pending,
        }
    }

    /// Pops the step for a message at the given point. `at_rcpt` only pops a
    /// `PermFail`; otherwise returns `None` (the step applies later).
    fn take_message_step(&self, at_rcpt: bool) -> Option<Behavior> {
        let mut st = self.state();
        let next = st
            .script
            .front()
            .cloned()
            .unwrap_or_else(|| st.default.clone());
        if at_rcpt && next != Behavior::PermFail {
            return None;
        }
        st.script.pop_front();
        Some(next)
    }

    /// The reply that refuses the recipient of this `RCPT TO:` argument, if one does.
    fn refusal(&self, path: &str) -> Option<String> {
        let recipient = parse_path(path).to_ascii_lowercase();
        self.state().refused.get(&recipient).cloned()
    }

    /// Whether greylisting refuses `recipient` now (and counts the refusal).
    fn greylists(&self, recipient: &str) -> bool {
        let mut guard = self.state();
        let st = &mut *guard;
        let Some(rule) = st.greylist else {
            return false;
        };
        let now = tokio::time::Instant::now();
        let (refused, first) = st
            .greylisted
            .entry(recipient.to_ascii_lowercase())
            .or_insert((0, now));
        if *refused >= rule.tries && now.duration_since(*first) >= rule.delay {
            return false;
        }
        *refused += 1;
        st.stats.greylisted += 1;
        true
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.state().stats);
    }

    fn record(&self, mail: ReceivedMail) {
        self.state().messages.push(mail);
        self.arrived.notify_waiters();
    }
}

impl FakeSmtp {
    /// Binds 127.0.0.1 on a free port and spawns the accept loop on the
    /// current tokio runtime.
    pub async fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake smtp: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake smtp: local_addr");
        let shared = Arc::new(Shared {
            addr,
            runtime: tokio::runtime::Handle::current(),
            state: Mutex::new(State {
                default: Behavior::Accept,
                pipelining: true,
                go_ahead_delay: Duration::ZERO,
                script: VecDeque::new(),
                greylist: None,
                refused: std::collections::HashMap::new(),
                greylisted: std::collections::HashMap::new(),
                messages: Vec::new(),
                connections: 0,
                stats: Stats::default(),
            }),
            listener: Mutex::new(ListenerSlot {
                listener: Some(listener),
                waker: None,
                closed: false,
            }),
            arrived: Notify::new(),
        });
        let (tx, rx) = watch::channel(());
        tokio::spawn(accept_loop(shared.clone(), rx));
        FakeSmtp {
            handle: Arc::new(Handle {
                shared,
                _shutdown: tx,
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared().addr
    }

    pub fn port(&self) -> u16 {
        self.shared().addr.port()
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr())
    }

    /// Behaviour used when the script is empty (initially `Accept`).
    pub fn set_default(&self, b: Behavior) {
        self.shared().state().default = b;
    }

    /// Whether EHLO offers PIPELINING (initially it does), for the connections after this.
    pub fn set_pipelining(&self, offered: bool) {
        self.shared().state().pipelining = offered;
    }

    /// How long DATA waits before its go-ahead (354); none at first.
    pub fn set_go_ahead_delay(&self, delay: Duration) {
        self.shared().state().go_ahead_delay = delay;
    }

    /// Greylists every recipient from now on (`None` turns it off); see [`Greylist`].
    /// Refuses `recipient` at `RCPT TO` with `reply` (e.g. `550 5.1.1 <a@b>: User
    /// unknown`, or `452 4.2.2 Mailbox full`) every time, until [`FakeSmtp::accept_recipient`].
    pub fn refuse_recipient(&self, recipient: &str, reply: &str) {
        self.shared()
            .state()
            .refused
            .insert(recipient.to_ascii_lowercase(), reply.to_owned());
    }

    pub fn accept_recipient(&self, recipient: &str) {
        self.shared()
            .state()
            .refused
            .remove(&recipient.to_ascii_lowercase());
    }

    pub fn greylist(&self, rule: Option<Greylist>) {
        self.shared().state().greylist = rule;
    }

    /// Appends steps to the FIFO script.
    pub fn script(&self, steps: impl IntoIterator<Item = Behavior>) {
        self.shared().state().script.extend(steps);
    }

    /// Drops the script steps not consumed yet.
    pub fn clear_script(&self) {
        self.shared().state().script.clear();
    }

    /// Number of script steps not consumed yet.
    pub fn script_len(&self) -> usize {
        self.shared().state().script.len()
    }

    /// Accepted messages in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared().state().messages.clone()
    }

    /// Returns the accepted messages and forgets them.
    pub fn take_messages(&self) -> Vec<ReceivedMail> {
        std::mem::take(&mut self.shared().state().messages)
    }

    /// Waits until at least `n` messages were accepted and returns all of
    /// them. Panics, listing what arrived, if there are fewer after `timeout`.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared().arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let msgs = self.messages();
            if msgs.len() >= n {
                return msgs;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let msgs = self.messages();
                if msgs.len() >= n {
                    return msgs;
                }
                let mut listing = String::new();
                for (i, m) in msgs.iter().enumerate() {
                    listing.push_str(&format!(
                        "\n  #{i}: from={:?} to={:?} subject={:?}",
                        m.from,
                        m.to,
                        m.subject()
                    ));
                }
                panic!(
                    "fake smtp: expected at least {n} message(s) within {timeout:?}, got {}:{}\n  \
                     stats: {:?}, connections: {}, unconsumed script steps: {}",
                    msgs.len(),
                    if listing.is_empty() {
                        " (none)"
                    } else {
                        &listing
                    },
                    self.stats(),
                    self.connections(),
                    self.script_len(),
                );
            }
        }
    }

    /// Number of TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared().state().connections
    }

    /// `true`: close the listener (new clients get ECONNREFUSED; open
    /// connections are kept). `false`: re-bind on the same port.
    pub fn refuse_connections(&self, on: bool) {
        let shared = self.shared();
        let mut slot = shared.listener();
        if on {
            slot.listener = None;
            return;
        }
        if slot.listener.is_some() || slot.closed {
            return;
        }
        let _guard = shared.runtime.enter();
        let mut attempt = 0;
        let listener = loop {
            match bind_std(shared.addr) {
                Ok(l) => break l,
                Err(_) if attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("fake smtp: cannot re-bind {}: {e}", shared.addr),
            }
        };
        slot.listener = Some(listener);
        if let Some(w) = &slot.waker {
            w.wake_by_ref();
        }
    }

    pub fn stats(&self) -> Stats {
        self.shared().state().stats.clone()
    }
}

fn bind_std(addr: SocketAddr) -> io::Result<TcpListener> {
    // std sets SO_REUSEADDR on Unix, so the port can be re-bound while old
    // connections linger in TIME_WAIT.
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    TcpListener::from_std(l)
}

async fn accept_loop(shared: Arc<Shared>, mut shutdown: watch::Receiver<()>) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            res = poll_fn(|cx| shared.poll_accept(cx)) => res,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // e.g. EMFILE: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let hang = {
            let mut st = shared.state();
            st.connections += 1;
            let hang = match st.script.front() {
                Some(Behavior::HangUp) => {
                    st.script.pop_front();
                    true
                }
                Some(_) => false,
                None => st.default == Behavior::HangUp,
            };
            if hang {
                st.stats.hung_up += 1;
            }
            hang
        };
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = async {
                    if hang {
                        let (rd, _wr) = stream.into_split();
                        drain(BufReader::new(rd)).await;
                    } else {
                        let _ = serve(&shared, stream).await;
                    }
                } => {}
            }
        });
    }
}

/// Reads and discards until the peer closes (keeps the connection open
/// without ever replying).
async fn drain<R: AsyncBufRead + Unpin>(mut rd: R) {
    loop {
        match rd.fill_buf().await {
            Ok([]) | Err(_) => return,
            Ok(buf) => {
                let n = buf.len();
                rd.consume(n);
            }
        }
    }
}

enum LineRead {
    Eof,
    TooLong,
    Line,
}

async fn read_line<R: AsyncBufRead + Unpin>(
    rd: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let n = (&mut *rd).take(limit as u64).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(LineRead::Eof);
    }
    if buf.last() != Some(&b'\n') {
        // Either the limit was hit or the peer closed mid-line.
        return Ok(if n >= limit {
            LineRead::TooLong
        } else {
            LineRead::Eof
        });
    }
    Ok(LineRead::Line)
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `<a@b> SIZE=123` → `a@b`
fn parse_path(arg: &str) -> String {
    let arg = arg.trim_start();
    if let Some(rest) = arg.strip_prefix('<') {
        rest.split('>').next().unwrap_or("").to_owned()
    } else {
        arg.split_whitespace().next().unwrap_or("").to_owned()
    }
}

#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
    rejected: bool,
}

async fn serve(shared: &Shared, stream: TcpStream) -> io::Result<()> {
    let (rd, wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    // Replies to pipelined commands go out together, once the commands read so far are
    // answered (RFC 2920): one write per reply would meet the client's delayed ACK.
    let mut wr = tokio::io::BufWriter::new(wr);
    let mut buf = Vec::with_capacity(512);
    let mut tx = Transaction::default();
    let mut queued = 0u64;
    // Whether the last thing read was the end of a message.
    let mut after_data = false;

    wr.write_all(b"220 fake-smtp ESMTP\r\n").await?;
    loop {
        let behind = !rd.buffer().is_empty();
        let chained = behind && std::mem::take(&mut after_data);
        if !behind {
            wr.flush().await?;
        }
        match read_line(&mut rd, &mut buf, MAX_COMMAND_LINE).await? {
            LineRead::Eof => return Ok(()),
            LineRead::TooLong => {
                wr.write_all(b"500 5.5.2 Line too long\r\n").await?;
                wr.flush().await?;
                return Ok(());
            }
            LineRead::Line if behind => shared.count(|s| s.pipelined += 1),
            LineRead::Line => {}
        }
        let line = String::from_utf8_lossy(strip_eol(&buf)).into_owned();
        // ASCII upper-casing keeps byte offsets identical to `line`.
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        let custom: String;
        let reply: &str = match verb {
            "EHLO" => {
                tx = Transaction::default();
                if shared.state().pipelining {
                    "250-fake-smtp\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
                } else {
                    "250-fake-smtp\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
                }
            }
            "HELO" => {
                tx = Transaction::default();
                "250 fake-smtp\r\n"
            }
            "MAIL" => {
                if !upper.starts_with("MAIL FROM:") {
                    "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
                } else if tx.from.is_some() {
                    "503 5.5.1 Nested MAIL command\r\n"
                } else {
                    if chained {
                        shared.count(|s| s.chained += 1);
                    }
                    tx.from = Some(parse_path(&line["MAIL FROM:".len()..]));
                    "250 2.1.0 Ok\r\n"
                }
            }
            "RCPT" => {
                if !upper.starts_with("RCPT TO:") {
                    "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
                } else if tx.from.is_none() {
                    "503 5.5.1 Need MAIL before RCPT\r\n"
                } else if tx.rejected {
                    "550 5.1.1 Mailbox unavailable\r\n"
                } else if let Some(refusal) = shared.refusal(&line["RCPT TO:".len()..]) {
                    if refusal.starts_with('5') {
                        shared.count(|s| s.perm_failed += 1);
                        tx.rejected = true;
                    }
                    custom = format!("{refusal}\r\n");
                    &custom
                } else if shared.greylists(&parse_path(&line["RCPT TO:".len()..])) {
                    "451 4.7.1 Greylisted, please try again later\r\n"
                } else if tx.to.is_empty() && shared.take_message_step(true).is_some() {
                    shared.count(|s| s.perm_failed += 1);
                    tx.rejected = true;
                    "550 5.1.1 Mailbox unavailable\r\n"
                } else {
                    tx.to.push(parse_path(&line["RCPT TO:".len()..]));
                    "250 2.1.5 Ok\r\n"
                }
            }
            "DATA" => {
                if tx.rejected {
                    "554 5.5.1 No valid recipients\r\n"
                } else if tx.from.is_none() || tx.to.is_empty() {
                    "503 5.5.1 Need MAIL and RCPT before DATA\r\n"
                } else {
                    let delay = shared.state().go_ahead_delay;
                    if !delay.is_zero() {
                        wr.flush().await?;
                        tokio::time::sleep(delay).await;
                    }
                    wr.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    wr.flush().await?;
                    let Some(data) = read_data(&mut rd, &mut buf).await? else {
                        return Ok(());
                    };
                    after_data = true;
                    let mail = ReceivedMail {
                        from: tx.from.take().unwrap_or_default(),
                        to: std::mem::take(&mut tx.to),
                        data,
                    };
                    tx = Transaction::default();
                    if mail.data.len() > MAX_MESSAGE_SIZE {
                        wr.write_all(b"552 5.3.4 Message size exceeds fixed limit\r\n")
                            .await?;
                        continue;
                    }
                    let step = shared.take_message_step(false).unwrap_or(Behavior::Accept);
                    match step {
                        Behavior::Accept => {
                            shared.record(mail);
                            shared.count(|s| s.accepted += 1);
                            queued += 1;
                            let r = format!("250 2.0.0 Ok: queued as {queued}\r\n");
                            wr.write_all(r.as_bytes()).await?;
                        }
                        Behavior::Delay(d) => {
                            tokio::time::sleep(d).await;
                            shared.record(mail);
                            shared.count(|s| s.delayed += 1);
                            queued += 1;
                            let r = format!("250 2.0.0 Ok: queued as {queued}\r\n");
                            wr.write_all(r.as_bytes()).await?;
                            shared.count(|s| s.accepted += 1);
                        }
                        Behavior::TempFail => {
                            shared.count(|s| s.temp_failed += 1);
                            wr.write_all(b"451 4.3.0 Try again later\r\n").await?;
                        }
                        Behavior::ShutDown => {
                            shared.count(|s| s.temp_failed += 1);
                            wr.write_all(b"421 4.3.2 Shutting down\r\n").await?;
                            wr.flush().await?;
                            return Ok(());
                        }
                        Behavior::PermFail => {
                            // Scripted after this message's RCPT: reject at end of DATA.
                            shared.count(|s| s.perm_failed += 1);
                            wr.write_all(b"550 5.1.1 Mailbox unavailable\r\n").await?;
                        }
                        Behavior::Drop => {
                            shared.count(|s| s.dropped += 1);
                            return Ok(());
                        }
                        Behavior::Garbage => {
                            shared.count(|s| s.garbage += 1);
                            wr.write_all(b"this is not smtp\r\n").await?;
                        }
                        Behavior::HangUp => {
                            shared.count(|s| s.hung_up += 1);
                            drain(rd).await;
                            return Ok(());
                        }
                    }
                    continue;
                }
            }
            "RSET" => {
                tx = Transaction::default();
                "250 2.0.0 Ok\r\n"
            }
            "NOOP" => "250 2.0.0 Ok\r\n",
            "QUIT" => {
                wr.write_all(b"221 2.0.0 Bye\r\n").await?;
                let _ = wr.shutdown().await;
                return Ok(());
            }
            _ => "500 5.5.2 Command not recognized\r\n",
        };
        wr.write_all(reply.as_bytes()).await?;
    }
}

/// Reads DATA up to the terminating "." line, dot-unstuffing. `None` if the
/// client went away (or sent an absurdly long line).
async fn read_data<R: AsyncBufRead + Unpin>(
    rd: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Option<String>> {
    let mut data = Vec::new();
    loop {
        match read_line(rd, buf, MAX_DATA_LINE).await? {
            LineRead::Eof | LineRead::TooLong => return Ok(None),
            LineRead::Line => {}
        }
        if strip_eol(buf) == b"." {
            return Ok(Some(String::from_utf8_lossy(&data).into_owned()));
        }
        // Keep collecting past the limit only up to limit+1 so the size
        // check fires without unbounded memory use.
        if data.len() <= MAX_MESSAGE_SIZE {
            data.extend_from_slice(buf.strip_prefix(b".").unwrap_or(buf));
        }
    }
}

// ---------------------------------------------------------------------------
// Minimal MIME parsing for assertions.

struct Entity<'a> {
    headers: Vec<(String, String)>,
    body: &'a str,
}

impl Entity<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Lower-cased type/subtype, defaulting to text/plain.
    fn mime_type(&self) -> String {
        self.header("Content-Type")
            .and_then(|v| v.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "text/plain".to_owned())
    }

    fn is_attachment(&self) -> bool {
        self.header("Content-Disposition")
            .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("attachment"))
    }
}

/// Splits headers (unfolded, trimmed) from the body.
fn parse_entity(raw: &str) -> Entity<'_> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    for line in raw.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        if content.is_empty() {
            pos += line.len();
            break;
        }
        if content.starts_with([' ', '\t'])
            && let Some((_, v)) = headers.last_mut()
        {
            v.push_str(content);
            pos += line.len();
            continue;
        }
        match content.split_once(':') {
            Some((name, value))
                if !name.is_empty() && !name.contains(|c: char| c.is_whitespace()) =>
            {
                headers.push((name.to_owned(), value.to_owned()));
            }
            // Not a header: the body starts here (no blank separator line).
            _ => break,
        }
        pos += line.len();
    }
    for (_, v) in &mut headers {
        *v = v.trim().to_owned();
    }
    Entity {
        headers,
        body: &raw[pos..],
    }
}

/// Value of a `; name=value` parameter of a structured header.
fn header_param(value: &str, name: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts.iter().skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        Some(v.to_owned())
    })
}

/// Body parts of a multipart body (each with its own headers).
fn split_multipart<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delim = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim_end();
        if t == delim || t == close {
            if let Some(s) = start {
                let part = &body[s..pos];
                let part = part.strip_suffix('\n').unwrap_or(part);
                parts.push(part.strip_suffix('\r').unwrap_or(part));
            }
            if t == close {
                return parts;
            }
            start = Some(pos + line.len());
        }
        pos += line.len();
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

/// Decoded content of the first non-attachment part of type `want`.
fn find_part(raw: &str, want: &str, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let e = parse_entity(raw);
    let mime = e.mime_type();
    if mime.starts_with("multipart/") {
        let boundary = header_param(e.header("Content-Type")?, "boundary")?;
        split_multipart(e.body, &boundary)
            .into_iter()
            .find_map(|part| find_part(part, want, depth + 1))
    } else if mime == want && !e.is_attachment() {
        Some(decode_body(e.body, e.header("Content-Transfer-Encoding")))
    } else {
        None
    }
}

fn decode_body(body: &str, cte: Option<&str>) -> String {
    let cte = cte.map(|c| c.trim().to_ascii_lowercase());
    let decoded = match cte.as_deref() {
        Some("base64") => {
            let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            match BASE64.decode(clean) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => body.to_owned(),
            }
        }
        Some("quoted-printable") => {
            match quoted_printable::decode(body.as_bytes(), quoted_printable::ParseMode::Robust) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => body.to_owned(),
            }
        }
        _ => body.to_owned(),
    };
    decoded.replace("\r\n", "\n")
}

/// Decodes RFC 2047 encoded words; whitespace between adjacent encoded words
/// is dropped.
fn decode_rfc2047(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let mut last_encoded = false;
    while let Some(start) = rest.find("=?") {
        let (before, after) = rest.split_at(start);
        match decode_encoded_word(after) {
            Some((decoded, used)) => {
                if !(last_encoded && before.chars().all(char::is_whitespace)) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &after[used..];
                last_encoded = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &after[2..];
                last_encoded = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `=?charset?B|Q?text?=` at the start of `s` → (decoded, bytes used).
fn decode_encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (enc, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if charset.is_empty()
        || charset.contains(char::is_whitespace)
        || text.contains(char::is_whitespace)
    {
        return None;
    }
    let bytes = match enc {
        "B" | "b" => BASE64.decode(text).ok()?,
        "Q" | "q" => q_decode(text),
        _ => return None,
    };
    let used = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
    let charset = charset.split('*').next().unwrap_or("").to_ascii_lowercase();
    let decoded = if charset == "iso-8859-1" || charset == "latin1" {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some((decoded, used))
}

fn q_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Every http(s) URL in `text`, trailing punctuation trimmed.
fn extract_links(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let next = [lower[i..].find("http://"), lower[i..].find("https://")]
            .into_iter()
            .flatten()
            .min();
        let Some(rel) = next else { break };
        let start = i + rel;
        let end = text[start..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(
                        c,
                        '<' | '>' | '"' | '\'' | '`' | '{' | '}' | '|' | '\\' | '^'
                    )
            })
            .map_or(text.len(), |e| start + e);
        let mut url = &text[start..end];
        loop {
            let unbalanced = |open: char, close: char| {
                url.ends_with(close) && url.matches(open).count() < url.matches(close).count()
            };
            if url.ends_with(['.', ',', ';', ':', '!', '?'])
                || unbalanced('(', ')')
                || unbalanced('[', ']')
            {
                url = &url[..url.len() - 1];
            } else {
                break;
            }
        }
        if !url.ends_with("://") {
            links.push(url.to_owned());
        }
        i = end.max(start + 1);
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::{Mailbox, MultiPart};
    use lettre::transport::smtp::Error as SmtpError;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    use std::time::Instant;

    fn transport(s: &FakeSmtp) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(s.port())
            .timeout(Some(Duration::from_secs(2)))
            .build()
    }

    fn mbox(s: &str) -> Mailbox {
        s.parse().expect("mailbox")
    }

    fn simple(subject: &str) -> Message {
        Message::builder()
            .from(mbox("Mailer <noreply@example.com>"))
            .to(mbox("bob@example.org"))
            .subject(subject)
            .body(format!("Body of {subject}\n"))
            .expect("message")
    }

    fn io_kind(err: &SmtpError) -> Option<io::ErrorKind> {
        let mut src = std::error::Error::source(err);
        while let Some(e) = src {
            if let Some(io) = e.downcast_ref::<io::Error>() {
                return Some(io.kind());
            }
            src = e.source();
        }
        None
    }

    #[tokio::test]
    async fn accepts_and_records_multipart_message() {
        let smtp = FakeSmtp::start().await;
        assert_eq!(smtp.url(), format!("smtp://127.0.0.1:{}", smtp.port()));
        let text = "Héllo Bob,\nplease confirm: https://mailer.test/confirm?token=abc123&x=1.\n\
                    This line is long enough to make the encoder wrap it somewhere around seventy-six characters wide.\n";
        let html = "<p>Please <a href=\"https://mailer.test/confirm?token=abc123&amp;x=1\">confirm</a></p>";
        let msg = Message::builder()
            .from(mbox("Mailer <noreply@example.com>"))
            .to(mbox("Bob <bob@example.org>"))
            .cc(mbox("carol@example.org"))
            .subject("Confirm your subscription — Ünïcode")
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
            .expect("message");
        transport(&smtp).send(msg).await.expect("send");

        let msgs = smtp.wait_for_messages(1, Duration::from_secs(2)).await;
        let m = &msgs[0];
        assert_eq!(m.from, "noreply@example.com");
        assert_eq!(m.to, vec!["bob@example.org", "carol@example.org"]);
        assert_eq!(
            m.subject().as_deref(),
            Some("Confirm your subscription — Ünïcode")
        );
        assert_eq!(m.header("to").as_deref(), Some("Bob <bob@example.org>"));
        assert!(
            m.header("CONTENT-TYPE")
                .unwrap()
                .starts_with("multipart/alternative")
        );
        assert_eq!(m.header("X-Missing"), None);
        assert_eq!(m.body_text(), text);
        assert_eq!(
            m.links(),
            vec!["https://mailer.test/confirm?token=abc123&x=1"]
        );
        assert!(m.html_body().unwrap().contains("<a href="));
        assert!(!m.data.ends_with("\r\n.\r\n"));
        assert_eq!(
            smtp.stats(),
            Stats {
                accepted: 1,
                ..Stats::default()
            }
        );
    }

    #[tokio::test]
    async fn two_messages_on_one_connection() {
        let smtp = FakeSmtp::start().await;
        let t = transport(&smtp);
        t.send(simple("one")).await.expect("first");
        // lettre returns the connection to its pool from a spawned task.
        tokio::time::sleep(Duration::from_millis(50)).await;
        t.send(simple("two")).await.expect("second");
        let msgs = smtp.wait_for_messages(2, Duration::from_secs(2)).await;
        let subjects: Vec<_> = msgs.iter().map(|m| m.subject().unwrap()).collect();
        assert_eq!(subjects, ["one", "two"]);
        // lettre sends "\r\n.\r\n" even after a final CRLF, so the message
        // gains an empty last line.
        assert_eq!(msgs[1].body_text(), "Body of two\n\n");
        assert_eq!(smtp.connections(), 1);
    }

    #[tokio::test]
    async fn temp_fail_is_transient() {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::TempFail]);
        let err = transport(&smtp).send(simple("t")).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(smtp.messages().is_empty());
        assert_eq!(smtp.stats().temp_failed, 1);
    }

    #[tokio::test]
    async fn perm_fail_is_permanent() {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::PermFail]);
        let err = transport(&smtp).send(simple("p")).await.unwrap_err();
        assert!(err.is_permanent(), "{err:?}");
        assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("550"));
        assert!(smtp.messages().is_empty());
        assert_eq!(smtp.stats().perm_failed, 1);
    }

    #[tokio::test]
    async fn drop_and_garbage_are_errors() {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::Drop, Behavior::Garbage]);
        let t = transport(&smtp);
        let err = t.send(simple("d")).await.unwrap_err();
        assert!(!err.is_transient() && !err.is_permanent(), "{err:?}");
        let err = t.send(simple("g")).await.unwrap_err();
        assert!(err.is_response(), "{err:?}");
        t.send(simple("ok"))
            .await
            .expect("default accept afterwards");
        let s = smtp.stats();
        assert_eq!((s.dropped, s.garbage, s.accepted), (1, 1, 1));
        assert_eq!(smtp.messages().len(), 1);
    }

    #[tokio::test]
    async fn delay_arrives_after_the_delay() {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::Delay(Duration::from_millis(300))]);
        let t = transport(&smtp);
        let started = Instant::now();
        let send = tokio::spawn(async move { t.send(simple("slow")).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(smtp.messages().is_empty());
        let msgs = smtp.wait_for_messages(1, Duration::from_secs(2)).await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(msgs[0].subject().as_deref(), Some("slow"));
        send.await.unwrap().expect("send ok after delay");
        let s = smtp.stats();
        assert_eq!((s.delayed, s.accepted), (1, 1));
    }

    #[tokio::test]
    async fn hang_up_never_greets() {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::HangUp]);
        // lettre's timeout only covers the TCP connect, so bound the send here.
        let res = tokio::time::timeout(
            Duration::from_millis(300),
            transport(&smtp).send(simple("h")),
        )
        .await;
        assert!(matches!(res, Err(_) | Ok(Err(_))), "{res:?}");
        assert_eq!(smtp.connections(), 1);
        assert_eq!(smtp.stats().hung_up, 1);
        // The step was consumed: the next connection works.
        transport(&smtp).send(simple("after")).await.expect("send");
        assert_eq!(smtp.connections(), 2);
    }

    #[tokio::test]
    async fn refuse_connections_then_rebind_same_port() {
        let smtp = FakeSmtp::start().await;
        let addr = smtp.addr();
        smtp.refuse_connections(true);
        let raw = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(raw.kind(), io::ErrorKind::ConnectionRefused);
        let err = transport(&smtp).send(simple("r")).await.unwrap_err();
        assert_eq!(
            io_kind(&err),
            Some(io::ErrorKind::ConnectionRefused),
            "{err:?}"
        );

        smtp.refuse_connections(false);
        assert_eq!(smtp.addr(), addr);
        transport(&smtp)
            .send(simple("back"))
            .await
            .expect("send after re-bind");
        assert_eq!(smtp.messages().len(), 1);
        assert_eq!(smtp.connections(), 1);
    }

    #[tokio::test]
    async fn script_is_fifo_then_default() {
        let smtp = FakeSmtp::start().await;
        smtp.set_default(Behavior::TempFail);
        smtp.script([Behavior::Accept, Behavior::PermFail, Behavior::Accept]);
        let t = transport(&smtp);
        let mut outcomes = Vec::new();
        for i in 0..5 {
            outcomes.push(match t.send(simple(&format!("m{i}"))).await {
                Ok(_) => "ok",
                Err(e) if e.is_permanent() => "perm",
                Err(e) if e.is_transient() => "temp",
                Err(_) => "other",
            });
        }
        assert_eq!(outcomes, ["ok", "perm", "ok", "temp", "temp"]);
        assert_eq!(smtp.script_len(), 0);
        let subjects: Vec<_> = smtp.messages().iter().filter_map(|m| m.subject()).collect();
        assert_eq!(subjects, ["m0", "m2"]);
        assert_eq!(smtp.take_messages().len(), 2);
        assert!(smtp.messages().is_empty());
    }

    #[tokio::test]
    async fn greylisting_refuses_each_recipient_its_first_tries() {
        let smtp = FakeSmtp::start().await;
        smtp.greylist(Some(Greylist {
            tries: 2,
            delay: Duration::ZERO,
        }));
        let t = transport(&smtp);
        for _ in 0..2 {
            let err = t.send(simple("g")).await.unwrap_err();
            assert!(err.is_transient(), "{err:?}");
            assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("451"));
        }
        t.send(simple("g"))
            .await
            .expect("the third try goes through");
        assert_eq!(smtp.stats().greylisted, 2);
        assert_eq!(smtp.messages().len(), 1);
    }

    #[tokio::test]
    #[should_panic(expected = "expected at least 2 message(s)")]
    async fn wait_for_messages_panics_with_listing() {
        let smtp = FakeSmtp::start().await;
        transport(&smtp).send(simple("only one")).await.unwrap();
        smtp.wait_for_messages(2, Duration::from_millis(50)).await;
    }

    async fn expect_reply<R: AsyncBufRead + Unpin>(rd: &mut R, code: &str) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            rd.read_line(&mut line).await.unwrap();
            assert!(line.starts_with(code), "expected {code}, got {line:?}");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    #[tokio::test]
    async fn raw_protocol() {
        let smtp = FakeSmtp::start().await;
        let stream = TcpStream::connect(smtp.addr()).await.unwrap();
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);
        assert_eq!(
            expect_reply(&mut rd, "220").await,
            "220 fake-smtp ESMTP\r\n"
        );
        wr.write_all(b"EHLO client\r\n").await.unwrap();
        let ehlo = expect_reply(&mut rd, "250").await;
        assert!(ehlo.starts_with("250-fake-smtp\r\n") && ehlo.contains("250 SIZE 10485760"));
        // It pipelines (its reads are buffered), as Postfix does.
        assert!(ehlo.contains("250-PIPELINING\r\n"));
        for absent in ["STARTTLS", "AUTH"] {
            assert!(!ehlo.contains(absent));
        }
        for (cmd, code) in [
            ("BOGUS\r\n", "500"),
            ("NOOP\r\n", "250"),
            ("DATA\r\n", "503"),
            ("RCPT TO:<x@y>\r\n", "503"),
            ("MAIL FROM:<a@b> BODY=8BITMIME\r\n", "250"),
            ("RSET\r\n", "250"),
            ("HELO client\r\n", "250"),
            ("MAIL FROM:<a@b>\r\n", "250"),
            ("RCPT TO:<c@d>\r\n", "250"),
            ("RCPT TO: <e@f>\r\n", "250"),
            ("DATA\r\n", "354"),
            ("Subject: raw\r\n\r\n..leading dot\r\n.\r\n", "250"),
            ("QUIT\r\n", "221"),
        ] {
            wr.write_all(cmd.as_bytes()).await.unwrap();
            expect_reply(&mut rd, code).await;
        }
        let mut rest = String::new();
        assert_eq!(
            rd.read_line(&mut rest).await.unwrap(),
            0,
            "closed after QUIT"
        );
        let m = &smtp.messages()[0];
        assert_eq!(
            (m.from.as_str(), m.to.clone()),
            ("a@b", vec!["c@d".to_owned(), "e@f".to_owned()])
        );
        assert_eq!(m.data, "Subject: raw\r\n\r\n.leading dot\r\n");
        assert_eq!(m.body_text(), ".leading dot\n");
    }

    #[tokio::test]
    async fn dropping_last_handle_stops_server() {
        let smtp = FakeSmtp::start().await;
        let clone = smtp.clone();
        let addr = smtp.addr();
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut rd = BufReader::new(stream);
        expect_reply(&mut rd, "220").await;
        drop(smtp);
        assert_eq!(clone.connections(), 1, "clone still works");
        drop(clone);
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(2), rd.read_line(&mut line))
            .await
            .expect("connection task should stop")
            .unwrap_or(0);
        assert_eq!(n, 0);
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[test]
    fn mime_parsing() {
        let data = "Subject: =?utf-8?b?SMOpbGxv?=\r\n =?utf-8?q?_w=C3=B6rld?=\r\n\
                    X-Folded: a\r\n\tb\r\n\
                    Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
                    preamble\r\n--outer\r\n\
                    Content-Type: multipart/alternative; boundary=inner\r\n\r\n\
                    --inner\r\nContent-Type: text/plain; charset=utf-8\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\n\
                    R28gdG8gaHR0cHM6Ly9leGFtcGxlLmNvbS9hP2I9MSkuIE9y\r\nIChodHRwOi8veC55L3opLg==\r\n\
                    --inner\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                    <a href=3D\"https://example.com/a?b=3D1\">x</a> soft=\r\nbreak\r\n\
                    --inner--\r\n--outer\r\n\
                    Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n\
                    attached\r\n--outer--\r\n";
        let m = ReceivedMail {
            from: String::new(),
            to: vec![],
            data: data.to_owned(),
        };
        assert_eq!(m.subject().as_deref(), Some("Héllo wörld"));
        assert_eq!(m.header("x-folded").as_deref(), Some("a\tb"));
        assert_eq!(
            m.body_text(),
            "Go to https://example.com/a?b=1). Or (http://x.y/z)."
        );
        assert_eq!(m.links(), ["https://example.com/a?b=1", "http://x.y/z"]);
        assert_eq!(
            m.html_body().as_deref(),
            Some("<a href=\"https://example.com/a?b=1\">x</a> softbreak")
        );

        let plain = ReceivedMail {
            from: String::new(),
            to: vec![],
            data: "Subject: hi\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nl=C3=A9 https://a.b/c\r\n".into(),
        };
        assert_eq!(plain.body_text(), "lé https://a.b/c\n");
        assert_eq!(plain.links(), ["https://a.b/c"]);
        assert_eq!(plain.html_body(), None);
    }
}
