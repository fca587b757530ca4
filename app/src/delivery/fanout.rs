//! Occurrence fan-out: a due mailing is claimed (its `next_run_at` moved on in the same
//! statement that checks it, so two workers never both take it), and one delivery row per
//! recipient — hand-picked, or carrying one of its tags at that moment — is inserted for
//! the occurrence; UNIQUE (mailing, client, occurrence) makes a repeat harmless.
//!
//! The rows are made in ranges of client ids, each one `INSERT … SELECT`: the claim and a
//! small first range in one transaction (a crash loses neither; the first e-mails leave at
//! once), and when there are more recipients a `fan_outs` row that says how far it got.
//! Every later range moves that row on in the transaction that inserts it — only if it
//! still says what the worker read, so two workers never make the same range — and the
//! row goes with the last one. A worker makes the next range when the last one is half
//! sent ([`continue_fan_out`] with `paced`), so a million-recipient occurrence never waits
//! in the queue as a million jobs whose marks run out before their turn; `mailer send`
//! makes them all at once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{
    BinOper, DynIden, Expr, ExprTrait, IntoIden, OnConflict, Order, Query, SelectStatement,
    SimpleExpr,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use super::hold::held_until;
use super::schedule::{latest_due, next_after};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::mailing::{self, MailingStatus};
use crate::entities::{client, client_tag, fan_out as fan_outs, mailing_client, mailing_tag, user};

/// How many recipients each range of a fan-out takes: a small first one, so that the first
/// e-mails leave at once, then `size` at a time (`MAILER_WORKER__FAN_OUT_RANGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranges {
    pub first: u64,
    pub size: u64,
}

impl Ranges {
    /// The first range's size at most.
    const FIRST: u64 = 2_000;

    /// Ranges of `size` (at least 1), the first one no larger than 2,000.
    pub fn of(size: u64) -> Self {
        let size = Ord::max(size, 1);
        Self {
            first: Ord::min(size, Self::FIRST),
            size,
        }
    }
}

impl Default for Ranges {
    fn default() -> Self {
        Self::of(10_000)
    }
}

/// The deterministic Message-ID of a delivery: the same on every try, so a receiving
/// server (or the recipient) can tell a retry from a second e-mail.
pub fn message_id_header(
    mailing_id: i32,
    client_id: i32,
    occurrence: DateTime<Utc>,
    domain: &str,
) -> String {
    format!(
        "<m{mailing_id}.c{client_id}.o{}@{domain}>",
        occurrence.timestamp()
    )
}

/// Creates the deliveries of `mailing`'s latest due occurrence, if it is due and nobody
/// else took it, held for the jobs the caller queues (or sends) next for `lease` (see
/// [`hold`](super::hold)): all of them, range after range. Returns the ids of its
/// deliveries still pending.
pub async fn fan_out(
    db: &DatabaseConnection,
    mailing: &mailing::Model,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    fan_out_in(db, mailing, now, (domain, lease), Ranges::default()).await
}

/// [`fan_out`] in `ranges`.
pub async fn fan_out_in(
    db: &DatabaseConnection,
    mailing: &mailing::Model,
    now: DateTime<Utc>,
    (domain, lease): (&str, chrono::Duration),
    ranges: Ranges,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let mut ids = start(db, mailing, now, domain, lease, ranges).await?;
    // Each range moves its row on: read it again before the next.
    loop {
        let mut made = false;
        for open in open_fan_outs(db, Some(mailing.id)).await? {
            if let Some(more) =
                continue_fan_out(db, &open, now, domain, lease, ranges, false).await?
            {
                ids.extend(more.ids);
                made = true;
            }
        }
        if !made {
            return Ok(ids);
        }
    }
}

