//! DKIM signing, checked by an independent verifier: Debian's `python3-dkim` (dkimpy) with
//! the DNS answer stubbed by the TXT record `mailer dkim generate` printed. Mailings after a
//! round trip through the fake SMTP server (ed25519 and rsa), account mail, the signed
//! header list, tampering, `/healthz` and the account page, and start-up errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Duration as Span;
use mailer::dkim::DkimSettings;
use mailer::entities::user::Role;
use mailer_tests::app::{bin_path, spawn_app_with};
use mailer_tests::html::parse;
use mailer_tests::services::skip;
use mailer_tests::smtp::ReceivedMail;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, TestApp};

use crate::accounts::{Browser, mails, make_user, start_worker};
use crate::send_cli::{mailer_send, mailing_of};

const SELECTOR: &str = "s1";
const DOMAIN: &str = "example.com";

/// Reads a message on stdin and the key's TXT record as the argument; prints whether the
/// signature verifies, which DNS names were asked for, and dkimpy's log.
const VERIFIER: &str = r#"
import io, json, logging, sys
import dkim
message = sys.stdin.buffer.read()
record = sys.argv[1].encode()
asked = []
def dns(name, timeout=5):
    asked.append(name.decode() if isinstance(name, bytes) else name)
    return record
out = io.StringIO()
log = logging.getLogger("dkim-test")
log.addHandler(logging.StreamHandler(out))
log.setLevel(logging.DEBUG)
try:
    ok = dkim.DKIM(message, logger=log).verify(dnsfunc=dns)
except Exception as e:
    ok = False
    out.write(repr(e))
print(json.dumps({"ok": bool(ok), "asked": asked, "log": out.getvalue()}))
"#;

/// A Python that has dkimpy: Debian's (`python3-dkim` installs there), else the one on
/// PATH (pyenv's, say, with `pip install dkimpy pynacl`).
fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import dkim, nacl"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Whether dkimpy can be run; a skip (a failure under `TEST_REQUIRE_SERVICES=1`) otherwise.
fn have_verifier() -> bool {
    let found = python().is_some();
    if !found {
        skip(
            "python3-dkim",
            "`python3 -c 'import dkim'` fails: apt-get install python3-dkim",
        );
    }
    found
}

#[derive(Debug)]
struct Verdict {
    ok: bool,
    asked: Vec<String>,
    log: String,
}

async fn verify(message: &str, record: &str) -> Verdict {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(python().expect("python3-dkim"))
        .args(["-c", VERIFIER, record])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run python3");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(message.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the verifier ends")
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "verifier output ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Verdict {
        ok: json["ok"] == true,
        asked: json["asked"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        log: json["log"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Asserts that `mail` verifies with `record`, looked up where it should be.
async fn assert_verifies(mail: &ReceivedMail, record: &str) {
    let verdict = verify(&mail.data, record).await;
    assert!(verdict.ok, "{}\n{verdict:?}\n{}", verdict.log, mail.data);
    assert_eq!(
        verdict.asked,
        [format!("{SELECTOR}._domainkey.{DOMAIN}.")],
        "{verdict:#?}"
    );
}

/// The same mail with text added at the top of its body, and with another subject: neither
/// verifies (so the verifier really checks).
async fn assert_tampering_fails(mail: &ReceivedMail, record: &str) {
    let (head, body) = mail.data.split_once("\r\n\r\n").expect("a body");
    let body_changed = format!("{head}\r\n\r\nClick here.\r\n{body}");
    let verdict = verify(&body_changed, record).await;
    assert!(!verdict.ok, "a changed body verifies: {verdict:#?}");
    let subject = mail.raw_header("Subject").expect("a subject");
    let subject_changed = mail.data.replacen(&subject, "You won", 1);
    assert_ne!(subject_changed, mail.data);
    let verdict = verify(&subject_changed, record).await;
    assert!(!verdict.ok, "a changed subject verifies: {verdict:#?}");
}

/// The tags of the mail's `DKIM-Signature`, whitespace removed from the values.
fn signature_tags(mail: &ReceivedMail) -> Vec<(String, String)> {
    let headers = mail.headers("DKIM-Signature");
    assert_eq!(headers.len(), 1, "one signature: {}", mail.data);
    headers[0]
        .split(';')
        .filter_map(|tag| tag.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.split_whitespace().collect()))
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], name: &str) -> &'a str {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name}= in {tags:?}"))
}

