//! The site while its own services fail: Redis and PostgreSQL of the test's own, killed and
//! started again (never the shared servers). A dead cache costs one quick failure and then
//! nothing; a dead database or session store is the site's 503 page (the API's JSON shape),
//! quickly, with the security headers; everything comes back by itself.

use std::time::{Duration, Instant};

use mailer::entities::user::Role;
use mailer_tests::app::eventually;
use mailer_tests::html::parse;
use mailer_tests::instances::{OwnPostgres, OwnRedis};
use mailer_tests::services::skip;
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

async fn app_on_own_redis(redis: &OwnRedis) -> Option<TestApp> {
    let url = redis.url();
    spawn_app_with(Backend::Postgres, move |c| {
        c.redis_url = Some(SecretString::from(url));
    })
    .await
}

#[tokio::test]
async fn a_dead_redis_costs_one_quick_failure_then_pages_come_from_the_database() {
    let mut redis = OwnRedis::start().await;
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
    redis.resume().await;
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
    let mut pg = OwnPostgres::start().await;
    let url = pg.url();
    let Some(app) = spawn_app_with(Backend::Postgres, move |c| {
        c.database_url = url;
        c.db_acquire_timeout_ms = 500;
    })
    .await
    else {
        return skip("PostgreSQL", "unreachable");
    };
    let visitor = sign_in_new(&app, "owner@example.com", Role::User).await;
    assert_eq!(visitor.get("/clients").await.status(), StatusCode::OK);
    let token = match mailer::api::tokens::create(&app.state.db, visitor.user.id, "t").await {
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

    pg.resume().await;
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
    let mut pg = OwnPostgres::start().await;
    let mut redis = OwnRedis::start().await;
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
