//! Reports over one user's attempt log: per mailing and per message, per day, and the
//! dashboard's lists. Every query takes the owner and filters by it in the query itself.
//!
//! The sums come from `report_slots`, the log rolled up per (mailing, message, UTC
//! quarter-hour) by a trigger on `attempts`, so a report reads one row per mailing and
//! quarter-hour it sent in, however many attempts there are; only "last attempt and its
//! reply" goes back to `attempts`, through the (mailing_id, attempted_at) index, one row per
//! mailing. Days are the viewer's: the range is whole local days (see [`DateRange`]) and
//! each slot counts on the local day it starts in, which holds it whole, since every zone's
//! offset is a whole number of quarter-hours.
//!
//! What the figures mean (the page says the same):
//! - attempts: tries made in the range;
//! - successes / failures: tries the server accepted / refused or that failed to connect;
//! - deliveries: e-mails (one client, one occurrence) whose first try was in the range;
//! - retries: tries in the range that were not the first of their delivery
//!   (attempts − deliveries);
//! - success rate: successes ÷ attempts.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, FromQueryResult, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::chart::{Day, Said};
use super::range::{DateRange, ReportQuery};
use crate::entities::attempt::{self, AttemptStatus};
use crate::entities::feedback::{self, Kind};
use crate::entities::{mailing, message, report_slot};
use crate::error::AppError;
use crate::mailings::service as mailings;
use crate::spreadsheet::CsvTable;

/// The figures of one row of a report (or of the whole range).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub attempts: u64,
    pub deliveries: u64,
    pub successes: u64,
    pub failures: u64,
    pub retries: u64,
    /// Successes ÷ attempts, 0–100; None without attempts.
    pub success_rate: Option<f64>,
    pub last: Option<LastAttempt>,
    /// Unsubscribes, bounces and complaints recorded in the range.
    pub said: Said,
}

impl Figures {
    fn add(&mut self, g: &Group) {
        self.attempts += g.attempts;
        self.successes += g.successes;
        self.deliveries += g.first_tries;
        self.failures = self.attempts - self.successes;
        self.retries = self.attempts.saturating_sub(self.deliveries);
        self.success_rate =
            (self.attempts > 0).then(|| self.successes as f64 * 100.0 / self.attempts as f64);
    }

    /// The rate as the page and the CSV print it.
    pub fn rate_text(&self) -> String {
        self.success_rate
            .map(|r| format!("{r:.1} %"))
            .unwrap_or_else(|| "—".into())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LastAttempt {
    pub at: DateTime<Utc>,
    pub status: AttemptStatus,
    pub reply: String,
}

/// One line of the table: a mailing or a message.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: Option<i32>,
    pub name: String,
    /// Where the name links to: the mailing's page (its report), or the message.
    pub link: Option<String>,
    pub figures: Figures,
    pub rate: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub range: DateRange,
    pub rows: Vec<Row>,
    pub total: Figures,
    pub total_rate: String,
    /// Every day of the range, zeros included.
    pub days: Vec<Day>,
}

/// Sums of one (mailing, message) over the range.
#[derive(Debug, Clone)]
struct Group {
    mailing_id: i32,
    message_id: Option<i32>,
    attempts: u64,
    successes: u64,
    first_tries: u64,
    last_at: DateTime<Utc>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn in_range(owner: i32, range: &DateRange) -> Condition {
    let (first, end) = range.slots();
    Condition::all()
        .add(report_slot::Column::OwnerId.eq(owner))
        .add(report_slot::Column::Slot.gte(first))
        .add(report_slot::Column::Slot.lt(end))
}

/// One row of the per-(mailing, message) sums, as the database returns it.
#[derive(Debug, FromQueryResult)]
struct GroupRow {
    mailing_id: i32,
    message_id: Option<i32>,
    attempts: i64,
    successes: i64,
    first_tries: i64,
    last_at: DateTime<Utc>,
}

async fn groups(
    db: &DatabaseConnection,
    owner: i32,
    range: &DateRange,
) -> Result<Vec<Group>, AppError> {
    let rows = report_slot::Entity::find()
        .select_only()
        .column(report_slot::Column::MailingId)
        .column(report_slot::Column::MessageId)
        .column_as(Expr::col(report_slot::Column::Attempts).sum(), "attempts")
        .column_as(Expr::col(report_slot::Column::Successes).sum(), "successes")
        .column_as(
            Expr::col(report_slot::Column::FirstTries).sum(),
            "first_tries",
        )
        .column_as(
            Expr::col(report_slot::Column::LastAttemptAt).max(),
            "last_at",
        )
        .filter(in_range(owner, range))
        .group_by(report_slot::Column::MailingId)
        .group_by(report_slot::Column::MessageId)
        .into_model::<GroupRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Group {
            mailing_id: r.mailing_id,
            message_id: r.message_id,
            attempts: count(r.attempts),
            successes: count(r.successes),
            first_tries: count(r.first_tries),
            last_at: r.last_at,
        })
        .collect())
}

