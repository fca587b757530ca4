//! The JSON API: personal tokens (shown once, stored hashed, revoked, refused for blocked
//! accounts), each endpoint, ownership (another user's object is a 404), bad input as JSON
//! of one shape, limits, the OpenAPI document and Swagger UI with its own CSP.

use chrono::{Duration, Utc};
use mailer::accounts::service::{NewAccount, create_user};
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::user::{self, Role};
use mailer::entities::{api_token, mailing};
use mailer_tests::html::parse;
use mailer_tests::users::{PASSWORD, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

/// A program using the API with one token.
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("API request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

async fn new_user(app: &TestApp, email: &str) -> user::Model {
    create_user(
        &app.state.db,
        NewAccount {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            phone: None,
            role: Role::User,
            is_verified: true,
            language: None,
            timezone: "UTC".into(),
        },
    )
    .await
    .expect("create user")
}

/// A verified user and a token of theirs.
pub async fn api_user(app: &TestApp, email: &str) -> (user::Model, Api) {
    let user = new_user(app, email).await;
    let api = api_for(app, &user).await;
    (user, api)
}

/// The API with a new token of `user`.
pub async fn api_for(app: &TestApp, user: &user::Model) -> Api {
    let token = match mailer::accounts::api_tokens::create(&app.state.db, user.id, "tests").await {
        Ok((_, token)) => token,
        Err(_) => panic!("token for {}", user.email),
    };
    Api {
        base: app.address.clone(),
        token,
        http: reqwest::Client::new(),
    }
}

/// The error shape: `error` code, a message, `fields` (an object).
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"], code, "error code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    assert!(body["fields"].is_object(), "fields in {body}");
}

pub fn field_errors(body: &Value, field: &str) -> Vec<String> {
    body["fields"][field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn tokens_are_shown_once_stored_hashed_and_revocable(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let account = parse(&ann.get("/account").await.text().await.unwrap());
    assert_eq!(
        account
            .attr("#api-tokens a[href='/api/docs']", "href")
            .as_deref(),
        Some("/api/docs"),
        "the account page links to the API docs"
    );
    assert!(account.exists("#api-tokens .empty"));

    // An empty name is a field error, not a token.
    let refused = ann.post_form("/account/tokens", &[("name", "  ")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = parse(&refused.text().await.unwrap());
    assert!(refused.exists("#e-name"));
    assert!(!refused.exists("#new-token"));

    let created = ann.post_form("/account/tokens", &[("name", "CI")]).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let page = parse(&created.text().await.unwrap());
    let token = page.text("#new-token").expect("the new token is shown");
    assert!(token.starts_with("mlr_") && token.len() == 47, "{token}");

    // Stored as its SHA-256, never in clear; the prefix lets the owner recognise it.
    let row = api_token::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("a token row");
    assert_eq!(row.user_id, ann.user.id);
    assert_eq!(row.name, "CI");
    assert_eq!(row.token_hash, mailer::accounts::api_tokens::hash(&token));
    assert_eq!(row.token_hash.len(), 64);
    assert!(!row.token_hash.contains(&token[4..]));
    assert!(token.starts_with(&row.prefix) && row.prefix.len() == 12);
    assert!(row.last_used_at.is_none());

    // Shown once: the account page lists it by name and prefix only.
    let account = ann.get("/account").await.text().await.unwrap();
    assert!(!account.contains(&token), "the token is not shown again");
    let account = parse(&account);
    assert!(!account.exists("#new-token"));
    assert_eq!(account.texts("#api-tokens tbody td:first-child"), ["CI"]);
    assert_eq!(
        account.text("#api-tokens tbody td code").as_deref(),
        Some(format!("{}…", row.prefix).as_str())
    );

    // It works, and the use is noted — once a minute at most.
    let api = Api {
        base: app.address.clone(),
        token: token.clone(),
        http: reqwest::Client::new(),
    };
    let (status, body) = api.get("/clients").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let used = api_token::Entity::find_by_id(row.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .last_used_at
        .expect("last_used_at is set");
    assert!(Utc::now() - used < Duration::seconds(30));
    api.get("/clients").await;
    let again = api_token::Entity::find_by_id(row.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .last_used_at;
    assert_eq!(
        again,
        Some(used),
        "a second use within the minute writes nothing"
    );

    // Another user cannot revoke it.
    let eve = sign_in_new(&app, "eve@example.com", Role::User).await;
    let path = format!("/account/tokens/{}/revoke", row.id);
    assert_eq!(
        eve.post_form(&path, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get("/clients").await.0, StatusCode::OK);

    // Revoked: 401 at once.
    let revoked = ann.post_form(&path, &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let (status, body) = api.get("/clients").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    let account = parse(&ann.get("/account").await.text().await.unwrap());
    assert!(account.exists("#api-tokens .empty"));
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_and_revocable_sqlite() {
    tokens_are_shown_once_stored_hashed_and_revocable(Backend::Sqlite).await;
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_and_revocable_postgres() {
    tokens_are_shown_once_stored_hashed_and_revocable(Backend::Postgres).await;
}

async fn blocked_and_unknown_tokens_get_401(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ann, api) = api_user(&app, "ann@example.com").await;
    assert_eq!(api.get("/messages").await.0, StatusCode::OK);

    let mut blocked: user::ActiveModel = ann.clone().into();
    blocked.is_active = Set(false);
    blocked.update(&app.state.db).await.unwrap();
    let (status, body) = api.get("/messages").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("blocked"));

    // Unblocked, the same token works again; unverified accounts are refused too.
    let mut row: user::ActiveModel = ann.clone().into();
    row.is_active = Set(true);
    row.is_verified = Set(false);
    row.update(&app.state.db).await.unwrap();
    assert_eq!(api.get("/messages").await.0, StatusCode::UNAUTHORIZED);
    let mut row: user::ActiveModel = ann.into();
    row.is_verified = Set(true);
    row.update(&app.state.db).await.unwrap();
    assert_eq!(api.get("/messages").await.0, StatusCode::OK);

    // No header, another scheme, a made-up token: 401, JSON, naming the scheme.
    let url = format!("{}/api/v1/messages", app.address);
    let http = reqwest::Client::new();
    for request in [
        http.get(&url),
        http.get(&url).basic_auth("ann@example.com", Some(PASSWORD)),
        http.get(&url).bearer_auth("mlr_not-a-real-token"),
        http.get(&url).bearer_auth(format!("x{}", api.token)),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert_error(&response.json::<Value>().await.unwrap(), "unauthorized");
    }
}

#[tokio::test]
async fn blocked_and_unknown_tokens_get_401_sqlite() {
    blocked_and_unknown_tokens_get_401(Backend::Sqlite).await;
}

#[tokio::test]
async fn blocked_and_unknown_tokens_get_401_postgres() {
    blocked_and_unknown_tokens_get_401(Backend::Postgres).await;
}

async fn clients_endpoints(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, api) = api_user(&app, "ann@example.com").await;

    let (status, empty) = api.get("/clients").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 1})
    );

    let response = api
        .http
        .post(format!("{}/api/v1/clients", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"email": " Mary@Example.COM ", "full_name": "Мария Сидорова"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let mary: Value = response.json().await.unwrap();
    assert_eq!(
        mary["email"], "mary@example.com",
        "normalised as the form does"
    );
    assert_eq!(mary["comment"], "");
    let id = mary["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/clients/{id}"));
    assert_eq!(api.get(&format!("/clients/{id}")).await.1, mary);

    // The service's rules, as 422 with the messages per field.
    let (status, body) = api
        .post(
            "/clients",
            json!({"email": "MARY@example.com", "full_name": " ", "comment": "x".repeat(2001)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "validation");
    assert_eq!(
        field_errors(&body, "email"),
        ["You already have a client with this address."]
    );
    assert_eq!(field_errors(&body, "full_name").len(), 1);
    assert_eq!(field_errors(&body, "comment").len(), 1);
    let (status, body) = api
        .post(
            "/clients",
            json!({"email": "not-an-address", "full_name": "X"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&body, "email"),
        ["Enter a valid e-mail address."]
    );

    for i in 0..4 {
        let (status, _) = api
            .post(
                "/clients",
                json!({"email": format!("c{i}@example.com"), "full_name": format!("Client {i}"), "comment": "bulk"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Pages, search, sort.
    let (_, page) = api.get("/clients?per_page=2&page=2").await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["pages"], 3);
    assert_eq!(page["page"], 2);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Client 2", "Client 3"]);
    let (_, found) = api.get("/clients?q=%D0%BC%D0%B0%D1%80").await;
    assert_eq!(found["total"], 1, "search is case-insensitive: {found}");
    assert_eq!(found["items"][0]["id"], id);
    let (_, sorted) = api.get("/clients?sort=email&dir=desc&per_page=1").await;
    assert_eq!(sorted["items"][0]["email"], "mary@example.com");

    let (status, updated) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "maria@example.com", "full_name": "Maria", "comment": "moved"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["email"], "maria@example.com");
    assert_eq!(updated["comment"], "moved");
    let (status, body) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "c0@example.com", "full_name": "Maria"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&body, "email").len(), 1);

    let (status, body) = api.delete(&format!("/clients/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, body) = api.get(&format!("/clients/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    assert_eq!(
        api.delete(&format!("/clients/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn clients_endpoints_sqlite() {
    clients_endpoints(Backend::Sqlite).await;
}

#[tokio::test]
async fn clients_endpoints_postgres() {
    clients_endpoints(Backend::Postgres).await;
}

/// A message and two clients of the API user; returns (message id, client ids).
async fn message_and_clients(api: &Api) -> (i64, Vec<i64>) {
    let (status, message) = api
        .post(
            "/messages",
            json!({"subject": "Hello", "body": "Dear client,\r\nhello.\r\n"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let mut clients = Vec::new();
    for email in ["a@example.com", "b@example.com"] {
        let (status, c) = api
            .post("/clients", json!({"email": email, "full_name": email}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        clients.push(c["id"].as_i64().unwrap());
    }
    (message["id"].as_i64().unwrap(), clients)
}

fn at(offset: Duration) -> String {
    (Utc::now() + offset)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

async fn messages_endpoints(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, api) = api_user(&app, "ann@example.com").await;
    let (id, clients) = message_and_clients(&api).await;

    let (status, message) = api.get(&format!("/messages/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message["subject"], "Hello");
    assert_eq!(
        message["body"], "Dear client,\nhello.",
        "normalised as the form does"
    );
    assert_eq!(message["mailings"], 0);

    let (status, body) = api
        .post("/messages", json!({"subject": "two\nlines", "body": ""}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&body, "subject"),
        ["Keep the subject on one line."]
    );
    assert_eq!(field_errors(&body, "body").len(), 1);

    let (status, updated) = api
        .put(
            &format!("/messages/{id}"),
            json!({"subject": "Hello again", "body": "New body"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["subject"], "Hello again");
    let (_, list) = api.get("/messages?q=again").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id);

    // In use by a mailing: 409 with the reason, and it stays.
    let (status, mailing) = api
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": id, "client_ids": clients, "start_at": at(Duration::days(1)),
                   "end_at": at(Duration::days(2)), "periodicity": "once"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mailing}");
    let (_, list) = api.get("/messages").await;
    assert_eq!(list["items"][0]["mailings"], 1);
    let (status, body) = api.delete(&format!("/messages/{id}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    assert!(body["message"].as_str().unwrap().contains("“Test mailing”"));
    assert_eq!(api.get(&format!("/messages/{id}")).await.0, StatusCode::OK);

    api.delete(&format!("/mailings/{}", mailing["id"])).await;
    assert_eq!(
        api.delete(&format!("/messages/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("/messages/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn messages_endpoints_sqlite() {
    messages_endpoints(Backend::Sqlite).await;
}

#[tokio::test]
async fn messages_endpoints_postgres() {
    messages_endpoints(Backend::Postgres).await;
}

async fn add_attempt(app: &TestApp, owner: i32, mailing_id: i32, recipient: &str, ok: bool) {
    let now = Utc::now();
    attempt::ActiveModel {
        owner_id: Set(owner),
        mailing_id: Set(mailing_id),
        recipient: Set(recipient.to_owned()),
        occurrence_at: Set(now),
        attempted_at: Set(now),
        status: Set(if ok {
            AttemptStatus::Success
        } else {
            AttemptStatus::Failure
        }),
        smtp_code: Set(Some(if ok { 250 } else { 550 })),
        response: Set(Some(
            if ok { "250 OK" } else { "550 No such user" }.to_owned(),
        )),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

async fn mailings_endpoints(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ann, api) = api_user(&app, "ann@example.com").await;
    let (message, clients) = message_and_clients(&api).await;

    // The service's rules: own message and clients, at least one client, end after start.
    let (_, eve_api) = api_user(&app, "eve@example.com").await;
    let (eve_message, eve_clients) = message_and_clients(&eve_api).await;
    let (status, body) = api
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": eve_message, "client_ids": eve_clients,
                   "start_at": at(Duration::days(2)), "end_at": at(Duration::days(1)),
                   "periodicity": "weekly"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "validation");
    assert_eq!(
        field_errors(&body, "message_id"),
        ["Choose one of your messages."]
    );
    assert_eq!(
        field_errors(&body, "client_ids"),
        ["Some of the chosen clients are not in your address book."]
    );
    assert_eq!(
        field_errors(&body, "end_at"),
        ["The end must be after the start."]
    );
    let (status, body) = api
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": message, "client_ids": [], "start_at": at(Duration::days(1)),
                   "end_at": at(Duration::days(9)), "periodicity": "hourly"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not a periodicity: {body}");
    assert_error(&body, "bad_request");

    let (status, future) = api
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": message, "client_ids": clients,
                   "start_at": at(Duration::days(1)), "end_at": at(Duration::days(30)),
                   "periodicity": "weekly"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{future}");
    assert_eq!(future["status"], "created");
    assert_eq!(future["periodicity"], "weekly");
    assert_eq!(future["subject"], "Hello");
    assert_eq!(future["is_enabled"], true);
    let mut ids: Vec<i64> = future["client_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, clients);
    let future_id = future["id"].as_i64().unwrap();

    let (status, running) = api
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": message, "client_ids": [clients[0]],
                   "start_at": at(-Duration::hours(1)), "end_at": at(Duration::days(1)),
                   "periodicity": "daily"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(running["status"], "running");
    let running_id = running["id"].as_i64().unwrap();

    // List with the status filter.
    let (_, all) = api.get("/mailings").await;
    assert_eq!(all["total"], 2);
    let (_, list) = api.get("/mailings?status=running").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], running_id);
    assert_eq!(list["items"][0]["client_ids"], json!([clients[0]]));
    let (status, body) = api.get("/mailings?status=paused").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request");

    // Update: the schedule, and disabling.
    let (status, updated) = api
        .put(
            &format!("/mailings/{future_id}"),
            json!({"name": "Test mailing", "message_id": message, "client_ids": [clients[1]],
                   "start_at": at(Duration::days(3)), "end_at": at(Duration::days(40)),
                   "periodicity": "monthly", "is_enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["periodicity"], "monthly");
    assert_eq!(updated["is_enabled"], false);
    assert_eq!(updated["client_ids"], json!([clients[1]]));
    let (_, disabled) = api.get("/mailings?status=disabled").await;
    assert_eq!(disabled["items"][0]["id"], future_id);

    // Send now: refused while disabled, queued when enabled.
    let (status, body) = api
        .post(&format!("/mailings/{future_id}/send"), json!(null))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    let (status, queued) = api
        .post(&format!("/mailings/{running_id}/send"), json!(null))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["mailing_id"], running_id);
    assert!(queued["occurrence_at"].is_string());

    // While a send is still going, another asks nothing more (409); once recipients got it,
    // only an explicit `again=true` sends it to them a second time.
    use mailer::entities::delivery::{self, DeliveryStatus};
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let row = delivery::ActiveModel {
        mailing_id: Set(i32::try_from(running_id).unwrap()),
        client_id: Set(i32::try_from(clients[0]).unwrap()),
        occurrence_at: Set(now),
        status: Set(DeliveryStatus::Pending),
        tries: Set(0),
        claimed_until: Set(None),
        next_try_at: Set(None),
        message_id_header: Set("<api-test@example.com>".into()),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let (status, body) = api
        .post(&format!("/mailings/{running_id}/send"), json!(null))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still being sent")
    );
    let mut sent: delivery::ActiveModel = row.into();
    sent.status = Set(DeliveryStatus::Sent);
    sent.sent_at = Set(Some(now));
    sent.update(&app.state.db).await.unwrap();
    let (status, body) = api
        .post(&format!("/mailings/{running_id}/send"), json!(null))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("1 recipient(s) already got"),
        "{body}"
    );
    let (status, body) = api
        .post(
            &format!("/mailings/{running_id}/send?again=true"),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // Attempts (newest first, paged) and the report.
    let running_i32 = i32::try_from(running_id).unwrap();
    add_attempt(&app, ann.id, running_i32, "a@example.com", false).await;
    add_attempt(&app, ann.id, running_i32, "a@example.com", true).await;
    add_attempt(&app, ann.id, running_i32, "b@example.com", true).await;
    let (status, attempts) = api
        .get(&format!("/mailings/{running_id}/attempts?per_page=2"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(attempts["total"], 3);
    assert_eq!(attempts["pages"], 2);
    assert_eq!(attempts["items"][0]["recipient"], "b@example.com");
    assert_eq!(attempts["items"][0]["success"], true);
    assert_eq!(attempts["items"][0]["smtp_code"], 250);
    let (_, last) = api
        .get(&format!(
            "/mailings/{running_id}/attempts?per_page=2&page=2"
        ))
        .await;
    assert_eq!(last["items"][0]["response"], "550 No such user");
    let (status, report) = api.get(&format!("/mailings/{running_id}/report")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["summary"]["attempts"], 3);
    assert_eq!(report["summary"]["successes"], 2);
    assert_eq!(report["summary"]["failures"], 1);
    assert_eq!(report["recipients"]["total"], 2);
    assert_eq!(
        report["recipients"]["items"][0]["recipient"],
        "a@example.com"
    );
    assert_eq!(report["recipients"]["items"][0]["failures"], 1);
    assert_eq!(report["days"][0]["successes"], 2);
    assert!(report["progress"]["total"].is_u64());

    // Delete takes its attempts with it.
    assert_eq!(
        api.delete(&format!("/mailings/{running_id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("/mailings/{running_id}/report")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(
        mailing::Entity::find_by_id(running_i32)
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn mailings_endpoints_sqlite() {
    mailings_endpoints(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailings_endpoints_postgres() {
    mailings_endpoints(Backend::Postgres).await;
}

async fn another_users_token_sees_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, ann) = api_user(&app, "ann@example.com").await;
    let (_, eve) = api_user(&app, "eve@example.com").await;
    let (message, clients) = message_and_clients(&ann).await;
    let (_, mailing) = ann
        .post(
            "/mailings",
            json!({"name": "Test mailing", "message_id": message, "client_ids": clients,
                   "start_at": at(Duration::days(1)), "end_at": at(Duration::days(9)),
                   "periodicity": "daily"}),
        )
        .await;
    let mailing = mailing["id"].as_i64().unwrap();
    let client = clients[0];

    let client_body = json!({"email": "stolen@example.com", "full_name": "Stolen"});
    let message_body = json!({"subject": "Stolen", "body": "Stolen"});
    let (eve_message, eve_clients) = message_and_clients(&eve).await;
    let mailing_body = json!({"name": "Test mailing", "message_id": eve_message, "client_ids": eve_clients,
        "start_at": at(Duration::days(1)), "end_at": at(Duration::days(9)), "periodicity": "daily"});
    let calls = [
        (Method::GET, format!("/clients/{client}"), None),
        (Method::PUT, format!("/clients/{client}"), Some(client_body)),
        (Method::DELETE, format!("/clients/{client}"), None),
        (Method::GET, format!("/messages/{message}"), None),
        (
            Method::PUT,
            format!("/messages/{message}"),
            Some(message_body),
        ),
        (Method::DELETE, format!("/messages/{message}"), None),
        (Method::GET, format!("/mailings/{mailing}"), None),
        (
            Method::PUT,
            format!("/mailings/{mailing}"),
            Some(mailing_body),
        ),
        (Method::POST, format!("/mailings/{mailing}/send"), None),
        (Method::GET, format!("/mailings/{mailing}/attempts"), None),
        (Method::GET, format!("/mailings/{mailing}/report"), None),
        (Method::DELETE, format!("/mailings/{mailing}"), None),
    ];
    for (method, path, body) in calls {
        let (status, answer) = eve.call(method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_error(&answer, "not_found");
    }
    // Nothing changed, and the other user's lists hold only their own.
    let (_, mine) = ann.get(&format!("/mailings/{mailing}")).await;
    assert_eq!(mine["message_id"], message);
    let (_, c) = ann.get(&format!("/clients/{client}")).await;
    assert_eq!(c["email"], "a@example.com");
    let (_, eve_mailings) = eve.get("/mailings").await;
    assert_eq!(eve_mailings["total"], 0);
    let (_, eve_messages) = eve.get("/messages").await;
    assert_eq!(eve_messages["items"][0]["id"], eve_message);
    assert_eq!(eve_messages["total"], 1);
    let (_, eve_clients_page) = eve.get("/clients?q=a%40example").await;
    assert_eq!(eve_clients_page["items"][0]["id"], eve_clients[0]);
    assert_eq!(eve_clients_page["total"], 1);
}

#[tokio::test]
async fn another_users_token_sees_404_sqlite() {
    another_users_token_sees_404(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_users_token_sees_404_postgres() {
    another_users_token_sees_404(Backend::Postgres).await;
}

/// Sends `req` with the token; the answer must be JSON.
async fn send(
    req: reqwest::RequestBuilder,
    token: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = req.bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{status} is JSON"
    );
    (status, headers, response.json::<Value>().await.unwrap())
}

/// Sends raw bytes and reads the whole answer (the server may answer before reading all).
async fn raw_http(address: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn bad_input_is_json_and_limits_hold() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (_, api) = api_user(&app, "ann@example.com").await;
    let url = |path: &str| format!("{}/api/v1{path}", app.address);
    let token = api.token.clone();
    let http = reqwest::Client::new();

    // Malformed JSON, a wrong type, a missing field: 400 in the error shape.
    for body in [
        "{\"email\": ",
        "{\"email\": 5, \"full_name\": \"X\"}",
        "{\"full_name\": \"X\"}",
        "[]",
    ] {
        let (status, _, answer) = send(
            http.post(url("/clients"))
                .header("content-type", "application/json")
                .body(body),
            &token,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&answer, "bad_request");
    }
    // Not JSON at all.
    let (status, _, answer) = send(
        http.post(url("/clients")).form(&[("email", "a@b.c")]),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&answer, "unsupported_media_type");
    // Paths and parameters of the wrong type or out of range.
    for path in [
        "/clients/abc",
        "/clients/99999999999",
        "/clients?per_page=101",
        "/clients?per_page=0",
        "/clients?page=0",
        "/clients?sort=password",
        "/mailings?dir=sideways",
    ] {
        let (status, _, answer) = send(http.get(url(path)), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_error(&answer, "bad_request");
    }
    let (status, _, page) = send(http.get(url("/clients?per_page=100")), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["per_page"], 100);

    // A body over 1 MiB: 413, declared or streamed.
    let big = json!({"subject": "Big", "body": "x".repeat(1024 * 1024)}).to_string();
    let (status, _, answer) = send(
        http.post(url("/messages"))
            .header("content-type", "application/json")
            .body(big.clone()),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&answer, "payload_too_large");
    // Streamed without a length (chunked): cut off at the limit all the same.
    let head = format!(
        "POST /api/v1/messages HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address.trim_start_matches("http://"),
        api.token
    );
    let mut request = head.into_bytes();
    for chunk in big.as_bytes().chunks(64 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let reply = raw_http(app.address.trim_start_matches("http://"), &request).await;
    assert!(
        reply.starts_with("HTTP/1.1 413"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    assert!(reply.contains("\"error\":\"payload_too_large\""));
    // A message body just under the service's limit is a 422 or a 201, never a 5xx.
    let (status, _, answer) = send(
        http.post(url("/messages"))
            .json(&json!({"subject": "Long", "body": "y".repeat(100_001)})),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&answer, "body").len(), 1);

    // Unknown paths and methods.
    let (status, _, answer) = send(http.get(url("/nothing")), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&answer, "not_found");
    let (status, headers, answer) = send(http.patch(url("/clients/1")), &token).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&answer, "method_not_allowed");
    let mut allow: Vec<&str> = headers["allow"].to_str().unwrap().split(", ").collect();
    allow.sort();
    assert_eq!(allow, ["DELETE", "GET", "PUT"]);

    // No CSRF token or cookie is involved, and none is set.
    let response = http
        .post(url("/clients"))
        .bearer_auth(&api.token)
        .json(&json!({"email": "x@example.com", "full_name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn openapi_document_and_swagger_ui() {
    use base64::Engine;
    use sha2::Digest;
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let spec: Value = response.json().await.unwrap();
    assert_eq!(spec["servers"][0]["url"], "/api/v1");
    assert_eq!(
        spec["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let paths = spec["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/clients", &["get", "post"][..]),
        ("/clients/{id}", &["get", "put", "delete"]),
        ("/messages", &["get", "post"]),
        ("/messages/{id}", &["get", "put", "delete"]),
        ("/mailings", &["get", "post"]),
        ("/mailings/{id}", &["get", "put", "delete"]),
        ("/mailings/{id}/send", &["post"]),
        ("/mailings/{id}/attempts", &["get"]),
        ("/mailings/{id}/report", &["get"]),
    ] {
        for method in methods {
            let op = &paths[path][method];
            assert!(op.is_object(), "{method} {path}");
            for status in ["401", "404", "422"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} documents {status}"
                );
            }
            assert_eq!(op["security"][0]["token"], json!([]));
        }
    }
    assert!(spec["components"]["schemas"]["ErrorBody"]["properties"]["fields"].is_object());

    let docs = app.get("/api/docs").await;
    assert_eq!(docs.status(), StatusCode::OK);
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = docs.text().await.unwrap();
    assert!(html.contains("SwaggerUIBundle"));
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    // Every inline block of the page is allowed by its hash, and only those.
    let doc = scraper::Html::parse_document(&html);
    let blocks = scraper::Selector::parse("script, style").unwrap();
    let mut checked = 0;
    for block in doc.select(&blocks) {
        // The text as a browser parsed it (what CSP hashes), not re-serialised.
        let text: String = block.text().collect();
        let hash =
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "inline <{}> allowed by hash",
            block.value().name()
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "two scripts and a style");
    // The rest of the site keeps the strict policy.
    let home = app.get("/").await;
    let strict = home.headers()["content-security-policy"].to_str().unwrap();
    assert!(!strict.contains("sha256"));
    assert!(strict.contains("script-src 'self';"));
}

#[tokio::test]
async fn token_command_prints_a_working_token() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    new_user(&app, "cli@example.com").await;
    let output = tokio::process::Command::new(mailer_tests::app::bin_path("mailer"))
        .args([
            "token",
            "create",
            "--email",
            "CLI@example.com",
            "--name",
            "deploy",
        ])
        .env_clear()
        .envs(app.env())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        token.starts_with("mlr_"),
        "only the token on stdout: {token}"
    );
    let api = Api {
        base: app.address.clone(),
        token,
        http: reqwest::Client::new(),
    };
    assert_eq!(api.get("/clients").await.0, StatusCode::OK);

    let unknown = tokio::process::Command::new(mailer_tests::app::bin_path("mailer"))
        .args(["token", "create", "--email", "nobody@example.com"])
        .env_clear()
        .envs(app.env())
        .output()
        .await
        .unwrap();
    assert!(!unknown.status.success());
}

/// PostgreSQL refuses NUL in text: a NUL in a field is a field error, in a search it is
/// dropped — never a 500.
async fn nul_characters_are_never_a_500(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, api) = api_user(&app, "ann@example.com").await;
    for (path, body, field) in [
        (
            "/clients",
            json!({"email": "a@example.com", "full_name": "A\u{0}B"}),
            "full_name",
        ),
        (
            "/messages",
            json!({"subject": "S", "body": "x\u{0}y"}),
            "body",
        ),
    ] {
        let (status, answer) = api.post(path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(
            field_errors(&answer, field),
            ["This text contains a NUL character."]
        );
    }
    api.post(
        "/clients",
        json!({"email": "ab@example.com", "full_name": "AB"}),
    )
    .await;
    let (status, found) = api.get("/clients?q=a%00b").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["total"], 1);
    let (status, _) = api.get("/messages?q=%00").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn nul_characters_are_never_a_500_sqlite() {
    nul_characters_are_never_a_500(Backend::Sqlite).await;
}

#[tokio::test]
async fn nul_characters_are_never_a_500_postgres() {
    nul_characters_are_never_a_500(Backend::Postgres).await;
}

/// More client ids than the database takes bound parameters in one query (32,766 on
/// SQLite, 65,535 on PostgreSQL): all of a big address book is accepted, ids that are not
/// yours are a 422, never a 500.
async fn huge_client_lists_are_checked(backend: Backend) {
    use mailer::entities::client;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ann, api) = api_user(&app, "ann@example.com").await;
    let (message, _) = message_and_clients(&api).await;
    let now = Utc::now();
    for chunk in (0..70_000).collect::<Vec<i32>>().chunks(5_000) {
        let rows = chunk.iter().map(|i| client::ActiveModel {
            owner_id: Set(ann.id),
            email: Set(format!("bulk{i}@example.com")),
            full_name: Set(format!("Bulk {i}")),
            comment: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        client::Entity::insert_many(rows)
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    let mut ids: Vec<i64> = client::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| i64::from(c.id))
        .collect();
    assert_eq!(ids.len(), 70_002);
    let mailing = |ids: &[i64]| {
        json!({"name": "Test mailing", "message_id": message, "client_ids": ids,
               "start_at": at(Duration::days(1)), "end_at": at(Duration::days(2)),
               "periodicity": "once"})
    };
    let (status, body) = api.post("/mailings", mailing(&ids)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["client_ids"].as_array().unwrap().len(), 70_002);

    ids.push(10_000_000);
    let (status, body) = api.post("/mailings", mailing(&ids)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body, "client_ids"),
        ["Some of the chosen clients are not in your address book."]
    );
}

#[tokio::test]
async fn huge_client_lists_are_checked_sqlite() {
    huge_client_lists_are_checked(Backend::Sqlite).await;
}

#[tokio::test]
async fn huge_client_lists_are_checked_postgres() {
    huge_client_lists_are_checked(Backend::Postgres).await;
}
