//! CSRF is enforced by one mechanism: every route that accepts a state-changing request
//! (the router's own list, so a new route is covered the day it is added) answers 403 to a
//! request without a valid token — anonymous or signed in, form or multipart — and the
//! handler never runs.

use mailer::entities::user::{self, Role};
use mailer_tests::html::parse;
use mailer_tests::users::{PASSWORD, new_client, verified_user};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with(':') { "1" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

async fn token_from(app: &TestApp, path: &str) -> String {
    let body = app.get(path).await.text().await.unwrap();
    parse(&body)
        .attr("input[name='csrf_token']", "value")
        .expect("a CSRF field on the page")
}

/// Every mutating route refuses a request with no token and with a wrong one.
async fn refuses_without_token(app: &TestApp, who: &str) {
    // The CSRF cookie is present (a page was loaded): only the token is missing.
    let good = token_from(app, "/login").await;
    let routes = mailer::server::mutating_routes();
    assert!(
        routes.len() >= 10,
        "the route table lists the forms: {routes:?}"
    );
    for route in routes {
        let url = app.url(&concrete(&route));
        let attempts = [
            (
                "no token, form",
                app.client.post(&url).form(&[("email", "x@example.com")]),
            ),
            (
                "wrong token, form",
                app.client.post(&url).form(&[
                    ("csrf_token", "bm90IGEgdG9rZW4="),
                    ("email", "x@example.com"),
                ]),
            ),
            (
                "no token, multipart",
                app.client
                    .post(&url)
                    .multipart(reqwest::multipart::Form::new().text("email", "x@example.com")),
            ),
            (
                "tampered token, header",
                app.client
                    .post(&url)
                    .header("X-CSRF-Token", format!("{good}x")),
            ),
        ];
        for (what, request) in attempts {
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{who}: POST {route} ({what})"
            );
            let doc = parse(&response.text().await.unwrap());
            assert_eq!(
                doc.text("main h1").as_deref(),
                Some("Not allowed"),
                "{route}"
            );
        }
    }
}

#[tokio::test]
async fn every_mutating_route_requires_the_csrf_token() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    refuses_without_token(&app, "anonymous").await;
    assert_eq!(
        user::Entity::find().count(&app.state.db).await.unwrap(),
        0,
        "no handler ran: nobody got registered"
    );

    // Signed in, the same holds (the guard runs before any handler).
    verified_user(&app, "csrf@example.com", Role::User).await;
    let token = token_from(&app, "/login").await;
    let login = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "csrf@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        StatusCode::SEE_OTHER,
        "a valid token is accepted"
    );
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    refuses_without_token(&app, "signed in").await;
    assert_eq!(
        app.get("/account").await.status(),
        StatusCode::OK,
        "still signed in: logout was refused"
    );

    // The header htmx sends is accepted too.
    let token = token_from(&app, "/account/password").await;
    let logout = app
        .client
        .post(app.url("/logout"))
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/account").await.status(), StatusCode::SEE_OTHER);
}

/// The cached public pages carry no CSRF token and set no cookie. A visitor who lands on one
/// and signs in through htmx still gets past the guard: the boosted click on "Sign in"
/// swaps in the login page's `<body>` content — not the `<body>` element, which htmx keeps —
/// and htmx sends the token from `hx-headers` on the new `<main>`.
#[tokio::test]
async fn signing_in_through_htmx_after_landing_on_a_cached_page() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    crate::blog::published(&app, "p", "P", 1).await;
    verified_user(&app, "lands@example.com", Role::User).await;
    let boosted = |request: reqwest::RequestBuilder| {
        request
            .header("HX-Request", "true")
            .header("HX-Boosted", "true")
    };
    for landing in ["/", "/blog", "/blog/p"] {
        let visitor = new_client();
        // The second view is a cache hit (the first may be the one that fills the cache).
        let mut page = None;
        for _ in 0..2 {
            page = Some(visitor.get(app.url(landing)).send().await.unwrap());
        }
        let page = page.unwrap();
        assert_eq!(page.headers()["x-cache"], "hit", "{landing}");
        assert!(!page.headers().contains_key("set-cookie"), "{landing}");
        assert!(!parse(&page.text().await.unwrap()).exists("[hx-headers]"));

        // The boosted click on "Sign in".
        let login = boosted(visitor.get(app.url("/login")))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        let login = parse(&login.text().await.unwrap());
        assert!(
            !login.exists("body[hx-headers]"),
            "no token on <body>, which a boosted navigation keeps from the landing page"
        );
        let headers = login
            .attr("main[hx-headers]", "hx-headers")
            .expect("the token htmx sends, on <main>");
        let headers: serde_json::Value = serde_json::from_str(&headers).unwrap();
        let token = headers["X-CSRF-Token"].as_str().unwrap().to_owned();

        // An empty header would be taken for the token (so a token-less page has no
        // `hx-headers` at all).
        let empty = boosted(visitor.post(app.url("/login")))
            .header("X-CSRF-Token", "")
            .form(&[("email", "lands@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(empty.status(), StatusCode::FORBIDDEN, "{landing}");

        // The boosted form: the token in the header htmx adds, not in the fields.
        let signed_in = boosted(visitor.post(app.url("/login")))
            .header("X-CSRF-Token", token)
            .form(&[("email", "lands@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{landing}");
        let account = visitor.get(app.url("/account")).send().await.unwrap();
        assert_eq!(account.status(), StatusCode::OK, "{landing}: signed in");
    }
}
