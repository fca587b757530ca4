//! Everything a request handler or a job needs, built once from the config.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use crate::cache::Cache;
use crate::config::Config;
use crate::jobs::Queues;
use crate::mail::Mailer;
use crate::templates::Templates;

/// Shared by every request (poem hands each one a clone): one reference count to bump.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What `AppState` holds (its fields read as the state's own: `state.db`).
pub struct Shared {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub queues: Queues,
    pub mailer: Mailer,
    /// Signs every outgoing e-mail when `MAILER_DKIM__*` is set (the key read once, here).
    pub dkim: Option<Arc<crate::dkim::Signer>>,
    pub templates: Templates,
    pub secret_key: SecretString,
}

impl AppState {
    /// Connects to everything the config names and applies pending migrations.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = crate::db::connect_migrated(&config).await?;
        Self::with_db(config, db).await
    }

    /// Like `build`, on a database the caller already opened and migrated.
    pub async fn with_db(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        let secret_key = secret_key(&config)?;
        let cache = Cache::from_config(&config).await?;
        let queues = Queues::connect(&config, &db).await?;
        let dkim = config.dkim.signer()?;
        let mailer = Mailer::from_config(&config, dkim.clone())?;
        let templates = Templates::new(config.templates_dir(), config.templates_reload)?;
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            db,
            cache,
            queues,
            mailer,
            dkim,
            templates,
            secret_key,
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
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
        // Too short to be ours (an interrupted write): make a new one.
        let _ = std::fs::remove_file(&path);
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", config.data_dir.display()))?;
    let key = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    // `just run` starts the server and the worker together: each writes its key to a file
    // of its own, and a hard link claims the name atomically with the content in place, so
    // the one that comes second reads the first one's key instead of replacing it.
    let tmp = config
        .data_dir
        .join(format!("secret_key.{}.tmp", uuid::Uuid::new_v4().simple()));
    write_private(&tmp, &key)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    let claimed = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match claimed {
        Ok(()) => {
            tracing::info!(file = %path.display(), "generated a secret key for the embedded default");
            Ok(SecretString::from(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let theirs = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let theirs = theirs.trim();
            anyhow::ensure!(theirs.len() >= 32, "{} is too short", path.display());
            Ok(SecretString::from(theirs.to_owned()))
        }
        Err(e) => Err(anyhow::anyhow!("cannot write {}: {e}", path.display())),
    }
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

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn processes_starting_together_share_one_generated_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("var"),
            ..Config::default()
        };
        let keys: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| secret_key(&config).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().expose_secret().to_owned())
                .collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() >= 32));
        let stored = std::fs::read_to_string(dir.path().join("var/secret_key")).unwrap();
        assert_eq!(stored, keys[0]);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("var")).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary files left behind");
        assert_eq!(secret_key(&config).unwrap().expose_secret(), keys[0]);
    }
}
