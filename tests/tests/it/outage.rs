//! The delivery engine when things go wrong for a while: a greylisting SMTP server, long
//! SMTP outages, a worker killed mid-send, its Redis going away and coming back, a restart
//! while a service is down. Each case runs the real `mailer-worker` against the fake SMTP
//! server (and, for Redis, a `redis-server` of the test's own, never the shared one).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::user::Role;
use mailer_tests::app::Child;
use mailer_tests::smtp::Greylist;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app_with};
use sea_orm::EntityTrait;

use crate::mailings::{create_mailing, insert_client, make_message};

fn worker(app: &TestApp, log: &str) -> Child {
    Child::spawn("mailer-worker", &[], &app.env(), &app.dir.path().join(log))
}

fn log_of(app: &TestApp, log: &str) -> String {
    std::fs::read_to_string(app.dir.path().join(log)).unwrap_or_default()
}

/// `n` clients of `v` (written straight into the database) and a once-mailing to all of
/// them that starts now.
async fn mailing_to(app: &TestApp, v: &Visitor, n: usize, subject: &str) -> Vec<i32> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(insert_client(app, v.user.id, &format!("c{i}@example.com")).await);
    }
    let message = make_message(app, v.user.id, subject).await;
    let created = create_mailing(
        v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);
    ids
}

async fn deliveries(app: &TestApp) -> Vec<delivery::Model> {
    delivery::Entity::find().all(&app.state.db).await.unwrap()
}

/// Waits up to `timeout` until `n` deliveries exist and all are sent; on a timeout, fails
/// with where the deliveries stand and the worker's log.
async fn all_sent(app: &TestApp, n: usize, timeout: Duration) -> Vec<delivery::Model> {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = deliveries(app).await;
        if rows.len() == n && rows.iter().all(|d| d.status == DeliveryStatus::Sent) {
            return rows;
        }
        if Instant::now() >= deadline {
            let mut states: HashMap<String, usize> = HashMap::new();
            for d in &rows {
                let key = format!(
                    "{:?} tries={} claimed={} held={}",
                    d.status,
                    d.tries,
                    d.claimed_until.is_some(),
                    d.next_try_at.is_some()
                );
                *states.entry(key).or_default() += 1;
            }
            let logs: String = ["worker.log", "worker2.log"]
                .iter()
                .map(|name| {
                    let text = log_of(app, name);
                    let tail: Vec<&str> = text.lines().rev().take(40).collect();
                    format!(
                        "--- {name} (last lines) ---\n{}\n",
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    )
                })
                .collect();
            panic!(
                "not every delivery sent within {timeout:?}: {} of {n} rows: {states:#?}\nsmtp: {:?}\n{logs}",
                rows.len(),
                app.smtp.stats()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every delivery has exactly one successful attempt, and every client got exactly one
/// e-mail.
async fn each_sent_once(app: &TestApp, rows: &[delivery::Model]) {
    let log = attempt::Entity::find().all(&app.state.db).await.unwrap();
    let mut successes: HashMap<Option<i64>, usize> = HashMap::new();
    for a in log.iter().filter(|a| a.status == AttemptStatus::Success) {
        *successes.entry(a.delivery_id).or_default() += 1;
    }
    for d in rows {
        assert_eq!(
            successes.get(&Some(d.id)),
            Some(&1),
            "delivery {} succeeded once",
            d.id
        );
    }
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for mail in app.smtp.messages() {
        for to in mail.to {
            *per_recipient.entry(to).or_default() += 1;
        }
    }
    assert_eq!(per_recipient.len(), rows.len(), "every client got it");
    assert!(
        per_recipient.values().all(|&n| n == 1),
        "nobody got it twice"
    );
}

/// A greylisting server (451 to each recipient's first two tries) is the recipients'
/// business: each retries on its own backoff and the breaker stays closed, so the mailing
/// takes about the greylisting plus two backoffs. Before, the 451s opened the breaker,
/// whose probes went to random recipients and gave their tries back: almost nobody reached
/// the try that would be accepted.
async fn greylisting_delays_a_mailing_by_its_backoffs_only(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.worker.retry_backoff_ms = 100;
        c.worker.retry_backoff_max_secs = 1;
        c.worker.breaker_threshold = 5;
    })
    .await
    else {
        return;
    };
    app.smtp.greylist(Some(Greylist {
        tries: 2,
        delay: Duration::ZERO,
    }));
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let _worker = worker(&app, "worker.log");
    let started = Instant::now();
    let n = 300;
    mailing_to(&app, &v, n, "Greylisted").await;
    let rows = all_sent(&app, n, Duration::from_secs(60)).await;
    let took = started.elapsed();
    each_sent_once(&app, &rows).await;
    assert!(
        rows.iter().all(|d| d.tries == 3),
        "two greylisted tries and the accepted one each"
    );
    assert_eq!(app.smtp.stats().greylisted, 2 * n);
    let log = log_of(&app, "worker.log");
    assert!(!log.contains("sending paused"), "the breaker stayed closed");
    eprintln!("greylisting ({backend:?}): {n} recipients sent in {took:?}");
    // Two backoffs of 0.1–0.3 s, each rounded up to the queue's one-second resolution.
    assert!(
        took < Duration::from_secs(20),
        "{n} greylisted took {took:?}"
    );
}

#[tokio::test]
async fn greylisting_delays_a_mailing_by_its_backoffs_only_sqlite() {
    greylisting_delays_a_mailing_by_its_backoffs_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn greylisting_delays_a_mailing_by_its_backoffs_only_postgres() {
    greylisting_delays_a_mailing_by_its_backoffs_only(Backend::Postgres).await;
}
