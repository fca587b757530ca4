//! Database connection and migrations, for SQLite (embedded default) and PostgreSQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use crate::config::{Config, DatabaseKind};

/// Opens the pool. SQLite files (and their folder) are created on first use, with WAL and
/// foreign keys on every connection.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let kind = config.database_kind()?;
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .connect_timeout(Duration::from_secs(5))
        // A request waits at most this long for a connection: while the database is down,
        // pages answer 503 in about this time instead of hanging.
        .acquire_timeout(Duration::from_millis(config.db_acquire_timeout_ms.max(1)))
        .sqlx_logging(false);
    if kind == DatabaseKind::Sqlite {
        if let Some(path) = sqlite_path(&config.database_url)
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the folder {} for DATABASE_URL: {e}",
                    parent.display()
                )
            })?;
        }
        options.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Reads through the page cache by memory map instead of a read call per
                // page, and a larger cache per connection: counting or scanning a list of
                // 50,000 clients stays in memory.
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-16384")
        });
    } else {
        options.max_connections(16);
    }
    let db = Database::connect(options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open DATABASE_URL ({}): {e}",
            redact(&config.database_url)
        )
    })?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Opens the pool with every migration applied — and, on SQLite, with connections that
/// all know the schema the migrations left.
///
/// A SQLite connection keeps the schema it last read. A pooled connection that read it in
/// the middle of a migration (a table created, its unique index not yet) prepares an
/// `INSERT … ON CONFLICT (…)` against that old picture and fails with "ON CONFLICT clause
/// does not match any PRIMARY KEY or UNIQUE constraint" instead of noticing the change, as
/// other statements do. Seen once in the tests; the pool is opened afresh after migrating.
pub async fn connect_migrated(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = connect(config).await?;
    migrate(&db)
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    if config.database_kind()? != DatabaseKind::Sqlite {
        return Ok(db);
    }
    db.close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the migration pool: {e}"))?;
    connect(config).await
}

/// Does this error say the database cannot be reached (down, restarting, pool exhausted),
/// rather than that a statement was wrong?
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let sqlx_down = |e: &sqlx::Error| match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        // PostgreSQL going down says so on the open connections: class 08 (connection
        // exception) and 57P (shutting down, crashed, starting up).
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    };
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_down(e),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

/// `SELECT 1`: is the database answering?
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The file of a `sqlite://path?opts` URL, or `None` for in-memory databases.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Inserts `rows` in batches of `batch`, skipping those the unique `columns` already hold
/// (`ON CONFLICT DO NOTHING`); returns how many went in.
pub async fn insert_new<A, C>(
    db: &C,
    rows: Vec<A>,
    columns: impl IntoIterator<Item = <A::Entity as sea_orm::EntityTrait>::Column> + Clone,
    batch: usize,
) -> Result<u64, DbErr>
where
    A: sea_orm::ActiveModelTrait + Clone + Send,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::EntityTrait;
    use sea_orm::sea_query::OnConflict;
    let mut inserted = 0;
    for chunk in rows.chunks(batch.max(1)) {
        let result = <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::columns(columns.clone()).do_nothing().to_owned())
            .exec_without_returning(db)
            .await;
        match result {
            Ok(n) => inserted += n,
            Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(inserted)
}
