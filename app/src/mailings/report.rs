//! What a mailing did: delivery progress, the attempt log summed up, per client and per
//! day, and the log as CSV. Only ever called with a mailing the caller owns.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::entities::attempt;
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::report_slot;
use crate::error::AppError;
use crate::paging::{PER_PAGE, Paginated, paginate_sized};
use crate::reports::chart::Day;
use crate::spreadsheet::CsvTable;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Progress {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    /// Stopped before they went out (the mailing disabled, or its owner blocked): they go
    /// out once it is enabled again.
    pub cancelled: u64,
    /// Not sent because the address is suppressed (unsubscribed, bounced, complained).
    pub skipped: u64,
    pub total: u64,
    /// Share of deliveries settled (sent or failed), 0–100.
    pub percent: u64,
}

pub async fn progress(db: &DatabaseConnection, mailing_id: i32) -> Result<Progress, AppError> {
    let counts: Vec<(DeliveryStatus, i64)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "n")
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .group_by(delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut p = Progress::default();
    for (status, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        match status {
            DeliveryStatus::Pending => p.pending = n,
            DeliveryStatus::Sent => p.sent = n,
            DeliveryStatus::Failed => p.failed = n,
            DeliveryStatus::Cancelled => p.cancelled = n,
            DeliveryStatus::Skipped => p.skipped = n,
        }
    }
    p.total = p.pending + p.sent + p.failed + p.cancelled + p.skipped;
    p.percent = ((p.sent + p.failed + p.skipped) * 100)
        .checked_div(p.total)
        .unwrap_or(100);
    Ok(p)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub attempts: u64,
    pub successes: u64,
    pub failures: u64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_reply: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRow {
    pub recipient: String,
    pub successes: u64,
    pub failures: u64,
    pub last_attempt_at: DateTime<Utc>,
    pub last_status: String,
    pub last_reply: String,
}

/// The report of a mailing: totals, one page of the per-client table, attempts per day.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub summary: Summary,
    pub clients: Paginated<ClientRow>,
    pub days: Vec<Day>,
}

/// How many days a mailing's chart shows: the latest ones with attempts.
const CHART_DAYS: usize = 30;

impl Report {
    /// The chart of the latest days with attempts, as SVG markup.
    pub fn chart_svg(&self, say: &crate::reports::chart::Say<'_>) -> String {
        let days = &self.days[self.days.len().saturating_sub(CHART_DAYS)..];
        crate::reports::chart::chart_svg(days, say)
    }
}

/// The report of the mailing `mailing_id`, its days those of the zone `tz` (the viewer's).
pub async fn report(
    db: &DatabaseConnection,
    cache: &Cache,
    mailing_id: i32,
    page: u64,
    tz: Tz,
) -> Result<Report, AppError> {
    let of_mailing = || attempt::Entity::find().filter(attempt::Column::MailingId.eq(mailing_id));
    // Totals and days from the roll-up the trigger keeps (a row per quarter-hour the mailing
    // sent in), so the page costs the same with a million attempts as with ten.
    let mut summary = Summary::default();
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    let slots = report_slot::per_slot(
        db,
        Condition::all().add(report_slot::Column::MailingId.eq(mailing_id)),
    )
    .await?;
    for (slot, attempts, successes) in slots {
        let attempts = u64::try_from(attempts).unwrap_or(0);
        let successes = u64::try_from(successes).unwrap_or(0);
        summary.attempts += attempts;
        summary.successes += successes;
        let day = days
            .entry(
                report_slot::slot_start(slot)
                    .with_timezone(&tz)
                    .date_naive(),
            )
            .or_default();
        day.0 += successes;
        day.1 += attempts.saturating_sub(successes);
    }
    summary.failures = summary.attempts.saturating_sub(summary.successes);
    let mut version = None;
    if let Some(last) = of_mailing()
        .order_by(attempt::Column::AttemptedAt, Order::Desc)
        .order_by(attempt::Column::Id, Order::Desc)
        .one(db)
        .await?
    {
        summary.last_attempt_at = Some(last.attempted_at);
        summary.last_reply = last.shown_reply();
        version = Some(format!("{}.{}", summary.attempts, last.id));
    }
    let table = match version {
        None => RecipientTable::default(),
        Some(version) => {
            let key = format!("mailing-report:{mailing_id}:{page}:{version}");
            match cached_table(cache, &key).await {
                Some(table) => table,
                None => {
                    let table = recipient_table(db, mailing_id, page).await?;
                    store_table(cache, &key, &table).await;
                    table
                }
            }
        }
    };
    let pages = table.total.div_ceil(PER_PAGE).max(1);
    Ok(Report {
        summary,
        clients: Paginated {
            items: table.items,
            page: page.clamp(1, pages),
            pages,
            total: table.total,
            per_page: PER_PAGE,
        },
        days: days
            .into_iter()
            .map(|(day, (successes, failures))| Day {
                day,
                successes,
                failures,
                said: Default::default(),
            })
            .collect(),
    })
}