/// Successes and failures per day (of the range's zone), every day of the range.
async fn days(
    db: &DatabaseConnection,
    owner: i32,
    range: &DateRange,
) -> Result<Vec<Day>, AppError> {
    let rows = report_slot::per_slot(db, in_range(owner, range)).await?;
    let mut by_day: HashMap<NaiveDate, (u64, u64)> = HashMap::new();
    for (slot, attempts, successes) in rows {
        let day = by_day
            .entry(range.day_of(report_slot::slot_start(slot)))
            .or_default();
        day.0 += count(attempts);
        day.1 += count(successes);
    }
    Ok(range
        .days()
        .map(|day| {
            let (attempts, successes) = by_day.get(&day).copied().unwrap_or((0, 0));
            Day {
                day,
                successes,
                failures: attempts.saturating_sub(successes),
                said: Said::default(),
            }
        })
        .collect())
}

/// One event of the feedback log in the range: which mailing and message it answers, what
/// it was, and its day.
struct Heard {
    mailing_id: Option<i32>,
    message_id: Option<i32>,
    said: Said,
    day: NaiveDate,
}

/// A feedback row as read: mailing, message, kind, when.
type HeardRow = (Option<i32>, Option<i32>, Kind, DateTime<Utc>);

/// The feedback log of `owner` in `range` (unsubscribes, bounces, complaints; a
/// resubscribe counts nowhere). Few rows next to the attempts: read as they are.
async fn heard(
    db: &DatabaseConnection,
    owner: i32,
    range: &DateRange,
) -> Result<Vec<Heard>, AppError> {
    let rows: Vec<HeardRow> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::MailingId)
        .column(feedback::Column::MessageId)
        .column(feedback::Column::Kind)
        .column(feedback::Column::CreatedAt)
        .filter(feedback::Column::OwnerId.eq(owner))
        .filter(feedback::Column::CreatedAt.gte(range.start()))
        .filter(feedback::Column::CreatedAt.lt(range.end()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(mailing_id, message_id, kind, at)| {
            let mut said = Said::default();
            match kind {
                Kind::Unsubscribed => said.unsubscribes = 1,
                Kind::Bounced | Kind::SoftBounced => said.bounces = 1,
                Kind::Complained => said.complaints = 1,
                Kind::Resubscribed => return None,
            }
            Some(Heard {
                mailing_id,
                message_id,
                said,
                day: range.day_of(at),
            })
        })
        .collect())
}

