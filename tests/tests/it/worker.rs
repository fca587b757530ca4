//! `mailer-worker` as a process: it starts, runs a job, and stops on SIGTERM — letting the
//! job in flight finish — on the embedded SQLite queue and on apalis-redis.

use std::time::Duration;

use mailer::jobs::MailJob;
use mailer_tests::app::{Child, eventually};
use mailer_tests::services::PrivateRedis;
use mailer_tests::smtp::Behavior;
use mailer_tests::{Backend, spawn_app, spawn_app_with};

fn job(to: &str) -> MailJob {
    MailJob {
        to: to.into(),
        subject: "Welcome".into(),
        text: "Confirm: http://localhost/verify/abc".into(),
        html: None,
    }
}

#[tokio::test]
async fn worker_runs_a_job_into_the_outbox_and_stops_on_sigterm() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.smtp_url = None).await else {
        return;
    };
    app.state
        .queues
        .mail
        .push(job("ann@example.com"))
        .await
        .unwrap();
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);

    let outbox = app.config.outbox_dir();
    let eml = eventually(Duration::from_secs(20), "a mail in the outbox", || {
        let outbox = outbox.clone();
        async move {
            let entry = std::fs::read_dir(&outbox).ok()?.flatten().next()?;
            std::fs::read_to_string(entry.path()).ok()
        }
    })
    .await;
    assert!(eml.contains("To: ann@example.com"), "{eml}");
    assert!(eml.contains("Subject: Welcome"), "{eml}");

    worker.signal(libc::SIGTERM);
    let status = worker.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("mail written to the outbox"), "{log}");
    assert!(
        log.contains("http://localhost/verify/abc"),
        "the link is in the log: {log}"
    );
    assert!(log.contains("worker stopped"), "{log}");
}

/// SIGTERM while a send is in flight: the send completes, then the worker exits cleanly.
async fn in_flight_job_finishes_on_sigterm(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(1500)));
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    app.state
        .queues
        .mail
        .push(job("bob@example.com"))
        .await
        .unwrap();

    let smtp = app.smtp.clone();
    eventually(
        Duration::from_secs(20),
        "the worker to start sending",
        || {
            let smtp = smtp.clone();
            async move { (smtp.stats().delayed > 0 || smtp.connections() > 0).then_some(()) }
        },
    )
    .await;
    // Give the client time to reach DATA, where the server stalls.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.smtp.messages().is_empty(), "still in flight");
    worker.signal(libc::SIGTERM);

    let status = worker.wait(Duration::from_secs(20)).await;
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit status {status}: {log}");
    let received = app.smtp.messages();
    assert_eq!(received.len(), 1, "the in-flight mail was delivered: {log}");
    assert_eq!(received[0].to, vec!["bob@example.com".to_owned()]);
    assert!(log.contains("mail sent"), "{log}");
}

#[tokio::test]
async fn in_flight_job_finishes_on_sigterm_sqlite() {
    in_flight_job_finishes_on_sigterm(Backend::Sqlite).await;
}

#[tokio::test]
async fn in_flight_job_finishes_on_sigterm_redis() {
    in_flight_job_finishes_on_sigterm(Backend::Postgres).await;
}

/// Watchdog: when the queue's Redis goes away, apalis ends the worker's future but would
/// keep the process up doing nothing. `mailer-worker` exits with an error instead, so its
/// supervisor notices. Runs against a private `redis-server` this test starts and kills.
#[tokio::test]
async fn the_worker_exits_when_its_queue_backend_dies() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| {
        c.redis_url = Some(url.clone().into());
    })
    .await
    else {
        return;
    };
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    eventually(Duration::from_secs(20), "the worker running", || {
        let log = log.clone();
        async move {
            let text = std::fs::read_to_string(&log).ok()?;
            text.contains("worker started").then_some(())
        }
    })
    .await;

    redis.kill().await;
    let status = worker.wait(Duration::from_secs(60)).await;
    assert!(!status.success(), "exit status {status}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("exiting so a supervisor can start mailer-worker again"),
        "{text}"
    );
}

/// A finished job is acknowledged and then forgotten: after a mailing (and account mails)
/// the Redis queues hold nothing of the jobs that ran — no in-flight entries, payloads,
/// metadata or done ids. (apalis-core 1.0 acknowledged nothing with `persist_results(false)`:
/// every job stayed in its worker's in-flight set, status Running, for good.)
#[tokio::test]
async fn finished_jobs_leave_nothing_in_redis() {
    use mailer::entities::delivery::{self, DeliveryStatus};
    use mailer::entities::user::Role;
    use mailer_tests::queue::{RedisQueue, redis_queue};
    use mailer_tests::users::sign_in_new;
    use sea_orm::EntityTrait;

    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = crate::mailings::make_clients(&app, &v, "client", 120).await;
    let message = crate::mailings::make_message(&app, v.user.id, "Tidy").await;
    for n in 0..3 {
        app.state
            .queues
            .mail
            .push(job(&format!("user{n}@example.com")))
            .await
            .unwrap();
    }
    let log = app.dir.path().join("worker.log");
    let _worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    crate::mailings::create_mailing(
        &v,
        message.id,
        &ids,
        -chrono::Duration::minutes(1),
        chrono::Duration::days(1),
        "once",
    )
    .await;
    app.smtp
        .wait_for_messages(123, Duration::from_secs(30))
        .await;
    eventually(Duration::from_secs(10), "every delivery sent", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            rows.iter()
                .all(|d| d.status == DeliveryStatus::Sent)
                .then_some(())
        }
    })
    .await;
    // Acknowledged at once; forgotten by the next scheduler tick (every second here).
    for queue in ["delivery", "mail"] {
        let mut left = RedisQueue::default();
        for _ in 0..100 {
            left = redis_queue(&app, queue).await.expect("a Redis queue");
            if left == RedisQueue::default() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            left,
            RedisQueue::default(),
            "the {queue} queue after its jobs"
        );
    }
}
