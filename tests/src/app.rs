//! `spawn_app()`: the real server on a random port, on SQLite or on a fresh PostgreSQL
//! database with its own Redis key prefix, talking to a fake SMTP server of its own.

use std::path::{Path, PathBuf};

use mailer::{AppState, Config};
use secrecy::SecretString;
use tokio::sync::oneshot;

use crate::services::{PgDatabase, RedisPrefix};
use crate::smtp::FakeSmtp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite file, apalis-sqlite queue, in-process cache.
    Sqlite,
    /// Production: PostgreSQL, apalis-redis queue, fred cache.
    Postgres,
}

/// Everything a test needs to talk to one running instance. Dropping it stops the server
/// and removes its database, Redis keys and files.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub config: Config,
    pub smtp: FakeSmtp,
    pub dir: tempfile::TempDir,
    pub redis: Option<RedisPrefix>,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: after the server let go of its connections.
    _pg: Option<PgDatabase>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Environment variables that give a child process (`mailer`, `mailer-worker`) this
    /// app's configuration.
    pub fn env(&self) -> Vec<(String, String)> {
        config_env(&self.config)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A configuration for a test instance in `dir`. `None` when the backend's services are
/// unreachable and not required (the skip is recorded by name).
pub async fn test_config(
    backend: Backend,
    dir: &Path,
    smtp: &FakeSmtp,
) -> Option<(Config, Option<PgDatabase>, Option<RedisPrefix>)> {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        smtp_url: Some(SecretString::from(smtp.url())),
        templates_dir: Some(templates_dir()),
        log_level: "warn".into(),
        ..Config::default()
    };
    config.worker.poll_interval_ms = 50;
    config.worker.shutdown_timeout_secs = 10;
    config.worker.tick_interval_secs = 1;
    // A short job timeout gives short delivery leases: a killed worker's rows come back soon.
    config.worker.job_timeout_secs = 5;
    config.worker.retry_backoff_ms = 100;
    config.worker.retry_backoff_max_secs = 1;
    config.worker.breaker_cooldown_ms = 200;
    config.worker.breaker_cooldown_max_secs = 1;
    match backend {
        Backend::Sqlite => {
            config.database_url = format!("sqlite://{}", dir.join("mailer.db").display());
            Some((config, None, None))
        }
        Backend::Postgres => {
            let pg = PgDatabase::create().await?;
            let redis = RedisPrefix::create().await?;
            config.database_url = pg.url.clone();
            config.redis_url = Some(SecretString::from(redis.url.clone()));
            config.redis_prefix = redis.prefix.clone();
            config.secret_key = Some(SecretString::from(
                "test-secret-key-0123456789abcdefghijklmnop",
            ));
            Some((config, Some(pg), Some(redis)))
        }
    }
}

pub fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

