//! The public blog and its cache: published posts only (drafts and scheduled posts never
//! show), Markdown rendered safely, hit / miss and invalidation, one recomputation at a time,
//! anonymous HTML never mixed with a signed-in visitor's page, and view counts that survive
//! concurrency and caching.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use mailer::entities::post;
use mailer::entities::user::Role;
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::{new_client, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, ModelTrait, Set};

/// A post written straight into the database (the admin panel's side of the blog).
pub async fn make_post(
    app: &TestApp,
    slug: &str,
    title: &str,
    body: &str,
    is_published: bool,
    published_at: Option<DateTime<Utc>>,
) -> post::Model {
    let now = Utc::now();
    post::ActiveModel {
        author_id: Set(None),
        title: Set(title.into()),
        slug: Set(slug.into()),
        body: Set(body.into()),
        image: Set(None),
        view_count: Set(0),
        is_published: Set(is_published),
        published_at: Set(published_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

pub async fn published(app: &TestApp, slug: &str, title: &str, hours_ago: i64) -> post::Model {
    let at = Utc::now() - Duration::hours(hours_ago);
    make_post(app, slug, title, "Some text.", true, Some(at)).await
}

pub fn cache_status(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

/// GET as a fresh anonymous browser: `(X-Cache, body)`.
pub async fn anonymous_get(app: &TestApp, path: &str) -> (String, String) {
    let r = new_client().get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    (cache_status(&r), r.text().await.unwrap())
}

async fn view_count_in_db(app: &TestApp, id: i32) -> i64 {
    post::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .view_count
}

async fn list_shows_published_posts_newest_first_in_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..12 {
        published(&app, &format!("post-{i}"), &format!("Post {i}"), i + 1).await;
    }
    let hour_ago = Some(Utc::now() - Duration::hours(1));
    make_post(&app, "draft", "Draft", "x", false, None).await;
    make_post(&app, "dated-draft", "Dated draft", "x", false, hour_ago).await;
    let later = Some(Utc::now() + Duration::hours(1));
    make_post(&app, "later", "Scheduled", "x", true, later).await;

    let (_, body) = anonymous_get(&app, "/blog").await;
    let first = parse(&body);
    let expected: Vec<String> = (0..10).map(|i| format!("Post {i}")).collect();
    assert_eq!(first.texts(".post-summary h2 a"), expected);
    assert_eq!(
        first.attr(".pager a[rel='next']", "href").as_deref(),
        Some("/blog?page=2")
    );
    assert_eq!(
        first.text(".post-summary time").as_deref(),
        Some(
            (Utc::now() - Duration::hours(1))
                .format("%-d %b %Y")
                .to_string()
                .as_str()
        )
    );

    let (_, body) = anonymous_get(&app, "/blog?page=2").await;
    let second = parse(&body);
    assert_eq!(second.texts(".post-summary h2 a"), ["Post 10", "Post 11"]);
    assert!(!second.exists(".pager a[rel='next']"));

    // htmx asks for the list only.
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let fragment = v
        .htmx_get("/blog?page=2", "post-list")
        .await
        .text()
        .await
        .unwrap();
    let fragment = parse_fragment(&fragment);
    assert_eq!(fragment.texts(".post-summary h2 a"), ["Post 10", "Post 11"]);
    assert!(!fragment.exists("header.site"));

    assert_eq!(
        app.get("/blog?page=3").await.status(),
        StatusCode::NOT_FOUND
    );
    for slug in ["draft", "dated-draft", "later", "nothing-here"] {
        let r = app.get(&format!("/blog/{slug}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "/blog/{slug}");
        let r = v.get(&format!("/blog/{slug}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "/blog/{slug} signed in");
    }
}

#[tokio::test]
async fn list_shows_published_posts_newest_first_in_pages_sqlite() {
    list_shows_published_posts_newest_first_in_pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn list_shows_published_posts_newest_first_in_pages_postgres() {
    list_shows_published_posts_newest_first_in_pages(Backend::Postgres).await;
}

#[tokio::test]
async fn post_page_renders_markdown_safely_with_image_date_and_views() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let at = Utc::now() - Duration::days(2);
    let body = "Some **bold** text.\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) \
                and [more](/blog)";
    let post = make_post(&app, "hello", "Hello <world>", body, true, Some(at)).await;
    let mut with_image = post.clone().into_active_model();
    with_image.image = Set(Some("posts/00000000000000a1.png".into()));
    with_image.update(&app.state.db).await.unwrap();
    std::fs::create_dir_all(app.dir.path().join("posts")).unwrap();
    std::fs::write(
        app.dir.path().join("posts/00000000000000a1.png"),
        b"\x89PNG fake",
    )
    .unwrap();
    mailer::blog::invalidate(&app.state).await;

    let (_, html) = anonymous_get(&app, "/blog/hello").await;
    let doc = parse(&html);
    assert_eq!(
        doc.text("article.post h1").as_deref(),
        Some("Hello <world>")
    );
    assert_eq!(doc.text(".post-body strong").as_deref(), Some("bold"));
    assert!(!doc.exists(".post-body script"));
    assert!(
        doc.text(".post-body")
            .unwrap()
            .contains("<script>alert(1)</script>")
    );
    assert_eq!(doc.attrs(".post-body a", "href"), ["#", "/blog"]);
    assert_eq!(
        doc.attr(".post-image", "src").as_deref(),
        Some("/media/posts/00000000000000a1.png")
    );
    assert_eq!(
        doc.text("article.post time").as_deref(),
        Some(at.format("%-d %b %Y").to_string().as_str())
    );
    assert_eq!(doc.text("#view-count").as_deref(), Some("1"));
    let (_, html) = anonymous_get(&app, "/blog/hello").await;
    assert_eq!(parse(&html).text("#view-count").as_deref(), Some("2"));

    let image = app.get("/media/posts/00000000000000a1.png").await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), b"\x89PNG fake");
    for bad in [
        "/media/posts/..%2Fsecret_key",
        "/media/posts/x.svg",
        "/media/posts/none.png",
    ] {
        assert_eq!(app.get(bad).await.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

async fn cache_hits_misses_and_invalidation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let old = published(&app, "old", "Old news", 5).await;

    assert_eq!(anonymous_get(&app, "/blog").await.0, "miss");
    let (status, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(status, "hit");
    assert_eq!(parse(&body).texts(".post-summary h2 a"), ["Old news"]);

    // A change the blog was not told about stays invisible: the page is the cached one.
    let fresh = published(&app, "fresh", "Fresh news", 1).await;
    let (status, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(status, "hit");
    assert_eq!(parse(&body).texts(".post-summary h2 a"), ["Old news"]);

    // Saved / published: the admin panel calls invalidate.
    mailer::blog::invalidate(&app.state).await;
    let (status, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(status, "miss");
    assert_eq!(
        parse(&body).texts(".post-summary h2 a"),
        ["Fresh news", "Old news"]
    );

    // The post page: miss, hit, edited (stale until invalidated), then fresh.
    assert_eq!(anonymous_get(&app, "/blog/fresh").await.0, "miss");
    assert_eq!(anonymous_get(&app, "/blog/fresh").await.0, "hit");
    let mut edit = fresh.clone().into_active_model();
    edit.title = Set("Fresher news".into());
    let fresh = edit.update(&app.state.db).await.unwrap();
    let (_, body) = anonymous_get(&app, "/blog/fresh").await;
    assert_eq!(
        parse(&body).text("article.post h1").as_deref(),
        Some("Fresh news")
    );
    mailer::blog::invalidate(&app.state).await;
    let (status, body) = anonymous_get(&app, "/blog/fresh").await;
    assert_eq!(status, "miss");
    assert_eq!(
        parse(&body).text("article.post h1").as_deref(),
        Some("Fresher news")
    );

    // Signed-in visitors get pages rendered from the cached data, with the header too.
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let r = v.get("/blog/fresh").await;
    assert_eq!(cache_status(&r), "hit");
    assert_eq!(
        parse(&r.text().await.unwrap())
            .text("article.post h1")
            .as_deref(),
        Some("Fresher news")
    );

    // Unpublished: gone from the list and its page.
    let mut unpublish = fresh.into_active_model();
    unpublish.is_published = Set(false);
    unpublish.update(&app.state.db).await.unwrap();
    mailer::blog::invalidate(&app.state).await;
    assert_eq!(app.get("/blog/fresh").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(v.get("/blog/fresh").await.status(), StatusCode::NOT_FOUND);
    let (_, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(parse(&body).texts(".post-summary h2 a"), ["Old news"]);

    // Deleted.
    assert_eq!(anonymous_get(&app, "/blog/old").await.0, "miss");
    old.delete(&app.state.db).await.unwrap();
    mailer::blog::invalidate(&app.state).await;
    assert_eq!(app.get("/blog/old").await.status(), StatusCode::NOT_FOUND);
    let (status, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(status, "miss");
    assert!(parse(&body).exists(".empty"));
    assert_eq!(cache_status(&v.get("/blog").await), "hit");
}

#[tokio::test]
async fn cache_hits_misses_and_invalidation_sqlite() {
    cache_hits_misses_and_invalidation(Backend::Sqlite).await;
}

#[tokio::test]
async fn cache_hits_misses_and_invalidation_postgres() {
    cache_hits_misses_and_invalidation(Backend::Postgres).await;
}

async fn one_recomputation_at_a_time(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..5 {
        published(&app, &format!("p{i}"), &format!("Post {i}"), i + 1).await;
    }
    for path in ["/blog", "/blog/p1", "/"] {
        let requests = (0..40).map(|_| anonymous_get(&app, path));
        let statuses: Vec<String> = futures::future::join_all(requests)
            .await
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        let misses = statuses.iter().filter(|s| *s == "miss").count();
        assert_eq!(misses, 1, "{path}: {statuses:?}");
    }
}

#[tokio::test]
async fn one_recomputation_at_a_time_sqlite() {
    one_recomputation_at_a_time(Backend::Sqlite).await;
}

#[tokio::test]
async fn one_recomputation_at_a_time_postgres() {
    one_recomputation_at_a_time(Backend::Postgres).await;
}

async fn every_view_counts_under_concurrent_requests(backend: Backend) {
    // Only this test's flushes write views (the server's own would run every hour).
    let Some(app) = spawn_app_with(backend, |c| c.pages.view_flush_secs = 3600).await else {
        return;
    };
    let post = published(&app, "popular", "Popular", 1).await;
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    // Flushes run while the views come in: none may be lost or written twice.
    let state = app.state.clone();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let flusher = tokio::spawn(async move {
        let mut written = 0;
        loop {
            // Seen before the flush: the last flush starts after every view was answered.
            let last = *stopped.borrow();
            written += mailer::blog::views::flush(&state).await.unwrap();
            if last {
                return written;
            }
            let _ = tokio::time::timeout(StdDuration::from_millis(5), stopped.changed()).await;
        }
    });
    let anonymous = (0..150).map(|_| async {
        let r = new_client()
            .get(app.url("/blog/popular"))
            .send()
            .await
            .unwrap();
        r.status()
    });
    let signed_in = (0..50).map(|_| async { v.get("/blog/popular").await.status() });
    let (a, s) = tokio::join!(
        futures::future::join_all(anonymous),
        futures::future::join_all(signed_in)
    );
    assert!(a.iter().chain(&s).all(|st| *st == StatusCode::OK));
    stop.send(true).unwrap();
    let written = flusher.await.unwrap();
    assert_eq!(written, 200);
    assert_eq!(view_count_in_db(&app, post.id).await, 200);

    // The page shows the database count plus views not written yet, cached or not.
    let (_, body) = anonymous_get(&app, "/blog/popular").await;
    assert_eq!(parse(&body).text("#view-count").as_deref(), Some("201"));
    let body = v.get("/blog/popular").await.text().await.unwrap();
    assert_eq!(parse(&body).text("#view-count").as_deref(), Some("202"));
    assert_eq!(mailer::blog::views::flush(&app.state).await.unwrap(), 2);
    assert_eq!(view_count_in_db(&app, post.id).await, 202);
    let (_, body) = anonymous_get(&app, "/blog/popular").await;
    assert_eq!(parse(&body).text("#view-count").as_deref(), Some("203"));
}

#[tokio::test]
async fn every_view_counts_under_concurrent_requests_sqlite() {
    every_view_counts_under_concurrent_requests(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_view_counts_under_concurrent_requests_postgres() {
    every_view_counts_under_concurrent_requests(Backend::Postgres).await;
}

#[tokio::test]
async fn views_are_written_when_the_server_stops() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let post = published(&app, "p", "P", 1).await;
    for _ in 0..3 {
        anonymous_get(&app, "/blog/p").await;
    }
    let state = app.state.clone();
    // Stop the server but keep its SQLite file.
    let mut app = app;
    let _dir = std::mem::replace(&mut app.dir, tempfile::tempdir().unwrap());
    drop(app);
    let found = mailer_tests::app::eventually(StdDuration::from_secs(10), "views written", || {
        let db = state.db.clone();
        async move {
            let n = post::Entity::find_by_id(post.id)
                .one(&db)
                .await
                .ok()??
                .view_count;
            (n == 3).then_some(n)
        }
    })
    .await;
    assert_eq!(found, 3);
}

/// The anonymous HTML is the same for every anonymous visitor and holds nothing of theirs;
/// signed-in visitors and waiting messages never touch it.
#[tokio::test]
async fn nothing_personal_is_served_from_the_cache() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    published(&app, "p", "P", 1).await;
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    for path in ["/", "/blog", "/blog/p"] {
        let mine = parse(&v.get(path).await.text().await.unwrap());
        assert_eq!(
            mine.text(".nav-email").as_deref(),
            Some("ann@example.com"),
            "{path}"
        );
        let (status, body) = anonymous_get(&app, path).await;
        let theirs = parse(&body);
        assert!(!theirs.exists(".nav-email"), "{path} ({status})");
        assert!(!theirs.exists("form[action='/logout']"), "{path}");
        assert!(theirs.exists("a[href='/login']"), "{path}");
        let (status, body) = anonymous_get(&app, path).await;
        assert_eq!(status, "hit", "{path}");
        assert!(!parse(&body).exists(".nav-email"), "{path}");
        // And the signed-in page after the anonymous one was cached is still personal.
        let mine = parse(&v.get(path).await.text().await.unwrap());
        assert_eq!(
            mine.text(".nav-email").as_deref(),
            Some("ann@example.com"),
            "{path}"
        );
    }

    // Nothing of a visitor's own is in the cached page or its response: no CSRF token
    // (the pages have no form) and no cookie.
    for path in ["/", "/blog", "/blog/p"] {
        let r = new_client().get(app.url(path)).send().await.unwrap();
        assert_eq!(cache_status(&r), "hit", "{path}");
        assert!(!r.headers().contains_key("set-cookie"), "{path}");
        let doc = parse(&r.text().await.unwrap());
        assert!(!doc.exists("[hx-headers]"), "{path}: no token for htmx");
        assert!(
            !doc.exists("input[name='csrf_token']"),
            "{path}: no form token"
        );
    }

    // A message waiting in the session (here: "signed out") is shown, not skipped by the
    // cache; the next page is the cached one again.
    let token = v.csrf("/account").await;
    let r = v
        .client
        .post(v.url("/logout"))
        .form(&[("csrf_token", token)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let r = v.get("/blog").await;
    assert_eq!(cache_status(&r), "hit");
    assert!(parse(&r.text().await.unwrap()).exists(".flash"));
    let r = v.get("/blog").await;
    assert!(!parse(&r.text().await.unwrap()).exists(".flash"));
}

#[tokio::test]
async fn a_scheduled_post_appears_at_its_time() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    published(&app, "now", "Now", 1).await;
    let soon = Utc::now() + Duration::milliseconds(1500);
    make_post(&app, "soon", "Soon", "x", true, Some(soon)).await;
    let (_, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(parse(&body).texts(".post-summary h2 a"), ["Now"]);
    let (status, _) = anonymous_get(&app, "/blog").await;
    assert_eq!(status, "hit");
    tokio::time::sleep((soon - Utc::now()).to_std().unwrap_or_default()).await;
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    let (status, body) = anonymous_get(&app, "/blog").await;
    assert_eq!(
        status, "miss",
        "the cached list expired when the post was due"
    );
    assert_eq!(parse(&body).texts(".post-summary h2 a"), ["Soon", "Now"]);
}

#[tokio::test]
async fn cached_pages_expire_after_the_ttl() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.pages.ttl_secs = 1).await else {
        return;
    };
    published(&app, "p", "P", 1).await;
    assert_eq!(anonymous_get(&app, "/blog").await.0, "miss");
    assert_eq!(anonymous_get(&app, "/blog").await.0, "hit");
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    assert_eq!(anonymous_get(&app, "/blog").await.0, "miss");
}

/// Each test instance has its own Redis prefix: one's cached pages and invalidations are
/// invisible to another's.
#[tokio::test]
async fn cache_keys_are_isolated_per_instance() {
    let Some(one) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let Some(two) = spawn_app(Backend::Postgres).await else {
        return;
    };
    published(&one, "p", "P", 1).await;
    assert_eq!(anonymous_get(&one, "/blog").await.0, "miss");
    assert_eq!(anonymous_get(&one, "/blog").await.0, "hit");
    let (status, body) = anonymous_get(&two, "/blog").await;
    assert_eq!(status, "miss");
    assert!(parse(&body).exists(".empty"));
    mailer::blog::invalidate(&two.state).await;
    assert_eq!(anonymous_get(&one, "/blog").await.0, "hit");

    let keys: HashSet<String> = one
        .redis
        .as_ref()
        .unwrap()
        .keys()
        .await
        .into_iter()
        .collect();
    let prefix = &one.config.redis_prefix;
    assert!(
        keys.contains(&format!("{prefix}:cache:section:blog")),
        "{keys:?}"
    );
    assert!(keys.iter().all(|k| k.starts_with(prefix.as_str())));
}
