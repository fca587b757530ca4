//! A PostgreSQL server of a test's own, on a free port, that the test may stop and start
//! again to play an outage (its Redis twin is `services::PrivateRedis`). The shared server is
//! never touched. Removed (process stopped, files deleted) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::services::free_port;

async fn wait_for_port(port: u16, up: bool, what: &str) {
    for _ in 0..200 {
        let open = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok();
        if open == up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what} on port {port} did not come {}",
        if up { "up" } else { "down" }
    );
}

/// A PostgreSQL cluster of the test's own (initdb into a temp folder, run as the `postgres`
/// user since the server refuses root), trust auth, listening on 127.0.0.1 only.
pub struct PrivatePostgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    running: bool,
}

/// The folder of the newest installed PostgreSQL's programs.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

/// Runs a PostgreSQL program as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    // SAFETY: getuid(2) has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl PrivatePostgres {
    pub async fn start() -> PrivatePostgres {
        let dir = tempfile::Builder::new()
            .prefix("mailer-pg-")
            .tempdir()
            .expect("temp dir");
        let bin = postgres_bin();
        // SAFETY: getuid(2) has no preconditions.
        if unsafe { libc::getuid() } == 0 {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster folder to postgres");
        }
        let status = as_postgres(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed");
        let mut pg = PrivatePostgres {
            port: free_port(),
            dir,
            bin,
            running: false,
        };
        pg.restart().await;
        pg
    }

    /// The `postgres` database of this cluster (the app migrates it on start).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Stops the server at once (`immediate`: like a crash, open connections are cut).
    pub async fn kill(&mut self) {
        if self.running {
            self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
            self.running = false;
        }
        wait_for_port(self.port, false, "PostgreSQL").await;
    }

    /// Starts the server again on the same port, with its data.
    pub async fn restart(&mut self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let started = self.pg_ctl(&[
            "start",
            "-w",
            "-o",
            &options,
            "-l",
            &log.display().to_string(),
        ]);
        assert!(started, "pg_ctl start failed: see {}", log.display());
        self.running = true;
        wait_for_port(self.port, true, "PostgreSQL").await;
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running {
            self.pg_ctl(&["stop", "-m", "immediate"]);
        }
    }
}
