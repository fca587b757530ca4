//! The schema migrations go up, down and up again on SQLite and on PostgreSQL.

use mailer_tests::services::PgDatabase;
use migration::{Migrator, MigratorTrait, TABLES};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryTrait, Statement, TransactionTrait,
};
use sea_orm_migration::SchemaManager;

const UNIQUE_INDEXES: &[(&str, &str)] = &[
    ("clients", "uq_clients_owner_email"),
    ("tags", "uq_tags_owner_name"),
    ("deliveries", "uq_deliveries_mailing_client_occurrence"),
];

async fn existing_tables(db: &DatabaseConnection) -> Vec<&'static str> {
    let manager = SchemaManager::new(db);
    let mut found = Vec::new();
    for table in TABLES {
        if manager.has_table(*table).await.expect("has_table") {
            found.push(*table);
        }
    }
    found
}

async fn has_attributes(db: &DatabaseConnection) -> bool {
    SchemaManager::new(db)
        .has_column("clients", "attributes")
        .await
        .expect("has_column")
}

async fn up_down_up(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("migrate up");
    assert_eq!(
        existing_tables(db).await,
        TABLES,
        "every table exists after up"
    );
    let manager = SchemaManager::new(db);
    for (table, index) in UNIQUE_INDEXES {
        assert!(
            manager.has_index(*table, *index).await.expect("has_index"),
            "{table} has {index}"
        );
    }
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .expect("pending")
            .is_empty()
    );

    let index = |name: &'static str| {
        let manager = SchemaManager::new(db);
        async move {
            manager
                .has_index("attempts", name)
                .await
                .expect("has_index")
        }
    };
    let has_table = |table: &'static str| async move {
        SchemaManager::new(db)
            .has_table(table)
            .await
            .expect("has_table")
    };
    // The newest makes the fan-outs' table: one step down drops it, and nothing else.
    assert!(has_table("fan_outs").await);
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the fan-outs");
    assert!(!has_table("fan_outs").await);

    // The one before adds attempts.reason (our own words as a phrase): one step down drops
    // the column, and no table.
    let tables = existing_tables(db).await;
    let has_reason = || async {
        db.execute_unprepared("SELECT reason FROM attempts WHERE 1 = 0")
            .await
            .is_ok()
    };
    assert!(has_reason().await, "attempts.reason");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the attempt reasons");
    assert!(!has_reason().await, "attempts.reason is dropped");
    assert_eq!(existing_tables(db).await, tables);

    // The one before rolls the attempt log up per quarter-hour: one step down gives back
    // the roll-up per UTC day (tenth in creation order) in its place.
    assert!(has_table("report_slots").await && !has_table("report_days").await);
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the slot roll-up");
    assert!(!has_table("report_slots").await && has_table("report_days").await);
    // TABLES as they were before the slots: `report_days` after `api_tokens`.
    let mut old: Vec<&'static str> = TABLES[..TABLES.len() - 2].to_vec();
    old.insert(10, "report_days");
    let old_tables = || {
        let old = old.clone();
        async move {
            let mut found = Vec::new();
            for table in old {
                if has_table(table).await {
                    found.push(table);
                }
            }
            found
        }
    };
    assert_eq!(old_tables().await, old);

    // The one before names the mailings: one step down drops the column, and no table.
    let tables = old_tables().await;
    let has_name = || async {
        db.execute_unprepared("SELECT name FROM mailings WHERE 1 = 0")
            .await
            .is_ok()
    };
    assert!(has_name().await, "mailings.name");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the mailing names");
    assert!(!has_name().await, "mailings.name is dropped");
    assert_eq!(old_tables().await, tables);

    let has_column = |column: &'static str| async move {
        db.execute_unprepared(&format!("SELECT {column} FROM users WHERE 1 = 0"))
            .await
            .is_ok()
    };
    // The one before adds users.language: one step down drops it, and no table.
    assert!(has_column("language").await, "language");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the language");
    assert!(!has_column("language").await, "language is dropped");
    assert_eq!(old_tables().await, tables);

    // The one before adds users.timezone: one step down drops it, and no table.
    assert!(has_column("timezone").await, "timezone");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the time zone");
    assert!(!has_column("timezone").await, "timezone is dropped");
    assert_eq!(old_tables().await, tables);
    // An account made before it gets UTC, what every page showed it so far.
    db.execute_unprepared(
        "INSERT INTO users (email, password_hash, role, is_verified, is_active, created_at, \
         updated_at) VALUES ('old@example.com', 'x', 'user', TRUE, TRUE, \
         '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .await
    .expect("an account before time zones");
    Migrator::up(db, Some(1))
        .await
        .expect("migrate up the time zone");
    let zone = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT timezone FROM users WHERE email = 'old@example.com'",
        ))
        .await
        .expect("select")
        .expect("the account")
        .try_get::<String>("", "timezone")
        .expect("a zone");
    assert_eq!(zone, "UTC");
    db.execute_unprepared("DELETE FROM users WHERE email = 'old@example.com'")
        .await
        .expect("delete");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the time zone again");

    // The one before adds the sender identity's columns to users: one step down drops
    // them, and no table.
    for column in ["sender_name", "reply_to", "postal_address"] {
        assert!(has_column(column).await, "{column}");
    }
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the sender identity");
    for column in ["sender_name", "reply_to", "postal_address"] {
        assert!(!has_column(column).await, "{column} is dropped");
    }
    assert_eq!(old_tables().await, tables);

    // The one before adds tags (of clients and of mailings) and the clients' attributes: one
    // step down drops those three tables and the column, and only them.
    assert!(has_attributes(db).await, "clients.attributes after up");
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the audience");
    assert_eq!(old_tables().await, &old[..old.len() - 3]);
    assert!(!has_attributes(db).await, "clients.attributes dropped");

    // The one before adds the feedback log and the global suppression list: one step down
    // drops those two tables, and only them.
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the feedback log");
    assert_eq!(old_tables().await, &old[..old.len() - 5]);

    // The one before adds the suppression list: one step down drops that table, and only it.
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the suppression list");
    let before_suppressions = &old[..old.len() - 6];
    assert_eq!(old_tables().await, before_suppressions);

    // The one before trades two of the attempt log's indexes for a partial one of its
    // failures: one step down gives them back.
    assert!(index("idx_attempts_owner_failures").await);
    assert!(!index("idx_attempts_owner_id_attempted_at").await);
    assert!(!index("idx_attempts_owner_id_status_attempted_at").await);
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the newest step");
    assert!(!index("idx_attempts_owner_failures").await);
    assert!(index("idx_attempts_owner_id_attempted_at").await);
    assert!(index("idx_attempts_owner_id_status_attempted_at").await);

    // The one before trades the attempt log's foreign keys for triggers on PostgreSQL
    // (and changes nothing on SQLite): one step down keeps every table.
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down the step before");
    assert_eq!(old_tables().await, before_suppressions);

    // The one before that only swaps an index (and tunes PostgreSQL): one step down
    // gives the old index back and keeps every table.
    assert!(index("idx_attempts_delivery_id_id").await);
    assert!(!index("idx_attempts_delivery_id").await);
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down one step");
    assert!(index("idx_attempts_delivery_id").await);
    assert!(!index("idx_attempts_delivery_id_id").await);
    assert_eq!(old_tables().await, before_suppressions);

    // The step before removes only the newest table.
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down another step");
    let after_two = old_tables().await;
    assert_eq!(after_two, &old[..old.len() - 7]);

    Migrator::reset(db).await.expect("migrate down all");
    assert!(
        existing_tables(db).await.is_empty(),
        "down removes every table"
    );

    Migrator::up(db, None).await.expect("migrate up again");
    assert_eq!(existing_tables(db).await, TABLES);
}

