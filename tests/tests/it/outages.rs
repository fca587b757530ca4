//! The site while its own services fail: Redis and PostgreSQL of the test's own, killed and
//! started again (never the shared servers). A dead cache costs one quick failure and then
//! nothing; a dead database or session store is the site's 503 page (the API's JSON shape),
//! quickly, with the security headers; everything comes back by itself.

use std::time::{Duration, Instant};

use mailer::entities::user::Role;
use mailer_tests::app::eventually;
use mailer_tests::html::parse;
use mailer_tests::instances::PrivatePostgres;
use mailer_tests::services::{PrivateRedis, skip};
use mailer_tests::users::{new_client, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app_with};
use reqwest::StatusCode;
use secrecy::SecretString;

/// What a GET answered, and how long it took.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
    took: Duration,
}

async fn timed_get(client: &reqwest::Client, url: &str) -> Answer {
    let started = Instant::now();
    let response = client.get(url).send().await.expect("GET");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
        took: started.elapsed(),
    }
}

/// A 503 that is the site's own page: layout, title, Retry-After, security headers.
fn assert_unavailable_page(answer: &Answer, what: &str) {
    let body = &answer.body;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {body}"
    );
    assert!(
        answer.headers.contains_key("retry-after"),
        "{what}: Retry-After"
    );
    assert!(
        answer.headers.contains_key("content-security-policy"),
        "{what}: security headers"
    );
    let doc = parse(body);
    assert_eq!(
        doc.text("h1").as_deref(),
        Some("Temporarily unavailable"),
        "{what}: {body}"
    );
    assert!(
        doc.exists("link[rel='stylesheet']"),
        "{what}: the site's layout"
    );
}

async fn app_on_own_redis(redis: &PrivateRedis) -> Option<TestApp> {
    let url = redis.url();
    spawn_app_with(Backend::Postgres, move |c| {
        c.redis_url = Some(SecretString::from(url));
    })
    .await
}

/// The app on `pg`, waiting at most 0.5 s for a connection (so a dead database is quick).
async fn app_on_private_postgres(pg: &PrivatePostgres) -> Option<TestApp> {
    let url = pg.url();
    spawn_app_with(Backend::Postgres, move |c| {
        c.database_url = url;
        c.db_acquire_timeout_ms = 500;
    })
    .await
}

