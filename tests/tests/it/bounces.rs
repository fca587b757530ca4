//! Bounces and complaints: a mailbox that does not exist is suppressed at RCPT TO, soft
//! bounces suppress at their limit, every mailing e-mail goes out with a signed VERP return
//! path, and the bounce mailbox on a real IMAP server (a private Dovecot) and the MTA's
//! inbound endpoint turn DSN and ARF reports of every common shape into bounces and
//! complaints of the right delivery, while garbage is kept aside and never stops the rest.

use std::time::Duration;

use mailer::bounces::imap::{Summary, process_once};
use mailer::bounces::{Addresses, Named};
use mailer::consent::Recipient;
use mailer::delivery::cli::{Target, send};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::feedback::{self, Kind};
use mailer::entities::suppression::{self, Reason};
use mailer::entities::user::Role;
use mailer_tests::app::{Child, config_env, eventually};
use mailer_tests::dovecot::{self, PrivateDovecot};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::mailings::insert_client;
use crate::outage::worker;
use crate::stop::mailing_now;

/// Sends mailing `subject` to `clients` in this process (as `mailer send` does); its rows.
async fn send_now(
    app: &TestApp,
    v: &Visitor,
    clients: &[i32],
    subject: &str,
) -> Vec<delivery::Model> {
    let id = mailing_now(app, v, clients, subject).await;
    send(&app.state, Target::Mailing(id), |_| {})
        .await
        .expect("send");
    delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(id))
        .all(&app.state.db)
        .await
        .unwrap()
}

fn row_of(rows: &[delivery::Model], client: i32) -> &delivery::Model {
    rows.iter()
        .find(|r| r.client_id == client)
        .expect("a row per client")
}

async fn suppressed(app: &TestApp, email: &str) -> Option<suppression::Model> {
    suppression::Entity::find()
        .filter(suppression::Column::Email.eq(email))
        .one(&app.state.db)
        .await
        .unwrap()
}

async fn feedback_of(app: &TestApp, email: &str) -> Vec<feedback::Model> {
    feedback::Entity::find()
        .filter(feedback::Column::Email.eq(email))
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn a_missing_mailbox_is_suppressed_at_rcpt_and_the_return_path_is_signed(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ann = insert_client(&app, v.user.id, "ann@example.com").await;
    let bob = insert_client(&app, v.user.id, "bob@example.com").await;
    app.smtp.refuse_recipient(
        "ann@example.com",
        "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown",
    );

    let rows = send_now(&app, &v, &[ann, bob], "First").await;
    assert_eq!(row_of(&rows, ann).status, DeliveryStatus::Failed);
    assert_eq!(row_of(&rows, bob).status, DeliveryStatus::Sent);
    let entry = suppressed(&app, "ann@example.com")
        .await
        .expect("ann is suppressed");
    assert_eq!(entry.reason, Reason::Bounced);
    assert!(
        entry.detail.as_deref().unwrap_or("").contains("5.1.1"),
        "{entry:?}"
    );
    let log = feedback_of(&app, "ann@example.com").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, Kind::Bounced);
    assert_eq!(log[0].delivery_id, Some(row_of(&rows, ann).id));
    assert!(suppressed(&app, "bob@example.com").await.is_none());

    // The envelope sender is the delivery's VERP address, signed under the secret key;
    // the From header stays the configured sender.
    let mails = app.smtp.messages();
    assert_eq!(mails.len(), 1);
    let addresses = Addresses::of(&app.state);
    assert!(mails[0].from.starts_with("bounces+"), "{}", mails[0].from);
    assert!(mails[0].from.ends_with("@localhost"), "{}", mails[0].from);
    assert_eq!(
        addresses.read(&mails[0].from),
        Some(Named::Delivery(row_of(&rows, bob).id))
    );
    assert_eq!(
        addresses.read(&mails[0].from.replace("bounces+", "bounces+1")),
        None,
        "another delivery's id under this MAC is refused"
    );
    assert_eq!(
        mails[0].header("From").as_deref(),
        Some("Mailer <noreply@localhost>")
    );
    // List-Unsubscribe: the link and the mailto address of this recipient.
    let list = mails[0].header("List-Unsubscribe").unwrap();
    let mailto = list
        .split("<mailto:")
        .nth(1)
        .and_then(|m| m.split_once("?subject=unsubscribe>"))
        .map(|(m, _)| m.to_owned())
        .unwrap_or_else(|| panic!("no mailto in {list}"));
    assert!(list.starts_with("<http"), "{list}");
    match addresses.read(&mailto) {
        Some(Named::Unsubscribe(who)) => assert_eq!(who.client_id, bob),
        other => panic!("{mailto}: {other:?}"),
    }

    // The next occurrence skips ann's address and mails bob.
    let rows = send_now(&app, &v, &[ann, bob], "Second").await;
    assert_eq!(row_of(&rows, ann).status, DeliveryStatus::Skipped);
    assert_eq!(row_of(&rows, bob).status, DeliveryStatus::Sent);
    assert_eq!(app.smtp.messages().len(), 2);
}