#[tokio::test]
async fn migrations_up_down_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    up_down_up(&db).await;
}

#[tokio::test]
async fn migrations_up_down_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db = pg.connect().await;
    up_down_up(&db).await;
    db.close().await.unwrap();
}

#[tokio::test]
async fn entities_roundtrip_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db = pg.connect().await;
    Migrator::up(&db, None).await.unwrap();
    crate::entities::roundtrip_all(&db).await.unwrap();
    db.close().await.unwrap();
}

/// Scans of `relation` (a table: sequential; an index: index scans) this connection has
/// not reported yet: compare two readings within one transaction.
async fn scans(txn: &impl ConnectionTrait, relation: &str) -> i64 {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_stat_get_xact_numscans('{relation}'::regclass)"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// One user, message and running mailing, 100 clients with a pending delivery each,
/// analysed while the attempt log is empty.
const SEED: &[&str] = &[
    "INSERT INTO users (email, password_hash, role, is_verified, is_active, created_at, \
     updated_at) VALUES ('o@x.test', 'x', 'user', true, true, now(), now())",
    "INSERT INTO messages (owner_id, subject, body, created_at, updated_at) \
     VALUES (1, 's', 'b', now(), now())",
    "INSERT INTO clients (owner_id, email, full_name, comment, created_at, updated_at) \
     SELECT 1, 'c' || g || '@y.test', 'C', '', now(), now() FROM generate_series(1, 100) g",
    "INSERT INTO mailings (owner_id, message_id, start_at, end_at, periodicity, status, \
     is_enabled, created_at, updated_at) VALUES (1, 1, now(), now() + interval '1 day', \
     'once', 'running', true, now(), now())",
    "INSERT INTO deliveries (mailing_id, client_id, occurrence_at, status, tries, \
     message_id_header, created_at, updated_at) \
     SELECT 1, id, now(), 'pending', 1, '<' || id || '@x>', now(), now() FROM clients",
    "ANALYZE",
];

/// A new PostgreSQL database, migrated and [`SEED`]ed (`None` when PostgreSQL is down).
async fn seeded() -> Option<(PgDatabase, DatabaseConnection)> {
    let pg = PgDatabase::create().await?;
    let db = pg.connect().await;
    Migrator::up(&db, None).await.unwrap();
    for sql in SEED {
        db.execute_unprepared(sql).await.unwrap();
    }
    Some((pg, db))
}

/// The roll-up trigger finds earlier tries through the `(delivery_id, id)` index even when
/// the statistics were taken while the log was empty (a new install): before, its plan
/// scanned the whole log for every new attempt, and a big first mailing crawled.
#[tokio::test]
async fn the_roll_up_trigger_uses_its_index_on_a_new_log_postgres() {
    let Some((_pg, db)) = seeded().await else {
        return;
    };
    let txn = db.begin().await.unwrap();
    let relations = ["attempts", "attempts_pkey", "idx_attempts_delivery_id_id"];
    let mut before = Vec::new();
    for relation in relations {
        before.push(scans(&txn, relation).await);
    }
    // Two tries per delivery, in statements of 20 attempts.
    for round in 0..2 {
        for batch in 0..5 {
            txn.execute_unprepared(&format!(
                "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, delivery_id, \
                 recipient, occurrence_at, attempted_at, status, smtp_code, response) \
                 SELECT 1, 1, 1, client_id, id, 'c@y.test', now(), now(), '{status}', 250, 'ok' \
                 FROM deliveries WHERE id > {low} AND id <= {high}",
                status = if round == 0 { "failure" } else { "success" },
                low = batch * 20,
                high = batch * 20 + 20,
            ))
            .await
            .unwrap();
        }
    }
    let mut made = Vec::new();
    for (relation, before) in relations.into_iter().zip(before) {
        made.push(scans(&txn, relation).await - before);
    }
    // No sequential scan of the log, no walk of its primary key: one probe per attempt.
    assert_eq!(made, [0, 0, 200], "scans of {relations:?}");
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT CAST(SUM(attempts) AS INTEGER), CAST(SUM(successes) AS INTEGER), \
             CAST(SUM(first_tries) AS INTEGER) FROM report_slots",
        ))
        .await
        .unwrap()
        .unwrap();
    let counts: (i32, i32, i32) = (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
        row.try_get_by_index(2).unwrap(),
    );
    assert_eq!(counts, (200, 100, 100), "attempts, successes, first tries");
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
}

