//! The delivery engine end to end: the web creates a mailing, the real `mailer-worker`
//! process sends it through the fake SMTP server, and every try is in the attempt log.

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::mailing::{self, MailingStatus};
use mailer::entities::user::Role;
use mailer_tests::app::{Child, eventually};
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::smtp::Behavior;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::mailings::{create_mailing, make_clients, make_message};

fn worker(app: &TestApp) -> Child {
    Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker.log"),
    )
}

/// How many successful attempts the log holds for one delivery.
fn successes_of(log: &[attempt::Model], delivery_id: i64) -> usize {
    log.iter()
        .filter(|a| a.delivery_id == Some(delivery_id) && a.status == AttemptStatus::Success)
        .count()
}

/// Waits until the app holds exactly `n` deliveries, all sent, and returns them.
async fn all_sent(app: &TestApp, n: usize) -> Vec<delivery::Model> {
    eventually(
        Duration::from_secs(30),
        "every delivery sent",
        || async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == n && rows.iter().all(|d| d.status == DeliveryStatus::Sent))
                .then_some(rows)
        },
    )
    .await
}

async fn attempts(app: &TestApp) -> Vec<attempt::Model> {
    attempt::Entity::find().all(&app.state.db).await.unwrap()
}

async fn mailing_sends_at_once_to_every_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 3).await;
    let message = make_message(&app, v.user.id, "Autumn news").await;
    let _worker = worker(&app);

    let created = create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let mails = app.smtp.wait_for_messages(3, Duration::from_secs(30)).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            "client0@example.com",
            "client1@example.com",
            "client2@example.com"
        ]
    );
    for mail in &mails {
        assert_eq!(mail.subject().as_deref(), Some("Autumn news"));
        let id = mail.header("Message-ID").expect("a Message-ID");
        assert!(
            id.starts_with("<m") && id.contains(".o"),
            "deterministic Message-ID: {id}"
        );
    }

    let log = eventually(Duration::from_secs(10), "three successful attempts", || {
        let app = &app;
        async move {
            let rows = attempts(app).await;
            (rows.len() == 3 && rows.iter().all(|a| a.status == AttemptStatus::Success))
                .then_some(rows)
        }
    })
    .await;
    assert!(
        log.iter()
            .all(|a| a.smtp_code == Some(250) && a.owner_id == v.user.id)
    );
    // The attempt row is written just before the delivery is marked sent: wait for both.
    let rows = eventually(Duration::from_secs(10), "three deliveries sent", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            rows.iter()
                .all(|d| d.status == DeliveryStatus::Sent)
                .then_some(rows)
        }
    })
    .await;
    assert!(rows.iter().all(|d| d.tries == 1), "one try each: {rows:#?}");

    // A few more ticks send nothing again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        app.smtp.messages().len(),
        3,
        "no client gets the occurrence twice"
    );
    let m = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.next_run_at, None,
        "a once-mailing has nothing left to send"
    );
    // Nothing left to try: finished days before its end date (the tick says so).
    eventually(Duration::from_secs(5), "the mailing finished", || async {
        let m = mailing::Entity::find_by_id(m.id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        (m.status == MailingStatus::Finished).then_some(())
    })
    .await;

    // The mailing page: progress done (no more polling), the report, the chart.
    let page = parse(
        &v.get(&format!("/mailings/{}", m.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(page.text("#progress-sent").as_deref(), Some("3"));
    assert_eq!(page.text("#progress-pending").as_deref(), Some("0"));
    assert!(
        !page.exists("#progress[hx-trigger]"),
        "polling stops when done"
    );
    assert_eq!(page.text("#report-attempts").as_deref(), Some("3"));
    assert_eq!(page.text("#report-successes").as_deref(), Some("3"));
    assert_eq!(page.text("#report-failures").as_deref(), Some("0"));
    let last_reply = page.text("#report-last-reply").unwrap_or_default();
    assert!(
        last_reply.contains("Ok: queued as"),
        "the server's own reply: {last_reply}"
    );
    assert_eq!(page.count("#report-clients tbody tr"), 3);
    assert!(
        page.exists("figure svg.chart title"),
        "an SVG chart with a text alternative"
    );

    // The attempt log as CSV.
    let csv = v
        .get(&format!("/mailings/{}/attempts.csv", m.id))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "attempted_at,recipient,occurrence_at,status,smtp_code,response"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1..].iter().all(|l| l.contains(",success,250,")),
        "{csv}"
    );

    // "Send now" on a mailing that was sent: it says how many would get it again and asks
    // first, queueing nothing.
    let ask = v.post_form(&format!("/mailings/{}/send", m.id), &[]).await;
    assert_eq!(ask.status(), StatusCode::OK);
    let ask = parse(&ask.text().await.unwrap());
    assert_eq!(ask.text("#repeat-count strong").as_deref(), Some("3"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.smtp.messages().len(), 3, "asking sent nothing");
    // Confirmed: an extra occurrence to every client, and the progress poll follows it.
    let sent = v
        .post_form(&format!("/mailings/{}/send", m.id), &[("again", "yes")])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let mails = app.smtp.wait_for_messages(6, Duration::from_secs(30)).await;
    let ids: std::collections::HashSet<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 6, "a new occurrence has new Message-IDs");
    let progress = eventually(Duration::from_secs(10), "six deliveries settled", || {
        let v = &v;
        let id = m.id;
        async move {
            let body = v
                .htmx_get(&format!("/mailings/{id}/progress"), "progress")
                .await
                .text()
                .await
                .ok()?;
            let doc = parse_fragment(&body);
            (doc.text("#progress-sent").as_deref() == Some("6")).then_some(doc)
        }
    })
    .await;
    assert!(
        !progress.exists("header.site"),
        "the progress poll gets the fragment only"
    );
}

#[tokio::test]
async fn mailing_sends_at_once_to_every_client_sqlite() {
    mailing_sends_at_once_to_every_client(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailing_sends_at_once_to_every_client_postgres() {
    mailing_sends_at_once_to_every_client(Backend::Postgres).await;
}

#[tokio::test]
async fn a_future_mailing_starts_by_itself() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 2).await;
    let message = make_message(&app, v.user.id, "Later").await;
    let _worker = worker(&app);
    // The form has minute precision: start at the next minute.
    let created = create_mailing(
        &v,
        message.id,
        &ids,
        Span::seconds(60),
        Span::days(7),
        "daily",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.smtp.messages().is_empty(), "nothing before the start");
    let m = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let wait = (m.start_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default()
        + Duration::from_secs(20);
    tokio::time::sleep(wait).await;
    let log = std::fs::read_to_string(app.dir.path().join("worker.log")).unwrap_or_default();
    assert_eq!(
        app.smtp.messages().len(),
        2,
        "sent after the start; worker log:\n{log}"
    );
    let m = eventually(Duration::from_secs(5), "the mailing to be running", || {
        let app = &app;
        async move {
            let m = mailing::Entity::find().one(&app.state.db).await.unwrap()?;
            (m.status == MailingStatus::Running).then_some(m)
        }
    })
    .await;
    assert_eq!(
        m.next_run_at,
        Some(m.start_at + Span::days(1)),
        "tomorrow's occurrence is next"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_are_not() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 3).await;
    let message = make_message(&app, v.user.id, "Flaky").await;
    // First message: 451, then 550 for the next recipient, then all accepted.
    app.smtp.script([Behavior::TempFail, Behavior::PermFail]);
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;

    let rows = eventually(Duration::from_secs(30), "every delivery settled", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == 3 && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
                .then_some(rows)
        }
    })
    .await;
    let sent = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Sent)
        .count();
    let failed: Vec<_> = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .collect();
    assert_eq!((sent, failed.len()), (2, 1), "{rows:#?}");
    let log = attempts(&app).await;
    let for_failed: Vec<_> = log
        .iter()
        .filter(|a| a.delivery_id == Some(failed[0].id))
        .collect();
    assert_eq!(for_failed.len(), 1, "a 5xx is not retried");
    assert_eq!(for_failed[0].smtp_code, Some(550));
    let retried: Vec<_> = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Failure && a.smtp_code == Some(451))
        .collect();
    assert_eq!(retried.len(), 1, "the 451 is logged");
    let retried_delivery = retried[0].delivery_id;
    assert!(
        log.iter()
            .any(|a| a.delivery_id == retried_delivery && a.status == AttemptStatus::Success),
        "and the retry succeeded"
    );
    assert_eq!(app.smtp.messages().len(), 2);
    let successes = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Success)
        .count();
    assert_eq!(successes, 2, "exactly one success per delivered client");
}

