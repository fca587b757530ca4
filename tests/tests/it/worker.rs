//! `mailer-worker` as a process: it starts, runs a job, and stops on SIGTERM — letting the
//! job in flight finish — on the embedded SQLite queue and on apalis-redis.

use std::time::Duration;

use mailer::jobs::MailJob;
use mailer_tests::app::{Child, eventually};
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