/// [`fan_out`]'s first step: claims `mailing`'s latest due occurrence, if it is due and
/// nobody else took it, and makes the first range of its deliveries (with the `fan_outs`
/// row that says how far it got, when more recipients may follow), held for `lease`.
/// Returns the ids of the first range's pending deliveries.
pub async fn start(
    db: &DatabaseConnection,
    mailing: &mailing::Model,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
    ranges: Ranges,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let Some(planned) = mailing.next_run_at else {
        return Ok(Vec::new());
    };
    if !mailing.is_enabled || planned > now {
        return Ok(Vec::new());
    }
    // Occurrences keep the owner's local wall-clock time (see `schedule`).
    let tz = owner_zone(db, mailing.owner_id).await?;
    let occurrence = latest_due(mailing.start_at, mailing.periodicity, now, tz)
        .map(|(_, t)| t)
        .filter(|t| *t < mailing.end_at);
    let next = occurrence
        .and_then(|t| next_after(mailing.start_at, mailing.periodicity, t, mailing.end_at, tz));
    let status = match (occurrence, next) {
        (_, Some(_)) => MailingStatus::Running,
        // The last occurrence goes out now; the clock finishes the mailing after the end.
        (Some(_), None) if now < mailing.end_at => MailingStatus::Running,
        _ => MailingStatus::Finished,
    };
    let txn = db.begin().await?;
    let claimed = mailing::Entity::update_many()
        .col_expr(mailing::Column::NextRunAt, next.into())
        .col_expr(mailing::Column::Status, status.as_str().into())
        .col_expr(mailing::Column::UpdatedAt, now.into())
        .filter(mailing::Column::Id.eq(mailing.id))
        .filter(mailing::Column::NextRunAt.eq(planned))
        .exec(&txn)
        .await?;
    let Some(occurrence) = occurrence.filter(|_| claimed.rows_affected == 1) else {
        txn.commit().await?;
        return Ok(Vec::new());
    };
    let through = first_range(&txn, mailing.id, occurrence, now, domain, lease, ranges).await?;
    txn.commit().await?;
    range_ids(db, mailing.id, occurrence, (0, through), None).await
}

/// "Send now" in the worker: the first range of the deliveries of `occurrence` (an extra
/// one, claimed by nobody: UNIQUE keeps a repeated job from adding rows), and the
/// `fan_outs` row for the rest. A repeat of the job adds no row (its ranges are made
/// again, which adds nothing either) and returns the first range's pending deliveries
/// (queued again: the claims keep each to one send).
pub async fn start_extra(
    db: &DatabaseConnection,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
    (domain, lease): (&str, chrono::Duration),
    ranges: Ranges,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let through = first_range(&txn, mailing_id, occurrence, now, domain, lease, ranges).await?;
    txn.commit().await?;
    range_ids(db, mailing_id, occurrence, (0, through), None).await
}

/// Makes the first range of an occurrence's deliveries and, when more recipients may
/// follow, its `fan_outs` row. Returns the last client id of the range (`None`: all of
/// them).
async fn first_range<C: ConnectionTrait>(
    txn: &C,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
    ranges: Ranges,
) -> Result<Option<i32>, sea_orm::DbErr> {
    let held = held_until(now, std::time::Duration::ZERO, lease);
    let through = nth_recipient_after(txn, mailing_id, 0, ranges.first).await?;
    let span = Span {
        after: 0,
        through,
        analyze: true,
    };
    insert_range(txn, mailing_id, occurrence, (now, held), domain, span).await?;
    if let Some(done_through) = through {
        // Already there when "send now"'s job runs a second time.
        fan_outs::Entity::insert(fan_outs::ActiveModel {
            mailing_id: Set(mailing_id),
            occurrence_at: Set(occurrence),
            done_through: Set(done_through),
            last_from: Set(0),
            ranges: Set(1),
            created_at: Set(now),
        })
        .on_conflict_do_nothing_on([fan_outs::Column::MailingId, fan_outs::Column::OccurrenceAt])
        .exec(txn)
        .await?;
    }
    Ok(through)
}

/// The fan-outs still under way (of one mailing, or of all), oldest first.
pub async fn open_fan_outs<C: ConnectionTrait>(
    db: &C,
    mailing_id: Option<i32>,
) -> Result<Vec<fan_outs::Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    let mut query = fan_outs::Entity::find().order_by_asc(fan_outs::Column::CreatedAt);
    if let Some(id) = mailing_id {
        query = query.filter(fan_outs::Column::MailingId.eq(id));
    }
    query.all(db).await
}

/// A range a worker made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// Its pending deliveries, held for `lease` for the jobs the caller queues.
    pub ids: Vec<i64>,
    /// Whether it was the last range of its occurrence.
    pub last: bool,
}