async fn soft_bounces_suppress_an_address_at_the_limit(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.bounces.soft_limit = 2;
        // A deferral ends the delivery at its first try.
        c.worker.retries = 0;
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ann = insert_client(&app, v.user.id, "ann@example.com").await;
    app.smtp.refuse_recipient(
        "ann@example.com",
        "452 4.2.2 <ann@example.com>: Mailbox full",
    );

    let rows = send_now(&app, &v, &[ann], "First").await;
    assert_eq!(rows[0].status, DeliveryStatus::Failed);
    let log = feedback_of(&app, "ann@example.com").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, Kind::SoftBounced);
    assert!(
        suppressed(&app, "ann@example.com").await.is_none(),
        "one soft bounce only counts"
    );

    send_now(&app, &v, &[ann], "Second").await;
    let entry = suppressed(&app, "ann@example.com")
        .await
        .expect("the second soft bounce suppresses");
    assert_eq!(entry.reason, Reason::Bounced);
    assert!(
        entry
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("2 soft bounces"),
        "{entry:?}"
    );

    app.smtp.accept_recipient("ann@example.com");
    let rows = send_now(&app, &v, &[ann], "Third").await;
    assert_eq!(rows[0].status, DeliveryStatus::Skipped);
    assert!(app.smtp.messages().is_empty());
}

/// A fixture of `tests/fixtures/bounces` with its placeholders filled in.
fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let path = format!("{}/fixtures/bounces/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match String::from_utf8(raw) {
        Ok(mut text) => {
            for (key, value) in fill {
                text = text.replace(&format!("{{{{{key}}}}}"), value);
            }
            text.into_bytes()
        }
        Err(e) => e.into_bytes(),
    }
}

/// A report about `row`, sent to its return path: the fixture with the VERP address, the
/// recipient and the original Message-ID filled in.
fn report_of(name: &str, addresses: &Addresses, row: &delivery::Model, email: &str) -> Vec<u8> {
    let verp = addresses.return_path(row.id);
    let local = email.split('@').next().unwrap_or("");
    fixture(
        name,
        &[
            ("TO", &verp),
            ("VERP", &verp),
            ("RCPT_LOCAL", local),
            ("RCPT", email),
            ("MESSAGE_ID", &row.message_id_header),
        ],
    )
}

const GARBAGE: [&str; 4] = [
    "garbage-not-mime.txt",
    "garbage-truncated.eml",
    "garbage-binary.bin",
    "garbage-huge-header.eml",
];

/// An app whose bounce mailbox is on `imap`.
async fn app_reading(backend: Backend, imap: &PrivateDovecot) -> Option<TestApp> {
    let port = imap.port;
    spawn_app_with(backend, |c| {
        c.bounces.imap_host = Some("127.0.0.1".into());
        c.bounces.imap_port = Some(port);
        c.bounces.imap_tls = false;
        c.bounces.imap_user = dovecot::USER.into();
        c.bounces.imap_password = Some(SecretString::from(dovecot::PASSWORD));
        c.bounces.poll_secs = 1;
    })
    .await
}

async fn the_worker_reads_the_bounce_mailbox_when_one_is_configured(backend: Backend) {
    let Some(imap) = PrivateDovecot::start().await else {
        return;
    };
    let Some(app) = app_reading(backend, &imap).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ann = insert_client(&app, v.user.id, "ann@example.net").await;
    let rows = send_now(&app, &v, &[ann], "News").await;
    let addresses = Addresses::of(&app.state);
    imap.append("INBOX", &fixture("garbage-truncated.eml", &[]))
        .await;
    imap.append(
        "INBOX",
        &report_of("outlook.eml", &addresses, &rows[0], "ann@example.net"),
    )
    .await;
    let _worker = worker(&app, "worker.log");
    let entry = eventually(
        Duration::from_secs(30),
        "the worker read the mailbox",
        || async { suppressed(&app, "ann@example.net").await },
    )
    .await;
    assert_eq!(entry.reason, Reason::Bounced);
    eventually(Duration::from_secs(10), "the mailbox was filed", || async {
        (imap.count("Processed").await.0 == 1 && imap.count("Unparsed").await.0 == 1).then_some(())
    })
    .await;
}

