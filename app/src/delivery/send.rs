//! Sending deliveries, a batch at a time: claim the rows with a lease, send, log every
//! attempt, and mark a row sent only after the server accepted it. A crash between the
//! server's 250 and the batch's commit is the one window in which a client could get the
//! same occurrence twice (see [`deliver_batch`]).

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, header::ContentType};
use sea_orm::sea_query::{Expr, Query};
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, QueryFilter, Set, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::Outbound;
use super::gate::Admission;
use super::transport::{Reply, SendError};
use crate::entities::attempt::{self, AttemptStatus};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::{client, mailing, message};

/// How many tries a delivery gets, and how long a worker holds a claimed one.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tries: i32,
    /// Longer than a job may run (the job timeout cancels it before), so a lease that
    /// runs out means its holder is gone and another worker may take the row.
    pub lease: chrono::Duration,
}

impl Limits {
    pub fn from_config(config: &crate::config::WorkerConfig) -> Self {
        let timeout = i64::try_from(config.job_timeout_secs).unwrap_or(i64::MAX / 2);
        Self {
            max_tries: config.max_tries(),
            lease: chrono::Duration::seconds(timeout.saturating_add(5)),
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
    /// Nothing to do: done already, or another worker holds it.
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

/// Takes the rows of `ids` that are pending and held by nobody, in one statement, and
/// counts their try. Returns the rows as they are now.
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
        .exec_with_returning(db)
        .await
}

/// The e-mail as bytes, with the delivery's Message-ID.
fn render(
    from: &Mailbox,
    to: &client::Model,
    message: &message::Model,
    message_id: &str,
) -> anyhow::Result<Vec<u8>> {
    let to = Mailbox::new(Some(to.full_name.clone()), to.email.parse()?);
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())?;
    Ok(email.formatted())
}

/// Deliveries per claim and group commit at most (bound parameters stay far below the
/// backends' limits).
const MAX_BATCH: usize = 500;

/// What became of one claimed delivery before it is recorded.
enum Tried {
    /// The server was asked (or the e-mail could not even be built): an attempt to log.
    Attempted {
        row: delivery::Model,
        attempt: Box<attempt::ActiveModel>,
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
    from: Mailbox,
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
    pub fn new(db: DatabaseConnection, outbound: Outbound, from: Mailbox, limits: Limits) -> Self {
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
            from,
            limits,
            recorder,
        }
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
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
            return Ok(ids.iter().map(|&id| (id, Outcome::Paused(wait))).collect());
        }
        let started = std::time::Instant::now();
        // The reads go by delivery id, so they need not wait for the claim.
        let (rows, clients, mailings) = tokio::try_join!(
            claim(&self.db, ids, Utc::now(), self.limits.lease),
            clients_of(&self.db, ids),
            mailings_of(&self.db, ids),
        )?;
        let claimed: HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let mut outcomes: Vec<(i64, Outcome)> = ids
            .iter()
            .filter(|id| !claimed.contains(id))
            .map(|&id| (id, Outcome::Skipped))
            .collect();
        if rows.is_empty() {
            return Ok(outcomes);
        }
        let read = started.elapsed();
        let sends = rows.into_iter().map(|row| {
            let client = clients.get(&row.client_id);
            let mailing = mailings.get(&row.mailing_id);
            async move {
                match (client, mailing) {
                    (Some(client), Some((mailing, message))) => {
                        attempt(
                            &self.outbound,
                            &self.from,
                            row,
                            client,
                            mailing,
                            message.as_ref(),
                        )
                        .await
                    }
                    _ => Tried::Gone(row.id),
                }
            }
        });
        let tried = futures::future::join_all(sends).await;
        let sent = started.elapsed();
        outcomes.extend(self.record(tried).await?);
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

/// `SELECT <column> FROM deliveries WHERE id IN (ids)`.
fn column_of(column: delivery::Column, ids: &[i64]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(column)
        .from(delivery::Entity)
        .and_where(delivery::Column::Id.is_in(ids.iter().copied()))
        .to_owned()
}

/// The clients of these deliveries, by id.
async fn clients_of(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i32, client::Model>, sea_orm::DbErr> {
    Ok(client::Entity::find()
        .filter(client::Column::Id.in_subquery(column_of(delivery::Column::ClientId, ids)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The mailings of these deliveries with their messages, by mailing id.
async fn mailings_of(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i32, (mailing::Model, Option<message::Model>)>, sea_orm::DbErr> {
    Ok(mailing::Entity::find()
        .filter(mailing::Column::Id.in_subquery(column_of(delivery::Column::MailingId, ids)))
        .find_also_related(message::Entity)
        .all(db)
        .await?
        .into_iter()
        .map(|(m, message)| (m.id, (m, message)))
        .collect())
}

/// A commit takes no more groups once it holds this many results, so it holds fewer than
/// `MAX_RECORD + MAX_BATCH` (an attempt row binds 11 parameters; the backends allow
/// 32,766 or more).
const MAX_RECORD: usize = 1_000;

/// Recorder tasks per process on PostgreSQL: while one waits for its commit (the WAL
/// flush), the others write. Their transactions touch disjoint delivery rows and meet only
/// at the mailing's `report_days` row, which each takes last (see [`record`]).
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
        let mut sizes = Vec::with_capacity(lot.len());
        let mut tried = Vec::with_capacity(size);
        let mut waiting = Vec::with_capacity(lot.len());
        for group in lot {
            sizes.push(group.tried.len());
            tried.extend(group.tried);
            waiting.push(group.done);
        }
        match record(&db, tried, limits).await {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (done, size) in waiting.into_iter().zip(sizes) {
                    let _ = done.send(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "recording deliveries failed");
                for done in waiting {
                    let _ = done.send(Err(format!("recording deliveries: {e}")));
                }
            }
        }
    }
}

/// Sends one claimed delivery.
async fn attempt(
    outbound: &Outbound,
    from: &Mailbox,
    row: delivery::Model,
    client: &client::Model,
    mailing: &mailing::Model,
    message: Option<&message::Model>,
) -> Tried {
    let permanent = |text: String| Err(SendError::Permanent { code: 0, text });
    let mut probe_failed = false;
    let result = match message {
        None => permanent("the message was deleted".into()),
        Some(message) => match render(from, client, message, &row.message_id_header) {
            Err(e) => permanent(format!("cannot build the e-mail: {e}")),
            Ok(bytes) => match client.email.parse::<lettre::Address>() {
                Err(e) => permanent(format!("bad address {}: {e}", client.email)),
                Ok(to) => match outbound.admit().await {
                    Admission::Paused(wait) => return Tried::Paused { row, wait },
                    Admission::Go(permit) => {
                        let result = outbound.send(from.email.clone(), to, bytes).await;
                        probe_failed = permit.record(&result);
                        result
                    }
                },
            },
        },
    };
    let at = Utc::now();
    let (status, code, response) = match &result {
        Ok(reply) => (
            AttemptStatus::Success,
            Some(i32::from(reply.code)),
            reply.text.clone(),
        ),
        Err(e) => (
            AttemptStatus::Failure,
            e.code().map(i32::from),
            e.text().to_owned(),
        ),
    };
    let attempt = Box::new(attempt::ActiveModel {
        owner_id: Set(mailing.owner_id),
        mailing_id: Set(mailing.id),
        message_id: Set(message.map(|m| m.id)),
        client_id: Set(Some(client.id)),
        delivery_id: Set(Some(row.id)),
        recipient: Set(client.email.clone()),
        occurrence_at: Set(row.occurrence_at),
        attempted_at: Set(at),
        status: Set(status),
        smtp_code: Set(code),
        response: Set(Some(response)),
        ..Default::default()
    });
    Tried::Attempted {
        row,
        attempt,
        result,
        at,
        probe_failed,
    }
}

/// The group commit: every attempt and every row's new state, in one transaction. Sent
/// rows are marked in one statement; failures (rare) one by one; rows paused before their
/// send are given back with their try refunded. One outcome per result, in their order.
async fn record(
    db: &DatabaseConnection,
    tried: Vec<Tried>,
    limits: Limits,
) -> Result<Vec<(i64, Outcome)>, sea_orm::DbErr> {
    let mut outcomes = Vec::with_capacity(tried.len());
    let mut attempts = Vec::new();
    let mut sent: Vec<(i64, DateTime<Utc>)> = Vec::new();
    let mut changed: Vec<delivery::ActiveModel> = Vec::new();
    let mut given_back = Vec::new();
    for t in tried {
        match t {
            Tried::Gone(id) => outcomes.push((id, Outcome::Skipped)),
            Tried::Paused { row, wait } => {
                given_back.push(row.id);
                outcomes.push((row.id, Outcome::Paused(wait)));
            }
            Tried::Attempted {
                row,
                attempt,
                result,
                at,
                probe_failed,
            } => {
                attempts.push(*attempt);
                let id = row.id;
                let tries = if probe_failed {
                    row.tries - 1
                } else {
                    row.tries
                };
                let error = match result {
                    Ok(_) => {
                        sent.push((id, at));
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
                    active.status = Set(DeliveryStatus::Failed);
                    outcomes.push((id, Outcome::Failed(text)));
                } else {
                    active.next_try_at = Set(Some(at + retry_delay(tries)));
                    outcomes.push((id, Outcome::Retry { error, tries }));
                }
                changed.push(active);
            }
        }
    }
    // The attempts go last: their insert takes the mailing's `report_days` row (the
    // trigger), which concurrent recorders wait for until this commits.
    let txn = db.begin().await?;
    if !sent.is_empty() {
        txn.execute_raw(mark_sent(txn.get_database_backend(), &sent))
            .await?;
    }
    for active in changed {
        active.update(&txn).await?;
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
    if !attempts.is_empty() {
        attempt::Entity::insert_many(attempts)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(outcomes)
}

/// `UPDATE deliveries … FROM (VALUES (id, sent_at), …)`: every sent row of a batch with its
/// own time, in one statement (PostgreSQL, and SQLite since 3.33; both name the columns of
/// a `VALUES` list `column1`, `column2`).
fn mark_sent(backend: DbBackend, sent: &[(i64, DateTime<Utc>)]) -> Statement {
    let mut sql = String::from(
        "UPDATE deliveries SET status = 'sent', sent_at = v.column2, updated_at = v.column2, \
         claimed_until = NULL, last_error = NULL FROM (VALUES ",
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(sent.len() * 2);
    for (i, (id, at)) in sent.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        match backend {
            DbBackend::Postgres => {
                let n = values.len();
                sql.push_str(&format!("(${}, ${})", n + 1, n + 2));
            }
            _ => sql.push_str("(?, ?)"),
        }
        values.push((*id).into());
        values.push((*at).into());
    }
    sql.push_str(") AS v WHERE deliveries.id = v.column1");
    Statement::from_sql_and_values(backend, sql, values)
}

/// When the sweeper may pick a delivery up again if its job is lost: 2^tries seconds,
/// at most ten minutes (the job's own retry layer usually comes sooner).
fn retry_delay(tries: i32) -> chrono::Duration {
    chrono::Duration::seconds(2_i64.saturating_pow(tries.clamp(0, 10) as u32).min(600))
}
