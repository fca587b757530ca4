//! `mailer seed-attempts`: a large, realistic attempt log for one user, to measure the
//! reports on PostgreSQL. Mailings, messages and clients are made through the entities;
//! deliveries and attempts by `generate_series` in two statements each, so a million
//! attempts take seconds, not hours. The seeded mailings are disabled and have no next run:
//! the scheduler never mails the invented clients.
//!
//! The log it writes: `count` attempts over the last `days` days, spread over `mailings`
//! mailings (one message each). One delivery in five fails once (451) and succeeds on its
//! retry, one in fifty fails for good (550), the rest succeed at the first try.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{NaiveTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, Set, Statement};

use crate::entities::mailing::{self, MailingStatus, Periodicity};
use crate::entities::message;

#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub count: u64,
    pub days: u32,
    pub mailings: u32,
}

#[derive(Debug, Clone)]
pub struct Seeded {
    pub attempts: u64,
    pub deliveries: u64,
    pub clients: u64,
    pub mailing_ids: Vec<i32>,
    pub took: Duration,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded {} attempts ({} deliveries to {} clients, {} mailings) in {:.1} s",
            self.attempts,
            self.deliveries,
            self.clients,
            self.mailing_ids.len(),
            self.took.as_secs_f64()
        )
    }
}

async fn exec(db: &DatabaseConnection, sql: String) -> anyhow::Result<u64> {
    Ok(db
        .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .rows_affected())
}

/// Adds `plan.count` attempts to `owner`'s log (PostgreSQL only).
pub async fn seed_attempts(
    db: &DatabaseConnection,
    owner: i32,
    plan: SeedPlan,
) -> anyhow::Result<Seeded> {
    if db.get_database_backend() != DbBackend::Postgres {
        bail!("seed-attempts writes PostgreSQL SQL: set DATABASE_URL to a PostgreSQL database");
    }
    if plan.count == 0 || plan.days == 0 || plan.mailings == 0 {
        bail!("count, days and mailings must be at least 1");
    }
    let started = Instant::now();
    let now = Utc::now();
    let first_day = now.date_naive() - chrono::Days::new(u64::from(plan.days) - 1);
    let start = first_day.and_time(NaiveTime::MIN).and_utc();
    // Five deliveries in six get one try, the sixth share of the tries are retries.
    let deliveries = (plan.count * 5).div_ceil(6);
    let retries = plan.count - deliveries;
    let mailings = u64::from(plan.mailings);
    let clients = deliveries.div_ceil(mailings * u64::from(plan.days)).max(1);
    let tag = now.timestamp_micros();

    let mut mailing_ids = Vec::new();
    for n in 1..=plan.mailings {
        let msg = message::ActiveModel {
            owner_id: Set(owner),
            subject: Set(format!("Seeded message {n}")),
            body: Set("Seeded for the reports benchmark.".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let m = mailing::ActiveModel {
            owner_id: Set(owner),
            name: Set(format!("Seeded mailing {}", mailing_ids.len() + 1)),
            message_id: Set(msg.id),
            start_at: Set(start),
            end_at: Set(now),
            periodicity: Set(Periodicity::Daily),
            status: Set(MailingStatus::Finished),
            is_enabled: Set(false),
            next_run_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        mailing_ids.push(m.id);
    }
    let ids = mailing_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");

    exec(
        db,
        format!(
            "INSERT INTO clients (owner_id, email, full_name, comment, created_at, updated_at) \
             SELECT {owner}, 'seed{tag}-' || i || '@example.invalid', 'Seeded client ' || i, '', \
             now(), now() FROM generate_series(1, {clients}) i"
        ),
    )
    .await?;
    // Delivery k: mailing k mod M, then client and day from k div M; the first `retries`
    // deliveries with k mod 5 = 0 need a second try, k mod 50 = 1 fails for good.
    exec(
        db,
        format!(
            "WITH m AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM mailings \
             WHERE id IN ({ids})), \
             c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM clients \
             WHERE owner_id = {owner} AND email LIKE 'seed{tag}-%') \
             INSERT INTO deliveries (mailing_id, client_id, occurrence_at, status, tries, \
             message_id_header, last_error, sent_at, created_at, updated_at) \
             SELECT m.id, c.id, at, \
             CASE WHEN k % 50 = 1 THEN 'failed' ELSE 'sent' END, \
             CASE WHEN k % 5 = 0 AND k / 5 < {retries} THEN 2 ELSE 1 END, \
             '<seed' || k || '.{tag}@example.invalid>', \
             CASE WHEN k % 50 = 1 THEN '550 5.1.1 No such user' END, \
             CASE WHEN k % 50 = 1 THEN NULL ELSE at END, at, at \
             FROM (SELECT k, k % {mailings} AS mi, (k / {mailings}) % {clients} AS ci, \
             timestamptz '{start}' + ((k / {mailings}) / {clients}) * interval '1 day' \
             + interval '9 hours' + ((k / {mailings}) % {clients}) * interval '1 second' AS at \
             FROM generate_series(0::bigint, {last}::bigint) k) g \
             JOIN m ON m.n = g.mi JOIN c ON c.n = g.ci",
            start = start.to_rfc3339(),
            last = deliveries - 1,
        ),
    )
    .await?;
    let from_deliveries = format!(
        "FROM deliveries d JOIN mailings m ON m.id = d.mailing_id \
         JOIN clients c ON c.id = d.client_id WHERE d.mailing_id IN ({ids})"
    );
    // First tries, then the retries (the report trigger tells them apart by order).
    let mut attempts = exec(
        db,
        format!(
            "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, delivery_id, \
             recipient, occurrence_at, attempted_at, status, smtp_code, response) \
             SELECT {owner}, d.mailing_id, m.message_id, d.client_id, d.id, c.email, \
             d.occurrence_at, d.occurrence_at, \
             CASE WHEN d.tries = 2 OR d.status = 'failed' THEN 'failure' ELSE 'success' END, \
             CASE WHEN d.tries = 2 THEN 451 WHEN d.status = 'failed' THEN 550 ELSE 250 END, \
             CASE WHEN d.tries = 2 THEN '451 4.7.1 Try again later' \
             WHEN d.status = 'failed' THEN '550 5.1.1 No such user' \
             ELSE '250 2.0.0 Ok: queued as ' || d.id END \
             {from_deliveries} ORDER BY d.id"
        ),
    )
    .await?;
    attempts += exec(
        db,
        format!(
            "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, delivery_id, \
             recipient, occurrence_at, attempted_at, status, smtp_code, response) \
             SELECT {owner}, d.mailing_id, m.message_id, d.client_id, d.id, c.email, \
             d.occurrence_at, d.occurrence_at + interval '10 minutes', 'success', 250, \
             '250 2.0.0 Ok: queued as ' || d.id || '-2' \
             {from_deliveries} AND d.tries = 2 ORDER BY d.id"
        ),
    )
    .await?;
    // Fresh statistics and visibility maps, as autovacuum would leave them.
    for table in ["attempts", "deliveries", "report_slots"] {
        exec(db, format!("VACUUM ANALYZE {table}")).await?;
    }
    Ok(Seeded {
        attempts,
        deliveries,
        clients,
        mailing_ids,
        took: started.elapsed(),
    })
}

/// The user named by `email`, for the command line.
pub async fn owner_id(db: &DatabaseConnection, email: &str) -> anyhow::Result<i32> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let user = crate::entities::user::Entity::find()
        .filter(crate::entities::user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?
        .with_context(|| {
            format!("no user {email}: register, or run `mailer createsuperuser --email {email}`")
        })?;
    Ok(user.id)
}
