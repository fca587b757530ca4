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

/// A `redis-server` of the test's own (no persistence), on a free port: a test may kill it
/// and start it again (empty, as Redis without persistence comes back) without touching the
/// shared server. Killed when dropped.
pub struct PrivateRedis {
    pub port: u16,
    server: Option<tokio::process::Child>,
}

impl PrivateRedis {
    /// Starts it and waits until it accepts connections.
    pub async fn start() -> PrivateRedis {
        let port = free_port();
        let mut redis = PrivateRedis { port, server: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: everything it held is gone.
    pub async fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill().await.expect("kill redis-server");
        }
    }

    /// Starts it again on the same port (empty) and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill().await;
        let server = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (Debian's redis-server package) is on PATH");
        self.server = Some(server);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while ping_redis(&self.url()).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the private redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A TCP proxy on a port of its own to `target`: a test points a service URL at it, and
/// closing it (refused connections, open ones cut) makes that service "go away" without
/// touching the real server. Stopped when dropped.
pub struct TcpProxy {
    pub port: u16,
    target: std::net::SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TcpProxy {
    /// A proxy to `target` on a free port, not listening yet.
    pub fn new(target: std::net::SocketAddr) -> TcpProxy {
        TcpProxy {
            port: free_port(),
            target,
            task: None,
        }
    }

    /// Accepts connections and forwards them.
    pub async fn open(&mut self) {
        self.close();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy's port");
        let target = self.target;
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    /// Stops listening and cuts every connection made through it.
    pub fn close(&mut self) {
        if let Some(task) = self.task.take() {
            // Dropping the task drops its JoinSet, which aborts every connection.
            task.abort();
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.close();
    }
}