/// Makes the next range of `open` (as read from `fan_outs`), unless its mailing may not
/// send now (disabled, its owner blocked: the rest waits, and follows once both allow
/// it), another worker made it first, or — when `paced` — the last range is not half
/// sent yet (the queue still holds enough; the next call looks again).
pub async fn continue_fan_out(
    db: &DatabaseConnection,
    open: &fan_outs::Model,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
    ranges: Ranges,
    paced: bool,
) -> Result<Option<Made>, sea_orm::DbErr> {
    if !may_send(db, open.mailing_id).await? {
        return Ok(None);
    }
    // The first range is small, so the second one follows it at once; from then on the
    // queue holds between half a range and a range and a half.
    if paced && open.ranges > 1 {
        // Counted up to the half, through the unique index: never more rows than that.
        let half = Ord::max(ranges.size / 2, 1);
        let span = (open.last_from, Some(open.done_through));
        let waiting = range_ids(db, open.mailing_id, open.occurrence_at, span, Some(half)).await?;
        if waiting.len() as u64 >= half {
            return Ok(None);
        }
    }
    let txn = db.begin().await?;
    // The row first, only if it still says what was read: of two workers, one makes the
    // range, and the other finds nothing to do once the first commits. (Written before
    // anything is read, so SQLite takes its write lock now — waiting for it — instead of
    // failing to upgrade a read.)
    let ours = || {
        fan_outs::Column::MailingId
            .eq(open.mailing_id)
            .and(fan_outs::Column::OccurrenceAt.eq(open.occurrence_at))
            .and(fan_outs::Column::DoneThrough.eq(open.done_through))
    };
    let taken = fan_outs::Entity::update_many()
        .col_expr(fan_outs::Column::Ranges, (open.ranges + 1).into())
        .filter(ours())
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    let through =
        nth_recipient_after(&txn, open.mailing_id, open.done_through, ranges.size).await?;
    match through {
        Some(through) => {
            fan_outs::Entity::update_many()
                .col_expr(fan_outs::Column::DoneThrough, through.into())
                .col_expr(fan_outs::Column::LastFrom, open.done_through.into())
                .filter(ours())
                .exec(&txn)
                .await?;
        }
        None => {
            fan_outs::Entity::delete_many()
                .filter(ours())
                .exec(&txn)
                .await?;
        }
    }
    let held = held_until(now, std::time::Duration::ZERO, lease);
    let span = Span {
        after: open.done_through,
        through,
        // Fresh statistics now and then as the table grows (see `insert_range`).
        analyze: (open.ranges + 1).count_ones() == 1,
    };
    insert_range(
        &txn,
        open.mailing_id,
        open.occurrence_at,
        (now, held),
        domain,
        span,
    )
    .await?;
    txn.commit().await?;
    let span = (open.done_through, through);
    let ids = range_ids(db, open.mailing_id, open.occurrence_at, span, None).await?;
    Ok(Some(Made {
        ids,
        last: through.is_none(),
    }))
}

/// Whether `mailing_id`'s deliveries may go out now: it is enabled and its owner active.
async fn may_send<C: ConnectionTrait>(db: &C, mailing_id: i32) -> Result<bool, sea_orm::DbErr> {
    let found = mailing::Entity::find()
        .filter(mailing::Column::Id.eq(mailing_id))
        .filter(sending_mailings())
        .count(db)
        .await?;
    Ok(found == 1)
}

/// The mailings that may send now, as a condition on `mailings`: enabled, and their owner
/// active.
fn sending_mailings() -> Condition {
    let active = Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::IsActive.eq(true))
        .to_owned();
    Condition::all()
        .add(mailing::Column::IsEnabled.eq(true))
        .add(Expr::col(mailing::Column::OwnerId).in_subquery(active))
}

/// The id of the `n`-th recipient of `mailing_id` after client `after`, in id order — of
/// those picked by hand and of those tagged, whichever comes first — or `None` when
/// neither has `n` more: the range up to it holds `n` to `2n` recipients. Read from the
/// mailing's own lists (their indexes), not from the clients.
async fn nth_recipient_after<C: ConnectionTrait>(
    db: &C,
    mailing_id: i32,
    after: i32,
    n: u64,
) -> Result<Option<i32>, sea_orm::DbErr> {
    // No database counts that far (OFFSET is a signed 64-bit number): all of them.
    if n > i64::MAX as u64 {
        return Ok(None);
    }
    let nth = |mut query: SelectStatement, (table, column): (DynIden, DynIden)| {
        query
            .and_where(Expr::col((table.clone(), column.clone())).gt(after))
            .order_by((table, column), Order::Asc)
            .offset(n.saturating_sub(1))
            .limit(1);
        query
    };
    let picked = nth(
        picked_clients()
            .and_where(
                Expr::col((mailing_client::Entity, mailing_client::Column::MailingId))
                    .eq(mailing_id),
            )
            .to_owned(),
        (
            mailing_client::Entity.into_iden(),
            mailing_client::Column::ClientId.into_iden(),
        ),
    );
    let tagged = nth(
        tagged_clients()
            .distinct()
            .and_where(
                Expr::col((mailing_tag::Entity, mailing_tag::Column::MailingId)).eq(mailing_id),
            )
            .to_owned(),
        (
            client_tag::Entity.into_iden(),
            client_tag::Column::ClientId.into_iden(),
        ),
    );
    let first = |row: Option<sea_orm::QueryResult>| -> Result<Option<i32>, sea_orm::DbErr> {
        row.map(|row| row.try_get_by_index::<i32>(0)).transpose()
    };
    let picked = first(db.query_one(&picked).await?)?;
    let tagged = first(db.query_one(&tagged).await?)?;
    Ok(match (picked, tagged) {
        (Some(a), Some(b)) => Some(Ord::min(a, b)),
        (one, other) => one.or(other),
    })
}

