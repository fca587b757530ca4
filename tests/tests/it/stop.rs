//! Stop means stop: a disabled mailing or a blocked owner sends nothing more than what was
//! already on the wire, whichever jobs are queued, and enabling / unblocking sends the rest
//! once. Against the real `mailer-worker` and a fake SMTP server, on both backends.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use mailer::delivery::stop::{MAILING_DISABLED, OWNER_BLOCKED};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::mailing::MailingStatus;
use mailer::entities::user::Role;
use mailer::entities::{client, mailing};
use mailer_tests::app::eventually;
use mailer_tests::html::parse;
use mailer_tests::smtp::Behavior;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::mailings::{create_mailing, make_message};
use crate::outage::{all_sent, each_sent_once, worker};

/// `n` clients of `owner`, written straight into the database.
async fn bulk_clients(app: &TestApp, owner: i32, n: usize) -> Vec<i32> {
    let now = Utc::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let rows = chunk.iter().map(|i| client::ActiveModel {
            owner_id: Set(owner),
            email: Set(format!("c{i}@example.com")),
            full_name: Set(format!("Client {i}")),
            comment: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        client::Entity::insert_many(rows)
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    client::Entity::find()
        .filter(client::Column::OwnerId.eq(owner))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// A once-mailing of `v` to `clients` that starts now; its id.
pub(crate) async fn mailing_now(app: &TestApp, v: &Visitor, clients: &[i32], subject: &str) -> i32 {
    mailing_between(app, v, clients, subject, -Span::minutes(1), Span::days(1)).await
}

/// A once-mailing of `v` to `clients` from `start` to `end` (from now); its id.
async fn mailing_between(
    app: &TestApp,
    v: &Visitor,
    clients: &[i32],
    subject: &str,
    start: Span,
    end: Span,
) -> i32 {
    let message = make_message(app, v.user.id, subject).await;
    let created = create_mailing(v, message.id, clients, start, end, "once").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    mailing::Entity::find()
        .filter(mailing::Column::MessageId.eq(message.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn rows_of(app: &TestApp, mailing_id: i32) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Waits until no delivery of the mailing is pending (the queued jobs found every row
/// stopped), checks that at most the in-flight window went out after the stop, and that
/// every row not sent ended cancelled with `reason`. Returns how many were cancelled.
async fn stopped_after(
    app: &TestApp,
    mailing_id: i32,
    n: usize,
    accepted_at_stop: usize,
    reason: &str,
) -> usize {
    eventually(
        Duration::from_secs(60),
        "no pending delivery left",
        || async {
            let rows = rows_of(app, mailing_id).await;
            (rows.len() == n && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
                .then_some(())
        },
    )
    .await;
    // Nothing trickles out later either (retries, sweeps, ticks).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = app.smtp.stats().accepted - accepted_at_stop;
    let window = app.config.worker.concurrency;
    assert!(
        after <= window,
        "{after} messages went out after the stop (in flight at most {window})"
    );
    let rows = rows_of(app, mailing_id).await;
    let cancelled: Vec<_> = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Cancelled)
        .collect();
    let sent = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Sent)
        .count();
    assert_eq!(sent + cancelled.len(), n, "only sent or cancelled rows");
    assert!(
        cancelled.len() > n / 2,
        "most were stopped: {} of {n}",
        cancelled.len()
    );
    assert!(
        cancelled
            .iter()
            .all(|d| d.last_error.as_deref() == Some(reason) && d.claimed_until.is_none()),
        "cancelled rows say why and nobody holds them"
    );
    cancelled.len()
}

/// Disabling a mailing in the middle of a 5,000-client send: at most the in-flight window
/// goes out after it, the queued jobs cancel the rest, the owner's page says so, and
/// enabling it again sends the rest, each once.
async fn disabling_stops_a_send_and_enabling_resumes_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(10)));
    let n = 5_000;
    let clients = bulk_clients(&app, v.user.id, n).await;
    let id = mailing_now(&app, &v, &clients, "Stop me").await;
    let _worker = worker(&app, "worker.log");
    app.smtp
        .wait_for_messages(300, Duration::from_secs(60))
        .await;

    let toggled = v.post_form(&format!("/mailings/{id}/toggle"), &[]).await;
    assert_eq!(toggled.status(), StatusCode::SEE_OTHER);
    let at_stop = app.smtp.stats().accepted;
    let cancelled = stopped_after(&app, id, n, at_stop, MAILING_DISABLED).await;
    eprintln!("disabled ({backend:?}) after {at_stop} sent: {cancelled} stopped");

    let page = v
        .get(&format!("/mailings/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let page = parse(&page);
    assert_eq!(
        page.text("#progress-cancelled"),
        Some(cancelled.to_string()),
        "the owner sees how many were stopped"
    );

    // The rest at full speed.
    app.smtp.set_default(Behavior::Accept);
    assert_eq!(
        status_of(&app, id).await,
        MailingStatus::Running,
        "stopped rows wait"
    );
    let toggled = v.post_form(&format!("/mailings/{id}/toggle"), &[]).await;
    assert_eq!(toggled.status(), StatusCode::SEE_OTHER);
    let rows = all_sent(&app, n, Duration::from_secs(120)).await;
    each_sent_once(&app, &rows).await;
    eventually(Duration::from_secs(10), "the mailing finished", || async {
        (status_of(&app, id).await == MailingStatus::Finished).then_some(())
    })
    .await;
}

async fn status_of(app: &TestApp, id: i32) -> MailingStatus {
    mailing::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn disabling_stops_a_send_and_enabling_resumes_it_sqlite() {
    disabling_stops_a_send_and_enabling_resumes_it(Backend::Sqlite).await;
}

#[tokio::test]
async fn disabling_stops_a_send_and_enabling_resumes_it_postgres() {
    disabling_stops_a_send_and_enabling_resumes_it(Backend::Postgres).await;
}

/// Blocking the owner (a manager, in the admin) in the middle of a send stops it like a
/// disable, and their mailing that falls due while they are blocked does not start;
/// unblocked, both go out, each e-mail once.
async fn blocking_the_owner_stops_their_mail_and_unblocking_resumes_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let manager = sign_in_new(&app, "manager@example.com", Role::Manager).await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(10)));
    let n = 2_000;
    let clients = bulk_clients(&app, v.user.id, n).await;
    let id = mailing_now(&app, &v, &clients[..n - 10], "Block me").await;
    // Due 6 s from now (the form takes whole minutes), to the last 10 clients.
    let later = mailing_between(
        &app,
        &v,
        &clients[n - 10..],
        "Later",
        Span::days(1),
        Span::days(2),
    )
    .await;
    let due = tokio::time::Instant::now() + Duration::from_secs(6);
    let starts = Utc::now() + Span::seconds(6);
    mailing::Entity::update_many()
        .col_expr(mailing::Column::StartAt, starts.into())
        .col_expr(mailing::Column::NextRunAt, Some(starts).into())
        .filter(mailing::Column::Id.eq(later))
        .exec(&app.state.db)
        .await
        .unwrap();
    let _worker = worker(&app, "worker.log");
    app.smtp
        .wait_for_messages(200, Duration::from_secs(60))
        .await;

    let ann = v.user.id.to_string();
    let blocked = manager
        .post_form(
            "/admin/users/",
            &[("action", "block"), ("_selected", &ann), ("confirm", "yes")],
        )
        .await;
    assert_eq!(blocked.status(), StatusCode::SEE_OTHER);
    let at_stop = app.smtp.stats().accepted;
    assert!(
        tokio::time::Instant::now() < due,
        "blocked only after the later mailing fell due: this machine is too slow for the test"
    );
    stopped_after(&app, id, n - 10, at_stop, OWNER_BLOCKED).await;
    // Two ticks past its start.
    tokio::time::sleep_until(due + Duration::from_secs(2)).await;
    // The later mailing fell due meanwhile and did not start.
    let started_later = delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(later))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(
        started_later.is_empty(),
        "a blocked owner's mailing started: {} deliveries",
        started_later.len()
    );

    let unblocked = manager
        .post_form(
            "/admin/users/",
            &[
                ("action", "unblock"),
                ("_selected", &ann),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(unblocked.status(), StatusCode::SEE_OTHER);
    app.smtp.set_default(Behavior::Accept);
    let rows = all_sent(&app, n, Duration::from_secs(120)).await;
    each_sent_once(&app, &rows).await;
}

#[tokio::test]
async fn blocking_the_owner_stops_their_mail_and_unblocking_resumes_it_sqlite() {
    blocking_the_owner_stops_their_mail_and_unblocking_resumes_it(Backend::Sqlite).await;
}

#[tokio::test]
async fn blocking_the_owner_stops_their_mail_and_unblocking_resumes_it_postgres() {
    blocking_the_owner_stops_their_mail_and_unblocking_resumes_it(Backend::Postgres).await;
}

/// A once-mailing whose occurrence has nothing left to try is finished, days before its
/// end date: the dashboard and the home page stop counting it as running. (One disabled
/// half-way stays running while its stopped deliveries wait: see the disabling test.)
async fn a_sent_once_mailing_is_finished(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let clients = bulk_clients(&app, v.user.id, 3).await;
    let id = mailing_now(&app, &v, &clients, "Once").await;
    let _worker = worker(&app, "worker.log");
    all_sent(&app, 3, Duration::from_secs(30)).await;
    eventually(Duration::from_secs(10), "the mailing finished", || async {
        (status_of(&app, id).await == MailingStatus::Finished).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_sent_once_mailing_is_finished_sqlite() {
    a_sent_once_mailing_is_finished(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_sent_once_mailing_is_finished_postgres() {
    a_sent_once_mailing_is_finished(Backend::Postgres).await;
}

/// "Send now" again while the first send is still going does nothing: one extra
/// occurrence, each client gets it once more, and the owner is told why.
async fn a_second_send_now_while_sending_does_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let clients = bulk_clients(&app, v.user.id, 3).await;
    let id = mailing_now(&app, &v, &clients, "Twice").await;
    let _worker = worker(&app, "worker.log");
    all_sent(&app, 3, Duration::from_secs(30)).await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(1_500)));
    let first = v
        .post_form(&format!("/mailings/{id}/send"), &[("again", "yes")])
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    eventually(Duration::from_secs(10), "the extra occurrence", || async {
        (rows_of(&app, id).await.len() == 6).then_some(())
    })
    .await;
    let second = v
        .post_form(&format!("/mailings/{id}/send"), &[("again", "yes")])
        .await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let page = parse(
        &v.get(&format!("/mailings/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        page.text(".flash.info")
            .is_some_and(|t| t.contains("still being sent")),
        "the owner is told why nothing happened"
    );
    all_sent(&app, 6, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rows_of(&app, id).await.len(), 6, "one extra occurrence");
    assert_eq!(
        app.smtp.messages().len(),
        6,
        "each client got it twice, not three times"
    );
}

#[tokio::test]
async fn a_second_send_now_while_sending_does_nothing_sqlite() {
    a_second_send_now_while_sending_does_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_second_send_now_while_sending_does_nothing_postgres() {
    a_second_send_now_while_sending_does_nothing(Backend::Postgres).await;
}
