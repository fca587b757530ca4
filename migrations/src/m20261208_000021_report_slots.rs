use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;
use crate::m20261125_000003_messages::Messages;
use crate::m20261125_000004_mailings::Mailings;
use crate::m20261125_000010_report_indexes::{self as report_days, ReportDays};
use crate::m20261206_000011_delivery_write_path::first_try_by_index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000021_report_slots"
    }
}

/// The attempt log summed per (mailing, message, UTC quarter-hour) instead of per UTC day,
/// so that a report can count the days of any time zone exactly: every zone's offset is a
/// whole number of quarter-hours (Asia/Kolkata +05:30, Asia/Kathmandu +05:45), so each
/// quarter-hour lies inside one local day, and a local day (23 or 25 hours on a DST day
/// too) is a run of whole slots. Rows exist only for slots with attempts: a mailing that
/// sends for ten minutes makes one or two rows.
///
/// The trigger keeps its shape: one statement-level `INSERT … ON CONFLICT` on PostgreSQL,
/// an insert-if-missing and an update per row on SQLite. `up` fills the new roll-up from
/// the attempt log (the source of truth) and drops `report_days`; `down` makes
/// `report_days` and its trigger again from the log.
#[derive(DeriveIden)]
pub enum ReportSlots {
    Table,
    Id,
    OwnerId,
    MailingId,
    MessageId,
    /// Quarter-hours since 1970-01-01T00:00Z: the slot `s` is [900·s, 900·s + 900) in
    /// Unix seconds. A number compares and groups the same way on both backends.
    Slot,
    Attempts,
    Successes,
    FirstTries,
    LastAttemptAt,
}

/// Seconds in a slot.
pub const SLOT_SECONDS: i64 = 900;

/// The slot of a timestamp column, in each dialect.
fn slot(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("CAST(floor(EXTRACT(EPOCH FROM {column}) / {SLOT_SECONDS}) AS bigint)")
        }
        _ => format!("CAST(strftime('%s', {column}) AS INTEGER) / {SLOT_SECONDS}"),
    }
}

fn success(a: &str) -> String {
    format!("CASE WHEN {a}.status = 'success' THEN 1 ELSE 0 END")
}

const COLUMNS: &str = "owner_id, mailing_id, message_id, slot, attempts, successes, \
     first_tries, last_attempt_at";

/// The whole log with `first_try` (1 for the first try of a delivery, or an attempt with no
/// delivery): one sort by delivery, where the trigger's per-row count through the index
/// would probe once per attempt. The same answer: the trigger counts the delivery's
/// earlier rows by id, and so does the numbering.
const LOG_WITH_FIRST_TRIES: &str = "(SELECT a.*, CASE WHEN a.delivery_id IS NULL OR \
     ROW_NUMBER() OVER (PARTITION BY a.delivery_id ORDER BY a.id) = 1 THEN 1 ELSE 0 END \
     AS first_try FROM attempts a)";

/// Adds the attempts of `source` (as `n`) to the roll-up; `first` is the first-try test of
/// `n`, `upsert` adds to rows that exist (the trigger) instead of making them (the fill).
fn add_rows(backend: DbBackend, source: &str, first: &str, upsert: bool) -> String {
    format!(
        "INSERT INTO report_slots ({COLUMNS}) \
         SELECT n.owner_id, n.mailing_id, n.message_id, {slot}, COUNT(*), SUM({success}), \
         SUM({first}), MAX(n.attempted_at) FROM {source} n WHERE true \
         GROUP BY n.owner_id, n.mailing_id, n.message_id, {slot} {conflict}",
        slot = slot(backend, "n.attempted_at"),
        success = success("n"),
        conflict = if upsert {
            "ON CONFLICT (mailing_id, message_id, slot) DO UPDATE SET \
             attempts = report_slots.attempts + excluded.attempts, \
             successes = report_slots.successes + excluded.successes, \
             first_tries = report_slots.first_tries + excluded.first_tries, \
             last_attempt_at = GREATEST(report_slots.last_attempt_at, excluded.last_attempt_at)"
        } else {
            ""
        },
    )
}

/// The statement that fills the roll-up from the whole attempt log.
fn fill(backend: DbBackend) -> String {
    add_rows(backend, LOG_WITH_FIRST_TRIES, "n.first_try", false)
}