/// The time zone of `owner` (`users.timezone`), in which their mailings' occurrences keep
/// their wall-clock time; UTC for an owner gone or a zone the tz database no longer has.
pub async fn owner_zone<C: ConnectionTrait>(db: &C, owner: i32) -> Result<Tz, sea_orm::DbErr> {
    let name: Option<String> = user::Entity::find_by_id(owner)
        .select_only()
        .column(user::Column::Timezone)
        .into_tuple()
        .one(db)
        .await?;
    Ok(name.map_or(Tz::UTC, |name| crate::timezone::zone_or_utc(&name)))
}

/// `SELECT client_id` of the clients picked by hand for mailings (every mailing's: narrow
/// it with a condition on `mailing_clients.mailing_id`).
pub fn picked_clients() -> SelectStatement {
    Query::select()
        .column((mailing_client::Entity, mailing_client::Column::ClientId))
        .from(mailing_client::Entity)
        .to_owned()
}

/// `SELECT client_id` of the clients carrying a tag that mailings target (every
/// mailing's: narrow it with a condition on `mailing_tags.mailing_id`).
pub fn tagged_clients() -> SelectStatement {
    Query::select()
        .column((client_tag::Entity, client_tag::Column::ClientId))
        .from(client_tag::Entity)
        .inner_join(
            mailing_tag::Entity,
            Expr::col((mailing_tag::Entity, mailing_tag::Column::TagId))
                .equals((client_tag::Entity, client_tag::Column::TagId)),
        )
        .to_owned()
}

/// The clients an occurrence of `mailing_id` goes to, as a condition on `clients`: those
/// picked by hand and those carrying any of the mailing's tags — resolved when it runs, so
/// a client tagged since the mailing was made is in — and only its owner's.
pub fn recipients(mailing_id: i32) -> SimpleExpr {
    recipients_between(mailing_id, 0, None)
}

/// [`recipients`] with a client id in (`after`, `through`] (`None`: no end). The
/// sub-queries are narrowed to the range too, so a range reads only its own part of the
/// mailing's lists.
fn recipients_between(mailing_id: i32, after: i32, through: Option<i32>) -> SimpleExpr {
    let within = |query: &mut SelectStatement, column: (DynIden, DynIden)| {
        query.and_where(Expr::col(column.clone()).gt(after));
        if let Some(through) = through {
            query.and_where(Expr::col(column).lte(through));
        }
    };
    let id = || Expr::col((client::Entity, client::Column::Id));
    let mut picked = picked_clients()
        .and_where(
            Expr::col((mailing_client::Entity, mailing_client::Column::MailingId)).eq(mailing_id),
        )
        .to_owned();
    within(
        &mut picked,
        (
            mailing_client::Entity.into_iden(),
            mailing_client::Column::ClientId.into_iden(),
        ),
    );
    let mut tagged = tagged_clients()
        .and_where(Expr::col((mailing_tag::Entity, mailing_tag::Column::MailingId)).eq(mailing_id))
        .to_owned();
    within(
        &mut tagged,
        (
            client_tag::Entity.into_iden(),
            client_tag::Column::ClientId.into_iden(),
        ),
    );
    let owner = Query::select()
        .column(mailing::Column::OwnerId)
        .from(mailing::Entity)
        .and_where(Expr::col(mailing::Column::Id).eq(mailing_id))
        .to_owned();
    let mut condition = id()
        .in_subquery(picked)
        .or(id().in_subquery(tagged))
        .and(Expr::col((client::Entity, client::Column::OwnerId)).in_subquery(owner))
        .and(id().gt(after));
    if let Some(through) = through {
        condition = condition.and(id().lte(through));
    }
    condition
}