/// The server refuses connections for a while, then answers garbage once, then recovers:
/// nothing is lost and every client gets exactly one successful delivery.
async fn recovers_after_refusal_and_garbage(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 4).await;
    let message = make_message(&app, v.user.id, "Resilient").await;
    app.smtp.refuse_connections(true);
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;

    eventually(
        Duration::from_secs(20),
        "failed tries while the server is away",
        || {
            let app = &app;
            async move {
                let failures = attempts(app)
                    .await
                    .into_iter()
                    .filter(|a| a.status == AttemptStatus::Failure)
                    .count();
                (failures >= 2).then_some(())
            }
        },
    )
    .await;
    app.smtp.script([Behavior::Garbage]);
    app.smtp.refuse_connections(false);

    let rows = all_sent(&app, 4).await;
    let log = attempts(&app).await;
    for d in &rows {
        let successes = successes_of(&log, d.id);
        assert_eq!(successes, 1, "delivery {} succeeded once", d.id);
    }
    let refused = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Failure && a.smtp_code.is_none())
        .count();
    assert!(
        refused >= 2,
        "the refused tries are logged with the error: {log:#?}"
    );
    let mut to: Vec<String> = app
        .smtp
        .messages()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 4);
    assert_eq!(app.smtp.messages().len(), 4, "nobody got it twice");
}

