//! CSRF is enforced by one mechanism: every route that accepts a state-changing request
//! (the router's own list, so a new route is covered the day it is added) answers 403 to a
//! request without a valid token — anonymous or signed in, form or multipart — and the
//! handler never runs.

use mailer::accounts::service::{NewAccount, create_user};
use mailer::entities::user::{self, Role};
use mailer_tests::html::parse;
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
    let routes = mailer::web::mutating_routes();
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
    create_user(
        &app.state.db,
        NewAccount {
            email: "csrf@example.com".into(),
            password: "a long passphrase".into(),
            phone: None,
            role: Role::User,
            is_verified: true,
        },
    )
    .await
    .unwrap();
    let token = token_from(&app, "/login").await;
    let login = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "csrf@example.com"),
            ("password", "a long passphrase"),
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
