//! Prometheus metrics (issue 27, item 4): the server's `/metrics` behind its token, and the
//! worker's on its own address, whose delivery counters add up to the attempt log.

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::attempt;
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::user::Role;
use mailer_tests::app::{Child, eventually};
use mailer_tests::smtp::Behavior;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::mailings::{create_mailing, make_clients, make_message};

const TOKEN: &str = "scrape-me-0123456789";

/// The value of the sample `name{labels…}` in a Prometheus text page (labels in any order,
/// each given as `key="value"`); 0 when absent.
fn sample(page: &str, name: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(key, _)| {
            let bare = key.split('{').next() == Some(name);
            bare && labels.iter().all(|label| key.contains(label))
        })
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn metrics_add_up(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |config| {
        config.metrics_token = Some(TOKEN.to_owned().into());
    })
    .await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", 5).await;
    let message = make_message(&app, v.user.id, "Counted").await;
    // The first message gets a 451 (retried), the next a 550 (failed), the rest go out.
    app.smtp.script([Behavior::TempFail, Behavior::PermFail]);
    let port = free_port();
    let mut env = app.env();
    env.push((
        "MAILER_WORKER__METRICS_BIND".into(),
        format!("127.0.0.1:{port}"),
    ));
    let _worker = Child::spawn(
        "mailer-worker",
        &[],
        &env,
        &app.dir.path().join("worker.log"),
    );
    let created = create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let mailing_page = created
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("the new mailing's page")
        .to_owned();
    eventually(Duration::from_secs(30), "every delivery settled", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == 5 && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
                .then_some(())
        }
    })
    .await;
    let attempts = attempt::Entity::find().count(&app.state.db).await.unwrap() as f64;

    let worker = reqwest::Client::new();
    let page = eventually(Duration::from_secs(10), "the worker's counters", || {
        let worker = &worker;
        async move {
            let page = worker
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let counted = ["sent", "failed", "retried"]
                .iter()
                .map(|o| {
                    sample(
                        &page,
                        "mailer_deliveries_total",
                        &[&format!("outcome=\"{o}\"")],
                    )
                })
                .sum::<f64>();
            (counted == attempts).then_some(page)
        }
    })
    .await;
    let outcome = |o: &str| {
        sample(
            &page,
            "mailer_deliveries_total",
            &[&format!("outcome=\"{o}\"")],
        )
    };
    let log: Vec<_> = attempt::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.recipient, a.status, a.smtp_code, a.response))
        .collect();
    assert_eq!(
        (outcome("sent"), outcome("failed"), outcome("retried")),
        (4.0, 1.0, 1.0),
        "the attempt log: {log:#?}\nthe SMTP server: {:?}",
        app.smtp.stats()
    );
    assert_eq!(attempts, 6.0, "4 successes, a 550 and a 451");
    assert!(
        sample(&page, "mailer_smtp_reply_seconds_count", &[]) >= 6.0,
        "every SMTP reply is timed:\n{page}"
    );
    assert!(
        page.contains("mailer_recorder_lag_seconds_bucket"),
        "{page}"
    );

    // The server's: per route template, never per raw path.
    let scrape = |token: Option<&'static str>| {
        let request = app.client.get(app.url("/metrics"));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    assert_eq!(scrape(None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(Some("wrong")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(v.get(&mailing_page).await.status(), StatusCode::OK);
    let response = scrape(Some(TOKEN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        sample(
            &page,
            "mailer_http_requests_total",
            &["route=\"/mailings/new\"", "method=\"POST\""]
        ) >= 1.0,
        "{page}"
    );
    assert!(
        sample(
            &page,
            "mailer_http_requests_total",
            &["route=\"/mailings/:id\""]
        ) >= 1.0
    );
    assert!(
        !page.contains(&format!("route=\"{mailing_page}\"")),
        "no raw paths"
    );
    assert!(sample(&page, "mailer_sessions_total", &["kind=\"signed_in\""]) >= 1.0);
    assert!(page.contains("mailer_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metrics_add_up_sqlite() {
    metrics_add_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn metrics_add_up_postgres() {
    metrics_add_up(Backend::Postgres).await;
}

#[tokio::test]
async fn without_a_token_there_are_no_metrics() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