/// How many clients an occurrence of `mailing_id` would go to now.
pub async fn recipient_count<C: ConnectionTrait>(
    db: &C,
    mailing_id: i32,
) -> Result<u64, sea_orm::DbErr> {
    client::Entity::find()
        .filter(recipients(mailing_id))
        .count(db)
        .await
}

/// One pending delivery per recipient of the mailing ([`recipients`]) for `occurrence`
/// (existing ones stay: a repeat adds nothing), held until `held` for the job that will
/// send it: the tick's sweep leaves it alone until then (see [`hold`](super::hold)).
/// One `INSERT … SELECT`, however many recipients.
pub async fn insert_deliveries<C: ConnectionTrait>(
    db: &C,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
    domain: &str,
    held: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let whole = Span {
        after: 0,
        through: None,
        analyze: true,
    };
    insert_range(db, mailing_id, occurrence, (now, held), domain, whole).await
}

/// The clients a range of a fan-out takes: ids in (`after`, `through`] (`None`: no end).
#[derive(Debug, Clone, Copy)]
struct Span {
    after: i32,
    through: Option<i32>,
    /// Whether to refresh PostgreSQL's statistics after a large insert (see below).
    analyze: bool,
}

/// [`insert_deliveries`] for the recipients in `span`.
async fn insert_range<C: ConnectionTrait>(
    db: &C,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
    (now, held): (DateTime<Utc>, DateTime<Utc>),
    domain: &str,
    span: Span,
) -> Result<(), sea_orm::DbErr> {
    // `message_id_header` in SQL: the same text as `message_id_header()`. (Not
    // `Expr::cust_with_values`: on SQLite its `$1` would be the statement's first value.)
    let concat = BinOper::Custom("||");
    let message_id = Expr::val(format!("<m{mailing_id}.c"))
        .binary(
            concat,
            Expr::col((client::Entity, client::Column::Id)).cast_as("TEXT"),
        )
        .binary(
            concat,
            Expr::val(format!(".o{}@{domain}>", occurrence.timestamp())),
        );
    let rows = Query::select()
        .expr(Expr::val(mailing_id))
        .column((client::Entity, client::Column::Id))
        .expr(Expr::val(occurrence))
        .expr(Expr::val(DeliveryStatus::Pending.as_str()))
        .expr(Expr::val(0))
        .expr(Expr::val(held))
        .expr(message_id)
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from(client::Entity)
        .and_where(recipients_between(mailing_id, span.after, span.through))
        .to_owned();
    let insert = Query::insert()
        .into_table(delivery::Entity)
        .columns([
            delivery::Column::MailingId,
            delivery::Column::ClientId,
            delivery::Column::OccurrenceAt,
            delivery::Column::Status,
            delivery::Column::Tries,
            delivery::Column::NextTryAt,
            delivery::Column::MessageIdHeader,
            delivery::Column::CreatedAt,
            delivery::Column::UpdatedAt,
        ])
        .select_from(rows)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([
                delivery::Column::MailingId,
                delivery::Column::ClientId,
                delivery::Column::OccurrenceAt,
            ])
            .do_nothing()
            .to_owned(),
        )
        .to_owned();
    let inserted = db.execute(&insert).await?.rows_affected();
    // PostgreSQL plans the claims from its statistics, which still say "hardly anything
    // is pending" right after a large fan-out (autoanalyze comes a minute later, if at
    // all): it then intersects each claim's few primary keys with the whole pending part
    // of the status index, a millisecond per claim. Fresh statistics fix the plan (after a
    // fan-out's first range, and as its ranges go on after the 2nd, 4th, 8th…).
    if span.analyze && inserted >= ANALYZE_AFTER && db.get_database_backend() == DbBackend::Postgres
    {
        db.execute_unprepared("ANALYZE deliveries").await?;
    }
    Ok(())
}

/// Deliveries inserted at once from which PostgreSQL's statistics are refreshed.
const ANALYZE_AFTER: u64 = 1_000;

/// The pending deliveries of `occurrence` (all of them).
pub async fn pending_ids(
    db: &DatabaseConnection,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    range_ids(db, mailing_id, occurrence, (0, None), None).await
}

/// The pending deliveries of `occurrence` to the clients in (`after`, `through`] (`None`:
/// no end), at most `limit` of them if given, through the (mailing, client, occurrence)
/// index.
async fn range_ids(
    db: &DatabaseConnection,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
    (after, through): (i32, Option<i32>),
    limit: Option<u64>,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .filter(delivery::Column::ClientId.gt(after))
        .filter(delivery::Column::OccurrenceAt.eq(occurrence))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending));
    if let Some(through) = through {
        query = query.filter(delivery::Column::ClientId.lte(through));
    }
    query.limit(limit).into_tuple().all(db).await
}

