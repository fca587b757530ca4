//! Sending deliveries, a batch at a time: claim the rows with a lease, send, log every
//! attempt, and mark a row sent only after the server accepted it. A crash between the
//! server's 250 and the batch's commit is the one window in which a client could get the
//! same occurrence twice (see [`deliver_batch`]).

use std::panic::AssertUnwindSafe;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use sea_orm::sea_query::Expr;
use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, QueryFilter, Set, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::Outbound;
use super::gate::Admission;
use super::stop;
use super::transport::{Reply, SendError};
use crate::accounts::sender::Identity;
use crate::bounces::classify_reply;
use crate::bounces::service::record_bounce;
use crate::consent::service::Feedback;
use crate::consent::{Links, Recipient};
use crate::dkim::Signer;
use crate::entities::attempt::{self, AttemptStatus};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::{client, mailing, message, user};
use crate::i18n::phrase;
use crate::messages::template::{self, Compiled, Context, Feet};
use crate::validation::breaks_line;

/// How many tries a delivery gets, and how long a worker holds a claimed one.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tries: i32,
    /// Counted from the claim, and longer than a job may run: a claimed group is sent and
    /// recorded to its end even when its job's timeout fires meanwhile, so a lease that
    /// runs out means its holder is gone and another worker may take the row.
    pub lease: chrono::Duration,
    /// Soft bounces that suppress an address (`MAILER_BOUNCES__SOFT_LIMIT`; set from the
    /// deliverer's links).
    pub soft_bounces: u32,
}

impl Limits {
    pub fn from_config(config: &crate::config::WorkerConfig) -> Self {
        let timeout = i64::try_from(config.job_timeout_secs).unwrap_or(i64::MAX / 2);
        Self {
            max_tries: config.max_tries(),
            lease: chrono::Duration::seconds(timeout.saturating_add(5)),
            soft_bounces: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryTask {
    /// Create the deliveries of a mailing's due occurrence (just created, or enabled).
    FanOut { mailing_id: i32 },
    /// "Send now": an extra occurrence at this instant, to every client of the mailing.
    SendNow {
        mailing_id: i32,
        occurrence: DateTime<Utc>,
    },
    /// Send one delivery (a retry).
    Deliver { delivery_id: i64 },
    /// Send a batch of deliveries: a fan-out of 20,000 clients is 400 jobs, not 20,000
    /// (fewer queue round trips, and apalis-redis cannot promote more than ~8,000 due jobs
    /// at once: its fetch script unpacks them all onto Lua's stack).
    DeliverMany { delivery_ids: Vec<i64> },
}

#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Nothing to do: done already, another worker holds it, or its mailing is stopped
    /// (cancelled, see `delivery::stop`).
    Skipped,
    /// A transient failure; try again later (the row is free again). `tries` so far.
    Retry {
        error: SendError,
        tries: i32,
    },
    /// Failed for good (5xx, or out of tries).
    Failed(String),
    /// The SMTP server keeps failing and sending is paused: come back after this long.
    /// The row was not touched.
    Paused(std::time::Duration),
}

/// Takes the rows of `ids` that are pending, held by nobody, and may be sent (their
/// mailing enabled, its owner active, the address not suppressed: [`stop::claimable`]),
/// in one statement, and counts their try. Returns the rows as they are now.
async fn claim(
    db: &DatabaseConnection,
    ids: &[i64],
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<Vec<delivery::Model>, sea_orm::DbErr> {
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(Some(now + lease)),
        )
        .col_expr(
            delivery::Column::Tries,
            sea_orm::sea_query::ExprTrait::add(Expr::col(delivery::Column::Tries), 1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .filter(stop::claimable())
        .exec_with_returning(db)
        .await
}

/// Why an e-mail cannot go out, in our own words: in English (the attempt's `response`,
/// the API, the logs) and as a phrase that pages write out in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub english: String,
    pub phrase: String,
}

impl Reason {
    fn new(english: impl Into<String>, phrase: String) -> Self {
        Self {
            english: english.into(),
            phrase,
        }
    }
}

impl From<Reason> for SendError {
    fn from(reason: Reason) -> Self {
        SendError::ours(reason.english, reason.phrase)
    }
}

/// The mistakes of a message's templates as one phrase: "subject: …; body: …".
fn mistakes(errors: &[template::TemplateError]) -> String {
    let one = |e: &template::TemplateError| {
        phrase(
            "delivery-reason-field",
            &[("part", &e.field.name()), ("problem", &e.located())],
        )
    };
    match errors.split_last() {
        None => String::new(),
        Some((last, before)) => before.iter().rev().fold(one(last), |rest, e| {
            phrase(
                "delivery-reason-and",
                &[("first", &one(e)), ("rest", &rest)],
            )
        }),
    }
}

/// A message to send to each of its recipients: its templates are compiled once per
/// group of deliveries and rendered per recipient.
struct Letter {
    message: message::Model,
    /// Its owner's From, Reply-To and template `sender`.
    identity: Identity,
    /// Why not, when the templates do not compile (a message stored before they were
    /// checked): every delivery of it fails with that reason.
    compiled: Result<Compiled, Reason>,
}

impl Letter {
    fn new(message: message::Model, identity: Identity) -> Self {
        let compiled = Compiled::new(&message.subject, &message.body).map_err(|errors| {
            let why: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {e}", e.field.name()))
                .collect();
            Reason::new(
                format!(
                    "the message's template has a mistake (edit the message): {}",
                    why.join("; ")
                ),
                phrase(
                    "delivery-reason-template",
                    &[("problems", &mistakes(&errors))],
                ),
            )
        });
        Self {
            message,
            identity,
            compiled,
        }
    }

    /// The e-mail to `client` at `to` as bytes, with the delivery's Message-ID and the
    /// recipient's unsubscribe link: at the foot of both parts (`multipart/alternative`:
    /// the rendered Markdown as text, and as HTML), and in the `List-Unsubscribe` headers
    /// (RFC 2369; RFC 8058's one-click POST, which Gmail and Yahoo require of bulk
    /// senders), which also name the recipient's `mailto:` unsubscribe address. The
    /// envelope is given, so lettre does not parse it back out of the headers; its sender
    /// is the delivery's VERP return path (`bounces`). DKIM-signed by `dkim` when signing
    /// is on (the Date header lettre adds is signed too). `Err` with the reason when the
    /// message's template fails for this client (for good: it fails the same way again).
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        dkim: Option<&Signer>,
        client: &client::Model,
        to: &lettre::Address,
        message_id: &str,
        unsubscribe: String,
        (return_path, unsubscribe_mail): (&lettre::Address, &str),
    ) -> Result<Vec<u8>, Reason> {
        let compiled = self.compiled.as_ref().map_err(Clone::clone)?;
        let context = Context {
            recipient: template::Recipient::of(client),
            sender: &self.identity.sender,
            unsubscribe_url: unsubscribe,
            now: Utc::now(),
        };
        let rendered = compiled.render(&context).map_err(|e| {
            Reason::new(
                format!("the message's {e} for this client"),
                phrase(
                    "delivery-reason-render",
                    &[("part", &e.0.field.name()), ("problem", &e.0.located())],
                ),
            )
        })?;
        let built = || -> anyhow::Result<Vec<u8>> {
            let envelope = Envelope::new(Some(return_path.clone()), vec![to.clone()])?;
            let unsubscribe = &context.unsubscribe_url;
            let mut email = lettre::Message::builder()
                .envelope(envelope)
                .from(self.identity.from.clone())
                .to(Mailbox::new(Some(client.full_name.clone()), to.clone()))
                .subject(rendered.subject)
                .message_id(Some(message_id.to_owned()))
                .header(ListUnsubscribe(format!(
                    "<{unsubscribe}>, <mailto:{unsubscribe_mail}?subject=unsubscribe>"
                )))
                .header(ListUnsubscribePost);
            if let Some(reply_to) = &self.identity.reply_to {
                email = email.reply_to(reply_to.clone());
            }
            let email = email.multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))?;
            // Formatted once, and signed as it goes out.
            let bytes = email.formatted();
            Ok(match dkim {
                Some(signer) => signer.sign(bytes)?,
                None => bytes,
            })
        };
        built().map_err(|e| {
            Reason::new(
                format!("cannot build the e-mail: {e:#}"),
                phrase(
                    "delivery-reason-cannot-build",
                    &[("detail", &format!("{e:#}"))],
                ),
            )
        })
    }
}