/// The attempts at each group's last instant, through the (mailing_id, attempted_at) index.
async fn last_attempts(
    db: &DatabaseConnection,
    owner: i32,
    groups: &[Group],
) -> Result<Vec<attempt::Model>, AppError> {
    let mut found = Vec::new();
    // A bounded OR per query: SQLite limits the depth of an expression.
    for chunk in groups.chunks(100) {
        let mut any = Condition::any();
        for g in chunk {
            any = any.add(
                Condition::all()
                    .add(attempt::Column::MailingId.eq(g.mailing_id))
                    .add(attempt::Column::AttemptedAt.eq(g.last_at)),
            );
        }
        found.extend(
            attempt::Entity::find()
                .filter(attempt::Column::OwnerId.eq(owner))
                .filter(any)
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// The latest of `groups`' attempts among `attempts` (ties go to the later row).
fn latest<'a>(
    groups: impl Iterator<Item = &'a Group>,
    attempts: &[attempt::Model],
) -> Option<LastAttempt> {
    let mut keys: Vec<(i32, Option<i32>, DateTime<Utc>)> = groups
        .map(|g| (g.mailing_id, g.message_id, g.last_at))
        .collect();
    keys.sort_by_key(|k| k.2);
    let newest = keys.last()?.2;
    attempts
        .iter()
        .filter(|a| {
            keys.iter().any(|k| {
                k.2 == newest && a.mailing_id == k.0 && a.message_id == k.1 && a.attempted_at == k.2
            })
        })
        .max_by_key(|a| a.id)
        .map(|a| LastAttempt {
            at: a.attempted_at,
            status: a.status,
            reply: a.shown_reply().unwrap_or_default(),
        })
}

/// The report of `owner` over `range`: one row per mailing (or per message, as the query
/// asks), sorted as asked, with totals and the days for the chart.
pub async fn report(
    db: &DatabaseConnection,
    owner: i32,
    range: DateRange,
    query: &ReportQuery,
) -> Result<Report, AppError> {
    let (groups, mut days, heard) = tokio::try_join!(
        groups(db, owner, &range),
        days(db, owner, &range),
        heard(db, owner, &range)
    )?;
    let attempts = last_attempts(db, owner, &groups).await?;

    let mut total = Figures::default();
    for g in &groups {
        total.add(g);
    }
    total.last = latest(groups.iter(), &attempts);
    for h in &heard {
        total.said.add(&h.said);
        // `days` holds every day of the range in order: the offset finds the day.
        let offset = usize::try_from((h.day - range.from).num_days()).ok();
        if let Some(d) = offset.and_then(|i| days.get_mut(i)) {
            d.said.add(&h.said);
        }
    }

    let mut rows = if query.by_message() {
        message_rows(db, owner, &groups, &attempts, &heard).await?
    } else {
        mailing_rows(db, owner, &groups, &attempts, &heard).await?
    };
    sort_rows(&mut rows, &query.sort, query.descending());
    Ok(Report {
        range,
        rows,
        total_rate: total.rate_text(),
        total,
        days,
    })
}

fn row(
    id: Option<i32>,
    name: String,
    link: Option<String>,
    (groups, heard): (&[&Group], &[&Heard]),
    attempts: &[attempt::Model],
) -> Row {
    let mut figures = Figures::default();
    for g in groups {
        figures.add(g);
    }
    for h in heard {
        figures.said.add(&h.said);
    }
    figures.last = latest(groups.iter().copied(), attempts);
    Row {
        id,
        name,
        link,
        rate: figures.rate_text(),
        figures,
    }
}

async fn subjects(
    db: &DatabaseConnection,
    owner: i32,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, AppError> {
    Ok(message::Entity::find()
        .filter(message::Column::OwnerId.eq(owner))
        .filter(message::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.subject))
        .collect())
}

/// A row's attempt groups and feedback.
type Parts<'a> = (Vec<&'a Group>, Vec<&'a Heard>);

async fn mailing_rows(
    db: &DatabaseConnection,
    owner: i32,
    groups: &[Group],
    attempts: &[attempt::Model],
    heard: &[Heard],
) -> Result<Vec<Row>, AppError> {
    let mut by_mailing: BTreeMap<i32, Parts<'_>> = BTreeMap::new();
    for g in groups {
        by_mailing.entry(g.mailing_id).or_default().0.push(g);
    }
    for h in heard {
        if let Some(id) = h.mailing_id {
            by_mailing.entry(id).or_default().1.push(h);
        }
    }
    let found = mailings::owned(owner)
        .filter(mailing::Column::Id.is_in(by_mailing.keys().copied()))
        .all(db)
        .await?;
    let name_of: HashMap<i32, String> = found.into_iter().map(|m| (m.id, m.name)).collect();
    Ok(by_mailing
        .into_iter()
        .map(|(id, (groups, heard))| {
            let name = name_of.get(&id).cloned().unwrap_or_default();
            row(
                Some(id),
                if name.is_empty() {
                    format!("#{id}")
                } else {
                    name
                },
                Some(format!("/mailings/{id}#report-title")),
                (&groups, &heard),
                attempts,
            )
        })
        .collect())
}

async fn message_rows(
    db: &DatabaseConnection,
    owner: i32,
    groups: &[Group],
    attempts: &[attempt::Model],
    heard: &[Heard],
) -> Result<Vec<Row>, AppError> {
    let mut by_message: BTreeMap<Option<i32>, Parts<'_>> = BTreeMap::new();
    for g in groups {
        by_message.entry(g.message_id).or_default().0.push(g);
    }
    for h in heard.iter().filter(|h| h.mailing_id.is_some()) {
        by_message.entry(h.message_id).or_default().1.push(h);
    }
    let subjects = subjects(db, owner, by_message.keys().flatten().copied()).await?;
    Ok(by_message
        .into_iter()
        .map(|(id, (groups, heard))| {
            let name = id
                .and_then(|id| subjects.get(&id).cloned())
                .unwrap_or_else(|| "(deleted message)".into());
            let link = id
                .filter(|id| subjects.contains_key(id))
                .map(|id| format!("/messages/{id}"));
            row(id, name, link, (&groups, &heard), attempts)
        })
        .collect())
}

/// The sort keys of the table; anything else sorts by last attempt, newest first.
pub const SORT_KEYS: [&str; 10] = [
    "name",
    "deliveries",
    "successes",
    "failures",
    "rate",
    "retries",
    "last",
    "unsubscribes",
    "bounces",
    "complaints",
];

fn sort_rows(rows: &mut [Row], key: &str, descending: bool) {
    let by = |a: &Row, b: &Row| -> Ordering {
        let (fa, fb) = (&a.figures, &b.figures);
        match key {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "deliveries" => fa.deliveries.cmp(&fb.deliveries),
            "successes" => fa.successes.cmp(&fb.successes),
            "failures" => fa.failures.cmp(&fb.failures),
            "retries" => fa.retries.cmp(&fb.retries),
            "unsubscribes" => fa.said.unsubscribes.cmp(&fb.said.unsubscribes),
            "bounces" => fa.said.bounces.cmp(&fb.said.bounces),
            "complaints" => fa.said.complaints.cmp(&fb.said.complaints),
            "rate" => fa
                .success_rate
                .partial_cmp(&fb.success_rate)
                .unwrap_or(Ordering::Equal),
            _ => fa
                .last
                .as_ref()
                .map(|l| l.at)
                .cmp(&fb.last.as_ref().map(|l| l.at)),
        }
    };
    let default = !SORT_KEYS.contains(&key);
    rows.sort_by(|a, b| {
        let o = by(a, b).then_with(|| a.id.cmp(&b.id));
        if descending || default {
            o.reverse()
        } else {
            o
        }
    });
}

/// The table as CSV: the columns and rows the page shows, in its order, times written as
/// the page writes them (in the viewer's zone `tz`, the zone named).
pub fn csv(report: &Report, by_message: bool, tz: chrono_tz::Tz) -> Result<Vec<u8>, AppError> {
    let mut table = CsvTable::new(&[
        if by_message { "Message" } else { "Mailing" },
        "Deliveries",
        "Successes",
        "Failures",
        "Success rate",
        "Retries",
        "Unsubscribes",
        "Bounces",
        "Complaints",
        "Last attempt",
        "Last status",
        "Last reply",
    ])?;
    for r in &report.rows {
        let f = &r.figures;
        let last = f.last.as_ref();
        table.row([
            r.name.clone(),
            f.deliveries.to_string(),
            f.successes.to_string(),
            f.failures.to_string(),
            r.rate.clone(),
            f.retries.to_string(),
            f.said.unsubscribes.to_string(),
            f.said.bounces.to_string(),
            f.said.complaints.to_string(),
            last.map(|l| crate::timezone::format_datetime(l.at, tz, crate::i18n::Lang::En))
                .unwrap_or_default(),
            last.map(|l| l.status.as_str().to_owned())
                .unwrap_or_default(),
            last.map(|l| crate::i18n::english(&l.reply))
                .unwrap_or_default(),
        ])?;
    }
    Ok(table.into_bytes()?)
}

/// Mailings of `owner` per status, by the clock (as the mailings list filters them).
pub async fn status_counts(
    db: &DatabaseConnection,
    owner: i32,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, &'static str, u64)>, AppError> {
    let mut counts = Vec::new();
    for (key, label) in [
        ("created", "Created"),
        ("running", "Running"),
        ("finished", "Finished"),
        ("disabled", "Disabled"),
    ] {
        let n = mailings::with_status(mailings::owned(owner), key, now)
            .count(db)
            .await?;
        counts.push((key, label, n));
    }
    Ok(counts)
}

/// An upcoming send: the mailing, its message's subject, and when.
#[derive(Debug, Clone, Serialize)]
pub struct NextSend {
    pub mailing_id: i32,
    /// The mailing's name.
    pub name: String,
    pub subject: String,
    pub at: DateTime<Utc>,
}

/// The next `limit` scheduled sends of enabled mailings, soonest first.
pub async fn next_sends(
    db: &DatabaseConnection,
    owner: i32,
    limit: u64,
) -> Result<Vec<NextSend>, AppError> {
    let found = mailings::owned(owner)
        .filter(mailing::Column::IsEnabled.eq(true))
        .filter(mailing::Column::NextRunAt.is_not_null())
        .order_by(mailing::Column::NextRunAt, Order::Asc)
        .order_by(mailing::Column::Id, Order::Asc)
        .limit(limit)
        .all(db)
        .await?;
    let subjects = subjects(db, owner, found.iter().map(|m| m.message_id)).await?;
    Ok(found
        .into_iter()
        .filter_map(|m| {
            Some(NextSend {
                mailing_id: m.id,
                name: m.name.clone(),
                subject: subjects.get(&m.message_id).cloned().unwrap_or_default(),
                at: m.next_run_at?,
            })
        })
        .collect())
}

/// The names of the owner's mailings among `ids`.
pub async fn mailing_names(
    db: &DatabaseConnection,
    owner: i32,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, AppError> {
    Ok(mailings::owned(owner)
        .filter(mailing::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect())
}

/// The latest `limit` failed attempts of `owner`, newest first.
pub async fn recent_failures(
    db: &DatabaseConnection,
    owner: i32,
    limit: u64,
) -> Result<Vec<attempt::Model>, AppError> {
    Ok(recent_failures_query(owner, limit).all(db).await?)
}

/// [`recent_failures`]' query, read from the partial index of the log's failures, whose
/// condition it states as written there (see [`migration::ATTEMPT_FAILURES`]).
pub fn recent_failures_query(owner: i32, limit: u64) -> sea_orm::Select<attempt::Entity> {
    attempt::Entity::find()
        .filter(attempt::Column::OwnerId.eq(owner))
        .filter(Expr::cust(migration::ATTEMPT_FAILURES))
        .order_by(attempt::Column::AttemptedAt, Order::Desc)
        .order_by(attempt::Column::Id, Order::Desc)
        .limit(limit)
}
