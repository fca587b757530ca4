//! The public home page: mailing counts over every user, three random published posts, and
//! its cache cleared by every mailing change (the web forms, and the worker's status tick).

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use mailer::entities::mailing::{self, MailingStatus, Periodicity};
use mailer::entities::mailing_client;
use mailer::entities::user::Role;
use mailer_tests::app::{Child, eventually};
use mailer_tests::html::parse;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, Set};

use crate::blog::{anonymous_get, make_post, published};
use crate::mailings::{create_mailing, insert_client, make_clients, make_message};

/// A mailing written straight into the database (no cache invalidation).
async fn insert_mailing(
    app: &TestApp,
    owner: i32,
    message: i32,
    clients: &[i32],
    start: Duration,
    enabled: bool,
) -> mailing::Model {
    let now = Utc::now();
    let m = mailing::ActiveModel {
        owner_id: Set(owner),
        message_id: Set(message),
        start_at: Set(now + start),
        end_at: Set(now + start + Duration::days(7)),
        periodicity: Set(Periodicity::Once),
        status: Set(MailingStatus::Created),
        is_enabled: Set(enabled),
        next_run_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    for c in clients {
        mailing_client::ActiveModel {
            mailing_id: Set(m.id),
            client_id: Set(*c),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    m
}

/// `(X-Cache, [mailings, active, unique clients])` of the home page for a new visitor.
async fn stats(app: &TestApp) -> (String, [String; 3]) {
    let (status, body) = anonymous_get(app, "/").await;
    let doc = parse(&body);
    let n = |id: &str| doc.text(&format!("#{id} .number")).unwrap();
    (
        status,
        [n("stat-mailings"), n("stat-active"), n("stat-clients")],
    )
}

fn numbers(a: u64, b: u64, c: u64) -> [String; 3] {
    [a.to_string(), b.to_string(), c.to_string()]
}

async fn home_counts_mailings_active_ones_and_unique_clients(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let bob = sign_in_new(&app, "bob@example.com", Role::User).await;
    let ann_msg = make_message(&app, ann.user.id, "A").await.id;
    let bob_msg = make_message(&app, bob.user.id, "B").await.id;
    let x = insert_client(&app, ann.user.id, "x@example.com").await;
    let y = insert_client(&app, ann.user.id, "y@example.com").await;
    let z = insert_client(&app, ann.user.id, "z@example.com").await;
    let _unused = insert_client(&app, ann.user.id, "unused@example.com").await;
    let bob_x = insert_client(&app, bob.user.id, "x@example.com").await;
    let w = insert_client(&app, bob.user.id, "w@example.com").await;
    // Running, future, running but disabled: one is active; x@ is one client for both users.
    insert_mailing(
        &app,
        ann.user.id,
        ann_msg,
        &[x, y],
        -Duration::hours(1),
        true,
    )
    .await;
    insert_mailing(&app, ann.user.id, ann_msg, &[z], Duration::days(1), true).await;
    insert_mailing(
        &app,
        bob.user.id,
        bob_msg,
        &[bob_x, w],
        -Duration::hours(1),
        false,
    )
    .await;

    assert_eq!(stats(&app).await, ("miss".into(), numbers(3, 1, 4)));
    assert_eq!(stats(&app).await, ("hit".into(), numbers(3, 1, 4)));
    // Signed-in visitors see the same numbers.
    let doc = parse(&ann.get("/").await.text().await.unwrap());
    assert_eq!(doc.text("#stat-clients .number").as_deref(), Some("4"));
    assert_eq!(doc.text(".nav-email").as_deref(), Some("ann@example.com"));
}

#[tokio::test]
async fn home_counts_mailings_active_ones_and_unique_clients_sqlite() {
    home_counts_mailings_active_ones_and_unique_clients(Backend::Sqlite).await;
}

#[tokio::test]
async fn home_counts_mailings_active_ones_and_unique_clients_postgres() {
    home_counts_mailings_active_ones_and_unique_clients(Backend::Postgres).await;
}

async fn mailing_changes_clear_the_home_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let msg = make_message(&app, v.user.id, "Hello").await.id;
    let clients = make_clients(&app, &v, "c", 3).await;
    assert_eq!(stats(&app).await, ("miss".into(), numbers(0, 0, 0)));
    assert_eq!(stats(&app).await.0, "hit");

    // Created.
    let r = create_mailing(
        &v,
        msg,
        &clients,
        Duration::days(1),
        Duration::days(5),
        "daily",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(stats(&app).await, ("miss".into(), numbers(1, 0, 3)));
    assert_eq!(stats(&app).await.0, "hit");

    // Edited: starts now, so it is active (and sends, which the page does not care about).
    let start = (Utc::now() - Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let end = (Utc::now() + Duration::days(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let c0 = clients[0].to_string();
    let r = v
        .post_form(
            &format!("/mailings/{id}/edit"),
            &[
                ("message_id", msg.to_string().as_str()),
                ("start_at", &start),
                ("end_at", &end),
                ("name", "Test mailing"),
                ("periodicity", "daily"),
                ("client_ids", &c0),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stats(&app).await, ("miss".into(), numbers(1, 1, 1)));
    assert_eq!(stats(&app).await.0, "hit");

    // Disabled, enabled.
    let r = v.post_form(&format!("/mailings/{id}/toggle"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stats(&app).await, ("miss".into(), numbers(1, 0, 1)));
    v.post_form(&format!("/mailings/{id}/toggle"), &[]).await;
    assert_eq!(stats(&app).await, ("miss".into(), numbers(1, 1, 1)));

    // Deleted.
    let r = v.post_form(&format!("/mailings/{id}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stats(&app).await, ("miss".into(), numbers(0, 0, 0)));

    // A post saved in the admin panel clears the home page too (it shows posts).
    assert_eq!(stats(&app).await.0, "hit");
    published(&app, "p", "P", 1).await;
    mailer::blog::invalidate(&app.state).await;
    let (status, body) = anonymous_get(&app, "/").await;
    assert_eq!(status, "miss");
    assert_eq!(parse(&body).texts(".post-card h3 a"), ["P"]);
}

#[tokio::test]
async fn mailing_changes_clear_the_home_page_sqlite() {
    mailing_changes_clear_the_home_page(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailing_changes_clear_the_home_page_postgres() {
    mailing_changes_clear_the_home_page(Backend::Postgres).await;
}

/// The worker is another process; on Redis its status tick clears the servers' cache.
#[tokio::test]
async fn the_workers_status_tick_clears_the_home_page_on_redis() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let msg = make_message(&app, v.user.id, "Hello").await.id;
    assert_eq!(stats(&app).await, ("miss".into(), numbers(0, 0, 0)));
    // Written behind the site's back: the cached page does not know.
    insert_mailing(&app, v.user.id, msg, &[], -Duration::minutes(1), true).await;
    assert_eq!(stats(&app).await, ("hit".into(), numbers(0, 0, 0)));

    let log = app.dir.path().join("worker.log");
    let _worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    let seen = eventually(
        StdDuration::from_secs(20),
        "the tick's invalidation",
        || async {
            let (status, n) = stats(&app).await;
            (status == "miss").then_some(n)
        },
    )
    .await;
    // Started, and with no client and no occurrence to come, done in the same tick: the
    // page counts it as a mailing, not as a running one.
    assert_eq!(seen, numbers(1, 0, 0));
}

async fn random_posts_are_published_ones(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, body) = anonymous_get(&app, "/").await;
    assert!(!parse(&body).exists(".home-posts"), "no posts, no section");

    let mut visible = HashSet::new();
    for i in 0..5 {
        let p = published(&app, &format!("pub-{i}"), &format!("Published {i}"), i + 1).await;
        visible.insert(format!("/blog/{}", p.slug));
    }
    for i in 0..3 {
        make_post(&app, &format!("draft-{i}"), "Draft", "x", false, None).await;
    }
    let later = Some(Utc::now() + Duration::days(1));
    make_post(&app, "scheduled", "Scheduled", "x", true, later).await;
    mailer::blog::invalidate(&app.state).await;

    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let mut seen = HashSet::new();
    for i in 0..30 {
        let body = if i % 5 == 0 {
            v.get("/").await.text().await.unwrap()
        } else {
            anonymous_get(&app, "/").await.1
        };
        let links = parse(&body).attrs(".post-card h3 a", "href");
        assert_eq!(links.len(), 3, "{links:?}");
        assert_eq!(links.iter().collect::<HashSet<_>>().len(), 3, "{links:?}");
        for link in links {
            assert!(visible.contains(&link), "{link} is not a published post");
            seen.insert(link);
        }
    }
    // Picked per view, not once per cached page.
    assert!(seen.len() > 3, "{seen:?}");
}

#[tokio::test]
async fn random_posts_are_published_ones_sqlite() {
    random_posts_are_published_ones(Backend::Sqlite).await;
}

#[tokio::test]
async fn random_posts_are_published_ones_postgres() {
    random_posts_are_published_ones(Backend::Postgres).await;
}
