//! Occurrence fan-out: a due mailing is claimed (its `next_run_at` moved on in the same
//! statement that checks it, so two workers never both take it), and one delivery row per
//! recipient — hand-picked, or carrying one of its tags at that moment — is inserted for
//! the occurrence; UNIQUE (mailing, client, occurrence) makes a repeat harmless. Both
//! happen in one transaction: a crash loses neither.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{
    BinOper, Expr, ExprTrait, OnConflict, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};

use super::hold::held_until;
use super::schedule::{latest_due, next_after};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::mailing::{self, MailingStatus};
use crate::entities::{client, client_tag, mailing_client, mailing_tag, user};

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
/// [`hold`](super::hold)). Returns the ids of its deliveries still pending.
pub async fn fan_out(
    db: &DatabaseConnection,
    mailing: &mailing::Model,
    now: DateTime<Utc>,
    domain: &str,
    lease: chrono::Duration,
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
    let held = held_until(now, std::time::Duration::ZERO, lease);
    insert_deliveries(&txn, mailing.id, occurrence, now, domain, held).await?;
    txn.commit().await?;
    pending_ids(db, mailing.id, occurrence).await
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
    let id = || Expr::col((client::Entity, client::Column::Id));
    let picked = picked_clients()
        .and_where(
            Expr::col((mailing_client::Entity, mailing_client::Column::MailingId)).eq(mailing_id),
        )
        .to_owned();
    let tagged = tagged_clients()
        .and_where(Expr::col((mailing_tag::Entity, mailing_tag::Column::MailingId)).eq(mailing_id))
        .to_owned();
    let owner = Query::select()
        .column(mailing::Column::OwnerId)
        .from(mailing::Entity)
        .and_where(Expr::col(mailing::Column::Id).eq(mailing_id))
        .to_owned();
    id().in_subquery(picked)
        .or(id().in_subquery(tagged))
        .and(Expr::col((client::Entity, client::Column::OwnerId)).in_subquery(owner))
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
        .and_where(recipients(mailing_id))
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
    // of the status index, a millisecond per claim. Fresh statistics fix the plan.
    if inserted >= ANALYZE_AFTER && db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("ANALYZE deliveries").await?;
    }
    Ok(())
}

/// Deliveries inserted at once from which PostgreSQL's statistics are refreshed.
const ANALYZE_AFTER: u64 = 1_000;

pub async fn pending_ids(
    db: &DatabaseConnection,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .filter(delivery::Column::OccurrenceAt.eq(occurrence))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .into_tuple()
        .all(db)
        .await
}

/// Every enabled mailing of an active owner whose next occurrence is due. A blocked
/// owner's mailings wait: unblocked, the next tick takes their due occurrence.
pub async fn due_mailings(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<mailing::Model>, sea_orm::DbErr> {
    mailing::Entity::find()
        .filter(mailing::Column::IsEnabled.eq(true))
        .filter(
            Expr::col(mailing::Column::OwnerId).in_subquery(
                Query::select()
                    .column(crate::entities::user::Column::Id)
                    .from(crate::entities::user::Entity)
                    .and_where(crate::entities::user::Column::IsActive.eq(true))
                    .to_owned(),
            ),
        )
        .filter(mailing::Column::NextRunAt.lte(now))
        .all(db)
        .await
}

/// Fans out every due mailing (a scheduler tick, after `settle_statuses`). Returns the
/// ids of the pending deliveries of the occurrences it took.
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
        mailing::Entity::update_many()
            .col_expr(
                mailing::Column::Status,
                MailingStatus::Finished.as_str().into(),
            )
            .filter(mailing::Column::Status.eq(MailingStatus::Running))
            .filter(mailing::Column::NextRunAt.is_null())
            .filter(Expr::exists(left).not())
            .exec(db)
            .await?
    };
    Ok(finished.rows_affected + started.rows_affected + done.rows_affected)
}
