use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::index;
use crate::m20261125_000006_attempts::Attempts;
use crate::m20261125_000010_report_indexes::{count_function, first_try};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_delivery_write_path"
    }
}

/// Cheaper writes for every delivery: a claim, a state change and an attempt row each.
///
/// - The roll-up trigger asks, for every new attempt, whether its delivery was tried
///   before. PostgreSQL keeps the plan of that query for as long as a connection lives;
///   planned while `attempts` looked empty (a new install, or statistics taken then) it
///   walked the whole log once per new row — by a sequential scan, or by the primary key
///   for `id < i` — so a big first mailing got slower with every attempt. Now the question
///   is `delivery_id = d AND (delivery_id, id) < (d, i)`, which only an index on
///   `(delivery_id, id)` can answer, and the function may not scan sequentially: the
///   index is the one plan left, whatever the statistics say.
/// - PostgreSQL: `deliveries` pages are filled to half, so a claim (which changes no
///   indexed column) is a HOT update that writes no index entry, and the row's later
///   versions stay on its page.
/// - PostgreSQL: `attempts.owner_id` loses its foreign key, a lookup and row lock of the
///   user per attempt: the mailing's foreign key already removes the log with the mailing,
///   and the mailing goes with its owner.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(Attempts::Table, &["delivery_id", "id"]))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_attempts_delivery_id")
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            for sql in [
                &count_function(&first_try_by_index("n")),
                "ALTER FUNCTION report_days_count() SET enable_seqscan = off",
                "ALTER TABLE deliveries SET (fillfactor = 50)",
                "ALTER TABLE attempts DROP CONSTRAINT fk_attempts_owner",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            for sql in [
                "ALTER TABLE attempts ADD CONSTRAINT fk_attempts_owner FOREIGN KEY (owner_id) \
                 REFERENCES users (id) ON DELETE CASCADE",
                "ALTER TABLE deliveries RESET (fillfactor)",
                "ALTER FUNCTION report_days_count() RESET enable_seqscan",
                &count_function(&first_try("n")),
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        manager
            .create_index(index(Attempts::Table, &["delivery_id"]))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_attempts_delivery_id_id")
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await
    }
}

/// 1 when the attempt `a` is the first try of its delivery (or has no delivery), else 0;
/// every condition on the earlier tries needs the `(delivery_id, id)` index.
pub(crate) fn first_try_by_index(a: &str) -> String {
    format!(
        "CASE WHEN {a}.delivery_id IS NULL OR (SELECT COUNT(*) FROM attempts p \
         WHERE p.delivery_id = {a}.delivery_id \
         AND (p.delivery_id, p.id) < ({a}.delivery_id, {a}.id)) = 0 THEN 1 ELSE 0 END"
    )
}