#[tokio::test]
async fn recovers_after_refusal_and_garbage_sqlite() {
    recovers_after_refusal_and_garbage(Backend::Sqlite).await;
}

#[tokio::test]
async fn recovers_after_refusal_and_garbage_postgres() {
    recovers_after_refusal_and_garbage(Backend::Postgres).await;
}

/// Two worker processes on the same queue: every delivery goes out once.
async fn two_workers_send_each_delivery_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 20).await;
    let message = make_message(&app, v.user.id, "Shared work").await;
    let _first = worker(&app);
    let _second = Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker2.log"),
    );
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    app.smtp
        .wait_for_messages(20, Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut to: Vec<String> = app
        .smtp
        .messages()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    assert_eq!(to.len(), 20, "no duplicates");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20, "every client");
    let successes = attempts(&app)
        .await
        .into_iter()
        .filter(|a| a.status == AttemptStatus::Success)
        .count();
    assert_eq!(successes, 20);
    for log in ["worker.log", "worker2.log"] {
        let text = std::fs::read_to_string(app.dir.path().join(log)).unwrap_or_default();
        assert!(!text.contains("ERROR"), "{log} has errors:\n{text}");
        assert!(
            text.contains("Worker mailer-delivery-"),
            "{log}: the delivery worker runs:\n{text}"
        );
    }
}

#[tokio::test]
async fn two_workers_send_each_delivery_once_sqlite() {
    two_workers_send_each_delivery_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn two_workers_send_each_delivery_once_redis() {
    two_workers_send_each_delivery_once(Backend::Postgres).await;
}

/// The SMTP server hangs: the worker is stuck, the web site is not.
#[tokio::test]
async fn pages_stay_fast_while_the_smtp_server_hangs() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 3).await;
    let message = make_message(&app, v.user.id, "Stuck").await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_secs(30)));
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let smtp = app.smtp.clone();
    eventually(
        Duration::from_secs(20),
        "the worker to be stuck in a send",
        || {
            let smtp = smtp.clone();
            async move { (smtp.connections() > 0).then_some(()) }
        },
    )
    .await;
    for path in ["/clients", "/mailings", "/"] {
        let started = std::time::Instant::now();
        let response = v.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        // Generous for a debug build on a busy machine: the point is "not 30 s".
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path} took {:?}",
            started.elapsed()
        );
    }
}

