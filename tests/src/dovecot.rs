//! A Dovecot IMAP server of a test's own (Debian's `dovecot-imapd`; `.ci/run` installs it):
//! its own configuration in a temp folder, plaintext auth on a free port of 127.0.0.1, one
//! passwd-file user, maildir mail in the same folder. The system's Dovecot, if any, is never
//! touched. Stopped and removed when dropped.
//!
//! Not installed: the test is skipped by name (see `services::skip`), or fails under
//! `TEST_REQUIRE_SERVICES=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::TryStreamExt;

use crate::services::{free_port, skip};

const DOVECOT: &str = "/usr/sbin/dovecot";
pub const USER: &str = "bounce";
pub const PASSWORD: &str = "bounce-secret";

pub struct PrivateDovecot {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl PrivateDovecot {
    /// `None` when Dovecot is not installed and not required (the skip is recorded).
    pub async fn start() -> Option<PrivateDovecot> {
        if !Path::new(DOVECOT).exists() {
            skip(
                "Dovecot (dovecot-imapd)",
                "/usr/sbin/dovecot is not installed",
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("mailer-dovecot-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        // SAFETY: getuid(2) has no preconditions.
        let as_root = unsafe { libc::getuid() } == 0;
        // As root, Dovecot's processes run as its own users (it refuses to log in as root),
        // and the mail belongs to `dovecot`; otherwise everything runs as us.
        let (internal, login, mail_user, mail_group) = if as_root {
            let status = Command::new("chmod")
                .arg("755")
                .arg(root)
                .status()
                .expect("chmod");
            assert!(status.success());
            (
                "dovecot".to_owned(),
                "dovenull".to_owned(),
                "dovecot".to_owned(),
                "dovecot".to_owned(),
            )
        } else {
            let me = whoami("-un");
            let group = whoami("-gn");
            (me.clone(), me.clone(), me, group)
        };
        let mail = root.join("mail");
        std::fs::create_dir_all(&mail).expect("mail folder");
        if as_root {
            let status = Command::new("chown")
                .arg(format!("{mail_user}:{mail_group}"))
                .arg(&mail)
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let port = free_port();
        let passwd = root.join("passwd");
        std::fs::write(&passwd, format!("{USER}:{{PLAIN}}{PASSWORD}\n")).expect("passwd");
        let r = root.display();
        let config = format!(
            "protocols = imap
listen = 127.0.0.1
base_dir = {r}/run
state_dir = {r}/state
instance_name = mailer-test-{port}
log_path = {r}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{r}/mail/%u
default_internal_user = {internal}
default_login_user = {login}
default_internal_group = {mail_group}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={r}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
",
            passwd = passwd.display()
        );
        let conf = root.join("dovecot.conf");
        std::fs::write(&conf, config).expect("dovecot.conf");
        for sub in ["run", "state"] {
            std::fs::create_dir_all(root.join(sub)).expect("dovecot folders");
        }
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let dovecot = PrivateDovecot { port, dir, child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(dovecot);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "dovecot did not come up on port {port}: {}",
            std::fs::read_to_string(dovecot.log_path()).unwrap_or_default()
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("dovecot.log")
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to dovecot");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("login")
    }

    /// Puts `raw` into `folder` (IMAP APPEND), creating the folder if needed.
    pub async fn append(&self, folder: &str, raw: &[u8]) {
        let mut session = self.session().await;
        let _ = session.create(folder).await;
        // IMAP wants CRLF line ends.
        let mut crlf = Vec::with_capacity(raw.len() + raw.len() / 40);
        let mut last = 0u8;
        for &b in raw {
            if b == b'\n' && last != b'\r' {
                crlf.push(b'\r');
            }
            crlf.push(b);
            last = b;
        }
        session
            .append(folder, None, None, &crlf)
            .await
            .expect("APPEND");
        let _ = session.logout().await;
    }

    /// How many messages `folder` holds (0 when it does not exist), and how many of them
    /// are flagged `\Seen`.
    pub async fn count(&self, folder: &str) -> (usize, usize) {
        let mut session = self.session().await;
        if session.select(folder).await.is_err() {
            return (0, 0);
        }
        let all = session.search("ALL").await.expect("SEARCH").len();
        let seen = session.search("SEEN").await.expect("SEARCH").len();
        let _ = session.logout().await;
        (all, seen)
    }

    /// The subjects of the messages in `folder`.
    pub async fn subjects(&self, folder: &str) -> Vec<String> {
        let mut session = self.session().await;
        if session.select(folder).await.is_err() {
            return Vec::new();
        }
        let fetched: Vec<_> = session
            .fetch("1:*", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
            .await
            .expect("FETCH")
            .try_collect()
            .await
            .unwrap_or_default();
        let subjects = fetched
            .iter()
            .filter_map(|f| f.header())
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches("Subject:")
                    .trim()
                    .chars()
                    .take(80)
                    .collect()
            })
            .collect();
        let _ = session.logout().await;
        subjects
    }
}

fn whoami(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Drop for PrivateDovecot {
    fn drop(&mut self) {
        // SIGTERM: dovecot stops its children too.
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
