//! Several machines on one PostgreSQL + Redis: two `mailer serve` and two `mailer-worker`
//! processes. A session made on one server works on the other; a post published through
//! one is on the other's cached pages at once; a mailing goes out exactly once across the
//! two workers; and killing one of them mid-send loses nothing.

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::user::Role;
use mailer_tests::app::{ServeProcess, eventually};
use mailer_tests::html::parse;
use mailer_tests::smtp::Behavior;
use mailer_tests::users::{Visitor, new_client, sign_in_at, verified_user};
use mailer_tests::{Backend, TestApp, spawn_app_with};
use reqwest::StatusCode;
use reqwest::multipart::Form;
use sea_orm::EntityTrait;

use crate::blog::cache_status;
use crate::mailings::{create_mailing, insert_client, make_message};
use crate::outage::{all_sent, each_sent_once, sent_once_but, worker};

/// `email` as a new verified user with `role`, signed in through server `at`.
async fn signed_in(app: &TestApp, at: &ServeProcess, email: &str, role: Role) -> Visitor {
    let user = verified_user(app, email, role).await;
    let client = new_client();
    sign_in_at(&client, &at.base, email).await;
    Visitor {
        user,
        client,
        base: at.base.clone(),
    }
}

/// `v`'s session, used on server `other`.
fn on(v: &Visitor, other: &ServeProcess) -> Visitor {
    Visitor {
        user: v.user.clone(),
        client: v.client.clone(),
        base: other.base.clone(),
    }
}

async fn anonymous(server: &ServeProcess, path: &str) -> (String, String) {
    let response = new_client()
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    (cache_status(&response), response.text().await.unwrap())
}

async fn deliveries(app: &TestApp) -> Vec<delivery::Model> {
    delivery::Entity::find().all(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn two_servers_and_two_workers_share_sessions_cache_and_the_mail() {
    // Ranges of 7 recipients: the two workers make the mailing's deliveries range by range,
    // both at once, and still each recipient gets it once.
    let Some(app) = spawn_app_with(Backend::Postgres, |c| c.worker.fan_out_range = 7).await else {
        return;
    };
    let a = ServeProcess::start(&app, "serve-a.log").await;
    let b = ServeProcess::start(&app, "serve-b.log").await;

    // A session made on A is the same session on B; signing out on B ends it on A.
    let ann = signed_in(&app, &a, "ann@example.com", Role::User).await;
    let ann_on_b = on(&ann, &b);
    let page = ann_on_b.get("/clients").await;
    assert_eq!(page.status(), StatusCode::OK, "B knows A's session");
    let body = page.text().await.unwrap();
    assert!(parse(&body).exists("form[action='/logout']"));

    // B's cached blog learns of a post published through A at once.
    let (_, before) = anonymous(&b, "/blog").await;
    let (cache, _) = anonymous(&b, "/blog").await;
    assert_eq!(cache, "hit", "B caches its blog page");
    assert!(!before.contains("Published on A"));
    let editor = signed_in(&app, &a, "editor@example.com", Role::ContentManager).await;
    let published = editor
        .post_multipart(
            "/admin/posts/add/",
            Form::new()
                .text("title", "Published on A")
                .text("slug", "")
                .text("body", "Warm words.")
                .text("is_published", "on")
                .text("published_at", ""),
        )
        .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER, "{}", a.log());
    let (_, after) = anonymous(&b, "/blog").await;
    assert!(after.contains("Published on A"), "B's cache was cleared");
    let (_, home) = anonymous(&b, "/").await;
    assert!(home.contains("Published on A"), "and its home page too");

    // One mailing of 60, two workers, ranges of 7: each recipient gets it once.
    let _w1 = worker(&app, "worker.log");
    let _w2 = worker(&app, "worker2.log");
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(insert_client(&app, ann.user.id, &format!("c{i}@example.com")).await);
    }
    let message = make_message(&app, ann.user.id, "Twice the workers").await;
    let created = create_mailing(
        &ann_on_b,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let rows = all_sent(&app, 60, Duration::from_secs(60)).await;
    each_sent_once(&app, &rows).await;

    let out = ann.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let page = ann_on_b.get("/clients").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "signed out on both");
}

#[tokio::test]
async fn killing_one_of_two_workers_mid_send_loses_nothing() {
    // A short job timeout, so the dead worker's lease ends soon.
    let Some(app) = spawn_app_with(Backend::Postgres, |c| c.worker.job_timeout_secs = 16).await
    else {
        return;
    };
    let a = ServeProcess::start(&app, "serve-a.log").await;
    let ann = signed_in(&app, &a, "ann@example.com", Role::User).await;
    // Slow sends, so both workers hold claims when one is killed.
    app.smtp.script(std::iter::repeat_n(
        Behavior::Delay(Duration::from_millis(500)),
        40,
    ));
    let mut first = worker(&app, "worker.log");
    let _second = worker(&app, "worker2.log");
    let n = 80;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(insert_client(&app, ann.user.id, &format!("k{i}@example.com")).await);
    }
    let message = make_message(&app, ann.user.id, "Survives a kill").await;
    let created = create_mailing(
        &ann,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    eventually(Duration::from_secs(60), "the first sends", || async {
        (app.smtp.messages().len() >= 4).then_some(())
    })
    .await;
    first.signal(libc::SIGKILL);
    first.wait(Duration::from_secs(5)).await;
    app.smtp.clear_script();
    let pending = deliveries(&app)
        .await
        .iter()
        .filter(|d| d.status == DeliveryStatus::Pending)
        .count();
    eprintln!("killed one worker with {pending} of {n} deliveries still pending");
    // The survivor sends the rest, the dead worker's claims once their lease ends.
    let lease = Duration::from_secs(app.config.worker.job_timeout_secs + 5);
    let rows = all_sent(&app, n, lease + Duration::from_secs(60)).await;
    sent_once_but(&app, &rows, app.config.worker.concurrency).await;
}
