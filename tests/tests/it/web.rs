//! The web server's foundation: layout with htmx, fragments for htmx, static files,
//! `/healthz`, error pages and headers — on the embedded default and on PostgreSQL + Redis.

use mailer::entities::user::Role;
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, spawn_app};
use reqwest::StatusCode;

async fn home_renders_layout_with_htmx(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["vary"],
        "HX-Request, HX-Target, Accept-Language, Cookie"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let doc = parse(&response.text().await.unwrap());
    assert_eq!(doc.text("title").as_deref(), Some("Home · Mailer"));
    assert!(doc.exists("body[hx-boost='true'] header.site nav a.brand[href='/']"));
    assert!(doc.exists("main#content h1"));
    let config = doc
        .attr("meta[name='htmx-config']", "content")
        .expect("htmx config meta");
    let config: serde_json::Value = serde_json::from_str(&config).expect("htmx config is JSON");
    assert_eq!(config["selfRequestsOnly"], true);
    assert_eq!(config["allowScriptTags"], false);

    // The vendored htmx 2.x script is linked and served with a long-lived cache.
    let src = doc
        .attr("script[src^='/static/vendor/htmx-2.']", "src")
        .expect("htmx script tag");
    let script = app.get(&src).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = script.headers()["etag"].to_str().unwrap().to_owned();
    assert!(script.text().await.unwrap().contains("htmx"));
    let revalidated = app
        .client
        .get(app.url(&src))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    for css in doc.attrs("link[rel='stylesheet']", "href") {
        assert_eq!(app.get(&css).await.status(), StatusCode::OK, "{css}");
    }
}

#[tokio::test]
async fn home_renders_layout_with_htmx_sqlite() {
    home_renders_layout_with_htmx(Backend::Sqlite).await;
}

#[tokio::test]
async fn home_renders_layout_with_htmx_postgres() {
    home_renders_layout_with_htmx(Backend::Postgres).await;
}

#[tokio::test]
async fn htmx_requests_get_the_content_block_only() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let fragment = app
        .client
        .get(app.url("/"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fragment.headers()["vary"],
        "HX-Request, HX-Target, Accept-Language"
    );
    let body = fragment.text().await.unwrap();
    let doc = parse_fragment(&body);
    assert!(doc.exists("h1"), "the content block is there");
    assert!(!doc.exists("header.site"), "no layout in a fragment");
    assert!(!doc.exists("title"));

    // Boosted navigation and history restores need the whole page.
    for header in ["HX-Boosted", "HX-History-Restore-Request"] {
        let full = app
            .client
            .get(app.url("/"))
            .header("HX-Request", "true")
            .header(header, "true")
            .send()
            .await
            .unwrap();
        let doc = parse(&full.text().await.unwrap());
        assert!(doc.exists("header.site"), "{header} gets the full page");
    }
}

/// The names in a response's `Vary` (all its `Vary` headers, case kept).
fn vary(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The responder chooses what to send by `HX-Request` and `HX-Target`, and the language by
/// `Accept-Language` (the anonymous pages also by the switcher's cookie), so every page it
/// answers says it varies on them: a shared cache must not hand a fragment to a page load,
/// one fragment to a request aimed at another element, or one language to another.
#[tokio::test]
async fn pages_vary_on_the_htmx_headers_they_read() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let both = ["HX-Request", "HX-Target", "Accept-Language"].map(str::to_owned);
    // The cached public fast path, computed and then from the cache.
    for expected_cache in ["miss", "hit"] {
        let page = app.get("/").await;
        assert_eq!(page.headers()["x-cache"], expected_cache);
        assert_eq!(
            vary(&page),
            ["HX-Request", "HX-Target", "Accept-Language", "Cookie"],
            "anonymous home ({expected_cache})"
        );
    }
    let visitor = sign_in_new(&app, "vary@example.com", Role::User).await;
    let full = visitor.get("/clients").await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(vary(&full), both, "full page");
    let doc = parse(&full.text().await.unwrap());
    assert!(doc.exists("header.site"));
    // A fragment chosen by its target, and one chosen by HX-Request alone.
    let rows = visitor.htmx_get("/clients", "client-rows").await;
    assert_eq!(rows.status(), StatusCode::OK);
    assert_eq!(vary(&rows), both, "fragment for a target");
    assert!(!parse_fragment(&rows.text().await.unwrap()).exists("header.site"));
    let content = visitor.htmx_get("/clients", "content").await;
    assert_eq!(vary(&content), both, "default block");
    // Anything the page layer answers: a redirect for a visitor without an account.
    let anonymous = app.get("/clients").await;
    assert!(anonymous.status().is_redirection());
    assert_eq!(vary(&anonymous), both, "redirect");
}