#[tokio::test]
async fn a_dead_redis_costs_one_quick_failure_then_pages_come_from_the_database() {
    let mut redis = PrivateRedis::start().await;
    let Some(app) = app_on_own_redis(&redis).await else {
        return skip("PostgreSQL", "unreachable");
    };
    let visitor = sign_in_new(&app, "owner@example.com", Role::User).await;
    let anonymous = new_client();
    assert_eq!(
        timed_get(&anonymous, &app.url("/")).await.status,
        StatusCode::OK
    );

    redis.kill().await;
    // Anonymous pages: served from the database. The first request may wait for Redis once;
    // after that the circuit skips it.
    timed_get(&anonymous, &app.url("/")).await;
    let mut slowest = Duration::ZERO;
    for path in ["/", "/blog", "/", "/blog", "/login"] {
        let answer = timed_get(&anonymous, &app.url(path)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{path} without Redis: {}",
            answer.body
        );
        slowest = slowest.max(answer.took);
    }
    assert!(
        slowest < Duration::from_millis(1000),
        "anonymous pages wait for a dead Redis: slowest {slowest:?}"
    );

    // Signed-in pages need the session store: the site's 503 page, quickly.
    let answer = timed_get(&visitor.client, &visitor.url("/clients")).await;
    assert_unavailable_page(&answer, "/clients without Redis");
    assert!(
        answer.took < Duration::from_millis(1000),
        "503 took {:?}",
        answer.took
    );

    // Back by itself: the page cache fills again and sign-in works.
    redis.restart().await;
    eventually(Duration::from_secs(15), "the page cache back", || async {
        let response = anonymous.get(app.url("/")).send().await.ok()?;
        let cache = response.headers().get("x-cache")?.to_str().ok()?.to_owned();
        (response.status() == StatusCode::OK && cache == "hit").then_some(())
    })
    .await;
    let again = sign_in_new(&app, "second@example.com", Role::User).await;
    assert_eq!(again.get("/clients").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_dead_database_answers_the_sites_503_page_quickly_and_recovers() {
    let mut pg = PrivatePostgres::start().await;
    let Some(app) = app_on_private_postgres(&pg).await else {
        return skip("PostgreSQL", "unreachable");
    };
    let visitor = sign_in_new(&app, "owner@example.com", Role::User).await;
    assert_eq!(visitor.get("/clients").await.status(), StatusCode::OK);
    let token =
        match mailer::accounts::api_tokens::create(&app.state.db, visitor.user.id, "t").await {
            Ok((_, token)) => token,
            Err(_) => panic!("token"),
        };

    pg.kill().await;
    for path in ["/clients", "/dashboard", "/mailings"] {
        let answer = timed_get(&visitor.client, &visitor.url(path)).await;
        assert_unavailable_page(&answer, path);
        assert!(
            answer.took < Duration::from_secs(3),
            "{path}: 503 took {:?}",
            answer.took
        );
    }
    // An anonymous page that is not in the cache (a blog page nobody asked for yet).
    let anonymous = new_client();
    let answer = timed_get(&anonymous, &app.url("/blog?page=2")).await;
    assert_unavailable_page(&answer, "/blog?page=2");
    assert!(
        answer.took < Duration::from_secs(3),
        "anonymous 503 took {:?}",
        answer.took
    );
    // The API answers its own JSON shape.
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/clients"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "unavailable", "{body}");

    pg.restart().await;
    eventually(
        Duration::from_secs(20),
        "pages back with the database",
        || async {
            let response = visitor
                .client
                .get(visitor.url("/clients"))
                .send()
                .await
                .ok()?;
            (response.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn with_redis_and_the_database_down_anonymous_pages_fail_fast() {
    let mut pg = PrivatePostgres::start().await;
    let mut redis = PrivateRedis::start().await;
    let (db_url, redis_url) = (pg.url(), redis.url());
    let Some(app) = spawn_app_with(Backend::Postgres, move |c| {
        c.database_url = db_url;
        c.redis_url = Some(SecretString::from(redis_url));
        c.db_acquire_timeout_ms = 500;
    })
    .await
    else {
        return skip("PostgreSQL", "unreachable");
    };
    let anonymous = new_client();
    assert_eq!(
        anonymous
            .get(app.url("/"))
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::OK
    );
    redis.kill().await;
    pg.kill().await;
    for path in ["/", "/blog", "/", "/blog"] {
        let answer = timed_get(&anonymous, &app.url(path)).await;
        assert_unavailable_page(&answer, path);
        assert!(
            answer.took < Duration::from_secs(4),
            "{path} took {:?}",
            answer.took
        );
    }
}

/// PostgreSQL dies while a mailing is being sent and comes back a few seconds later: the
/// results the SMTP server had accepted are kept and written once it answers, so nobody
/// gets the mail twice and the attempt log holds every send.
#[tokio::test]
async fn a_database_crash_mid_send_loses_no_result_and_sends_nothing_twice() {
    use chrono::Duration as Span;
    use mailer::entities::attempt::{self, AttemptStatus};
    use mailer::entities::delivery::{self, DeliveryStatus};
    use mailer_tests::app::Child;
    use mailer_tests::smtp::Behavior;
    use sea_orm::EntityTrait;

    use crate::mailings::{create_mailing, make_clients, make_message};

    const CLIENTS: usize = 120;
    let mut pg = PrivatePostgres::start().await;
    let Some(app) = app_on_private_postgres(&pg).await else {
        return skip("PostgreSQL", "unreachable");
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ids = make_clients(&app, &v, "client", CLIENTS).await;
    let message = make_message(&app, v.user.id, "Through a crash").await;
    app.smtp
        .set_default(Behavior::Delay(Duration::from_millis(100)));
    let log = app.dir.path().join("worker.log");
    let _worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
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
        async move { (smtp.messages().len() >= 24).then_some(()) }
    })
    .await;
    pg.kill().await;
    let at_crash = app.smtp.messages().len();
    assert!(
        at_crash < CLIENTS,
        "crashed in the middle ({at_crash} sent)"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.restart().await;

    let db = &app.state.db;
    let rows = eventually(
        Duration::from_secs(60),
        "every delivery sent",
        || async move {
            let rows = delivery::Entity::find().all(db).await.ok()?;
            (rows.len() == CLIENTS && rows.iter().all(|d| d.status == DeliveryStatus::Sent))
                .then_some(rows)
        },
    )
    .await;
    let received = app.smtp.messages();
    let mut to: Vec<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    let mut unique = to.clone();
    unique.dedup();
    let worker_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(unique.len(), CLIENTS, "every client got it");
    assert_eq!(
        to.len(),
        CLIENTS,
        "{} sent twice; worker log:\n{worker_log}",
        to.len() - CLIENTS
    );
    let successes = attempt::Entity::find()
        .all(db)
        .await
        .expect("attempts")
        .into_iter()
        .filter(|a| a.status == AttemptStatus::Success)
        .count();
    assert_eq!(
        successes,
        received.len(),
        "the attempt log holds every accepted send"
    );
    assert_eq!(rows.len(), CLIENTS);
}
