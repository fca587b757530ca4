//! `mailer send --mailing ID` and `mailer send --due`: the worker's delivery path run from
//! the command line, with no worker running, against the fake SMTP server.

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery;
use mailer::entities::mailing;
use mailer::entities::user::Role;
use mailer_tests::app::bin_path;
use mailer_tests::smtp::Behavior;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::mailings::{create_mailing, make_clients, make_message};

pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `mailer send …` with the app's configuration, to completion.
pub(crate) async fn mailer_send(app: &TestApp, args: &[&str]) -> Run {
    let output = tokio::process::Command::new(bin_path("mailer"))
        .arg("send")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(app.env())
        .current_dir(app.dir.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("mailer send exits")
        .expect("run mailer send");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A mailing of `v` to `n` new clients, created on the web; its id. (Creating a due one
/// queues a fan-out job that nobody consumes: no worker runs here.)
pub(crate) async fn mailing_of(
    app: &TestApp,
    v: &Visitor,
    tag: &str,
    n: usize,
    start: Span,
) -> i32 {
    let ids = make_clients(app, v, tag, n).await;
    let message = make_message(app, v.user.id, &format!("News for {tag}")).await;
    let created = create_mailing(v, message.id, &ids, start, Span::days(2), "once").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .filter(mailing::Column::MessageId.eq(message.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the mailing was created")
        .id
}

async fn attempts(app: &TestApp) -> Vec<attempt::Model> {
    attempt::Entity::find()
        .order_by_asc(attempt::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Successful attempts per recipient, sorted.
fn successes(log: &[attempt::Model]) -> Vec<String> {
    let mut to: Vec<String> = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Success)
        .map(|a| a.recipient.clone())
        .collect();
    to.sort();
    to
}

async fn send_mailing_sends_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = mailing_of(&app, &v, "ann", 3, -Span::minutes(1)).await;

    let run = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.last_line(), "sent 3, failed 0, retried 0", "{run}");
    let mut to: Vec<String> = app
        .smtp
        .messages()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    to.sort();
    assert_eq!(
        to,
        vec!["ann0@example.com", "ann1@example.com", "ann2@example.com"]
    );
    let log = attempts(&app).await;
    assert_eq!(log.len(), 3, "{log:#?}");
    assert!(
        log.iter()
            .all(|a| a.status == AttemptStatus::Success && a.smtp_code == Some(250))
    );

    let again = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(again.last_line(), "sent 0, failed 0, retried 0", "{again}");
    assert_eq!(app.smtp.messages().len(), 3, "nobody gets it twice");
    assert_eq!(attempts(&app).await.len(), 3);
}

#[tokio::test]
async fn send_mailing_sends_its_due_occurrence_once_sqlite() {
    send_mailing_sends_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn send_mailing_sends_its_due_occurrence_once_postgres() {
    send_mailing_sends_once(Backend::Postgres).await;
}

#[tokio::test]
async fn a_permanent_failure_fails_the_run() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = mailing_of(&app, &v, "ann", 3, -Span::minutes(1)).await;
    app.smtp.script([Behavior::PermFail]);

    let run = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.last_line(), "sent 2, failed 1, retried 0", "{run}");
    let log = attempts(&app).await;
    assert_eq!(log.len(), 3, "a 5xx is not retried: {log:#?}");
    let failures: Vec<_> = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Failure)
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].smtp_code, Some(550));
    assert_eq!(app.smtp.messages().len(), 2);
}

#[tokio::test]
async fn a_transient_failure_is_retried_in_process() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = mailing_of(&app, &v, "ann", 3, -Span::minutes(1)).await;
    app.smtp.script([Behavior::TempFail]);

    let run = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.last_line(), "sent 3, failed 0, retried 1", "{run}");
    let log = attempts(&app).await;
    assert_eq!(
        successes(&log),
        vec!["ann0@example.com", "ann1@example.com", "ann2@example.com"],
        "exactly one success per client"
    );
    let retried: Vec<_> = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Failure)
        .collect();
    assert_eq!(retried.len(), 1, "{log:#?}");
    assert_eq!(retried[0].smtp_code, Some(451));
    assert_eq!(app.smtp.messages().len(), 3);
}

#[tokio::test]
async fn send_due_sends_every_due_mailing_and_leaves_future_ones() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let bob = sign_in_new(&app, "bob@example.com", Role::User).await;
    mailing_of(&app, &ann, "ann", 2, -Span::minutes(1)).await;
    mailing_of(&app, &bob, "bob", 1, -Span::minutes(2)).await;
    let future = mailing_of(&app, &ann, "later", 2, Span::days(1)).await;

    let run = mailer_send(&app, &["--due"]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.last_line(), "sent 3, failed 0, retried 0", "{run}");
    let mut to: Vec<String> = app
        .smtp
        .messages()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    to.sort();
    assert_eq!(
        to,
        vec!["ann0@example.com", "ann1@example.com", "bob0@example.com"]
    );
    let of_future = delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(future))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(of_future.is_empty(), "{of_future:#?}");

    let again = mailer_send(&app, &["--due"]).await;
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(again.last_line(), "sent 0, failed 0, retried 0", "{again}");
    assert_eq!(app.smtp.messages().len(), 3);
}

#[tokio::test]
async fn an_unknown_mailing_exits_2() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let run = mailer_send(&app, &["--mailing", "999999"]).await;
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr.lines().any(|l| l == "error: no mailing #999999"),
        "{run}"
    );

    let both = mailer_send(&app, &["--mailing", "1", "--due"]).await;
    assert_eq!(
        both.code,
        Some(2),
        "--mailing and --due exclude each other: {both}"
    );
    let neither = mailer_send(&app, &[]).await;
    assert_eq!(neither.code, Some(2), "one of them is required: {neither}");
}

#[tokio::test]
async fn a_disabled_mailing_has_nothing_to_send() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = mailing_of(&app, &v, "ann", 2, -Span::minutes(1)).await;
    mailing::Entity::update_many()
        .col_expr(mailing::Column::IsEnabled, false.into())
        .filter(mailing::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();

    let run = mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains(&format!("nothing to send: mailing #{id} is disabled")),
        "{run}"
    );
    assert_eq!(run.last_line(), "sent 0, failed 0, retried 0", "{run}");
    assert!(app.smtp.messages().is_empty());
}
