use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::index;
use crate::m20261125_000006_attempts::Attempts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_attempt_log_indexes"
    }
}

/// Two fewer index entries per successful attempt, the log's common row.
///
/// `(owner_id, attempted_at)` served the reports before `report_days` summed the log;
/// no query reads it now. `(owner_id, status, attempted_at)` serves one question, the
/// dashboard's latest failures, yet held every success too: it becomes a partial index of
/// the failures (with `id`, the query's tie-break, so the index alone gives its order).
/// A successful attempt now goes into five indexes instead of seven.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [OWNER, OWNER_STATUS] {
            manager.drop_index(drop_statement(name)).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {FAILURES} ON attempts (owner_id, attempted_at, id) \
                 WHERE {ATTEMPT_FAILURES}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_statement(FAILURES)).await?;
        manager
            .create_index(index(Attempts::Table, &["owner_id", "attempted_at"]))
            .await?;
        manager
            .create_index(index(
                Attempts::Table,
                &["owner_id", "status", "attempted_at"],
            ))
            .await?;
        Ok(())
    }
}

const OWNER: &str = "idx_attempts_owner_id_attempted_at";
const OWNER_STATUS: &str = "idx_attempts_owner_id_status_attempted_at";
/// The dashboard's "latest failures" of a user.
const FAILURES: &str = "idx_attempts_owner_failures";
/// The partial index's condition. A query that is to use the index says the same, as a
/// literal: a plan PostgreSQL keeps for any value of a bound parameter could not use it.
pub const ATTEMPT_FAILURES: &str = "status = 'failure'";

fn drop_statement(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Attempts::Table).to_owned()
}