#[tokio::test]
async fn unknown_pages_get_the_site_404() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let doc = parse(&response.text().await.unwrap());
    assert_eq!(doc.text("main h1").as_deref(), Some("Page not found"));
    assert!(doc.exists("header.site"), "inside the layout");

    let asset = app.get("/static/nope.js").await;
    assert_eq!(asset.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_response_has_security_headers() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    crate::blog::published(&app, "p", "P", 1).await;
    // The cached public pages twice: the second view comes from the cache, before the
    // route tables and the site's middleware.
    for path in [
        "/", "/", "/blog", "/blog", "/blog/p", "/blog/p", "/healthz", "/missing",
    ] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        if path == "/" || path.starts_with("/blog") {
            assert!(h.contains_key("x-cache"), "{path}");
        }
    }
}

async fn healthz_reports_modes(backend: Backend, expected: [&str; 4]) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    for (part, mode) in ["database", "queue", "cache", "mail"].iter().zip(expected) {
        assert_eq!(body[part]["mode"], mode, "{part}: {body}");
        assert_eq!(body[part]["ok"], true, "{part}: {body}");
    }

    // The mail server goes away: the service says so, with 503.
    app.smtp.refuse_connections(true);
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["mail"]["ok"], false);
    assert_eq!(body["database"]["ok"], true);
    app.smtp.refuse_connections(false);
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn healthz_reports_modes_sqlite() {
    healthz_reports_modes(Backend::Sqlite, ["sqlite", "sqlite", "memory", "smtp"]).await;
}

#[tokio::test]
async fn healthz_reports_modes_postgres() {
    healthz_reports_modes(Backend::Postgres, ["postgres", "redis", "redis", "smtp"]).await;
}

/// Rough edges a new user hit: no favicon (a 404 on every page), the API docs link opening
/// a blank page (a boosted navigation), and a dashboard that asked for a mailing before
/// there was anything to mail.
#[tokio::test]
async fn favicon_docs_link_and_onboarding() {
    use mailer::entities::user::Role;
    use mailer_tests::users::sign_in_new;
    let Some(app) = mailer_tests::spawn_app(mailer_tests::Backend::Sqlite).await else {
        return;
    };
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status(), reqwest::StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    let home = mailer_tests::html::parse(&app.get("/").await.text().await.unwrap());
    let linked = home.attr("link[rel='icon']", "href").expect("an icon link");
    assert_eq!(
        app.get(&linked).await.status(),
        reqwest::StatusCode::OK,
        "{linked}"
    );

    let v = sign_in_new(&app, "new@example.com", Role::User).await;
    let account = mailer_tests::html::parse(&v.get("/account").await.text().await.unwrap());
    assert_eq!(
        account.attr("a[href='/api/docs']", "hx-boost").as_deref(),
        Some("false"),
        "Swagger UI is a whole page of its own"
    );

    let next_step = || async {
        let doc = mailer_tests::html::parse(&v.get("/dashboard").await.text().await.unwrap());
        doc.attr("#onboarding a[role='button']", "href")
    };
    assert_eq!(next_step().await.as_deref(), Some("/clients/new"));
    let client = crate::mailings::insert_client(&app, v.user.id, "ann@example.com").await;
    assert_eq!(next_step().await.as_deref(), Some("/messages/new"));
    let message = crate::mailings::make_message(&app, v.user.id, "Hello").await;
    assert_eq!(next_step().await.as_deref(), Some("/mailings/new"));
    let _ = (client, message);
}