/// A test of `message` as `client` would get it, sent to `to` instead (the message's
/// owner): the subject marked "[Test]", the unsubscribe links stand-ins that change
/// nothing, signed like every e-mail. `Err` with the reason when the template fails.
pub fn test_email(
    message: &message::Model,
    identity: Identity,
    client: &client::Model,
    to: &lettre::Address,
    (site, dkim): (&str, Option<&Signer>),
) -> Result<Vec<u8>, Reason> {
    let mut message = message.clone();
    message.subject = format!("[Test] {}", message.subject);
    let instance = identity.from.email.clone();
    let message_id = format!(
        "<test.{}@{}>",
        uuid::Uuid::new_v4().simple(),
        instance.domain()
    );
    let unsubscribe = format!(
        "{}/unsubscribe/{}",
        site.trim_end_matches('/'),
        crate::consent::PREVIEW_TOKEN
    );
    Letter::new(message, identity).render(
        dkim,
        client,
        to,
        &message_id,
        unsubscribe,
        (&instance, instance.as_ref()),
    )
}

/// `List-Unsubscribe` (RFC 2369): where the recipient's mail program unsubscribes them.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the link takes a one-click POST.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The e-mail of one delivery, its envelope sender (the delivery's VERP return path) and
/// its recipient, or why it cannot be built. Each reason is for good: the same row fails
/// the same way on every try.
fn build(
    (from, dkim): (&Mailbox, Option<&Signer>),
    links: &Links,
    (client, mailing_id, delivery_id): (&client::Model, i32, i64),
    letter: Option<&Letter>,
    message_id: &str,
) -> Result<(lettre::Address, lettre::Address, Vec<u8>), Reason> {
    let letter = letter.ok_or_else(|| {
        Reason::new(
            "the message was deleted",
            phrase("delivery-reason-message-deleted", &[]),
        )
    })?;
    let to = client.email.parse::<lettre::Address>().map_err(|e| {
        Reason::new(
            format!("bad address {}: {e}", client.email),
            phrase(
                "delivery-reason-bad-address",
                &[("address", &client.email), ("detail", &e)],
            ),
        )
    })?;
    // Stored before names were checked. lettre panics on it ("a Display implementation
    // returned an error unexpectedly"): refused here, with a reason the user can act on.
    if breaks_line(&client.full_name) {
        return Err(Reason::new(
            "the client's name has a line break, which cannot go in the To header: edit the \
             client's name",
            phrase("delivery-reason-name-line-break", &[]),
        ));
    }
    let recipient = Recipient {
        owner_id: client.owner_id,
        client_id: client.id,
        mailing_id: Some(mailing_id),
    };
    let unsubscribe = links.unsubscribe_url(recipient);
    let unsubscribe_mail = links.inbound.unsubscribe_address(recipient);
    let return_path = links
        .inbound
        .return_path(delivery_id)
        .parse::<lettre::Address>()
        .unwrap_or_else(|_| from.email.clone());
    let bytes = letter.render(
        dkim,
        client,
        &to,
        message_id,
        unsubscribe,
        (&return_path, &unsubscribe_mail),
    )?;
    Ok((return_path, to, bytes))
}

/// Deliveries per claim and group commit at most (bound parameters stay far below the
/// backends' limits).
const MAX_BATCH: usize = 500;

/// What became of one claimed delivery before it is recorded.
enum Tried {
    /// The server was asked (or the e-mail could not even be built): an attempt to log.
    Attempted {
        row: delivery::Model,
        attempt: Box<NewAttempt>,
        result: Result<Reply, SendError>,
        at: DateTime<Utc>,
        /// A failed probe of the breaker: its try is given back.
        probe_failed: bool,
    },
    /// The breaker opened while the batch waited: give the row back untouched.
    Paused {
        row: delivery::Model,
        wait: std::time::Duration,
    },
    /// Its client or mailing is gone.
    Gone(i64),
}

