use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_attempt_log_references"
    }
}

/// The attempt log's references, kept by the parents instead of checked per row.
///
/// A foreign key checks every inserted row on its own: PostgreSQL starts a small query
/// and locks the parent row, four times per attempt (mailing, message, client, delivery).
/// In the delivery benchmark that was a fifth of the database's CPU. On PostgreSQL those
/// four keys give way to triggers on the parents that do what the keys' delete rules did:
/// a deleted mailing takes its attempts with it; a deleted message, client or delivery
/// leaves the attempts with a NULL reference.
///
/// What the keys also guaranteed — no attempt names a parent that is gone — the writer
/// keeps: the recorder writes a delivery's new state before its attempt, so the delivery
/// row is locked by then, and a client or mailing being deleted (which deletes its
/// deliveries) waits for the recorder's commit; only then do its triggers run, and they
/// see the new attempts. The recorder's insert skips attempts whose delivery is already
/// gone. A message in use by a mailing cannot be deleted at all (mailings restrict it).
/// The triggers' names sort after PostgreSQL's own foreign-key triggers, so a cascade
/// into `deliveries` has waited for those locks before they run.
///
/// SQLite keeps the foreign keys: it has one writer, and checks them cheaply in-process.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "ALTER TABLE attempts DROP CONSTRAINT fk_attempts_mailing, \
             DROP CONSTRAINT fk_attempts_message, DROP CONSTRAINT fk_attempts_client, \
             DROP CONSTRAINT fk_attempts_delivery",
        )
        .await?;
        db.execute_unprepared(FUNCTION).await?;
        for (parent, _, _) in PARENTS {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER attempts_follow_{parent} AFTER DELETE ON {parent} \
                 FOR EACH ROW EXECUTE FUNCTION attempts_follow_parent()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (parent, _, _) in PARENTS {
            db.execute_unprepared(&format!(
                "DROP TRIGGER attempts_follow_{parent} ON {parent}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION attempts_follow_parent()")
            .await?;
        let keys: Vec<String> = PARENTS
            .iter()
            .map(|(parent, column, rule)| {
                let name = column.trim_end_matches("_id");
                format!(
                    "ADD CONSTRAINT fk_attempts_{name} FOREIGN KEY ({column}) \
                     REFERENCES {parent} (id) ON DELETE {rule}"
                )
            })
            .collect();
        db.execute_unprepared(&format!("ALTER TABLE attempts {}", keys.join(", ")))
            .await?;
        Ok(())
    }
}

/// The parent tables, the referencing column and the delete rule each foreign key had.
const PARENTS: [(&str, &str, &str); 4] = [
    ("mailings", "mailing_id", "CASCADE"),
    ("messages", "message_id", "SET NULL"),
    ("clients", "client_id", "SET NULL"),
    ("deliveries", "delivery_id", "SET NULL"),
];

/// Each parent's delete rule, as the foreign keys had them.
const FUNCTION: &str = "CREATE FUNCTION attempts_follow_parent() RETURNS trigger \
     LANGUAGE plpgsql AS $$ BEGIN \
     CASE TG_TABLE_NAME \
     WHEN 'mailings' THEN DELETE FROM attempts WHERE mailing_id = OLD.id; \
     WHEN 'messages' THEN UPDATE attempts SET message_id = NULL WHERE message_id = OLD.id; \
     WHEN 'clients' THEN UPDATE attempts SET client_id = NULL WHERE client_id = OLD.id; \
     WHEN 'deliveries' THEN UPDATE attempts SET delivery_id = NULL WHERE delivery_id = OLD.id; \
     END CASE; RETURN NULL; END $$";
