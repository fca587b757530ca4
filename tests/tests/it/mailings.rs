//! Mailings in the user area: form with pickers and validation, list filtered by status,
//! detail, enable/disable, delete with confirmation.

use chrono::{Duration, Utc};
use mailer::entities::user::Role;
use mailer::entities::{client, mailing, mailing_client, message};
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// A client written straight into the database, named after its e-mail.
pub async fn insert_client(app: &TestApp, owner: i32, email: &str) -> i32 {
    insert_named_client(app, owner, email, email).await
}

/// A client written straight into the database, past every check of the site.
pub async fn insert_named_client(app: &TestApp, owner: i32, email: &str, full_name: &str) -> i32 {
    client::ActiveModel {
        owner_id: Set(owner),
        email: Set(email.into()),
        full_name: Set(full_name.into()),
        comment: Set(String::new()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

pub async fn make_message(app: &TestApp, owner: i32, subject: &str) -> message::Model {
    insert_message(app, owner, subject, "Hello!").await
}

/// A message written straight into the database, past every check of the site (as one
/// saved before its templates were checked).
pub async fn insert_message(
    app: &TestApp,
    owner: i32,
    subject: &str,
    body: &str,
) -> message::Model {
    message::ActiveModel {
        owner_id: Set(owner),
        subject: Set(subject.into()),
        body: Set(body.into()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

pub async fn client_id(app: &TestApp, owner: i32, email: &str) -> i32 {
    mailer::entities::client::Entity::find()
        .filter(mailer::entities::client::Column::Email.eq(email))
        .filter(mailer::entities::client::Column::OwnerId.eq(owner))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("client exists")
        .id
}

fn at(offset: Duration) -> String {
    (Utc::now() + offset).format("%Y-%m-%dT%H:%M").to_string()
}

pub async fn create_mailing(
    v: &Visitor,
    message: i32,
    clients: &[i32],
    start: Duration,
    end: Duration,
    periodicity: &str,
) -> reqwest::Response {
    create_named_mailing(v, "Test mailing", message, clients, start, end, periodicity).await
}

/// `create_mailing` with its name.
pub async fn create_named_mailing(
    v: &Visitor,
    name: &str,
    message: i32,
    clients: &[i32],
    start: Duration,
    end: Duration,
    periodicity: &str,
) -> reqwest::Response {
    let message = message.to_string();
    let (start, end) = (at(start), at(end));
    let ids: Vec<String> = clients.iter().map(|c| c.to_string()).collect();
    let mut fields = vec![
        ("message_id", message.as_str()),
        ("start_at", start.as_str()),
        ("end_at", end.as_str()),
        ("name", name),
        ("periodicity", periodicity),
    ];
    for id in &ids {
        fields.push(("client_ids", id));
    }
    v.post_form("/mailings/new", &fields).await
}

/// A client (added through the form), a message and a weekly mailing of `v` that starts
/// tomorrow: what the ownership and admin suites need to exist.
pub async fn client_message_mailing(
    app: &TestApp,
    v: &Visitor,
    email: &str,
    subject: &str,
) -> (i32, message::Model, mailing::Model) {
    v.post_form(
        "/clients/new",
        &[
            ("email", email),
            ("full_name", "Some Client"),
            ("comment", ""),
        ],
    )
    .await;
    let client = client_id(app, v.user.id, email).await;
    let message = make_message(app, v.user.id, subject).await;
    let created = create_named_mailing(
        v,
        &format!("{subject} mailing"),
        message.id,
        &[client],
        Duration::days(1),
        Duration::days(9),
        "weekly",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let mailing = mailing::Entity::find()
        .filter(mailing::Column::MessageId.eq(message.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    (client, message, mailing)
}

#[tokio::test]
async fn mailing_form_validates_and_creates() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let other = sign_in_new(&app, "eve@example.com", Role::User).await;

    // Nothing to choose yet: the form says what is missing.
    let empty = parse(&v.get("/mailings/new").await.text().await.unwrap());
    assert!(empty.exists(".flash.error a[href='/messages/new']"));

    let msg = make_message(&app, v.user.id, "Spring news").await;
    let foreign_msg = make_message(&app, other.user.id, "Eve's").await;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        v.post_form(
            "/clients/new",
            &[("email", email), ("full_name", email), ("comment", "")],
        )
        .await;
    }
    other
        .post_form(
            "/clients/new",
            &[
                ("email", "x@example.com"),
                ("full_name", "X"),
                ("comment", ""),
            ],
        )
        .await;
    let a = client_id(&app, v.user.id, "a@example.com").await;
    let b = client_id(&app, v.user.id, "b@example.com").await;
    let foreign_client = client_id(&app, other.user.id, "x@example.com").await;

    let form = parse(&v.get("/mailings/new").await.text().await.unwrap());
    assert_eq!(
        form.count("fieldset[data-picker] input[name='client_ids']"),
        3,
        "only own clients"
    );
    assert_eq!(
        form.count("#f-message_id option[value]") - 1,
        1,
        "only own messages"
    );
    assert!(
        form.exists("[data-picker-filter]")
            && form.exists("[data-picker-all]")
            && form.exists("[data-picker-none]")
    );
    assert_eq!(form.text("[data-picker-count]").as_deref(), Some("0"));

    // End before start, no clients, someone else's message.
    let bad = create_mailing(
        &v,
        foreign_msg.id,
        &[],
        Duration::hours(2),
        Duration::hours(1),
        "weekly",
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert!(doc.exists("#e-message_id") && doc.exists("#e-client_ids") && doc.exists("#e-end_at"));
    assert_eq!(
        doc.attr("#f-periodicity option[selected]", "value")
            .as_deref(),
        Some("weekly"),
        "input kept"
    );

    // Someone else's client.
    let bad = create_mailing(
        &v,
        msg.id,
        &[a, foreign_client],
        Duration::zero(),
        Duration::days(1),
        "once",
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert!(doc.exists("#e-client_ids"));
    assert_eq!(
        doc.count("input[name='client_ids'][checked]"),
        1,
        "own selection kept"
    );
    assert_eq!(
        mailing::Entity::find().count(&app.state.db).await.unwrap(),
        0
    );

    let ok = create_mailing(
        &v,
        msg.id,
        &[a, b],
        Duration::days(1),
        Duration::days(30),
        "monthly",
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let location = ok.headers()["location"].to_str().unwrap().to_owned();
    let created = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(location, format!("/mailings/{}", created.id));
    assert_eq!(created.periodicity, mailing::Periodicity::Monthly);
    assert_eq!(created.next_run_at, Some(created.start_at));
    let links = mailing_client::Entity::find()
        .filter(mailing_client::Column::MailingId.eq(created.id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(links, 2);

    let detail = parse(&v.get(&location).await.text().await.unwrap());
    assert_eq!(
        detail.text("h1 .badge").as_deref(),
        Some("created"),
        "starts tomorrow"
    );
    assert_eq!(detail.count(".client-chips .chip"), 2);

    // Edit: the form comes back filled in, and saving replaces the clients.
    let edit = parse(
        &v.get(&format!("{location}/edit"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(edit.count("input[name='client_ids'][checked]"), 2);
    let save = v
        .post_form(
            &format!("{location}/edit"),
            &[
                ("message_id", &msg.id.to_string()),
                ("start_at", &at(-Duration::hours(1))),
                ("end_at", &at(Duration::days(3))),
                ("name", "Test mailing"),
                ("periodicity", "daily"),
                ("client_ids", &a.to_string()),
            ],
        )
        .await;
    assert_eq!(save.status(), StatusCode::SEE_OTHER);
    let detail = parse(&v.get(&location).await.text().await.unwrap());
    assert_eq!(detail.text("h1 .badge").as_deref(), Some("running"));
    assert_eq!(detail.count(".client-chips .chip"), 1);
}

#[tokio::test]
async fn mailing_list_filters_by_status_and_toggles_and_deletes() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let msg = make_message(&app, v.user.id, "News").await;
    v.post_form(
        "/clients/new",
        &[
            ("email", "a@example.com"),
            ("full_name", "A"),
            ("comment", ""),
        ],
    )
    .await;
    let a = client_id(&app, v.user.id, "a@example.com").await;
    let empty = parse(&v.get("/mailings").await.text().await.unwrap());
    assert!(empty.exists(".empty a[href='/mailings/new']"));

    create_mailing(
        &v,
        msg.id,
        &[a],
        Duration::days(1),
        Duration::days(2),
        "once",
    )
    .await; // created
    create_mailing(
        &v,
        msg.id,
        &[a],
        -Duration::hours(1),
        Duration::days(2),
        "daily",
    )
    .await; // running
    create_mailing(
        &v,
        msg.id,
        &[a],
        -Duration::days(3),
        -Duration::days(1),
        "weekly",
    )
    .await;

    for (status, expected) in [
        ("", 3),
        ("created", 1),
        ("running", 1),
        ("finished", 1),
        ("disabled", 0),
    ] {
        let rows = v
            .htmx_get(&format!("/mailings?status={status}"), "mailing-rows")
            .await;
        let doc = parse_fragment(&rows.text().await.unwrap());
        assert_eq!(doc.count("tbody tr"), expected, "status={status}");
        if expected == 1 {
            assert_eq!(doc.text("tbody tr .badge").as_deref(), Some(status));
        }
    }

    let running = mailing::Entity::find()
        .filter(mailing::Column::Periodicity.eq(mailing::Periodicity::Daily))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let toggled = v
        .post_form(&format!("/mailings/{}/toggle", running.id), &[])
        .await;
    assert_eq!(toggled.status(), StatusCode::SEE_OTHER);
    let disabled = parse_fragment(
        &v.htmx_get("/mailings?status=disabled", "mailing-rows")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(disabled.count("tbody tr"), 1);
    let detail = parse(
        &v.get(&format!("/mailings/{}", running.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        detail.text("form[action$='/toggle'] button").as_deref(),
        Some("Enable")
    );

    let confirm = parse(
        &v.get(&format!("/mailings/{}/delete", running.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(confirm.exists("button.danger"));
    assert_eq!(
        mailing::Entity::find().count(&app.state.db).await.unwrap(),
        3
    );
    let deleted = v
        .post_form(&format!("/mailings/{}/delete", running.id), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        mailing::Entity::find().count(&app.state.db).await.unwrap(),
        2
    );
}

/// `n` clients of `v`, named after `tag`.
pub async fn make_clients(app: &TestApp, v: &Visitor, tag: &str, n: usize) -> Vec<i32> {
    let mut ids = Vec::new();
    for i in 0..n {
        let email = format!("{tag}{i}@example.com");
        v.post_form(
            "/clients/new",
            &[
                ("email", email.as_str()),
                ("full_name", &format!("Client {i}")),
                ("comment", ""),
            ],
        )
        .await;
        ids.push(client_id(app, v.user.id, &email).await);
    }
    ids
}

/// The mailing page opened right after creation, before the worker has made the deliveries:
/// the progress box polls anyway ("starting…"), and the poll that sees everything settled
/// brings the report below up to date (the full page does not need that loader).
#[tokio::test]
async fn progress_polls_until_the_worker_fans_out_and_then_refreshes_the_report() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "early@example.com", Role::User).await;
    let msg = make_message(&app, v.user.id, "Right now").await;
    let clients = make_clients(&app, &v, "early", 2).await;
    let created = create_mailing(
        &v,
        msg.id,
        &clients,
        Duration::minutes(-1),
        Duration::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let id = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;

    // No worker runs in this test: nothing is fanned out yet.
    let page = parse(
        &v.get(&format!("/mailings/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(page.text("#progress-sent").as_deref(), Some("0"));
    assert_eq!(
        page.attr("#progress", "hx-get").as_deref(),
        Some(format!("/mailings/{id}/progress").as_str()),
        "a due mailing polls before its deliveries exist"
    );
    assert!(
        page.text("#progress p")
            .unwrap_or_default()
            .contains("starting…")
    );
    assert!(!page.exists("#progress [hx-select='#report']"));

    // `mailer send` does what the worker would; the next poll sees it done.
    let out = tokio::process::Command::new(mailer_tests::app::bin_path("mailer"))
        .args(["send", "--mailing", &id.to_string()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(app.env())
        .current_dir(app.dir.path())
        .output()
        .await
        .expect("run mailer send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let poll = v
        .htmx_get(&format!("/mailings/{id}/progress"), "progress")
        .await
        .text()
        .await
        .unwrap();
    let poll = parse_fragment(&poll);
    assert_eq!(poll.text("#progress-sent").as_deref(), Some("2"));
    assert!(
        !poll.exists("#progress[hx-trigger]"),
        "polling stops when done"
    );
    assert_eq!(
        poll.attr("#progress [hx-select='#report']", "hx-get")
            .as_deref(),
        Some(format!("/mailings/{id}").as_str()),
        "the last poll reloads the report"
    );
    let page = parse(
        &v.get(&format!("/mailings/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(!page.exists("#progress[hx-trigger]"));
    assert!(!page.exists("#progress [hx-select='#report']"));
    assert_eq!(page.text("#report #report-successes").as_deref(), Some("2"));
}

/// Mailings have names (issue 26): required and at most 200 characters on the form, the API
/// and the admin; shown instead of "#7" on the list, the page, the dashboard, the reports;
/// searchable on /mailings and in the API's list.
async fn mailing_names(backend: Backend) {
    use crate::api::{api_for, field_errors};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let client = insert_client(&app, v.user.id, "bob@example.com").await;
    let msg = make_message(&app, v.user.id, "Spring catalogue").await;
    let (start, end) = (at(Duration::days(1)), at(Duration::days(9)));
    let form = |name: String| {
        vec![
            ("name".to_owned(), name),
            ("message_id".to_owned(), msg.id.to_string()),
            ("client_ids".to_owned(), client.to_string()),
            ("start_at".to_owned(), start.clone()),
            ("end_at".to_owned(), end.clone()),
            ("periodicity".to_owned(), "weekly".to_owned()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let v = &v;
        async move {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            v.post_form("/mailings/new", &pairs).await
        }
    };

    // The form: blank, too long and two lines are refused beside the field.
    for (name, expected) in [
        ("   ".to_owned(), "Give the mailing a name."),
        ("x".repeat(201), "Keep the name to 200 characters."),
        ("Two\nlines".to_owned(), "Keep the name on one line."),
    ] {
        let refused = post(form(name.clone())).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        let doc = parse(&refused.text().await.unwrap());
        assert_eq!(doc.text("#e-name").as_deref(), Some(expected), "{name:?}");
    }
    let blank_form = parse(&v.get("/mailings/new").await.text().await.unwrap());
    assert!(blank_form.exists("input#f-name[name='name'][required][maxlength='200']"));
    assert_eq!(
        post(form("  Spring sale — Moscow  ".into())).await.status(),
        StatusCode::SEE_OTHER
    );
    let spring = mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spring.name, "Spring sale — Moscow", "trimmed");
    assert_eq!(
        post(form("Autumn letter".into())).await.status(),
        StatusCode::SEE_OTHER
    );

    // Shown instead of the number.
    let detail = parse(
        &v.get(&format!("/mailings/{}", spring.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(detail.text("h1").unwrap().contains("Spring sale — Moscow"));
    assert!(!detail.text("h1").unwrap().contains('#'));
    let edit = parse(
        &v.get(&format!("/mailings/{}/edit", spring.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        edit.attr("#f-name", "value").as_deref(),
        Some("Spring sale — Moscow")
    );
    let list = parse(&v.get("/mailings").await.text().await.unwrap());
    let names = list.texts("#mailing-rows tbody tr td:first-child a");
    assert_eq!(names, ["Autumn letter", "Spring sale — Moscow"]);
    let dashboard = parse(&v.get("/dashboard").await.text().await.unwrap());
    assert!(
        dashboard
            .text("#next-sends")
            .unwrap()
            .contains("Spring sale — Moscow")
    );
    let used = parse(
        &v.get(&format!("/messages/{}", msg.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(used.text("main").unwrap().contains("Autumn letter"));

    // Searchable, case-insensitively (Cyrillic too), on the page and its rows fragment.
    let renamed = v
        .post_form(
            &format!("/mailings/{}/edit", spring.id),
            &form("Весенняя РАСПРОДАЖА".into())
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let found = parse(&v.get("/mailings?q=autumn").await.text().await.unwrap());
    assert_eq!(
        found.texts("#mailing-rows tbody tr td:first-child a"),
        ["Autumn letter"]
    );
    let found = parse(&v.get("/mailings?q=LETTER").await.text().await.unwrap());
    assert_eq!(found.count("#mailing-rows tbody tr"), 1);
    let none = parse(&v.get("/mailings?q=winter").await.text().await.unwrap());
    assert_eq!(none.count("#mailing-rows tbody tr"), 0);
    assert!(none.text(".empty").unwrap().contains("winter"));
    let found = parse(&v.get("/mailings?q=Весенняя").await.text().await.unwrap());
    assert_eq!(
        found.texts("#mailing-rows tbody tr td:first-child a"),
        ["Весенняя РАСПРОДАЖА"]
    );

    // The API: required (missing, null and blank are a 422 on `name`), shown, searchable.
    let api = api_for(&app, &v.user).await;
    let body = |name: Option<serde_json::Value>| {
        let mut body = serde_json::json!({
            "message_id": msg.id, "client_ids": [client],
            "start_at": Utc::now() + Duration::days(1), "end_at": Utc::now() + Duration::days(2),
            "periodicity": "once",
        });
        if let Some(name) = name {
            body["name"] = name;
        }
        body
    };
    for name in [
        None,
        Some(serde_json::Value::Null),
        Some("  ".into()),
        Some("y".repeat(201).into()),
    ] {
        let (status, answer) = api.post("/mailings", body(name.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}: {answer}"
        );
        assert_eq!(field_errors(&answer, "name").len(), 1, "{name:?}: {answer}");
    }
    let (status, made) = api
        .post("/mailings", body(Some(" Winter API ".into())))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["name"], "Winter API");
    let (_, listed) = api.get("/mailings?q=winter").await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["name"], "Winter API");
    let (status, _) = api
        .put(&format!("/mailings/{}", made["id"]), body(Some("".into())))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let spec: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let required = spec["components"]["schemas"]["MailingInput"]["required"]
        .as_array()
        .unwrap();
    assert!(required.contains(&"name".into()), "{required:?}");
}

#[tokio::test]
async fn mailing_names_sqlite() {
    mailing_names(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailing_names_postgres() {
    mailing_names(Backend::Postgres).await;
}

/// The page of a new mailing to `n` new clients of `v`, picked by hand.
async fn page_of_a_mailing_to(app: &TestApp, v: &Visitor, n: usize) -> mailer_tests::html::Doc {
    let mut clients = Vec::new();
    for i in 0..n {
        clients.push(insert_client(app, v.user.id, &format!("c{i:03}@example.com")).await);
    }
    let msg = make_message(app, v.user.id, "News").await;
    let created = create_mailing(
        v,
        msg.id,
        &clients,
        Duration::days(1),
        Duration::days(2),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    parse(&v.get(&location).await.text().await.unwrap())
}

/// A mailing to more clients than its page names (a hundred) counts them all, names the
/// first hundred by name, and says how many more it does not name.
async fn only_the_first_hundred_clients_are_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let detail = page_of_a_mailing_to(&app, &v, 130).await;
    assert!(
        detail
            .texts("dl.facts dt")
            .contains(&"Clients (130)".to_owned()),
        "{:?}",
        detail.texts("dl.facts dt")
    );
    assert_eq!(detail.count(".client-chips .chip"), 100);
    assert_eq!(detail.count(".client-chips > .chip"), 3);
    assert_eq!(
        detail
            .text(".client-chips details.more-chips summary")
            .as_deref(),
        Some("and 127 more")
    );
    assert_eq!(
        detail
            .text(".client-chips details.more-chips .unnamed-clients")
            .as_deref(),
        Some("… and 30 more, not named here")
    );
    assert_eq!(detail.text("#recipient-count").as_deref(), Some("130"));
}

#[tokio::test]
async fn only_the_first_hundred_clients_are_named_sqlite() {
    only_the_first_hundred_clients_are_named(Backend::Sqlite).await;
}

#[tokio::test]
async fn only_the_first_hundred_clients_are_named_postgres() {
    only_the_first_hundred_clients_are_named(Backend::Postgres).await;
}

/// Phones: a mailing of 50 clients shows three of them and folds the rest ("and 47
/// more"); the site menu folds behind a button (a checkbox and CSS, no script).
#[tokio::test]
async fn long_recipient_lists_and_the_menu_fold() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let detail = page_of_a_mailing_to(&app, &v, 50).await;
    assert_eq!(detail.count(".client-chips .chip"), 50, "all there");
    assert_eq!(
        detail.count(".client-chips > .chip"),
        3,
        "three shown before the fold"
    );
    assert_eq!(detail.count(".client-chips details.more-chips .chip"), 47);
    assert_eq!(
        detail
            .text(".client-chips details.more-chips summary")
            .as_deref(),
        Some("and 47 more")
    );
    assert!(detail.exists("header.site input#menu-toggle[type='checkbox']"));
    assert!(detail.exists("header.site label[for='menu-toggle']"));
    assert!(detail.exists("header.site ul#site-menu a[href='/clients']"));
}