/// Everything a process needs to send deliveries: the database, the way out (SMTP or the
/// outbox, behind the breaker and send rate), the sender, the limits, and the recorder
/// task that writes the results. Cheap to clone; the recorder stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct Deliverer {
    db: DatabaseConnection,
    outbound: Outbound,
    /// The instance's From: its address is every e-mail's, its name theirs whose owner
    /// chose none.
    from: Mailbox,
    /// The postal line of e-mails whose owner gave none (`MAILER_MAIL_POSTAL`).
    postal: Option<String>,
    /// The words around the unsubscribe link, per owner's language.
    feet: Feet,
    /// The recipients' unsubscribe links.
    links: Links,
    /// DKIM-signs every e-mail when configured.
    dkim: Option<std::sync::Arc<Signer>>,
    limits: Limits,
    recorder: mpsc::Sender<Results>,
}

/// One group's results on their way to the recorder.
struct Results {
    tried: Vec<Tried>,
    done: oneshot::Sender<Result<Vec<(i64, Outcome)>, String>>,
}

impl Deliverer {
    /// Starts the recorder task (so this needs a Tokio runtime).
    pub fn new(
        db: DatabaseConnection,
        outbound: Outbound,
        (from, links, dkim): (Mailbox, Links, Option<std::sync::Arc<Signer>>),
        limits: Limits,
    ) -> Self {
        let limits = Limits {
            soft_bounces: links.inbound.soft_limit(),
            ..limits
        };
        let (recorder, results) = mpsc::channel(64);
        let results = std::sync::Arc::new(tokio::sync::Mutex::new(results));
        // SQLite has one writer: more recorders would only queue on its lock.
        let recorders = match db.get_database_backend() {
            DbBackend::Postgres => RECORDERS,
            _ => 1,
        };
        for _ in 0..recorders {
            tokio::spawn(run_recorder(db.clone(), results.clone(), limits));
        }
        Self {
            db,
            outbound,
            postal: None,
            feet: Feet::default(),
            from,
            links,
            dkim,
            limits,
            recorder,
        }
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The foot of every e-mail: the sender's postal address (`MAILER_MAIL_POSTAL`) when
    /// its owner gave none, and the words around the unsubscribe link in the owner's
    /// language (English without `feet`).
    pub fn with_foot(mut self, postal: Option<&str>, feet: &Feet) -> Self {
        self.postal = postal.map(str::to_owned);
        self.feet = feet.clone();
        self
    }

    /// How long sending stays paused by the breaker, if it is.
    pub fn paused_for(&self) -> Option<std::time::Duration> {
        self.outbound.gate().paused_for()
    }

    /// Sends one delivery (see [`deliver_batch`](Self::deliver_batch)).
    pub async fn deliver(&self, delivery_id: i64) -> Result<Outcome, sea_orm::DbErr> {
        let mut outcomes = self.deliver_batch(&[delivery_id]).await?;
        Ok(outcomes
            .pop()
            .map_or(Outcome::Skipped, |(_, outcome)| outcome))
    }

    /// Sends a group of deliveries. Database work is per group, not per message: the
    /// pending rows nobody holds are claimed in one `UPDATE … RETURNING` (their try
    /// counted) while their clients and mailings are read beside it, every e-mail is sent
    /// at once (the SMTP pool, the breaker and the send rate pace them), and the attempts
    /// and the rows' new states are written by the recorder, in one transaction with
    /// whatever other groups finished meanwhile (a group commit).
    ///
    /// The price is the duplicate window: a crash after the server's 250 and before that
    /// commit leaves the row pending, and it is sent again later. Exposed are the
    /// deliveries in flight — which the worker keeps within `MAILER_WORKER__CONCURRENCY`
    /// per process — as when each delivery was committed on its own.
    ///
    /// While sending is paused nothing is claimed. Returns one outcome per id, in no order.
    pub async fn deliver_batch(&self, ids: &[i64]) -> Result<Vec<(i64, Outcome)>, sea_orm::DbErr> {
        if ids.len() > MAX_BATCH {
            let mut outcomes = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(MAX_BATCH) {
                outcomes.extend(Box::pin(self.deliver_batch(chunk)).await?);
            }
            return Ok(outcomes);
        }
        if let Some(wait) = self.outbound.gate().paused_for() {
            let outcomes: Vec<_> = ids.iter().map(|&id| (id, Outcome::Paused(wait))).collect();
            count(&outcomes);
            return Ok(outcomes);
        }
        let started = std::time::Instant::now();
        let rows = claim(&self.db, ids, Utc::now(), self.limits.lease).await?;
        let claimed: HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let mut outcomes: Vec<(i64, Outcome)> = ids
            .iter()
            .filter(|id| !claimed.contains(id))
            .map(|&id| (id, Outcome::Skipped))
            .collect();
        if !outcomes.is_empty() {
            // Done, held elsewhere, or stopped: the stopped ones end cancelled here rather
            // than wait for a job that would never send them.
            let left: Vec<i64> = outcomes.iter().map(|(id, _)| *id).collect();
            stop::cancel_stopped(&self.db, &left, Utc::now()).await?;
        }
        if rows.is_empty() {
            count(&outcomes);
            return Ok(outcomes);
        }
        // By primary key: a join through the deliveries lets the planner hash a whole
        // clients table for a group of 50.
        let (clients, mailings) = tokio::try_join!(
            clients_of(&self.db, rows.iter().map(|r| r.client_id)),
            mailings_of(
                &self.db,
                rows.iter().map(|r| r.mailing_id),
                (&self.from, self.postal.as_deref()),
                &self.feet,
            ),
        )?;
        let read = started.elapsed();
        let sends = rows.into_iter().map(|row| {
            let client = clients.get(&row.client_id);
            let mailing = mailings.get(&row.mailing_id);
            async move {
                match (client, mailing) {
                    // Claimed once more than it may be tried: every try before ended
                    // without a result (its job panicked or timed out, or its worker died).
                    (Some(client), Some((mailing, letter)))
                        if row.tries > self.limits.max_tries =>
                    {
                        let ended = row.tries - 1;
                        let result = Err(SendError::ours(
                            format!("gave up: {ended} tries ended without a result"),
                            phrase("delivery-reason-gave-up", &[("count", &ended)]),
                        ));
                        attempted(row, client, mailing, letter.as_ref(), result, false)
                    }
                    (Some(client), Some((mailing, letter))) => {
                        let letter = letter.as_ref();
                        let sending = attempt(
                            &self.outbound,
                            (&self.from, &self.links, self.dkim.as_deref()),
                            row.clone(),
                            client,
                            mailing,
                            letter,
                        );
                        unless_panic(sending, row, client, mailing, letter).await
                    }
                    _ => Tried::Gone(row.id),
                }
            }
        });
        let tried = futures::future::join_all(sends).await;
        let sent = started.elapsed();
        outcomes.extend(self.record(tried).await?);
        metrics::histogram!(crate::monitoring::RECORDER_LAG)
            .record((started.elapsed() - sent).as_secs_f64());
        count(&outcomes);
        tracing::debug!(
            deliveries = ids.len(),
            claim_and_read_ms = read.as_secs_f64() * 1e3,
            send_ms = (sent - read).as_secs_f64() * 1e3,
            record_ms = (started.elapsed() - sent).as_secs_f64() * 1e3,
            "delivery group"
        );
        Ok(outcomes)
    }

    /// Hands a group's results to the recorder and waits for their commit.
    async fn record(&self, tried: Vec<Tried>) -> Result<Vec<(i64, Outcome)>, sea_orm::DbErr> {
        let stopped = || sea_orm::DbErr::Custom("the delivery recorder has stopped".into());
        let (done, committed) = oneshot::channel();
        self.recorder
            .send(Results { tried, done })
            .await
            .map_err(|_| stopped())?;
        committed
            .await
            .map_err(|_| stopped())?
            .map_err(sea_orm::DbErr::Custom)
    }
}

/// Adds a group's outcomes to the worker's metrics.
fn count(outcomes: &[(i64, Outcome)]) {
    let (mut sent, mut failed, mut retried, mut skipped, mut paused) = (0, 0, 0, 0, 0);
    for (_, outcome) in outcomes {
        match outcome {
            Outcome::Sent => sent += 1,
            Outcome::Failed(_) => failed += 1,
            Outcome::Retry { .. } => retried += 1,
            Outcome::Skipped => skipped += 1,
            Outcome::Paused(_) => paused += 1,
        }
    }
    for (outcome, n) in [
        ("sent", sent),
        ("failed", failed),
        ("retried", retried),
        ("skipped", skipped),
        ("paused", paused),
    ] {
        if n > 0 {
            metrics::counter!(crate::monitoring::DELIVERIES, "outcome" => outcome).increment(n);
        }
    }
}

/// These clients, by id.
async fn clients_of(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i32>,
) -> Result<HashMap<i32, client::Model>, sea_orm::DbErr> {
    let ids: BTreeSet<i32> = ids.collect();
    Ok(client::Entity::find()
        .filter(client::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// These mailings with their messages, by mailing id.
async fn mailings_of(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i32>,
    (instance, postal): (&Mailbox, Option<&str>),
    feet: &Feet,
) -> Result<HashMap<i32, (mailing::Model, Option<Letter>)>, sea_orm::DbErr> {
    let ids: BTreeSet<i32> = ids.collect();
    let found = mailing::Entity::find()
        .filter(mailing::Column::Id.is_in(ids))
        .find_also_related(message::Entity)
        .all(db)
        .await?;
    let owner_ids: BTreeSet<i32> = found.iter().map(|(m, _)| m.owner_id).collect();
    let owners: HashMap<i32, Identity> = user::Entity::find()
        .filter(user::Column::Id.is_in(owner_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, Identity::of(&u, (instance, postal), feet)))
        .collect();
    Ok(found
        .into_iter()
        .map(|(m, message)| {
            let identity = owners
                .get(&m.owner_id)
                .cloned()
                .unwrap_or_else(|| Identity::instance(instance, postal));
            let letter = message.map(|message| Letter::new(message, identity));
            (m.id, (m, letter))
        })
        .collect())
}

/// A commit takes no more groups once it holds this many results, so it holds fewer than
/// `MAX_RECORD + MAX_BATCH` (an attempt row binds 12 parameters; the backends allow
/// 32,766 or more).
const MAX_RECORD: usize = 1_000;

/// Recorder tasks per process on PostgreSQL: while one waits for its commit (the WAL
/// flush), the others write. Their transactions touch disjoint delivery rows and meet only
/// at the mailing's `report_slots` row of the quarter-hour, which each takes last (see [`write`]).
const RECORDERS: usize = 3;

/// A recorder: takes the results of every group that is waiting and commits them in one
/// transaction, then the next lot. While a commit runs the next groups queue up, so the
/// busier the worker the larger each commit.
async fn run_recorder(
    db: DatabaseConnection,
    results: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Results>>>,
    limits: Limits,
) {
    loop {
        let mut lot = Vec::new();
        let mut size = 0;
        {
            let mut results = results.lock().await;
            match results.recv().await {
                Some(first) => {
                    size += first.tried.len();
                    lot.push(first);
                }
                None => return,
            }
            // Whatever is still queued once the lot is full waits for the next recorder.
            while size < MAX_RECORD {
                match results.try_recv() {
                    Ok(more) => {
                        size += more.tried.len();
                        lot.push(more);
                    }
                    Err(_) => break,
                }
            }
        }
        let (waiting, tried): (Vec<_>, Vec<_>) = lot
            .into_iter()
            .map(|group| (group.done, group.tried))
            .unzip();
        // A panic here must not end the recorder, or every later group would wait for it
        // in vain: the lot's groups fail (their rows are claimed again after the lease).
        let recorded = AssertUnwindSafe(async {
            let groups = tried.into_iter().map(|t| plan(t, limits)).collect();
            commit(&db, groups).await
        })
        .catch_unwind()
        .await;
        let results = recorded.unwrap_or_else(|panic| {
            let text = format!(
                "recording deliveries panicked: {}",
                super::panic_message(panic.as_ref())
            );
            tracing::error!(error = %text, "recording a lot failed");
            waiting.iter().map(|_| Err(text.clone())).collect()
        });
        for (done, result) in waiting.into_iter().zip(results) {
            let _ = done.send(result);
        }
    }
}

/// One group's outcomes and writes, see [`plan`].
type Planned = (Vec<(i64, Outcome)>, Writes);

/// Writes a lot of groups in one transaction; should that fail, each group in its own, so
/// that one group's failure (say its mailing was deleted while it was being sent) does not
/// take the others' results with it: they would be sent again. One result per group.
async fn commit(
    db: &DatabaseConnection,
    groups: Vec<Planned>,
) -> Vec<Result<Vec<(i64, Outcome)>, String>> {
    let all: Vec<&Writes> = groups.iter().map(|(_, writes)| writes).collect();
    let error = match write_when_reachable(db, &all).await {
        Ok(()) => {
            return groups
                .into_iter()
                .map(|(outcomes, _)| Ok(outcomes))
                .collect();
        }
        Err(e) => e,
    };
    let failed = |e: sea_orm::DbErr| {
        tracing::error!(error = %e, "recording deliveries failed");
        Err(format!("recording deliveries: {e}"))
    };
    if groups.len() == 1 {
        return vec![failed(error)];
    }
    tracing::warn!(error = %error, groups = groups.len(), "recording a lot failed; recording its groups one by one");
    let mut results = Vec::with_capacity(groups.len());
    for (outcomes, writes) in groups {
        results.push(match write(db, &[&writes]).await {
            Ok(()) => Ok(outcomes),
            Err(e) => failed(e),
        });
    }
    results
}

/// Writes a lot, waiting for the database while it cannot be reached: these results are
/// the SMTP server's answers, and a result lost here is a message sent twice (its row would
/// be claimed and sent again once its lease ran out). Any other error is returned at once.
/// Only a worker stopped while the database is still down loses what it holds (the README's
/// duplicate window).
async fn write_when_reachable(
    db: &DatabaseConnection,
    lot: &[&Writes],
) -> Result<(), sea_orm::DbErr> {
    const FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
    const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
    let mut wait = FIRST_WAIT;
    let mut waited = std::time::Duration::ZERO;
    loop {
        match write(db, lot).await {
            Err(e) if crate::db::is_unavailable(&e) => {
                if waited.is_zero() {
                    let attempts: usize = lot.iter().map(|w| w.attempts.len()).sum();
                    tracing::warn!(error = %e, attempts, "the database is unreachable: keeping these delivery results until it answers");
                }
                tokio::time::sleep(wait).await;
                waited += wait;
                wait = (wait * 2).min(MAX_WAIT);
            }
            Err(e) => return Err(e),
            Ok(()) => {
                if !waited.is_zero() {
                    tracing::info!(
                        waited_ms = waited.as_millis() as u64,
                        "delivery results written after the database came back"
                    );
                }
                return Ok(());
            }
        }
    }
}

/// Sends one claimed delivery.
async fn attempt(
    outbound: &Outbound,
    (from, links, dkim): (&Mailbox, &Links, Option<&Signer>),
    row: delivery::Model,
    client: &client::Model,
    mailing: &mailing::Model,
    letter: Option<&Letter>,
) -> Tried {
    let mut probe_failed = false;
    let built = off_the_async_threads(dkim.is_some_and(Signer::is_slow), || {
        build(
            (from, dkim),
            links,
            (client, row.mailing_id, row.id),
            letter,
            &row.message_id_header,
        )
    });
    let result = match built {
        Err(reason) => Err(reason.into()),
        Ok((sender, to, bytes)) => match outbound.admit().await {
            Admission::Paused(wait) => return Tried::Paused { row, wait },
            Admission::Go(permit) => {
                let result = outbound.send(sender, to, bytes).await;
                probe_failed = permit.record(&result);
                result
            }
        },
    };
    attempted(row, client, mailing, letter, result, probe_failed)
}

/// Runs `work` where it holds up no other task when it is `slow` (an RSA signature): on
/// the worker's multi-threaded runtime the thread becomes a blocking one for the while and
/// its other tasks (SMTP reads, timers, the lease's heartbeat) move to another thread.
/// Cheap work (rendering, an ed25519 signature) runs in place: handing it off would cost
/// more than it takes.
fn off_the_async_threads<T>(slow: bool, work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_threaded = Handle::try_current()
        .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
    if slow && multi_threaded {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Runs `sending`, the [`attempt`] of `row`: a panic in it fails this delivery for good
/// (with the panic's text as the reason) instead of the whole group, and the worker with it.
async fn unless_panic(
    sending: impl Future<Output = Tried>,
    row: delivery::Model,
    client: &client::Model,
    mailing: &mailing::Model,
    letter: Option<&Letter>,
) -> Tried {
    match AssertUnwindSafe(sending).catch_unwind().await {
        Ok(tried) => tried,
        Err(panic) => {
            let detail = super::panic_message(panic.as_ref());
            let text = format!("internal error while sending: {detail}");
            tracing::error!(delivery_id = row.id, reason = %text, "a delivery panicked");
            let result = Err(SendError::ours(
                text,
                phrase("delivery-reason-panic", &[("detail", &detail)]),
            ));
            attempted(row, client, mailing, letter, result, false)
        }
    }
}

/// The attempt row of a delivery's try, with its result.
fn attempted(
    row: delivery::Model,
    client: &client::Model,
    mailing: &mailing::Model,
    letter: Option<&Letter>,
    result: Result<Reply, SendError>,
    probe_failed: bool,
) -> Tried {
    let at = Utc::now();
    let (status, code, response, reason) = match &result {
        Ok(reply) => (
            AttemptStatus::Success,
            Some(i32::from(reply.code)),
            reply.text.clone(),
            reply.reason.as_deref(),
        ),
        Err(e) => (
            AttemptStatus::Failure,
            e.code().map(i32::from),
            e.text().to_owned(),
            e.reason(),
        ),
    };
    let attempt = Box::new(NewAttempt {
        owner_id: mailing.owner_id,
        mailing_id: mailing.id,
        message_id: letter.map(|l| l.message.id),
        client_id: Some(client.id),
        delivery_id: Some(row.id),
        recipient: client.email.clone(),
        occurrence_at: row.occurrence_at,
        attempted_at: at,
        status,
        smtp_code: code,
        response: Some(response),
        reason: reason.and_then(crate::i18n::stored),
    });
    Tried::Attempted {
        row,
        attempt,
        result,
        at,
        probe_failed,
    }
}

/// What one group's results change in the database.
#[derive(Default)]
struct Writes {
    attempts: Vec<NewAttempt>,
    sent: Vec<(i64, DateTime<Utc>)>,
    /// Failed rows (rare), written one by one.
    changed: Vec<delivery::ActiveModel>,
    /// Rows paused before their send: their try is refunded.
    given_back: Vec<i64>,
    /// What failed rows' replies say about their addresses (a mailbox that does not
    /// exist, a full one): rare, recorded one by one.
    bounces: Vec<Feedback>,
    /// Soft bounces that suppress an address.
    soft_limit: u32,
}

/// One outcome per result, in their order, and the writes that record them.
fn plan(tried: Vec<Tried>, limits: Limits) -> Planned {
    let mut outcomes = Vec::with_capacity(tried.len());
    let mut writes = Writes {
        soft_limit: limits.soft_bounces,
        ..Writes::default()
    };
    for t in tried {
        match t {
            Tried::Gone(id) => outcomes.push((id, Outcome::Skipped)),
            Tried::Paused { row, wait } => {
                writes.given_back.push(row.id);
                outcomes.push((row.id, Outcome::Paused(wait)));
            }
            Tried::Attempted {
                row,
                attempt,
                result,
                at,
                probe_failed,
            } => {
                let (owner_id, mailing_id) = (attempt.owner_id, attempt.mailing_id);
                let recipient = attempt.recipient.clone();
                writes.attempts.push(*attempt);
                let id = row.id;
                let tries = if probe_failed {
                    row.tries - 1
                } else {
                    row.tries
                };
                let error = match result {
                    Ok(_) => {
                        writes.sent.push((id, at));
                        outcomes.push((id, Outcome::Sent));
                        continue;
                    }
                    Err(e) => e,
                };
                let text = error.text().to_owned();
                let mut active: delivery::ActiveModel = row.into();
                active.tries = Set(tries);
                active.claimed_until = Set(None);
                active.updated_at = Set(at);
                active.last_error = Set(Some(text.clone()));
                if error.is_permanent() || tries >= limits.max_tries {
                    let deferred = matches!(error, SendError::Deferred { .. });
                    if let Some(kind) = classify_reply(error.code(), &text, deferred) {
                        writes.bounces.push(Feedback {
                            owner_id,
                            email: recipient,
                            kind,
                            delivery_id: Some(id),
                            mailing_id: Some(mailing_id),
                            detail: Some(format!("{} {text}", error.code().unwrap_or_default())),
                        });
                    }
                    active.status = Set(DeliveryStatus::Failed);
                    outcomes.push((id, Outcome::Failed(text)));
                } else {
                    active.next_try_at = Set(Some(at + retry_delay(tries)));
                    outcomes.push((id, Outcome::Retry { error, tries }));
                }
                writes.changed.push(active);
            }
        }
    }
    (outcomes, writes)
}

/// The group commit: the writes of every group in `lot`, in one transaction. Sent rows
/// are marked in one statement, failures one by one, paused rows given back in one.
async fn write(db: &DatabaseConnection, lot: &[&Writes]) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let sent: Vec<(i64, DateTime<Utc>)> = lot.iter().flat_map(|w| w.sent.iter().copied()).collect();
    let given_back: Vec<i64> = lot
        .iter()
        .flat_map(|w| w.given_back.iter().copied())
        .collect();
    let attempts: Vec<&NewAttempt> = lot.iter().flat_map(|w| w.attempts.iter()).collect();
    let txn = db.begin().await?;
    if !sent.is_empty() {
        txn.execute_raw(mark_sent(backend, &sent)?).await?;
    }
    for active in lot.iter().flat_map(|w| w.changed.iter()) {
        match active.clone().update(&txn).await {
            // Deleted with its client or mailing meanwhile: nothing left to mark.
            Ok(_) | Err(sea_orm::DbErr::RecordNotUpdated) => {}
            Err(e) => return Err(e),
        }
    }
    if !given_back.is_empty() {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                delivery::Column::Tries,
                sea_orm::sea_query::ExprTrait::sub(Expr::col(delivery::Column::Tries), 1),
            )
            .filter(delivery::Column::Id.is_in(given_back))
            .exec(&txn)
            .await?;
    }
    // A bounce that cannot be recorded (its mailing deleted meanwhile) must not take the
    // lot's results with it: each goes in a savepoint of its own.
    let bounces: Vec<(Feedback, u32)> = lot
        .iter()
        .flat_map(|w| w.bounces.iter().map(|fb| (fb.clone(), w.soft_limit)))
        .collect();
    for (fb, limit) in bounces {
        let savepoint = txn.begin().await?;
        let delivery_id = fb.delivery_id;
        match record_bounce(&savepoint, fb, limit).await {
            Ok(_) => savepoint.commit().await?,
            Err(e) => {
                tracing::warn!(error = %e, ?delivery_id, "cannot record a bounce");
                savepoint.rollback().await?;
            }
        }
    }
    // The attempts go last: their insert takes the mailing's `report_slots` row (the
    // trigger), which concurrent recorders wait for until this commits.
    if !attempts.is_empty() {
        match backend {
            DbBackend::Postgres => {
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    INSERT_ATTEMPTS,
                    [json(&attempts)?],
                ))
                .await?;
            }
            _ => {
                attempt::Entity::insert_many(attempts.iter().map(|a| a.to_active()))
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
    }
    txn.commit().await
}

/// One row of the attempt log, before it is written.
#[derive(Serialize)]
struct NewAttempt {
    owner_id: i32,
    mailing_id: i32,
    message_id: Option<i32>,
    client_id: Option<i32>,
    delivery_id: Option<i64>,
    recipient: String,
    #[serde(serialize_with = "micros")]
    occurrence_at: DateTime<Utc>,
    #[serde(serialize_with = "micros")]
    attempted_at: DateTime<Utc>,
    status: AttemptStatus,
    smtp_code: Option<i32>,
    response: Option<String>,
    /// Our own words as JSON (`i18n::stored`); None for a server's reply.
    reason: Option<String>,
}

impl NewAttempt {
    fn to_active(&self) -> attempt::ActiveModel {
        attempt::ActiveModel {
            owner_id: Set(self.owner_id),
            mailing_id: Set(self.mailing_id),
            message_id: Set(self.message_id),
            client_id: Set(self.client_id),
            delivery_id: Set(self.delivery_id),
            recipient: Set(self.recipient.clone()),
            occurrence_at: Set(self.occurrence_at),
            attempted_at: Set(self.attempted_at),
            status: Set(self.status),
            smtp_code: Set(self.smtp_code),
            response: Set(self.response.clone()),
            reason: Set(self.reason.clone()),
            ..Default::default()
        }
    }
}

/// A timestamp as PostgreSQL stores it: to the microsecond, as a bound value would be.
fn micros<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// Rows as one JSON parameter: PostgreSQL's batch statements below are one text whatever
/// the number of rows, so each connection prepares them once, and the worker binds one
/// value instead of building a statement with a parameter per column and row.
fn json<T: Serialize>(rows: &T) -> Result<sea_orm::Value, sea_orm::DbErr> {
    serde_json::to_string(rows)
        .map(|text| text.into())
        .map_err(|e| sea_orm::DbErr::Custom(format!("encoding a batch: {e}")))
}

/// PostgreSQL: a lot of attempts in one statement (see [`json`]). The log has no foreign
/// keys there (migration `m20261206_000012`): an attempt whose delivery was deleted
/// meanwhile (with its client or mailing) is not written. The others' deliveries were
/// written first in the same transaction, so they are locked and cannot go before the
/// commit. Every attempt the recorder writes has a delivery.
const INSERT_ATTEMPTS: &str = "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, \
     delivery_id, recipient, occurrence_at, attempted_at, status, smtp_code, response, reason) \
     SELECT owner_id, mailing_id, message_id, client_id, delivery_id, recipient, occurrence_at, \
     attempted_at, status, smtp_code, response, reason FROM json_to_recordset($1::json) AS r(\
     owner_id integer, mailing_id integer, message_id integer, client_id integer, \
     delivery_id bigint, recipient text, occurrence_at timestamptz, attempted_at timestamptz, \
     status text, smtp_code integer, response text, reason text) \
     WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.delivery_id)";

/// Every sent row of a lot with its own time, in one statement: on PostgreSQL from one
/// JSON parameter (see [`json`]), on SQLite (3.33 or later) from a `VALUES` list.
fn mark_sent(
    backend: DbBackend,
    sent: &[(i64, DateTime<Utc>)],
) -> Result<Statement, sea_orm::DbErr> {
    const SET: &str = "UPDATE deliveries SET status = 'sent', sent_at = v.column2, \
         updated_at = v.column2, claimed_until = NULL, last_error = NULL FROM ";
    if backend == DbBackend::Postgres {
        #[derive(Serialize)]
        struct Sent {
            column1: i64,
            #[serde(serialize_with = "micros")]
            column2: DateTime<Utc>,
        }
        let rows: Vec<Sent> = sent
            .iter()
            .map(|&(column1, column2)| Sent { column1, column2 })
            .collect();
        return Ok(Statement::from_sql_and_values(
            backend,
            format!(
                "{SET}json_to_recordset($1::json) AS v(column1 bigint, column2 timestamptz) \
                 WHERE deliveries.id = v.column1"
            ),
            [json(&rows)?],
        ));
    }
    let mut sql = format!("{SET}(VALUES ");
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(sent.len() * 2);
    for (i, (id, at)) in sent.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?)");
        values.push((*id).into());
        values.push((*at).into());
    }
    sql.push_str(") AS v WHERE deliveries.id = v.column1");
    Ok(Statement::from_sql_and_values(backend, sql, values))
}

/// When the sweeper may pick a delivery up again if its job is lost: 2^tries seconds,
/// at most ten minutes (the job's own retry layer usually comes sooner).
fn retry_delay(tries: i32) -> chrono::Duration {
    chrono::Duration::seconds(2_i64.saturating_pow(tries.clamp(0, 10) as u32).min(600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, EntityTrait};

    /// A migrated SQLite database with one mailing and two pending deliveries (ids 1, 2).
    async fn database(dir: &std::path::Path) -> DatabaseConnection {
        let config = crate::config::Config {
            database_url: format!("sqlite://{}", dir.join("t.db").display()),
            ..Default::default()
        };
        let db = crate::db::connect(&config).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        for sql in [
            "INSERT INTO users (email, password_hash, role, is_verified, is_active, created_at, \
             updated_at) VALUES ('o@x.test', 'x', 'user', 1, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            "INSERT INTO messages (owner_id, subject, body, created_at, updated_at) \
             VALUES (1, 's', 'b', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            "INSERT INTO clients (owner_id, email, full_name, comment, created_at, updated_at) \
             VALUES (1, 'a@y.test', 'A', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), \
             (1, 'b@y.test', 'B', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            "INSERT INTO mailings (owner_id, message_id, start_at, end_at, periodicity, status, \
             is_enabled, created_at, updated_at) VALUES (1, 1, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', \
             'once', 'running', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            "INSERT INTO deliveries (mailing_id, client_id, occurrence_at, status, tries, \
             message_id_header, created_at, updated_at) VALUES \
             (1, 1, '2026-01-01T00:00:00Z', 'pending', 1, '<1@x>', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), \
             (1, 2, '2026-01-01T00:00:00Z', 'pending', 1, '<2@x>', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        db
    }

    /// The writes of delivery `id` sent, its attempt logged under `mailing_id`.
    fn sent(id: i64, mailing_id: i32) -> Planned {
        let at = Utc::now();
        let attempt = NewAttempt {
            owner_id: 1,
            mailing_id,
            message_id: Some(1),
            client_id: Some(id as i32),
            delivery_id: Some(id),
            recipient: "a@y.test".into(),
            occurrence_at: at,
            attempted_at: at,
            status: AttemptStatus::Success,
            smtp_code: Some(250),
            response: Some("250 ok".into()),
            reason: None,
        };
        let writes = Writes {
            attempts: vec![attempt],
            sent: vec![(id, at)],
            ..Default::default()
        };
        (vec![(id, Outcome::Sent)], writes)
    }

    /// The personalised message of `just bench-delivery` (BENCH_MESSAGE=personal).
    const PERSONAL_BODY: &str = "Dear {{ client.full_name }},\n\nOur **autumn sale** starts \
        today: everything in the shop is 20% off until the end of the\nmonth, and delivery is \
        free for orders over 50 euros.\n\nWhat is new this season:\n\n- warm wool jumpers \
        in six colours\n- waterproof boots, made to last\n- scarves and hats to match\n\n\
        [Visit the shop](https://shop.example.com/autumn) and find your size before it is \
        gone.\nWe send this to {{ client.email }} because you asked for our news.\n\nThank \
        you for staying with us,\nthe shop team";

    /// CPU per e-mail of rendering and building it (no database, no SMTP): the plain text
    /// e-mail as it was before templates, next to the personalised Markdown one (text +
    /// HTML), unsigned and signed. `cargo test --release -p mailer --lib -- --ignored
    /// --nocapture render_cost`.
    #[test]
    #[ignore = "a measurement; run it in release"]
    fn render_cost() {
        use crate::dkim::{Algorithm, Key};
        let dir = tempfile::tempdir().unwrap();
        let signer = |algorithm: Algorithm| {
            let path = dir.path().join(format!("{}.pem", algorithm.signature()));
            Key::generate(algorithm)
                .unwrap()
                .write(&path, true)
                .unwrap();
            Signer::load("bench", "example.com", &path).unwrap()
        };
        let (ed25519, rsa) = (signer(Algorithm::Ed25519), signer(Algorithm::Rsa));
        let from: Mailbox = "Shop <shop@example.com>".parse().unwrap();
        let identity = Identity::instance(&from, None);
        let return_path: lettre::Address = "bounces+1.x@example.com".parse().unwrap();
        let plain_body = "Hello, this is the benchmark. ".repeat(20);
        let message = |subject: &str, body: &str| message::Model {
            id: 1,
            owner_id: 1,
            subject: subject.into(),
            body: body.into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let personal = Letter::new(
            message("News for {{ client.full_name }}", PERSONAL_BODY),
            identity.clone(),
        );
        let plain = Letter::new(message("Benchmark", &plain_body), identity.clone());
        let clients: Vec<client::Model> = (0..2_000)
            .map(|i| client::Model {
                id: i,
                owner_id: 1,
                email: format!("c{i}@example.com"),
                full_name: format!("Client {i}"),
                comment: String::new(),
                attributes: "{}".into(),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            })
            .collect();
        // The e-mail as `Letter::render` built it before templates: one text part.
        let before = |client: &client::Model, dkim: Option<&Signer>| {
            let to: lettre::Address = client.email.parse().unwrap();
            let envelope = Envelope::new(Some(return_path.clone()), vec![to.clone()]).unwrap();
            let text = format!(
                "{}\n\n-- \nTo stop getting these e-mails, unsubscribe: {}\n",
                plain_body.trim_end(),
                "https://x.test/unsubscribe/abc"
            );
            let email = lettre::Message::builder()
                .envelope(envelope)
                .from(from.clone())
                .to(Mailbox::new(Some(client.full_name.clone()), to))
                .subject("Benchmark")
                .message_id(Some("<1@x>".into()))
                .header(ListUnsubscribe("<https://x.test/u>".into()))
                .header(ListUnsubscribePost)
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(lettre::message::Body::new(text))
                .unwrap();
            let bytes = email.formatted();
            match dkim {
                Some(signer) => signer.sign(bytes).unwrap().len(),
                None => bytes.len(),
            }
        };
        let now = |letter: &Letter, client: &client::Model, dkim: Option<&Signer>| {
            let to: lettre::Address = client.email.parse().unwrap();
            letter
                .render(
                    dkim,
                    client,
                    &to,
                    "<1@x>",
                    "https://x.test/unsubscribe/abc".into(),
                    (&return_path, "unsubscribe+abc@example.com"),
                )
                .unwrap()
                .len()
        };
        let time = |what: &str, f: &dyn Fn(&client::Model) -> usize| {
            let n = if what.contains("rsa") {
                200
            } else {
                clients.len()
            };
            let started = std::time::Instant::now();
            let bytes: usize = clients[..n].iter().map(f).sum();
            let us = started.elapsed().as_secs_f64() * 1e6 / n as f64;
            eprintln!("{what:<40} {us:>8.1} µs per e-mail ({} bytes)", bytes / n);
        };
        for _ in 0..2 {
            time("before: plain text, unsigned", &|c| before(c, None));
            time("before: plain text, ed25519", &|c| {
                before(c, Some(&ed25519))
            });
            time("before: plain text, rsa", &|c| before(c, Some(&rsa)));
            time("plain message, text + HTML, unsigned", &|c| {
                now(&plain, c, None)
            });
            time("personal, text + HTML, unsigned", &|c| {
                now(&personal, c, None)
            });
            time("personal, text + HTML, ed25519", &|c| {
                now(&personal, c, Some(&ed25519))
            });
            time("personal, text + HTML, rsa", &|c| {
                now(&personal, c, Some(&rsa))
            });
        }
    }

    #[tokio::test]
    async fn a_failing_group_does_not_take_its_lot_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path()).await;
        // The second group's mailing is gone: its attempt breaks a foreign key.
        let results = commit(&db, vec![sent(1, 1), sent(2, 99)]).await;
        assert!(results[0].is_ok(), "{:?}", results[0].as_ref().err());
        assert!(results[1].is_err());
        let rows = delivery::Entity::find().all(&db).await.unwrap();
        let status: Vec<_> = rows.iter().map(|r| (r.id, r.status)).collect();
        assert_eq!(
            status,
            [(1, DeliveryStatus::Sent), (2, DeliveryStatus::Pending)]
        );
        let log = attempt::Entity::find().all(&db).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].delivery_id, Some(1));
    }

    /// A panic while sending one delivery fails that delivery, with the panic's text as
    /// the reason, and is not retried: it does not unwind into the group (or the worker).
    #[tokio::test]
    async fn a_panicking_send_fails_its_delivery_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path()).await;
        let row = delivery::Entity::find_by_id(1)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let client = client::Entity::find_by_id(1)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let mailing = mailing::Entity::find_by_id(1)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let sending = async { panic!("boom in the transport") };
        let tried = unless_panic(sending, row, &client, &mailing, None).await;
        let Tried::Attempted {
            row,
            attempt,
            result,
            ..
        } = tried
        else {
            panic!("an attempt is recorded");
        };
        assert_eq!(row.id, 1);
        let error = result.unwrap_err();
        assert!(error.is_permanent(), "not retried: {error:?}");
        assert_eq!(
            error.text(),
            "internal error while sending: boom in the transport"
        );
        assert_eq!(attempt.status, AttemptStatus::Failure);
        assert_eq!(attempt.response.as_deref(), Some(error.text()));
        let (outcomes, writes) = plan(
            vec![Tried::Attempted {
                row,
                attempt,
                result: Err(error),
                at: Utc::now(),
                probe_failed: false,
            }],
            Limits {
                max_tries: 6,
                lease: chrono::Duration::seconds(10),
                soft_bounces: 3,
            },
        );
        assert!(matches!(outcomes[..], [(1, Outcome::Failed(_))]));
        assert_eq!(writes.changed.len(), 1);
    }
}