/// The dashboard's latest failures come from the partial index of the failures, also in
/// a plan PostgreSQL keeps for any parameters (its status is a literal, not a parameter
/// such a plan could not prove to be 'failure').
#[tokio::test]
async fn the_latest_failures_come_from_their_partial_index_postgres() {
    let Some((_pg, db)) = seeded().await else {
        return;
    };
    for (status, code) in [("failure", 451), ("success", 250)] {
        db.execute_unprepared(&format!(
            "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, delivery_id, \
             recipient, occurrence_at, attempted_at, status, smtp_code, response) \
             SELECT 1, 1, 1, client_id, id, 'c@y.test', now(), now() + id * interval '1 s', \
             '{status}', {code}, 'r' FROM deliveries"
        ))
        .await
        .unwrap();
    }
    db.execute_unprepared("ANALYZE attempts").await.unwrap();

    let latest = mailer::reports::service::recent_failures(&db, 1, 8)
        .await
        .unwrap();
    let ids: Vec<Option<i64>> = latest.iter().map(|a| a.delivery_id).collect();
    assert_eq!(ids, (93..=100).rev().map(Some).collect::<Vec<_>>());
    assert!(latest.iter().all(|a| a.smtp_code == Some(451)));

    let query = mailer::reports::service::recent_failures_query(1, 8).build(DbBackend::Postgres);
    let txn = db.begin().await.unwrap();
    for sql in [
        "SET LOCAL plan_cache_mode = force_generic_plan".to_owned(),
        "SET LOCAL enable_seqscan = off".to_owned(),
        format!("PREPARE latest_failures AS {}", query.sql),
    ] {
        txn.execute_unprepared(&sql).await.unwrap();
    }
    let plan: Vec<String> = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "EXPLAIN EXECUTE latest_failures(1, 8)",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("idx_attempts_owner_failures") && !plan.contains("Sort"),
        "{plan}"
    );
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
}