/// `mailer-worker` is killed (SIGKILL) in the middle of a mailing and started again:
/// nothing is lost, and nobody gets the occurrence twice except for sends that were in
/// flight when it died (the server's 250 came, the row was not yet marked: the documented
/// window), at most `MAILER_WORKER__CONCURRENCY` (the deliveries in flight per process).
async fn a_killed_worker_loses_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 40).await;
    let message = make_message(&app, v.user.id, "Survives").await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(500)));
    let mut first = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let smtp = app.smtp.clone();
    eventually(Duration::from_secs(30), "the first sends", || {
        let smtp = smtp.clone();
        async move { (smtp.messages().len() >= 8).then_some(()) }
    })
    .await;
    first.signal(libc::SIGKILL);
    first.wait(Duration::from_secs(5)).await;
    let at_kill = app.smtp.messages().len();
    assert!(at_kill < 40, "killed in the middle ({at_kill} sent)");

    let _second = Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker2.log"),
    );
    let mut rows = Vec::new();
    for _ in 0..180 {
        rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
        if rows.len() == 40 && rows.iter().all(|d| d.status == DeliveryStatus::Sent) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log2 = std::fs::read_to_string(app.dir.path().join("worker2.log")).unwrap_or_default();
    let unsent = rows
        .iter()
        .filter(|d| d.status != DeliveryStatus::Sent)
        .count();
    assert_eq!(
        unsent, 0,
        "every delivery sent after the restart; second worker's log:\n{log2}"
    );

    let log = attempts(&app).await;
    let mut twice = 0;
    for d in &rows {
        let successes = successes_of(&log, d.id);
        assert!(
            (1..=2).contains(&successes),
            "delivery {} logged {successes} successes",
            d.id
        );
        if successes == 2 {
            twice += 1;
        }
    }
    let received = app.smtp.messages();
    let mut to: Vec<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40, "every client got it");
    let duplicates = received.len() - 40;
    let concurrency = app.config.worker.concurrency;
    assert!(
        duplicates <= concurrency && twice <= concurrency,
        "{duplicates} duplicates ({twice} logged twice): more than the {concurrency} sends in flight"
    );
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_sqlite() {
    a_killed_worker_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_redis() {
    a_killed_worker_loses_nothing(Backend::Postgres).await;
}

/// A server slower than the send timeout: that try is a transient failure ("timed out"),
/// logged, and the retry gets through; the web never waits for it.
#[tokio::test]
async fn a_server_slower_than_the_send_timeout_is_retried() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.worker.smtp_send_timeout_secs = 1).await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 1).await;
    let message = make_message(&app, v.user.id, "Slow").await;
    app.smtp.script([Behavior::Delay(Duration::from_secs(4))]);
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let log = eventually(Duration::from_secs(30), "a timeout, then a success", || {
        let app = &app;
        async move {
            let rows = attempts(app).await;
            rows.iter()
                .any(|a| a.status == AttemptStatus::Success)
                .then_some(rows)
        }
    })
    .await;
    let failure = log
        .iter()
        .find(|a| a.status == AttemptStatus::Failure)
        .expect("the slow try is logged");
    let reply = failure.response.clone().unwrap_or_default();
    assert!(
        reply.contains("no reply") && reply.contains("within 1s"),
        "{reply}"
    );
    assert_eq!(
        log.iter()
            .filter(|a| a.status == AttemptStatus::Success)
            .count(),
        1
    );
}

/// A long outage with the circuit breaker: after a few failures sending pauses instead of
/// burning every delivery's tries, probes now and then, and resumes by itself when the
/// server is back. With 4 tries each, 12 deliveries would fail for good within a second or
/// two without the breaker (48 failed attempts).
async fn the_breaker_pauses_through_an_outage(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.worker.retries = 3;
        c.worker.breaker_threshold = 3;
        c.worker.breaker_cooldown_ms = 300;
        c.worker.breaker_cooldown_max_secs = 1;
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 12).await;
    let message = make_message(&app, v.user.id, "Outage").await;
    app.smtp.refuse_connections(true);
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    eventually(Duration::from_secs(20), "the first failures", || {
        let app = &app;
        async move { (attempts(app).await.len() >= 3).then_some(()) }
    })
    .await;
    // Six seconds of outage: far longer than 4 tries with backoff of 0.1–1 s take.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let during = attempts(&app).await;
    assert!(
        during.iter().all(|a| a.status == AttemptStatus::Failure),
        "nothing got through a refused connection"
    );
    let failed_rows = delivery::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .count();
    assert_eq!(failed_rows, 0, "no delivery used up its tries");
    // Concurrency 8 lets the first wave fail together; after that only probes (at most
    // one per 0.3–1 s) reach the server.
    assert!(
        during.len() <= 8 + 3 + 12,
        "sending paused: {} failed attempts in 6 s",
        during.len()
    );
    let log = app.dir.path().join("worker.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("sending paused"), "the pause is logged");

    app.smtp.refuse_connections(false);
    let rows = all_sent(&app, 12).await;
    let log = attempts(&app).await;
    for d in &rows {
        assert_eq!(successes_of(&log, d.id), 1, "delivery {} sent once", d.id);
    }
    assert_eq!(app.smtp.messages().len(), 12, "nobody got it twice");
}

