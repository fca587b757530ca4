//! The `mailer` binary as a user runs it: the embedded default with no configuration,
//! `mailer migrate`, and configuration errors.

use std::time::Duration;

use mailer_tests::app::{Child, bin_path, eventually};
use migration::TABLES;
use sea_orm_migration::SchemaManager;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `mailer` to completion in `cwd` with only `env` (plus PATH).
async fn run_mailer(
    args: &[&str],
    env: &[(&str, &str)],
    cwd: &std::path::Path,
) -> std::process::Output {
    let output = tokio::process::Command::new(bin_path("mailer"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(cwd)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("mailer exits")
        .expect("run mailer")
}

#[tokio::test]
async fn serve_with_no_configuration_uses_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("serve.log");
    let mut child = {
        let mut cmd = tokio::process::Command::new(bin_path("mailer"));
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(dir.path())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("serve.err")).unwrap())
            .kill_on_drop(true);
        Child(cmd.spawn().unwrap())
    };
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let health: serde_json::Value =
        eventually(Duration::from_secs(20), "the server to answer", || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let response = client.get(url).send().await.ok()?;
                response.json().await.ok()
            }
        })
        .await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"]["mode"], "sqlite");
    assert_eq!(health["queue"]["mode"], "sqlite");
    assert_eq!(health["cache"]["mode"], "memory");
    assert_eq!(health["mail"]["mode"], "outbox");

    // Everything lives in ./var: the database (migrated), the key, the outbox.
    let var = dir.path().join("var");
    assert!(var.join("mailer.db").is_file());
    assert!(var.join("secret_key").is_file());
    let db = sea_orm::Database::connect(format!("sqlite://{}", var.join("mailer.db").display()))
        .await
        .unwrap();
    assert!(SchemaManager::new(&db).has_table("mailings").await.unwrap());

    child.signal(libc::SIGTERM);
    let status = child.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "graceful exit on SIGTERM, got {status}");
    let stderr = std::fs::read_to_string(dir.path().join("serve.err")).unwrap();
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(stderr.contains("path=/healthz"), "request logs: {stderr}");
}

#[tokio::test]
async fn migrate_up_and_down_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("cli.db");
    let url = format!("sqlite://{}", db_path.display());
    let env = [("DATABASE_URL", url.as_str())];

    let up = run_mailer(&["migrate"], &env, dir.path()).await;
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let manager = SchemaManager::new(&db);
    for table in TABLES {
        assert!(manager.has_table(*table).await.unwrap(), "{table}");
    }

    let status = run_mailer(&["migrate", "status"], &env, dir.path()).await;
    assert!(status.status.success());

    let down = run_mailer(&["migrate", "down", "--all"], &env, dir.path()).await;
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    for table in TABLES {
        assert!(!manager.has_table(*table).await.unwrap(), "{table} dropped");
    }
}

/// The environment of one bad start, the setting its error must name, and secrets it must not show.
type BadConfig<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);

/// A bad value stops start-up with one line naming the setting, and no secret in it.
#[tokio::test]
async fn bad_configuration_stops_startup_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[BadConfig] = &[
        (&[("MAILER_BIND", "not-an-address")], "MAILER_BIND", &[]),
        (
            &[("MAILER_WORKER__CONCURRENCY", "lots")],
            "MAILER_WORKER__CONCURRENCY",
            &[],
        ),
        (
            &[("MAILER_WORKER__CONCURRENCY", "0")],
            "MAILER_WORKER__CONCURRENCY",
            &[],
        ),
        (
            &[("DATABASE_URL", "mysql://db/mailer")],
            "DATABASE_URL",
            &[],
        ),
        (
            &[("SMTP_URL", "ftp://user:hunter2-secret@mail.example")],
            "SMTP_URL",
            &["hunter2-secret"],
        ),
        (
            &[
                ("DATABASE_URL", "postgres://db/mailer"),
                ("SECRET_KEY", "short-s3cr3t"),
            ],
            "SECRET_KEY",
            &["short-s3cr3t"],
        ),
        (
            &[("DATABASE_URL", "postgres://db/mailer")],
            "SECRET_KEY",
            &[],
        ),
        (&[("MAILER_NO_SUCH_SETTING", "1")], "no_such_setting", &[]),
    ];
    for (env, setting, secrets) in cases {
        let out = run_mailer(&["serve"], env, dir.path()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{env:?}: one line: {stderr}"
        );
        assert!(
            stderr.contains(setting),
            "{env:?} names {setting}: {stderr}"
        );
        for secret in *secrets {
            assert!(!stderr.contains(secret), "{env:?} leaks a secret: {stderr}");
        }
    }
    assert!(!dir.path().join("var").exists(), "nothing was created");
}