/// Mailings made before they had names are named "Mailing #<id>" by the migration that
/// adds the column (both backends).
async fn old_mailings_get_names(db: &DatabaseConnection) {
    // Every migration before the names (there were 17).
    Migrator::up(db, Some(17)).await.expect("up to the names");
    let now = if db.get_database_backend() == DbBackend::Sqlite {
        "CURRENT_TIMESTAMP"
    } else {
        "now()"
    };
    for sql in [
        "INSERT INTO users (email, password_hash, role, is_verified, is_active, created_at, \
         updated_at) VALUES ('o@x.test', 'x', 'user', true, true, {now}, {now})",
        "INSERT INTO messages (owner_id, subject, body, created_at, updated_at) \
         VALUES (1, 's', 'b', {now}, {now})",
        "INSERT INTO mailings (owner_id, message_id, start_at, end_at, periodicity, status, \
         is_enabled, created_at, updated_at) VALUES (1, 1, {now}, {now}, 'once', 'running', \
         true, {now}, {now})",
        "INSERT INTO mailings (owner_id, message_id, start_at, end_at, periodicity, status, \
         is_enabled, created_at, updated_at) VALUES (1, 1, {now}, {now}, 'once', 'running', \
         true, {now}, {now})",
    ] {
        db.execute_unprepared(&sql.replace("{now}", now))
            .await
            .unwrap();
    }
    Migrator::up(db, None).await.expect("the rest");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM mailings ORDER BY id",
        ))
        .await
        .unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(names, ["Mailing #1", "Mailing #2"]);
}

#[tokio::test]
async fn old_mailings_get_names_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    old_mailings_get_names(&db).await;
}

#[tokio::test]
async fn old_mailings_get_names_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db = pg.connect().await;
    old_mailings_get_names(&db).await;
    db.close().await.unwrap();
}

/// What the roll-up holds: (slot start, attempts, successes, first tries, last attempt).
type SlotRow = (
    chrono::DateTime<chrono::Utc>,
    i32,
    i32,
    i32,
    chrono::DateTime<chrono::Utc>,
);

async fn slot_rows(db: &DatabaseConnection) -> Vec<SlotRow> {
    use mailer::entities::report_slot;
    use sea_orm::{EntityTrait, QueryOrder};
    report_slot::Entity::find()
        .order_by_asc(report_slot::Column::Slot)
        .all(db)
        .await
        .expect("report_slots")
        .into_iter()
        .map(|r| {
            (
                report_slot::slot_start(r.slot),
                r.attempts,
                r.successes,
                r.first_tries,
                r.last_attempt_at,
            )
        })
        .collect()
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().expect("an instant")
}

/// Attempts as `(delivery, when, status)`, one INSERT statement for all of them.
fn insert_attempts(rows: &[(&str, &str, &str)]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|(delivery, when, status)| {
            format!(
                "(1, 1, 1, 1, {delivery}, 'c@y.test', '{when}', '{when}', '{status}', 250, 'r')"
            )
        })
        .collect();
    format!(
        "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, delivery_id, \
         recipient, occurrence_at, attempted_at, status, smtp_code, response) VALUES {}",
        values.join(", ")
    )
}

/// (day, attempts, successes, first tries) of the roll-up per UTC day.
async fn day_rows(db: &DatabaseConnection) -> Vec<(String, i32, i32, i32)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT CAST(day AS TEXT), attempts, successes, first_tries FROM report_days \
         ORDER BY day",
    ))
    .await
    .expect("report_days")
    .iter()
    .map(|r| {
        (
            r.try_get_by_index(0).unwrap(),
            r.try_get_by_index(1).unwrap(),
            r.try_get_by_index(2).unwrap(),
            r.try_get_by_index(3).unwrap(),
        )
    })
    .collect()
}

