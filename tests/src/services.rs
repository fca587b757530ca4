//! The real PostgreSQL and Redis the service suites run against, each test in its own
//! database / key prefix, removed afterwards.
//!
//! When a server cannot be reached the suite that needs it is skipped *by name*: a line on
//! stderr and one in `$TEST_SKIP_LOG` (which `just test` prints at the end). With
//! `TEST_REQUIRE_SERVICES=1` (CI) an unreachable server fails the test instead.

use std::io::Write;
use std::time::Duration;

use fred::prelude::{ClientLike, KeysInterface};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn services_required() -> bool {
    std::env::var("TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// Records that the current test was skipped because `service` is down, or panics when
/// services are required.
pub fn skip(service: &str, error: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    if services_required() {
        panic!("{service} is required (TEST_REQUIRE_SERVICES=1) but unreachable: {error}");
    }
    eprintln!("SKIPPED {test}: {service} unreachable ({error})");
    if let Ok(path) = std::env::var("TEST_SKIP_LOG")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "{test} (needs {service})");
    }
}

/// A fresh PostgreSQL database, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl PgDatabase {
    /// `None` when PostgreSQL is unreachable and not required (the skip is recorded).
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = postgres_admin_url();
        let admin =
            match tokio::time::timeout(Duration::from_secs(5), Database::connect(&admin_url)).await
            {
                Ok(Ok(db)) => db,
                Ok(Err(e)) => {
                    skip("PostgreSQL", &e.to_string());
                    return None;
                }
                Err(_) => {
                    skip("PostgreSQL", "no answer within 5 s");
                    return None;
                }
            };
        let name = format!("mailer_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .unwrap_or(admin_url.clone());
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            name,
            admin_url,
        })
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        // Drop runs inside a test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A Redis key prefix of this test; every key under it is deleted when this is dropped.
pub struct RedisPrefix {
    pub url: String,
    pub prefix: String,
}

impl RedisPrefix {
    pub async fn create() -> Option<RedisPrefix> {
        let url = redis_url();
        if let Err(e) = ping_redis(&url).await {
            skip("Redis", &e);
            return None;
        }
        Some(RedisPrefix {
            url,
            prefix: format!("mtest-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// Every key under the prefix right now.
    pub async fn keys(&self) -> Vec<String> {
        keys_under(&self.url, &self.prefix)
            .await
            .unwrap_or_default()
    }
}

async fn redis_client(url: &str) -> Result<fred::clients::Client, String> {
    let config = fred::prelude::Config::from_url(url).map_err(|e| e.to_string())?;
    let client = fred::prelude::Builder::from_config(config)
        .build()
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(3), client.init()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".into()),
    }
}

async fn ping_redis(url: &str) -> Result<(), String> {
    let client = redis_client(url).await?;
    let pong: Result<String, _> = client.ping(None).await;
    let _ = client.quit().await;
    pong.map(drop).map_err(|e| e.to_string())
}

async fn keys_under(url: &str, prefix: &str) -> Result<Vec<String>, String> {
    let client = redis_client(url).await?;
    let keys: Vec<String> = client
        .custom(
            fred::types::CustomCommand::new_static(
                "KEYS",
                fred::types::ClusterHash::FirstKey,
                false,
            ),
            vec![format!("{prefix}*")],
        )
        .await
        .map_err(|e| e.to_string())?;
    let _ = client.quit().await;
    Ok(keys)
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(keys) = keys_under(&url, &prefix).await else {
                    return;
                };
                if keys.is_empty() {
                    return;
                }
                if let Ok(client) = redis_client(&url).await {
                    let _: Result<i64, _> = client.del(keys).await;
                    let _ = client.quit().await;
                }
            });
        })
        .join();
    }
}