/// Every enabled mailing of an active owner whose next occurrence is due. A blocked
/// owner's mailings wait: unblocked, the next tick takes their due occurrence.
pub async fn due_mailings(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<mailing::Model>, sea_orm::DbErr> {
    mailing::Entity::find()
        .filter(sending_mailings())
        .filter(mailing::Column::NextRunAt.lte(now))
        .all(db)
        .await
}

/// When the next occurrence of an enabled mailing falls due after `now`, if any (the
/// worker's ticker wakes then). One already due — its owner blocked — is not waited for.
pub async fn next_due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    let due: Option<Option<DateTime<Utc>>> = mailing::Entity::find()
        .select_only()
        .column_as(mailing::Column::NextRunAt.min(), "due")
        .filter(mailing::Column::IsEnabled.eq(true))
        .filter(mailing::Column::NextRunAt.gt(now))
        .into_tuple()
        .one(db)
        .await?;
    Ok(due.flatten())
}

/// Fans out every due mailing completely (see [`fan_out`]). Returns the ids of the
/// pending deliveries of the occurrences it took.
pub async fn fan_out_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let mut ids = Vec::new();
    for mailing in due_mailings(db, now).await? {
        ids.extend(fan_out(db, &mailing, now, domain, lease).await?);
    }
    Ok(ids)
}

/// Starts the fan-out of every due mailing (a scheduler tick, after `settle_statuses`):
/// the first range of each ([`start`]); the rest follows in [`continue_fan_out`]. Returns
/// the ids of the pending deliveries it made.
pub async fn start_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
    ranges: Ranges,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let mut ids = Vec::new();
    for mailing in due_mailings(db, now).await? {
        ids.extend(start(db, &mailing, now, domain, lease, ranges).await?);
    }
    Ok(ids)
}

/// Status follows the clock and the work: started mailings are running; ended ones, and
/// those with no occurrence to come and no delivery left to try, finished. Returns
/// how many mailings changed status (the caller clears the home page's cache when any did).
pub async fn settle_statuses(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let finished = mailing::Entity::update_many()
        .col_expr(
            mailing::Column::Status,
            MailingStatus::Finished.as_str().into(),
        )
        .col_expr(
            mailing::Column::NextRunAt,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(mailing::Column::EndAt.lte(now))
        .filter(mailing::Column::Status.ne(MailingStatus::Finished))
        .exec(db)
        .await?;
    let started = mailing::Entity::update_many()
        .col_expr(
            mailing::Column::Status,
            MailingStatus::Running.as_str().into(),
        )
        .filter(mailing::Column::StartAt.lte(now))
        .filter(mailing::Column::EndAt.gt(now))
        .filter(mailing::Column::Status.eq(MailingStatus::Created))
        .exec(db)
        .await?;
    // Nothing left to send: no occurrence to come (a once-mailing that fanned out, a
    // periodic one whose next occurrence would fall after its end) and no delivery left to
    // try (pending, or stopped and waiting to be resumed).
    let done = {
        let left = Query::select()
            .expr(Expr::val(1))
            .from(delivery::Entity)
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::MailingId))
                    .equals((mailing::Entity, mailing::Column::Id)),
            )
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::Status)).is_in([
                    DeliveryStatus::Pending.as_str(),
                    DeliveryStatus::Cancelled.as_str(),
                ]),
            )
            .to_owned();
        // Nor a range of a fan-out still to make (between two ranges nothing may be
        // pending: all of the last one skipped as suppressed, say).
        let to_make = Query::select()
            .expr(Expr::val(1))
            .from(fan_outs::Entity)
            .and_where(
                Expr::col((fan_outs::Entity, fan_outs::Column::MailingId))
                    .equals((mailing::Entity, mailing::Column::Id)),
            )
            .to_owned();
        mailing::Entity::update_many()
            .col_expr(
                mailing::Column::Status,
                MailingStatus::Finished.as_str().into(),
            )
            .filter(mailing::Column::Status.eq(MailingStatus::Running))
            .filter(mailing::Column::NextRunAt.is_null())
            .filter(Expr::exists(left).not())
            .filter(Expr::exists(to_make).not())
            .exec(db)
            .await?
    };
    Ok(finished.rows_affected + started.rows_affected + done.rows_affected)
}