async fn the_bounce_mailbox_is_read_over_imap(backend: Backend) {
    let Some(imap) = PrivateDovecot::start().await else {
        return;
    };
    let Some(app) = app_reading(backend, &imap).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    // One client per report; the hard bounces first.
    let cases = [
        ("postfix.eml", Some(Kind::Bounced)),
        ("exim-classic.eml", Some(Kind::Bounced)),
        ("exim-dsn.eml", Some(Kind::Bounced)),
        ("gmail.eml", Some(Kind::Bounced)),
        ("outlook.eml", Some(Kind::Bounced)),
        ("yahoo-arf.eml", Some(Kind::Complained)),
        ("soft-delayed.eml", Some(Kind::SoftBounced)),
    ];
    let mut clients = Vec::new();
    for i in 0..cases.len() + 3 {
        clients.push(insert_client(&app, v.user.id, &format!("r{i}@example.net")).await);
    }
    let rows = send_now(&app, &v, &clients, "December news").await;
    assert!(rows.iter().all(|r| r.status == DeliveryStatus::Sent));
    let addresses = Addresses::of(&app.state);
    let email = |i: usize| format!("r{i}@example.net");

    // Garbage between the reports: each is kept aside and the rest goes on.
    for (i, (name, _)) in cases.iter().enumerate() {
        let row = row_of(&rows, clients[i]);
        imap.append("INBOX", &report_of(name, &addresses, row, &email(i)))
            .await;
        if let Some(junk) = GARBAGE.get(i) {
            imap.append("INBOX", &fixture(junk, &[])).await;
        }
    }
    // Forwarded to the plain bounce address, with no VERP: found by the Message-ID of the
    // original message.
    let n = cases.len();
    let by_message_id = fixture(
        "gmail.eml",
        &[
            ("TO", "bounces@localhost"),
            ("VERP", "news@mailer.test"),
            ("RCPT", &email(n)),
            ("MESSAGE_ID", &row_of(&rows, clients[n]).message_id_header),
        ],
    );
    imap.append("INBOX", &by_message_id).await;
    // A forged bounce: a valid delivery id under a made-up MAC, and no Message-ID of ours.
    let forged_verp = format!(
        "bounces+{}.0123456789abcdef@localhost",
        row_of(&rows, clients[n + 1]).id
    );
    let forged = fixture(
        "postfix.eml",
        &[
            ("TO", &forged_verp),
            ("VERP", &forged_verp),
            ("RCPT", &email(n + 1)),
            ("MESSAGE_ID", "<not-ours@elsewhere.test>"),
        ],
    );
    imap.append("INBOX", &forged).await;

    let summary = process_once(&app.state).await.expect("the mailbox is read");
    assert_eq!(
        summary,
        Summary {
            processed: n + 1,
            unparsed: GARBAGE.len() + 1,
            failed: 0
        }
    );
    for (i, (name, kind)) in cases.iter().enumerate() {
        let log = feedback_of(&app, &email(i)).await;
        let kinds: Vec<Kind> = log.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [kind.unwrap()], "{name}");
        assert_eq!(
            log[0].delivery_id,
            Some(row_of(&rows, clients[i]).id),
            "{name}"
        );
        let entry = suppressed(&app, &email(i)).await;
        match kind {
            Some(Kind::Bounced) => {
                assert_eq!(entry.map(|e| e.reason), Some(Reason::Bounced), "{name}")
            }
            Some(Kind::Complained) => {
                assert_eq!(entry.map(|e| e.reason), Some(Reason::Complained), "{name}")
            }
            _ => assert!(entry.is_none(), "{name}: a soft bounce only counts"),
        }
    }
    let log = feedback_of(&app, &email(n)).await;
    assert_eq!(log.len(), 1, "found by its Message-ID");
    assert_eq!(log[0].kind, Kind::Bounced);
    assert!(
        feedback_of(&app, &email(n + 1)).await.is_empty(),
        "a forged bounce suppresses nobody"
    );
    assert!(suppressed(&app, &email(n + 1)).await.is_none());

    assert_eq!(imap.count("INBOX").await, (0, 0));
    assert_eq!(imap.count("Processed").await, (n + 1, n + 1));
    assert_eq!(imap.count("Unparsed").await.0, GARBAGE.len() + 1);

    // The same report again counts once; an empty mailbox is a quiet round.
    let row = row_of(&rows, clients[0]);
    imap.append(
        "INBOX",
        &report_of("postfix.eml", &addresses, row, &email(0)),
    )
    .await;
    let again = process_once(&app.state).await.unwrap();
    assert_eq!(again.processed, 1);
    assert_eq!(feedback_of(&app, &email(0)).await.len(), 1);
    assert_eq!(process_once(&app.state).await.unwrap(), Summary::default());

    // A mail to a recipient's List-Unsubscribe mailto address unsubscribes them, read by
    // the operator's command `mailer bounces --once`.
    let last = n + 2;
    let who = Recipient {
        owner_id: v.user.id,
        client_id: clients[last],
        mailing_id: Some(row_of(&rows, clients[last]).mailing_id),
    };
    let unsubscribe = fixture(
        "unsubscribe.eml",
        &[
            ("TO", &addresses.unsubscribe_address(who)),
            ("RCPT", &email(last)),
        ],
    );
    imap.append("INBOX", &unsubscribe).await;
    let env = config_env(&app.config);
    let log = app.dir.path().join("bounces-cli.log");
    let mut cli = Child::spawn("mailer", &["bounces", "--once"], &env, &log);
    let status = cli.wait(Duration::from_secs(60)).await;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("processed 1, unparsed 0, failed 0"),
        "{output}"
    );
    let entry = suppressed(&app, &email(last))
        .await
        .expect("unsubscribed by mail");
    assert_eq!(entry.reason, Reason::Unsubscribed);
}