/// The trigger, as `report_days` had it (see `report_indexes` and `delivery_write_path`
/// for why each part is so): on PostgreSQL once per statement over its new rows, its
/// first-try count only by the `(delivery_id, id)` index; on SQLite a row trigger that
/// updates in place, without `ON CONFLICT`.
fn trigger_sql(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION report_slots_count() RETURNS trigger LANGUAGE plpgsql \
                 SET enable_seqscan = off AS $$ BEGIN {}; RETURN NULL; END $$",
                add_rows(
                    DbBackend::Postgres,
                    "new_attempts",
                    &first_try_by_index("n"),
                    true
                )
            ),
            "CREATE TRIGGER attempts_report_slots AFTER INSERT ON attempts \
             REFERENCING NEW TABLE AS new_attempts \
             FOR EACH STATEMENT EXECUTE FUNCTION report_slots_count()"
                .to_owned(),
        ],
        _ => {
            let slot = slot(backend, "NEW.attempted_at");
            let row = format!(
                "mailing_id = NEW.mailing_id AND message_id IS NEW.message_id AND slot = {slot}"
            );
            vec![format!(
                "CREATE TRIGGER attempts_report_slots AFTER INSERT ON attempts BEGIN \
                 INSERT INTO report_slots ({COLUMNS}) SELECT NEW.owner_id, NEW.mailing_id, \
                 NEW.message_id, {slot}, 0, 0, 0, NEW.attempted_at \
                 WHERE NOT EXISTS (SELECT 1 FROM report_slots WHERE {row}); \
                 UPDATE report_slots SET attempts = attempts + 1, \
                 successes = successes + {success}, first_tries = first_tries + {first}, \
                 last_attempt_at = MAX(last_attempt_at, NEW.attempted_at) WHERE {row}; END",
                success = success("NEW"),
                first = report_days::first_try("NEW"),
            )]
        }
    }
}

/// Drops the trigger named `name` on `attempts` (and its function `function` on PostgreSQL).
async fn drop_trigger(
    manager: &SchemaManager<'_>,
    name: &str,
    function: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("DROP TRIGGER {name} ON attempts"))
            .await?;
        db.execute_unprepared(&format!("DROP FUNCTION {function}()"))
            .await?;
    } else {
        db.execute_unprepared(&format!("DROP TRIGGER {name}"))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too (PostgreSQL's default): an attempt written while
    /// the triggers change places is counted by exactly one of them, and a failure halfway
    /// leaves the old roll-up as it was.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportSlots::Table)
                    .col(big_pk_auto(ReportSlots::Id))
                    .col(integer(ReportSlots::OwnerId))
                    .col(integer(ReportSlots::MailingId))
                    .col(integer_null(ReportSlots::MessageId))
                    .col(big_integer(ReportSlots::Slot))
                    .col(integer(ReportSlots::Attempts).default(0))
                    .col(integer(ReportSlots::Successes).default(0))
                    // Deliveries whose first try was in this slot.
                    .col(integer(ReportSlots::FirstTries).default(0))
                    .col(timestamp_with_time_zone(ReportSlots::LastAttemptAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_report_slots_owner")
                            .from(ReportSlots::Table, ReportSlots::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_report_slots_mailing")
                            .from(ReportSlots::Table, ReportSlots::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        // Like attempts.message_id: the numbers stay when a message goes.
                        ForeignKey::create()
                            .name("fk_report_slots_message")
                            .from(ReportSlots::Table, ReportSlots::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_report_slots_mailing_message_slot")
                    .table(ReportSlots::Table)
                    .col(ReportSlots::MailingId)
                    .col(ReportSlots::MessageId)
                    .col(ReportSlots::Slot)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The reports page: one user's slots in a range.
        manager
            .create_index(index(ReportSlots::Table, &["owner_id", "slot"]))
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // The old trigger goes first, so no attempt is counted in neither or both.
        drop_trigger(manager, "attempts_report_days", "report_days_count").await?;
        db.execute_unprepared(&fill(backend)).await?;
        for sql in trigger_sql(backend) {
            db.execute_unprepared(&sql).await?;
        }
        manager
            .drop_table(Table::drop().table(ReportDays::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(report_days::table()).await?;
        for index in report_days::indexes() {
            manager.create_index(index).await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        drop_trigger(manager, "attempts_report_slots", "report_slots_count").await?;
        db.execute_unprepared(&report_days::add_rows(
            backend,
            LOG_WITH_FIRST_TRIES,
            false,
            "n.first_try",
        ))
        .await?;
        let triggers = if backend == DbBackend::Postgres {
            // As `delivery_write_path` left it.
            vec![
                report_days::count_function(&first_try_by_index("n")),
                "ALTER FUNCTION report_days_count() SET enable_seqscan = off".to_owned(),
                "CREATE TRIGGER attempts_report_days AFTER INSERT ON attempts \
                 REFERENCING NEW TABLE AS new_attempts \
                 FOR EACH STATEMENT EXECUTE FUNCTION report_days_count()"
                    .to_owned(),
            ]
        } else {
            report_days::trigger_sql(backend)
        };
        for sql in triggers {
            db.execute_unprepared(&sql).await?;
        }
        manager
            .drop_table(Table::drop().table(ReportSlots::Table).to_owned())
            .await
    }
}
