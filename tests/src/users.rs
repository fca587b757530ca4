//! Signed-in visitors for tests: a verified account made directly in the database, and a
//! browser-like client (own cookie jar) signed in through the real login form.

use mailer::accounts::service::{NewAccount, create_user};
use mailer::entities::user::{self, Role};
use reqwest::StatusCode;

use crate::TestApp;
use crate::html::parse;

pub const PASSWORD: &str = "correct horse battery";

/// A browser session of one user.
pub struct Visitor {
    pub user: user::Model,
    pub client: reqwest::Client,
    pub base: String,
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

impl Visitor {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GET with the headers htmx sends for a request aimed at `target`.
    pub async fn htmx_get(&self, path: &str, target: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("HX-Request", "true")
            .header("HX-Target", target)
            .send()
            .await
            .expect("GET")
    }

    /// The CSRF token of a page this visitor can see.
    pub async fn csrf(&self, path: &str) -> String {
        let body = self.get(path).await.text().await.expect("body");
        parse(&body)
            .attr("input[name='csrf_token']", "value")
            .unwrap_or_else(|| panic!("no CSRF field on {path}"))
    }

    /// POSTs a urlencoded form with a valid CSRF token (taken from `/account`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf("/account/password").await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs a multipart form, with the token in the query string as the site's forms do.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        let token = self.csrf("/account/password").await;
        self.client
            .post(self.url(path))
            .query(&[("csrf_token", token)])
            .multipart(form)
            .send()
            .await
            .expect("POST")
    }
}

/// A verified user with `role` and `PASSWORD`, made directly in the database.
pub async fn verified_user(app: &TestApp, email: &str, role: Role) -> user::Model {
    create_user(
        &app.state.db,
        NewAccount {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            phone: None,
            role,
            is_verified: true,
            language: None,
            timezone: "UTC".into(),
        },
    )
    .await
    .expect("create user")
}

/// A verified user with `role`, signed in through `/login`.
pub async fn sign_in_new(app: &TestApp, email: &str, role: Role) -> Visitor {
    let user = verified_user(app, email, role).await;
    let client = new_client();
    sign_in_at(&client, &app.address, email).await;
    Visitor {
        user,
        client,
        base: app.address.clone(),
    }
}

/// Signs `email` (with `PASSWORD`) in through the login form of the server at `base`; the
/// session goes into `client`'s cookie jar.
pub async fn sign_in_at(client: &reqwest::Client, base: &str, email: &str) {
    let body = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login form")
        .text()
        .await
        .expect("body");
    let token = parse(&body)
        .attr("input[name='csrf_token']", "value")
        .expect("no CSRF field on /login");
    let response = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
}
