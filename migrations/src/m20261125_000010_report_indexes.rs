use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;
use crate::m20261125_000003_messages::Messages;
use crate::m20261125_000004_mailings::Mailings;
use crate::m20261125_000006_attempts::Attempts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000010_report_indexes"
    }
}

/// The attempt log summed per (mailing, message, UTC day). A trigger on `attempts` keeps it
/// up to date in the same transaction as each insert, so the reports read a few hundred
/// rows instead of millions of attempts, whatever code writes the log.
#[derive(DeriveIden)]
pub enum ReportDays {
    Table,
    Id,
    OwnerId,
    MailingId,
    MessageId,
    Day,
    Attempts,
    Successes,
    FirstTries,
    LastAttemptAt,
}

/// 1 when the attempt `a` is the first try of its delivery (or has no delivery), else 0.
/// A count through the `delivery_id` index: PostgreSQL would turn `MIN(id)` into a walk
/// of the primary key and `NOT EXISTS` into a hash over the whole log.
pub(crate) fn first_try(a: &str) -> String {
    format!(
        "CASE WHEN {a}.delivery_id IS NULL OR (SELECT COUNT(*) FROM attempts p \
         WHERE p.delivery_id = {a}.delivery_id AND p.id < {a}.id) = 0 THEN 1 ELSE 0 END"
    )
}

fn success(a: &str) -> String {
    format!("CASE WHEN {a}.status = 'success' THEN 1 ELSE 0 END")
}

/// The UTC calendar day of a timestamp, in each dialect.
fn utc_day(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(({column} AT TIME ZONE 'UTC') AS date)"),
        _ => format!("date({column})"),
    }
}

const COLUMNS: &str = "owner_id, mailing_id, message_id, day, attempts, successes, first_tries, \
     last_attempt_at";

/// PostgreSQL's upsert of a grouped batch into the roll-up.
const ON_CONFLICT: &str = "ON CONFLICT (mailing_id, message_id, day) DO UPDATE SET \
     attempts = report_days.attempts + excluded.attempts, \
     successes = report_days.successes + excluded.successes, \
     first_tries = report_days.first_tries + excluded.first_tries, \
     last_attempt_at = GREATEST(report_days.last_attempt_at, excluded.last_attempt_at)";

/// Adds the attempts of `source` (the whole log, or a statement's new rows) to the roll-up.
/// `first` is the first-try test of the attempt `n`.
pub(crate) fn add_rows(backend: DbBackend, source: &str, upsert: bool, first: &str) -> String {
    format!(
        "INSERT INTO report_days ({COLUMNS}) \
         SELECT n.owner_id, n.mailing_id, n.message_id, {day}, COUNT(*), SUM({success}), \
         SUM({first}), MAX(n.attempted_at) FROM {source} n WHERE true \
         GROUP BY n.owner_id, n.mailing_id, n.message_id, {day} {conflict}",
        day = utc_day(backend, "n.attempted_at"),
        success = success("n"),
        conflict = if upsert { ON_CONFLICT } else { "" },
    )
}

/// PostgreSQL's trigger function: adds a statement's new attempts to the roll-up, `first`
/// telling the first tries among them (the attempt is `n`).
pub(crate) fn count_function(first: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION report_days_count() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN {}; RETURN NULL; END $$",
        add_rows(DbBackend::Postgres, "new_attempts", true, first)
    )
}

/// PostgreSQL: once per statement over its new rows, so a bulk load is one grouped upsert
/// (a row trigger would update the same roll-up row once per attempt in one transaction,
/// and each update walks the chain of the earlier ones). SQLite has only row triggers and
/// updates rows in place, so a row trigger stays cheap there; it avoids `ON CONFLICT`, whose
/// target SQLite checks against the schema a pooled connection cached before this
/// migration added the unique index (and there is one writer, so nothing can race).
pub(crate) fn trigger_sql(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => vec![
            count_function(&first_try("n")),
            "CREATE TRIGGER attempts_report_days AFTER INSERT ON attempts \
             REFERENCING NEW TABLE AS new_attempts \
             FOR EACH STATEMENT EXECUTE FUNCTION report_days_count()"
                .to_owned(),
        ],
        _ => {
            let day = utc_day(backend, "NEW.attempted_at");
            let row = format!(
                "mailing_id = NEW.mailing_id AND message_id IS NEW.message_id AND day = {day}"
            );
            vec![format!(
                "CREATE TRIGGER attempts_report_days AFTER INSERT ON attempts BEGIN \
                 INSERT INTO report_days ({COLUMNS}) SELECT NEW.owner_id, NEW.mailing_id, \
                 NEW.message_id, {day}, 0, 0, 0, NEW.attempted_at \
                 WHERE NOT EXISTS (SELECT 1 FROM report_days WHERE {row}); \
                 UPDATE report_days SET attempts = attempts + 1, \
                 successes = successes + {success}, first_tries = first_tries + {first}, \
                 last_attempt_at = MAX(last_attempt_at, NEW.attempted_at) WHERE {row}; END",
                success = success("NEW"),
                first = first_try("NEW"),
            )]
        }
    }
}

/// The roll-up table, as this migration makes it (a later one drops it, and makes it again
/// on its way down).
pub(crate) fn table() -> TableCreateStatement {
    Table::create()
        .table(ReportDays::Table)
        .col(big_pk_auto(ReportDays::Id))
        .col(integer(ReportDays::OwnerId))
        .col(integer(ReportDays::MailingId))
        .col(integer_null(ReportDays::MessageId))
        .col(date(ReportDays::Day))
        .col(integer(ReportDays::Attempts).default(0))
        .col(integer(ReportDays::Successes).default(0))
        // Deliveries whose first try was on this day.
        .col(integer(ReportDays::FirstTries).default(0))
        .col(timestamp_with_time_zone(ReportDays::LastAttemptAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_report_days_owner")
                .from(ReportDays::Table, ReportDays::OwnerId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_report_days_mailing")
                .from(ReportDays::Table, ReportDays::MailingId)
                .to(Mailings::Table, Mailings::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            // Like attempts.message_id: the numbers stay when a message goes.
            ForeignKey::create()
                .name("fk_report_days_message")
                .from(ReportDays::Table, ReportDays::MessageId)
                .to(Messages::Table, Messages::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

/// The roll-up's indexes: one row per (mailing, message, day), and the reports page's
/// question, one user's days in a range.
pub(crate) fn indexes() -> [IndexCreateStatement; 2] {
    [
        Index::create()
            .name("uq_report_days_mailing_message_day")
            .table(ReportDays::Table)
            .col(ReportDays::MailingId)
            .col(ReportDays::MessageId)
            .col(ReportDays::Day)
            .unique()
            .to_owned(),
        index(ReportDays::Table, &["owner_id", "day"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table()).await?;
        for index in indexes() {
            manager.create_index(index).await?;
        }
        // The dashboard: a user's latest failures.
        manager
            .create_index(index(
                Attempts::Table,
                &["owner_id", "status", "attempted_at"],
            ))
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // The log written so far, then the trigger for what comes.
        db.execute_unprepared(&add_rows(backend, "attempts", false, &first_try("n")))
            .await?;
        for sql in trigger_sql(backend) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP TRIGGER IF EXISTS attempts_report_days ON attempts")
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS report_days_count()")
                .await?;
        } else {
            db.execute_unprepared("DROP TRIGGER IF EXISTS attempts_report_days")
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_attempts_owner_id_status_attempted_at")
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ReportDays::Table).to_owned())
            .await
    }
}