#[tokio::test]
async fn the_breaker_pauses_through_an_outage_sqlite() {
    the_breaker_pauses_through_an_outage(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_breaker_pauses_through_an_outage_postgres() {
    the_breaker_pauses_through_an_outage(Backend::Postgres).await;
}

/// `MAILER_WORKER__MESSAGES_PER_SECOND` spaces the sends out: 16 messages at 8 per second
/// take at least 15/8 s from the first to the last.
#[tokio::test]
async fn the_send_rate_is_limited() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.worker.messages_per_second = 8.0).await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 16).await;
    let message = make_message(&app, v.user.id, "Slowly").await;
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let log = eventually(Duration::from_secs(30), "16 attempts logged", || {
        let app = &app;
        async move {
            let log = attempts(app).await;
            (log.len() == 16).then_some(log)
        }
    })
    .await;
    let mut times: Vec<_> = log.into_iter().map(|a| a.attempted_at).collect();
    times.sort();
    assert_eq!(times.len(), 16);
    let span = times[15] - times[0];
    assert!(
        span >= Span::milliseconds(1_800),
        "16 sends at 8/s spread over ≥ 1.875 s, not {span}"
    );
    // And within any one second, no more than 8 + 1 sends started.
    for (i, t) in times.iter().enumerate() {
        let in_second = times[i..]
            .iter()
            .take_while(|u| **u - *t < Span::seconds(1))
            .count();
        assert!(in_second <= 9, "{in_second} sends within a second of {t}");
    }
}

/// A client deleted while its e-mail is on the wire: the rest of its group is recorded
/// once, with nothing left pointing at the client. On PostgreSQL the attempt log has no
/// foreign keys (migration m20261206_000012): without the recorder's check the client's
/// attempt would be written with a dangling reference; with the old keys the whole group's
/// commit failed and the other client got the e-mail a second time.
#[tokio::test]
async fn a_client_deleted_mid_send_leaves_the_rest_of_its_group_recorded_postgres() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let db = &app.state.db;
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 2).await;
    let message = make_message(&app, v.user.id, "Mid-send").await;
    let slow = Behavior::Delay(Duration::from_secs(2));
    app.smtp.script([slow.clone(), slow]);
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "both deliveries claimed",
        || async move {
            let rows = delivery::Entity::find().all(db).await.unwrap();
            (rows.len() == 2 && rows.iter().all(|d| d.tries == 1)).then_some(())
        },
    )
    .await;
    let (kept, gone) = (ids[0], ids[1]);
    mailer::entities::client::Entity::delete_by_id(gone)
        .exec(db)
        .await
        .unwrap();

    let rows = all_sent(&app, 1).await;
    assert_eq!((rows[0].client_id, rows[0].tries), (kept, 1));
    // Long enough for a failed commit's deliveries to come round again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let log = attempts(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].client_id, log[0].status),
        (Some(kept), AttemptStatus::Success)
    );
    let to_kept = app
        .smtp
        .messages()
        .iter()
        .filter(|m| m.to.iter().any(|r| r.starts_with("client0@")))
        .count();
    assert_eq!(to_kept, 1);
}

/// A mailing due a few seconds from now goes out then, not at the worker's next tick
/// (here 60 s away): the ticker sleeps until the next due mailing when that comes first.
async fn a_mailing_goes_out_when_due_not_at_the_next_tick(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.worker.tick_interval_secs = 60).await else {
        return;
    };
    let v = sign_in_new(&app, "punctual@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "punctual", 2).await;
    let message = make_message(&app, v.user.id, "On the dot").await;
    // Made for tomorrow, then moved to a few seconds from now (the form takes minutes).
    let created = create_mailing(&v, message.id, &ids, Span::days(1), Span::days(2), "once").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let due = chrono::Utc::now() + Span::seconds(4);
    mailing::Entity::update_many()
        .col_expr(
            mailing::Column::StartAt,
            sea_orm::sea_query::Expr::value(due),
        )
        .col_expr(
            mailing::Column::NextRunAt,
            sea_orm::sea_query::Expr::value(due),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    // Started after that: its first tick finds nothing due, and sleeps until `due`.
    let _worker = worker(&app);
    let mails = app.smtp.wait_for_messages(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2);
    all_sent(&app, 2).await;
    let first = attempts(&app)
        .await
        .iter()
        .map(|a| a.attempted_at)
        .min()
        .unwrap();
    let late = first - due;
    assert!(
        late >= Span::zero() && late < Span::seconds(3),
        "first attempt {late} after the due time"
    );
}

#[tokio::test]
async fn a_mailing_goes_out_when_due_not_at_the_next_tick_sqlite() {
    a_mailing_goes_out_when_due_not_at_the_next_tick(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_mailing_goes_out_when_due_not_at_the_next_tick_postgres() {
    a_mailing_goes_out_when_due_not_at_the_next_tick(Backend::Postgres).await;
}
