//! Everything a request handler or a job needs, built once from the config.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};

use crate::cache::Cache;
use crate::config::Config;
use crate::jobs::Queues;
use crate::mail::Mailer;
use crate::web::templates::Templates;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub queues: Queues,
    pub mailer: Mailer,
    pub templates: Templates,
    pub secret_key: SecretString,
}

impl AppState {
    /// Connects to everything the config names and applies pending migrations.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = crate::db::connect(&config).await?;
        crate::db::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        Self::with_db(config, db).await
    }

    /// Like `build`, on a database the caller already opened and migrated.
    pub async fn with_db(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        let secret_key = secret_key(&config)?;
        let cache = Cache::from_config(&config).await?;
        let queues = Queues::connect(&config, &db).await?;
        let mailer = Mailer::from_config(&config)?;
        let templates = Templates::new(config.templates_dir(), config.templates_reload)?;
        Ok(Self {
            config: Arc::new(config),
            db,
            cache,
            queues,
            mailer,
            templates,
            secret_key,
        })
    }
}

/// `SECRET_KEY`, or on the embedded default a random key kept in `<data_dir>/secret_key` so
/// sessions and links survive a restart.
fn secret_key(config: &Config) -> anyhow::Result<SecretString> {
    if let Some(key) = &config.secret_key {
        return Ok(key.clone());
    }
    let path = config.data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", config.data_dir.display()))?;
    let key = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private(&path, &key)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    tracing::info!(file = %path.display(), "generated a secret key for the embedded default");
    let key = SecretString::from(key);
    debug_assert!(key.expose_secret().len() >= 32);
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