async fn the_inbound_endpoint_takes_raw_reports_behind_a_secret(backend: Backend) {
    const SECRET: &str = "a-shared-secret-for-the-mta-pipe";
    let Some(app) = spawn_app_with(backend, |c| {
        c.bounces.secret = Some(SecretString::from(SECRET));
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ann = insert_client(&app, v.user.id, "ann@example.com").await;
    let rows = send_now(&app, &v, &[ann], "News").await;
    let addresses = Addresses::of(&app.state);
    let report = report_of("yahoo-arf.eml", &addresses, &rows[0], "ann@example.com");
    let mta = reqwest::Client::new();
    let url = app.url("/bounces/inbound");

    let post = |auth: Option<String>, body: Vec<u8>| {
        let mut req = mta.post(&url).body(body);
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        req.send()
    };
    let none = post(None, report.clone()).await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let wrong = post(Some("Bearer not-the-secret".into()), report.clone())
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(feedback_of(&app, "ann@example.com").await.is_empty());

    let bearer = Some(format!("Bearer {SECRET}"));
    let done = post(bearer.clone(), report.clone()).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let body: serde_json::Value = done.json().await.unwrap();
    assert_eq!(body["result"], "recorded");
    assert_eq!(body["kind"], "complained");
    assert_eq!(body["new"], true);
    let again: serde_json::Value = post(bearer.clone(), report)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["new"], false, "the same report counts once");
    let entry = suppressed(&app, "ann@example.com").await.unwrap();
    assert_eq!(entry.reason, Reason::Complained);

    for junk in GARBAGE {
        let refused = post(bearer.clone(), fixture(junk, &[])).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{junk}");
    }
    // Over the size limit, streamed: cut at the limit.
    let huge = vec![b'x'; 11 * 1024 * 1024];
    let big = post(bearer, huge).await.unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Without a secret configured the endpoint is off.
    let Some(off) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let answer = reqwest::Client::new()
        .post(off.url("/bounces/inbound"))
        .header("Authorization", format!("Bearer {SECRET}"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_mailbox_is_suppressed_at_rcpt_and_the_return_path_is_signed_sqlite() {
    a_missing_mailbox_is_suppressed_at_rcpt_and_the_return_path_is_signed(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_missing_mailbox_is_suppressed_at_rcpt_and_the_return_path_is_signed_postgres() {
    a_missing_mailbox_is_suppressed_at_rcpt_and_the_return_path_is_signed(Backend::Postgres).await;
}

#[tokio::test]
async fn soft_bounces_suppress_an_address_at_the_limit_sqlite() {
    soft_bounces_suppress_an_address_at_the_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn soft_bounces_suppress_an_address_at_the_limit_postgres() {
    soft_bounces_suppress_an_address_at_the_limit(Backend::Postgres).await;
}

#[tokio::test]
async fn the_bounce_mailbox_is_read_over_imap_sqlite() {
    the_bounce_mailbox_is_read_over_imap(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_bounce_mailbox_is_read_over_imap_postgres() {
    the_bounce_mailbox_is_read_over_imap(Backend::Postgres).await;
}

#[tokio::test]
async fn the_inbound_endpoint_takes_raw_reports_behind_a_secret_sqlite() {
    the_inbound_endpoint_takes_raw_reports_behind_a_secret(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_inbound_endpoint_takes_raw_reports_behind_a_secret_postgres() {
    the_inbound_endpoint_takes_raw_reports_behind_a_secret(Backend::Postgres).await;
}

#[tokio::test]
async fn the_worker_reads_the_bounce_mailbox_when_one_is_configured_sqlite() {
    the_worker_reads_the_bounce_mailbox_when_one_is_configured(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_worker_reads_the_bounce_mailbox_when_one_is_configured_postgres() {
    the_worker_reads_the_bounce_mailbox_when_one_is_configured(Backend::Postgres).await;
}
