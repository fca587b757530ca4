//! The schema migrations go up, down and up again on SQLite and on PostgreSQL.

use mailer_tests::services::PgDatabase;
use migration::{Migrator, MigratorTrait, TABLES};
use sea_orm::DatabaseConnection;
use sea_orm_migration::SchemaManager;

const UNIQUE_INDEXES: &[(&str, &str)] = &[
    ("clients", "uq_clients_owner_email"),
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

    // One step down removes only the newest table.
    Migrator::down(db, Some(1))
        .await
        .expect("migrate down one step");
    let after_one = existing_tables(db).await;
    assert_eq!(after_one, &TABLES[..TABLES.len() - 1]);

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
