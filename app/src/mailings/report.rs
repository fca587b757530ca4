//! What a mailing did: delivery progress, the attempt log summed up, per client and per
//! day, and the log as CSV. Only ever called with a mailing the caller owns.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::entities::attempt::{self, AttemptStatus};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::reports::chart::Day;
use crate::web::AppError;
use crate::web::list::{PER_PAGE, Paginated, paginate_sized};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Progress {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
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
        }
    }
    p.total = p.pending + p.sent + p.failed;
    p.percent = ((p.sent + p.failed) * 100)
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

#[derive(Debug, Clone, Serialize)]
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

pub async fn report(
    db: &DatabaseConnection,
    mailing_id: i32,
    page: u64,
) -> Result<Report, AppError> {
    // One pass over the log (newest first) builds every view of it.
    let rows = attempt::Entity::find()
        .filter(attempt::Column::MailingId.eq(mailing_id))
        .order_by(attempt::Column::AttemptedAt, Order::Desc)
        .order_by(attempt::Column::Id, Order::Desc)
        .all(db)
        .await?;
    let mut summary = Summary {
        attempts: rows.len() as u64,
        last_attempt_at: rows.first().map(|a| a.attempted_at),
        last_reply: rows.first().and_then(|a| a.response.clone()),
        ..Summary::default()
    };
    let mut clients: BTreeMap<String, ClientRow> = BTreeMap::new();
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    for a in &rows {
        let success = a.status == AttemptStatus::Success;
        if success {
            summary.successes += 1;
        } else {
            summary.failures += 1;
        }
        let day = days.entry(a.attempted_at.date_naive()).or_default();
        if success {
            day.0 += 1
        } else {
            day.1 += 1
        }
        let row = clients
            .entry(a.recipient.clone())
            .or_insert_with(|| ClientRow {
                recipient: a.recipient.clone(),
                successes: 0,
                failures: 0,
                last_attempt_at: a.attempted_at,
                last_status: a.status.as_str().to_owned(),
                last_reply: a.response.clone().unwrap_or_default(),
            });
        if success {
            row.successes += 1
        } else {
            row.failures += 1
        }
    }
    let total = clients.len() as u64;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let items: Vec<ClientRow> = clients
        .into_values()
        .skip(((page - 1) * PER_PAGE) as usize)
        .take(PER_PAGE as usize)
        .collect();
    Ok(Report {
        summary,
        clients: Paginated {
            items,
            page,
            pages,
            total,
            per_page: PER_PAGE,
        },
        days: days
            .into_iter()
            .map(|(day, (successes, failures))| Day {
                day,
                successes,
                failures,
            })
            .collect(),
    })
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
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "attempted_at",
            "recipient",
            "occurrence_at",
            "status",
            "smtp_code",
            "response",
        ])
        .map_err(anyhow::Error::from)?;
    for a in rows {
        writer
            .write_record([
                a.attempted_at.to_rfc3339(),
                a.recipient,
                a.occurrence_at.to_rfc3339(),
                a.status.as_str().to_owned(),
                a.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
                a.response.unwrap_or_default(),
            ])
            .map_err(anyhow::Error::from)?;
    }
    Ok(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}