/// The headers `h=` names, lower-cased.
fn signed_headers(tags: &[(String, String)]) -> Vec<String> {
    tag(tags, "h")
        .split(':')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

/// A key made by `mailer dkim generate`, and the TXT record it printed.
struct GeneratedKey {
    file: PathBuf,
    /// The record's strings joined, as a resolver hands them over.
    record: String,
    _dir: tempfile::TempDir,
}

impl GeneratedKey {
    fn settings(&self) -> DkimSettings {
        DkimSettings {
            selector: Some(SELECTOR.into()),
            domain: Some(DOMAIN.into()),
            key_file: Some(self.file.clone()),
        }
    }
}

async fn run(bin: &str, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> std::process::Output {
    let output = tokio::process::Command::new(bin_path(bin))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .unwrap_or_else(|_| panic!("{bin} {args:?} exits"))
        .expect("run the binary")
}

async fn dkim_generate(dir: &Path, algorithm: &str, extra: &[&str]) -> std::process::Output {
    let out = dir.join("dkim.pem");
    let out = out.to_str().unwrap();
    let mut args = vec![
        "dkim",
        "generate",
        "--selector",
        SELECTOR,
        "--domain",
        DOMAIN,
        "--algorithm",
        algorithm,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    run("mailer", &args, &[], dir).await
}

async fn generate(algorithm: &str) -> GeneratedKey {
    let dir = tempfile::tempdir().unwrap();
    let output = dkim_generate(dir.path(), algorithm, &[]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{SELECTOR}._domainkey.{DOMAIN} TXT \"")))
        .unwrap_or_else(|| panic!("no TXT record printed: {stdout}"));
    let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert!(strings.iter().all(|s| s.len() <= 255), "{line}");
    let record = strings.concat();
    assert!(
        record.starts_with(&format!("v=DKIM1; k={algorithm}; p=")),
        "{record}"
    );
    GeneratedKey {
        file: dir.path().join("dkim.pem"),
        record,
        _dir: dir,
    }
}

/// An app that signs with `key`, its From address in the signing domain.
async fn signing_app(backend: Backend, key: &GeneratedKey) -> Option<TestApp> {
    let settings = key.settings();
    spawn_app_with(backend, move |c| {
        c.dkim = settings;
        c.mail_from = format!("News <news@{DOMAIN}>");
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Mailings, through the SMTP server

async fn mailing_is_signed(backend: Backend, algorithm: &str) {
    if !have_verifier() {
        return;
    }
    let key = generate(algorithm).await;
    let Some(app) = signing_app(backend, &key).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = mailing_of(&app, &v, "dk", 2, -Span::minutes(1)).await;
    let run = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(run.code, Some(0), "{run}");

    let mails = app.smtp.messages();
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        assert!(mail.header("List-Unsubscribe").is_some());
        assert_verifies(mail, &key.record).await;
        let tags = signature_tags(mail);
        let expected = if algorithm == "rsa" {
            "rsa-sha256"
        } else {
            "ed25519-sha256"
        };
        assert_eq!(tag(&tags, "a"), expected);
        assert_eq!(tag(&tags, "d"), DOMAIN);
        assert_eq!(tag(&tags, "s"), SELECTOR);
        let signed = signed_headers(&tags);
        for header in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            assert!(signed.iter().any(|h| h == header), "{header} in {signed:?}");
        }
    }
    assert_tampering_fails(&mails[0], &key.record).await;

    // Another key's record does not verify it either.
    let other = generate(algorithm).await;
    let verdict = verify(&mails[0].data, &other.record).await;
    assert!(!verdict.ok, "verified with another key: {verdict:#?}");
}

#[tokio::test]
async fn a_mailing_is_signed_ed25519_sqlite() {
    mailing_is_signed(Backend::Sqlite, "ed25519").await;
}

#[tokio::test]
async fn a_mailing_is_signed_ed25519_postgres() {
    mailing_is_signed(Backend::Postgres, "ed25519").await;
}

#[tokio::test]
async fn a_mailing_is_signed_rsa_sqlite() {
    mailing_is_signed(Backend::Sqlite, "rsa").await;
}

#[tokio::test]
async fn a_mailing_is_signed_rsa_postgres() {
    mailing_is_signed(Backend::Postgres, "rsa").await;
}

// ---------------------------------------------------------------------------------------
// Account mail, through the worker

async fn account_mail_is_signed(backend: Backend) {
    if !have_verifier() {
        return;
    }
    let key = generate("ed25519").await;
    let Some(app) = signing_app(backend, &key).await else {
        return;
    };
    let _worker = start_worker(&app);
    let email = "forgetful@example.com";
    make_user(&app, email, true).await;
    let browser = Browser::new(&app).await;
    browser.post("/password/reset", &[("email", email)]).await;
    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.subject().as_deref(), Some("Reset your password"));
    assert_verifies(mail, &key.record).await;
    let signed = signed_headers(&signature_tags(mail));
    for header in ["from", "to", "subject", "date", "message-id"] {
        assert!(signed.iter().any(|h| h == header), "{header} in {signed:?}");
    }
    // Only headers it has: a relay may add what is missing without breaking the signature.
    assert!(!signed.iter().any(|h| h.starts_with("list-")), "{signed:?}");
    assert_tampering_fails(mail, &key.record).await;
}

#[tokio::test]
async fn account_mail_is_signed_sqlite() {
    account_mail_is_signed(Backend::Sqlite).await;
}

#[tokio::test]
async fn account_mail_is_signed_postgres() {
    account_mail_is_signed(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// What the service says about signing

async fn health_and_account_page_say_whether_signing_is_on(backend: Backend) {
    let key = generate("rsa").await;
    let Some(signing) = signing_app(backend, &key).await else {
        return;
    };
    let Some(plain) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let pem = std::fs::read_to_string(&key.file).unwrap();
    let secret_line = pem.lines().nth(1).unwrap();

    let body = signing.get("/healthz").await.text().await.unwrap();
    assert!(!body.contains(secret_line), "the key is never shown");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        health["dkim"],
        serde_json::json!({
            "signing": true, "selector": SELECTOR, "domain": DOMAIN, "algorithm": "rsa-sha256"
        }),
        "{health}"
    );
    let health: serde_json::Value = plain.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["dkim"], serde_json::json!({ "signing": false }));

    for (app, expected) in [
        (
            &signing,
            format!("DKIM-signed for {DOMAIN} (selector {SELECTOR}, rsa-sha256)"),
        ),
        (&plain, "Not DKIM-signed".to_owned()),
    ] {
        let v = sign_in_new(app, "ann@example.com", Role::User).await;
        let page = v.get("/account").await.text().await.unwrap();
        assert!(!page.contains(secret_line));
        let status = parse(&page).text("#dkim-status");
        assert_eq!(status.as_deref(), Some(expected.as_str()), "{page}");
    }
}

#[tokio::test]
async fn health_and_account_page_say_whether_signing_is_on_sqlite() {
    health_and_account_page_say_whether_signing_is_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn health_and_account_page_say_whether_signing_is_on_postgres() {
    health_and_account_page_say_whether_signing_is_on(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// The command and the configuration

#[tokio::test]
async fn generate_writes_a_private_key_and_refuses_to_overwrite_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dkim.pem");
    let first = dkim_generate(dir.path(), "ed25519", &[]).await;
    assert!(first.status.success());
    let pem = std::fs::read_to_string(&file).unwrap();
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS#8: {pem}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let again = dkim_generate(dir.path(), "rsa", &[]).await;
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(again.stdout.is_empty(), "no record for a key not written");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem, "untouched");

    let forced = dkim_generate(dir.path(), "rsa", &["--force"]).await;
    assert!(forced.status.success());
    assert_ne!(std::fs::read_to_string(&file).unwrap(), pem);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let bad = run(
        "mailer",
        &[
            "dkim",
            "generate",
            "--selector",
            "s 1",
            "--domain",
            DOMAIN,
            "--algorithm",
            "ed25519",
            "--out",
            "other.pem",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--selector"));
    assert!(!dir.path().join("other.pem").exists());
}

#[tokio::test]
async fn partial_or_broken_settings_stop_start_up_with_the_setting_named() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate("ed25519").await;
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let database = format!("sqlite://{}", dir.path().join("mailer.db").display());
    let base = [
        ("DATABASE_URL", database.as_str()),
        ("MAILER_DATA_DIR", dir.path().to_str().unwrap()),
    ];
    let key_file = key.file.to_str().unwrap();
    // (settings, the setting named, why)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 5] = [
        (
            &[
                ("MAILER_DKIM__SELECTOR", SELECTOR),
                ("MAILER_DKIM__DOMAIN", DOMAIN),
            ],
            "MAILER_DKIM__KEY_FILE",
            "is missing",
        ),
        (
            &[("MAILER_DKIM__KEY_FILE", key_file)],
            "MAILER_DKIM__SELECTOR",
            "is missing",
        ),
        (
            &[
                ("MAILER_DKIM__SELECTOR", SELECTOR),
                ("MAILER_DKIM__DOMAIN", "example .com"),
                ("MAILER_DKIM__KEY_FILE", key_file),
            ],
            "MAILER_DKIM__DOMAIN",
            "not a DNS name",
        ),
        (
            &[
                ("MAILER_DKIM__SELECTOR", SELECTOR),
                ("MAILER_DKIM__DOMAIN", DOMAIN),
                ("MAILER_DKIM__KEY_FILE", "/nonexistent/dkim.pem"),
            ],
            "MAILER_DKIM__KEY_FILE",
            "cannot read /nonexistent/dkim.pem",
        ),
        (
            &[
                ("MAILER_DKIM__SELECTOR", SELECTOR),
                ("MAILER_DKIM__DOMAIN", DOMAIN),
                ("MAILER_DKIM__KEY_FILE", garbage.to_str().unwrap()),
            ],
            "MAILER_DKIM__KEY_FILE",
            "not a PEM Ed25519 or RSA private key",
        ),
    ];
    for (settings, named, why) in cases {
        let env: Vec<(&str, &str)> = base.iter().chain(settings).copied().collect();
        for bin in ["mailer", "mailer-worker"] {
            let args: &[&str] = if bin == "mailer" {
                &["serve", "--bind", "127.0.0.1:0"]
            } else {
                &[]
            };
            let output = run(bin, args, &env, dir.path()).await;
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{bin} {settings:?} started");
            assert!(
                stderr.contains(named) && stderr.contains(why),
                "{bin} {settings:?}: {stderr}"
            );
        }
    }
}