/// The migration to quarter-hour slots fills them from the attempts written before it (the
/// log, not the old per-day sums), its trigger then adds to them, and a fresh fill of the
/// log gives the trigger's sums again; going down gives back the per-day roll-up, filled
/// and kept by its trigger (both backends).
async fn slots_are_filled_from_the_log(db: &DatabaseConnection) {
    // Every migration before the slots (there were 20).
    Migrator::up(db, Some(20)).await.expect("up to the slots");
    let now = if db.get_database_backend() == DbBackend::Sqlite {
        "CURRENT_TIMESTAMP"
    } else {
        "now()"
    };
    for sql in [
        "INSERT INTO users (email, password_hash, role, is_verified, is_active, created_at, \
         updated_at) VALUES ('o@x.test', 'x', 'user', true, true, {now}, {now})",
        "INSERT INTO messages (owner_id, subject, body, created_at, updated_at) \
         VALUES (1, 's', 'b', {now}, {now})",
        "INSERT INTO clients (owner_id, email, full_name, comment, created_at, updated_at) \
         VALUES (1, 'c@y.test', 'C', '', {now}, {now})",
        "INSERT INTO mailings (owner_id, name, message_id, start_at, end_at, periodicity, \
         status, is_enabled, created_at, updated_at) VALUES (1, 'm', 1, {now}, {now}, 'once', \
         'running', true, {now}, {now})",
        "INSERT INTO deliveries (mailing_id, client_id, occurrence_at, status, tries, \
         message_id_header, created_at, updated_at) VALUES \
         (1, 1, '2026-03-08T07:50:00+00:00', 'sent', 2, '<1@x>', {now}, {now}), \
         (1, 1, '2026-03-08T08:00:00+00:00', 'sent', 2, '<2@x>', {now}, {now})",
    ] {
        db.execute_unprepared(&sql.replace("{now}", now))
            .await
            .unwrap();
    }
    // Delivery 1 fails and succeeds in one quarter-hour; delivery 2 succeeds in the next;
    // an attempt with no delivery just before midnight.
    db.execute_unprepared(&insert_attempts(&[
        ("1", "2026-03-08T07:52:00+00:00", "failure"),
        ("1", "2026-03-08T07:58:30+00:00", "success"),
        ("2", "2026-03-08T08:01:00+00:00", "success"),
        ("NULL", "2026-03-08T23:59:59+00:00", "failure"),
    ]))
    .await
    .unwrap();

    Migrator::up(db, Some(1)).await.expect("the slots");
    let filled = [
        (
            at("2026-03-08T07:45:00Z"),
            2,
            1,
            1,
            at("2026-03-08T07:58:30Z"),
        ),
        (
            at("2026-03-08T08:00:00Z"),
            1,
            1,
            1,
            at("2026-03-08T08:01:00Z"),
        ),
        (
            at("2026-03-08T23:45:00Z"),
            1,
            0,
            1,
            at("2026-03-08T23:59:59Z"),
        ),
    ];
    assert_eq!(slot_rows(db).await, filled);

    // The trigger: a retry of delivery 2 in its slot, and delivery 1 again the next day.
    db.execute_unprepared(&insert_attempts(&[
        ("2", "2026-03-08T08:05:00+00:00", "failure"),
        ("1", "2026-03-09T00:00:00+00:00", "success"),
    ]))
    .await
    .unwrap();
    let mut kept = filled.to_vec();
    kept[1] = (
        at("2026-03-08T08:00:00Z"),
        2,
        1,
        1,
        at("2026-03-08T08:05:00Z"),
    );
    kept.push((
        at("2026-03-09T00:00:00Z"),
        1,
        1,
        0,
        at("2026-03-09T00:00:00Z"),
    ));
    assert_eq!(slot_rows(db).await, kept);

    // Down: the per-day roll-up again, from the log, and its trigger keeps it.
    Migrator::down(db, Some(1)).await.expect("down the slots");
    assert_eq!(
        day_rows(db).await,
        [
            ("2026-03-08".to_owned(), 5, 2, 3),
            ("2026-03-09".to_owned(), 1, 1, 0)
        ]
    );
    db.execute_unprepared(&insert_attempts(&[(
        "NULL",
        "2026-03-09T00:10:00+00:00",
        "failure",
    )]))
    .await
    .unwrap();
    assert_eq!(day_rows(db).await[1], ("2026-03-09".to_owned(), 2, 1, 1));

    // Up again: a fresh fill is what the trigger had summed, plus the attempt since.
    Migrator::up(db, None).await.expect("the slots again");
    kept[3] = (
        at("2026-03-09T00:00:00Z"),
        2,
        1,
        1,
        at("2026-03-09T00:10:00Z"),
    );
    assert_eq!(slot_rows(db).await, kept);
}

#[tokio::test]
async fn slots_are_filled_from_the_log_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    slots_are_filled_from_the_log(&db).await;
}

#[tokio::test]
async fn slots_are_filled_from_the_log_postgres() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db = pg.connect().await;
    slots_are_filled_from_the_log(&db).await;
    db.close().await.unwrap();
}