/// One page of the per-recipient table and how many recipients it has in all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RecipientTable {
    total: u64,
    items: Vec<ClientRow>,
}

/// How long a computed table is kept. Its key names the attempt log's version, so a
/// kept table is never out of date; this only bounds the memory of pages nobody reopens.
const TABLE_TTL: Duration = Duration::from_secs(600);

/// The table kept under `key`, if any (a failing cache counts as a miss).
async fn cached_table(cache: &Cache, key: &str) -> Option<RecipientTable> {
    let raw = cache.get(key).await.ok()??;
    serde_json::from_str(&raw).ok()
}

async fn store_table(cache: &Cache, key: &str, table: &RecipientTable) {
    if let Ok(json) = serde_json::to_string(table)
        && let Err(e) = cache.set(key, &json, Some(TABLE_TTL)).await
    {
        tracing::debug!(error = %format!("{e:#}"), "mailing report not cached");
    }
}

/// One page of the per-recipient table, counted and grouped over the whole attempt log of
/// the mailing: the costly part of the report, so `report` keeps it under the log's
/// version. Attempts are only ever added (never changed; deleted only with their
/// mailing), and each one adds to the `report_slots` sum in the same transaction, so the
/// sum of attempts with the newest attempt's id names the log's content.
async fn recipient_table(
    db: &DatabaseConnection,
    mailing_id: i32,
    page: u64,
) -> Result<RecipientTable, AppError> {
    let of_mailing = || attempt::Entity::find().filter(attempt::Column::MailingId.eq(mailing_id));
    let total: i64 = of_mailing()
        .select_only()
        .column_as(
            sea_orm::sea_query::ExprTrait::count_distinct(Expr::col(attempt::Column::Recipient)),
            "n",
        )
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or(0);
    let total = u64::try_from(total).unwrap_or(0);
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let counts: Vec<(String, i64, i64)> = of_mailing()
        .select_only()
        .column(attempt::Column::Recipient)
        .column_as(
            Expr::cust("SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END)"),
            "successes",
        )
        .column_as(attempt::Column::Id.count(), "attempts")
        .group_by(attempt::Column::Recipient)
        .order_by(attempt::Column::Recipient, Order::Asc)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .into_tuple()
        .all(db)
        .await?;
    // The newest attempt of each recipient on the page: its time, status and reply.
    let mut latest: BTreeMap<String, attempt::Model> = BTreeMap::new();
    for a in of_mailing()
        .filter(attempt::Column::Recipient.is_in(counts.iter().map(|(r, _, _)| r.clone())))
        .order_by(attempt::Column::AttemptedAt, Order::Asc)
        .order_by(attempt::Column::Id, Order::Asc)
        .all(db)
        .await?
    {
        latest.insert(a.recipient.clone(), a);
    }
    let items = counts
        .into_iter()
        .filter_map(|(recipient, successes, attempts)| {
            let last = latest.remove(&recipient)?;
            let successes = u64::try_from(successes).unwrap_or(0);
            Some(ClientRow {
                recipient,
                successes,
                failures: u64::try_from(attempts)
                    .unwrap_or(0)
                    .saturating_sub(successes),
                last_attempt_at: last.attempted_at,
                last_status: last.status.as_str().to_owned(),
                last_reply: last.shown_reply().unwrap_or_default(),
            })
        })
        .collect();
    Ok(RecipientTable { total, items })
}

/// One page of the mailing's attempts, newest first.
pub async fn attempts_page(
    db: &DatabaseConnection,
    mailing_id: i32,
    page: u64,
    per_page: u64,
) -> Result<Paginated<attempt::Model>, AppError> {
    let select = attempt::Entity::find()
        .filter(attempt::Column::MailingId.eq(mailing_id))
        .order_by(attempt::Column::AttemptedAt, Order::Desc)
        .order_by(attempt::Column::Id, Order::Desc);
    Ok(paginate_sized(db, select, page, per_page).await?)
}

/// Every attempt of the mailing as CSV, oldest first.
pub async fn attempts_csv(db: &DatabaseConnection, mailing_id: i32) -> Result<Vec<u8>, AppError> {
    let rows = attempt::Entity::find()
        .filter(attempt::Column::MailingId.eq(mailing_id))
        .order_by(attempt::Column::AttemptedAt, Order::Asc)
        .order_by(attempt::Column::Id, Order::Asc)
        .all(db)
        .await?;
    let mut table = CsvTable::new(&[
        "attempted_at",
        "recipient",
        "occurrence_at",
        "status",
        "smtp_code",
        "response",
    ])?;
    for a in rows {
        table.row([
            a.attempted_at.to_rfc3339(),
            a.recipient,
            a.occurrence_at.to_rfc3339(),
            a.status.as_str().to_owned(),
            a.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
            a.response.unwrap_or_default(),
        ])?;
    }
    Ok(table.into_bytes()?)
}