/// Starts the server. Returns `None` (and records the skip) when the backend's services
/// are unreachable and not required.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    customize: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    // Server-side warnings and errors (a failing template…) show in the failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = FakeSmtp::start().await;
    let (mut config, pg, redis) = test_config(backend, dir.path(), &smtp).await?;
    customize(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a random port");
    let addr = listener.local_addr().expect("local addr");
    config.bind = addr;
    let state = AppState::build(config.clone())
        .await
        .expect("build the app state");
    let (tx, rx) = oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = mailer::server::serve(server_state, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Some(TestApp {
        address: format!("http://{addr}"),
        client,
        state,
        config,
        smtp,
        dir,
        redis,
        shutdown: Some(tx),
        _pg: pg,
    })
}

/// The same configuration as environment variables, for child processes.
pub fn config_env(config: &Config) -> Vec<(String, String)> {
    use secrecy::ExposeSecret;
    let mut env = vec![
        ("DATABASE_URL".to_owned(), config.database_url.clone()),
        (
            "MAILER_DATA_DIR".to_owned(),
            config.data_dir.display().to_string(),
        ),
        (
            "MAILER_REDIS_PREFIX".to_owned(),
            config.redis_prefix.clone(),
        ),
        ("MAILER_BIND".to_owned(), config.bind.to_string()),
        ("MAILER_LOG_LEVEL".to_owned(), "info".to_owned()),
        (
            "MAILER_WORKER__POLL_INTERVAL_MS".to_owned(),
            config.worker.poll_interval_ms.to_string(),
        ),
        (
            "MAILER_WORKER__SHUTDOWN_TIMEOUT_SECS".to_owned(),
            config.worker.shutdown_timeout_secs.to_string(),
        ),
        (
            "MAILER_WORKER__TICK_INTERVAL_SECS".to_owned(),
            config.worker.tick_interval_secs.to_string(),
        ),
        (
            "MAILER_WORKER__RETRY_BACKOFF_MS".to_owned(),
            config.worker.retry_backoff_ms.to_string(),
        ),
        (
            "MAILER_WORKER__RETRY_BACKOFF_MAX_SECS".to_owned(),
            config.worker.retry_backoff_max_secs.to_string(),
        ),
        (
            "MAILER_WORKER__JOB_TIMEOUT_SECS".to_owned(),
            config.worker.job_timeout_secs.to_string(),
        ),
        (
            "MAILER_WORKER__SMTP_SEND_TIMEOUT_SECS".to_owned(),
            config.worker.smtp_send_timeout_secs.to_string(),
        ),
        (
            "MAILER_WORKER__RETRIES".to_owned(),
            config.worker.retries.to_string(),
        ),
        (
            "MAILER_WORKER__BREAKER_THRESHOLD".to_owned(),
            config.worker.breaker_threshold.to_string(),
        ),
        (
            "MAILER_WORKER__BREAKER_COOLDOWN_MS".to_owned(),
            config.worker.breaker_cooldown_ms.to_string(),
        ),
        (
            "MAILER_WORKER__BREAKER_COOLDOWN_MAX_SECS".to_owned(),
            config.worker.breaker_cooldown_max_secs.to_string(),
        ),
        (
            "MAILER_WORKER__CONCURRENCY".to_owned(),
            config.worker.concurrency.to_string(),
        ),
        (
            "MAILER_WORKER__SMTP_CONNECTIONS".to_owned(),
            config.worker.smtp_connections.to_string(),
        ),
        (
            "MAILER_WORKER__MESSAGES_PER_SECOND".to_owned(),
            config.worker.messages_per_second.to_string(),
        ),
        (
            "MAILER_WORKER__FAN_OUT_RANGE".to_owned(),
            config.worker.fan_out_range.to_string(),
        ),
    ];
    if let Some(dir) = &config.templates_dir {
        env.push(("MAILER_TEMPLATES_DIR".to_owned(), dir.display().to_string()));
    }
    let bounces = &config.bounces;
    if let Some(host) = &bounces.imap_host {
        for (name, value) in [
            ("MAILER_BOUNCES__IMAP_HOST", host.clone()),
            (
                "MAILER_BOUNCES__IMAP_PORT",
                bounces.imap_port.unwrap_or(143).to_string(),
            ),
            ("MAILER_BOUNCES__IMAP_TLS", bounces.imap_tls.to_string()),
            ("MAILER_BOUNCES__IMAP_USER", bounces.imap_user.clone()),
            ("MAILER_BOUNCES__POLL_SECS", bounces.poll_secs.to_string()),
        ] {
            env.push((name.to_owned(), value));
        }
    }
    let dkim = &config.dkim;
    for (name, value) in [
        ("MAILER_DKIM__SELECTOR", dkim.selector.clone()),
        ("MAILER_DKIM__DOMAIN", dkim.domain.clone()),
        (
            "MAILER_DKIM__KEY_FILE",
            dkim.key_file.as_ref().map(|f| f.display().to_string()),
        ),
    ] {
        if let Some(v) = value {
            env.push((name.to_owned(), v));
        }
    }
    for (name, value) in [
        ("MAILER_BOUNCES__IMAP_PASSWORD", &bounces.imap_password),
        ("MAILER_BOUNCES__SECRET", &bounces.secret),
        ("REDIS_URL", &config.redis_url),
        ("SMTP_URL", &config.smtp_url),
        ("SECRET_KEY", &config.secret_key),
    ] {
        if let Some(v) = value {
            env.push((name.to_owned(), v.expose_secret().to_owned()));
        }
    }
    env
}

/// Path of a workspace binary built next to this test executable.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/it-<hash> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first with `cargo build --bins` (`just test` does)",
        path.display()
    );
    path
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves nothing behind.
pub struct Child(pub tokio::process::Child);

impl Child {
    /// Starts `bin` with a clean environment plus `env`; output goes to `log`.
    pub fn spawn(bin: &str, args: &[&str], env: &[(String, String)], log: &Path) -> Child {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = tokio::process::Command::new(bin_path(bin));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        Child(cmd.spawn().expect("spawn the binary"))
    }

    pub fn signal(&self, signal: i32) {
        let pid = self.0.id().expect("child still running") as i32;
        // SAFETY: kill(2) on our own child's pid; no memory is shared.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits for the exit, failing the test after `timeout`.
    pub async fn wait(&mut self, timeout: std::time::Duration) -> std::process::ExitStatus {
        tokio::time::timeout(timeout, self.0.wait())
            .await
            .expect("the process did not exit in time")
            .expect("wait")
    }
}

/// Polls `check` every 50 ms until it returns `Some`, panicking with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `mailer serve` on the test app's database and settings, on a port of its own.
pub struct ServeProcess {
    pub child: Child,
    pub base: String,
    log: std::path::PathBuf,
}

impl ServeProcess {
    pub async fn start(app: &TestApp, log_name: &str) -> ServeProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut env = app.env();
        env.retain(|(k, _)| k != "MAILER_BIND");
        env.push(("MAILER_BIND".into(), format!("127.0.0.1:{port}")));
        let log = app.dir.path().join(log_name);
        let child = Child::spawn("mailer", &["serve"], &env, &log);
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let url = format!("{base}/healthz");
        eventually(
            std::time::Duration::from_secs(30),
            "mailer serve to answer",
            || {
                let (http, url) = (http.clone(), url.clone());
                async move { http.get(url).send().await.ok().map(|_| ()) }
            },
        )
        .await;
        ServeProcess { child, base, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn check_alive(&mut self, after: &str) {
        let exited = self.child.0.try_wait().expect("try_wait");
        assert!(
            exited.is_none(),
            "mailer serve exited ({exited:?}) after {after}\n{}",
            self.log()
        );
    }
}
