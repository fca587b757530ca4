//! Poison input: values that once took a process down, or reached the database or an
//! export as they came. One bad row fails alone; the worker and the server go on.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::user::Role;
use mailer::entities::{client, message};
use mailer_tests::app::{Child, eventually};
use mailer_tests::html::parse;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::api::{api_user, assert_error, field_errors};
use crate::clients::{add, import_preview};
use crate::mailings::{client_id, create_mailing, insert_named_client, make_message};

/// A name that lettre cannot put in a `To` header (it panicked on it): rows like this were
/// stored before names were checked.
const POISON_NAME: &str = "Eve\r\nBcc: victim@example.net";

fn still_running(worker: &mut Child, log: &std::path::Path) {
    let exited = worker.0.try_wait().expect("try_wait");
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        exited.is_none(),
        "mailer-worker exited ({exited:?}); its log:\n{text}"
    );
}

/// A poison client in the middle of a mailing: every other client gets the mail, the
/// poison delivery fails once with a reason (no retries), and the worker keeps running
/// and sending — also the next occurrence ("send now"), where the poison fails again alone.
async fn a_poison_client_fails_alone_and_the_worker_goes_on(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (email, name) = if i == 2 {
            ("eve@example.com".to_owned(), POISON_NAME.to_owned())
        } else {
            (format!("client{i}@example.com"), format!("Client {i}"))
        };
        ids.push(insert_named_client(&app, v.user.id, &email, &name).await);
    }
    let poison = ids[2];
    let message = make_message(&app, v.user.id, "Poison test").await;
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    let created = create_mailing(
        &v,
        message.id,
        &ids,
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);

    let mails = app.smtp.wait_for_messages(4, Duration::from_secs(60)).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "client0@example.com",
            "client1@example.com",
            "client3@example.com",
            "client4@example.com"
        ]
    );
    let failed = eventually(
        Duration::from_secs(30),
        "the poison delivery failed",
        || {
            let app = &app;
            async move {
                let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
                let poisoned = rows.iter().find(|d| d.client_id == poison)?.clone();
                let others_sent = rows
                    .iter()
                    .filter(|d| d.client_id != poison)
                    .all(|d| d.status == DeliveryStatus::Sent);
                (rows.len() == 5 && others_sent && poisoned.status == DeliveryStatus::Failed)
                    .then_some(poisoned)
            }
        },
    )
    .await;
    let reason = failed.last_error.clone().unwrap_or_default();
    assert!(reason.contains("line break"), "a reason: {reason:?}");
    assert_eq!(failed.tries, 1, "not retried");

    // A few ticks later: still one try, one failed attempt with the reason, and the worker
    // is up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    still_running(&mut worker, &log);
    let log_rows = attempt::Entity::find().all(&app.state.db).await.unwrap();
    let of_poison: Vec<_> = log_rows
        .iter()
        .filter(|a| a.delivery_id == Some(failed.id))
        .collect();
    assert_eq!(
        of_poison.len(),
        1,
        "one attempt for the poison: {log_rows:#?}"
    );
    assert_eq!(of_poison[0].status, AttemptStatus::Failure);
    assert_eq!(of_poison[0].response.as_deref(), Some(reason.as_str()));
    let row = delivery::Entity::find_by_id(failed.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.tries), (DeliveryStatus::Failed, 1));
    assert_eq!(app.smtp.messages().len(), 4, "nothing else went out");
    assert!(
        app.smtp
            .messages()
            .iter()
            .all(|m| m.to.iter().all(|t| t != "victim@example.net")),
        "no header injection"
    );

    // The worker goes on with the next occurrence.
    let mailing = mailer::entities::mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let sent = v
        .post_form(
            &format!("/mailings/{}/send", mailing.id),
            &[("again", "yes")],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    app.smtp.wait_for_messages(8, Duration::from_secs(60)).await;
    eventually(
        Duration::from_secs(30),
        "the second poison delivery failed",
        || {
            let app = &app;
            async move {
                let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
                let failed = rows
                    .iter()
                    .filter(|d| d.status == DeliveryStatus::Failed)
                    .count();
                let sent = rows
                    .iter()
                    .filter(|d| d.status == DeliveryStatus::Sent)
                    .count();
                (failed == 2 && sent == 8).then_some(())
            }
        },
    )
    .await;
    still_running(&mut worker, &log);
}

#[tokio::test]
async fn a_poison_client_fails_alone_and_the_worker_goes_on_sqlite() {
    a_poison_client_fails_alone_and_the_worker_goes_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_poison_client_fails_alone_and_the_worker_goes_on_postgres() {
    a_poison_client_fails_alone_and_the_worker_goes_on(Backend::Postgres).await;
}

/// A weekly mailing of `v` made through the form, starting tomorrow: nothing of it is due.
async fn mailing_from_tomorrow(
    app: &mailer_tests::TestApp,
    v: &mailer_tests::users::Visitor,
    message: i32,
    clients: &[i32],
) -> mailer::entities::mailing::Model {
    let created = create_mailing(v, message, clients, Span::days(1), Span::days(9), "weekly").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    mailer::entities::mailing::Entity::find()
        .filter(mailer::entities::mailing::Column::MessageId.eq(message))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

/// A delivery whose every try ended without a result (its job panicked or timed out, or
/// its worker died each time) is not taken up again forever: claimed once more than it
/// may be tried, it fails with a reason instead of being sent.
async fn a_delivery_out_of_tries_gives_up(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let client = insert_named_client(&app, v.user.id, "bob@example.com", "Bob").await;
    let message = make_message(&app, v.user.id, "Lost tries").await;
    let mailing = mailing_from_tomorrow(&app, &v, message.id, &[client]).await;
    let max_tries = app.config.worker.max_tries();
    let long_ago = Utc::now() - Span::hours(1);
    let row = delivery::ActiveModel {
        mailing_id: Set(mailing.id),
        client_id: Set(client),
        occurrence_at: Set(long_ago),
        status: Set(DeliveryStatus::Pending),
        tries: Set(max_tries),
        claimed_until: Set(None),
        next_try_at: Set(None),
        message_id_header: Set("<lost@example.com>".into()),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(long_ago),
        updated_at: Set(long_ago),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    let failed = eventually(Duration::from_secs(30), "the delivery given up", || {
        let app = &app;
        async move {
            let d = delivery::Entity::find_by_id(row.id)
                .one(&app.state.db)
                .await
                .unwrap()?;
            (d.status == DeliveryStatus::Failed).then_some(d)
        }
    })
    .await;
    let reason = failed.last_error.clone().unwrap_or_default();
    assert!(reason.starts_with("gave up"), "{reason:?}");
    assert!(app.smtp.messages().is_empty(), "not sent once more");
    let attempts = attempt::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].status, AttemptStatus::Failure);
    assert_eq!(attempts[0].response.as_deref(), Some(reason.as_str()));
    still_running(&mut worker, &log);
}

#[tokio::test]
async fn a_delivery_out_of_tries_gives_up_sqlite() {
    a_delivery_out_of_tries_gives_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_delivery_out_of_tries_gives_up_postgres() {
    a_delivery_out_of_tries_gives_up(Backend::Postgres).await;
}

/// Runs of the jobs of [`a_panicking_job_is_dropped_and_the_worker_goes_on`].
type Runs = std::sync::Arc<std::sync::Mutex<Vec<u32>>>;

/// Job 1 panics; the others succeed.
async fn panicky_job(
    n: u32,
    runs: apalis::prelude::Data<Runs>,
) -> Result<(), apalis::prelude::BoxDynError> {
    mailer_worker::contained(&n, async move {
        runs.lock().unwrap().push(n);
        if n == 1 {
            panic!("poison job");
        }
        Ok(())
    })
    .await
}

/// A job that panics is dropped — run once, neither retried nor fetched again — and the
/// worker goes on with the next jobs: the worker's guard (`mailer_worker::contained`) and
/// retry rule, on a real apalis-sqlite queue.
#[tokio::test]
async fn a_panicking_job_is_dropped_and_the_worker_goes_on() {
    use apalis::prelude::{BackendExt, RetryPolicy, TaskSink, WorkerBuilder, WorkerBuilderExt};
    use apalis_sqlite::SqliteStorage;
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let pool = app.state.db.get_sqlite_connection_pool();
    let mut storage = SqliteStorage::<u32>::new(pool)
        .with_config(apalis_sqlite::Config::default().queue("poison-test"));
    for n in [1, 2, 3] {
        storage.push(n).await.unwrap();
    }
    let runs = Runs::default();
    let worker = WorkerBuilder::new("poison-test")
        .backend(storage.poll_with_interval(Duration::from_millis(50)))
        .data(runs.clone())
        .retry(RetryPolicy::retries(3).retry_if(mailer_worker::is_retryable))
        .build(panicky_job);
    let running = tokio::spawn(worker.run());
    eventually(Duration::from_secs(20), "the good jobs run", || {
        let runs = runs.clone();
        async move {
            let runs = runs.lock().unwrap();
            (runs.contains(&2) && runs.contains(&3)).then_some(())
        }
    })
    .await;
    // Time for a retry or a re-fetch, were there to be one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let poisoned = runs.lock().unwrap().iter().filter(|&&n| n == 1).count();
    assert_eq!(
        poisoned,
        1,
        "the panicking job ran once: {:?}",
        runs.lock().unwrap()
    );
    assert!(!running.is_finished(), "the worker is still running");
    running.abort();
}

/// A line break in a client's name or a message's subject — the text of an e-mail header
/// — is refused on every way in: the client and message forms (422, the message beside
/// the field), the API (422 with the field's message), the CSV import (the row is
/// invalid), and the admin's change forms.
#[tokio::test]
async fn a_line_break_in_a_header_field_is_refused_on_every_way_in() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    const NAME_ERROR: &str = "Keep the name on one line: it goes in the To header of every e-mail.";

    // The client form, new and edit.
    let bad = add(&v, "eve@example.com", "Eve\r\nBcc: victim@example.net").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert_eq!(doc.text("#e-full_name").as_deref(), Some(NAME_ERROR));
    assert!(doc.exists("#f-full_name[aria-invalid='true']"));
    assert!(!doc.exists("#e-email"));
    assert_eq!(
        add(&v, "bob@example.com", "Bob").await.status(),
        StatusCode::SEE_OTHER
    );
    let bob = client_id(&app, v.user.id, "bob@example.com").await;
    let edit = v
        .post_form(
            &format!("/clients/{bob}/edit"),
            &[
                ("email", "bob@example.com"),
                ("full_name", "Bob\nSmith"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(edit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&edit.text().await.unwrap());
    assert_eq!(doc.text("#e-full_name").as_deref(), Some(NAME_ERROR));

    // The message form.
    let bad = v
        .post_form(
            "/messages/new",
            &[("subject", "Two\nlines"), ("body", "Hello")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert_eq!(
        doc.text("#e-subject").as_deref(),
        Some("Keep the subject on one line.")
    );

    // The API.
    let (_, api) = api_user(&app, "program@example.com").await;
    let (status, body) = api
        .post(
            "/clients",
            json!({"email": "x@example.com", "full_name": "x\ny"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "validation");
    assert_eq!(field_errors(&body, "full_name"), [NAME_ERROR]);
    let (status, created) = api
        .post(
            "/clients",
            json!({"email": "x@example.com", "full_name": "X"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api
        .put(
            &format!("/clients/{}", created["id"]),
            json!({"email": "x@example.com", "full_name": "X\rY"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_errors(&body, "full_name"), [NAME_ERROR]);

    // The CSV import: a quoted cell may hold a line break; that row is invalid.
    let csv = "email,full_name\n\
               carol@example.com,Carol\n\
               eve@example.com,\"Eve\nBcc: victim@example.net\"\n";
    let doc = import_preview(&v, csv).await;
    assert_eq!(doc.text("#import-valid").as_deref(), Some("1"));
    assert_eq!(doc.text("#import-invalid").as_deref(), Some("1"));
    let row = doc.text("tr.row-error").unwrap_or_default();
    assert!(
        row.contains("eve@example.com") && row.contains("one line"),
        "{row}"
    );
    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    // The admin's change forms.
    let root = sign_in_new(&app, "root@example.com", Role::Superuser).await;
    let owner = v.user.id.to_string();
    let changed = root
        .post_form(
            &format!("/admin/clients/{bob}/change/"),
            &[
                ("owner_id", owner.as_str()),
                ("email", "bob@example.com"),
                ("full_name", "Bob\r\nBcc: victim@example.net"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&changed.text().await.unwrap());
    assert_eq!(
        doc.text("#e-full_name").as_deref(),
        Some(mailer::validation::LINE_BREAK)
    );
    let message = make_message(&app, v.user.id, "One line").await;
    let changed = root
        .post_form(
            &format!("/admin/messages/{}/change/", message.id),
            &[
                ("owner_id", owner.as_str()),
                ("subject", "Two\nlines"),
                ("body", "Hello"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&changed.text().await.unwrap());
    assert_eq!(
        doc.text("#e-subject").as_deref(),
        Some(mailer::validation::LINE_BREAK)
    );

    // Nothing with a line break was stored.
    let clients = client::Entity::find().all(&app.state.db).await.unwrap();
    let mut names: Vec<&str> = clients.iter().map(|c| c.full_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Bob", "Carol", "X"]);
    let messages = message::Entity::find().all(&app.state.db).await.unwrap();
    assert!(
        messages.iter().all(|m| m.subject == "One line"),
        "{messages:#?}"
    );
}

/// Every date input has one range (years 1 to 9999) and every text input refuses NUL, with
/// a 422 and the message beside the field — the same values on both backends, where
/// PostgreSQL used to answer 500 ("timestamp out of range", "invalid byte sequence 0x00")
/// and SQLite stored them.
async fn out_of_range_dates_and_nul_are_refused_alike(backend: Backend) {
    use mailer::validation::YEAR_OUT_OF_RANGE;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let client = insert_named_client(&app, v.user.id, "bob@example.com", "Bob").await;
    let message = make_message(&app, v.user.id, "Dates").await;
    let (message_id, client_id) = (message.id.to_string(), client.to_string());

    // The mailing form.
    for (start, end, field) in [
        ("-10000-01-01T00:00", "2030-01-01T00:00", "start_at"),
        ("-4714-11-24T00:00", "2030-01-01T00:00", "start_at"),
        ("0000-06-01T00:00", "2030-01-01T00:00", "start_at"),
        ("2030-01-01T00:00", "+10000-01-01T00:00", "end_at"),
    ] {
        let response = v
            .post_form(
                "/mailings/new",
                &[
                    ("message_id", message_id.as_str()),
                    ("client_ids", client_id.as_str()),
                    ("start_at", start),
                    ("end_at", end),
                    ("name", "Test mailing"),
                    ("periodicity", "once"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{start} – {end}"
        );
        let doc = parse(&response.text().await.unwrap());
        assert_eq!(
            doc.text(&format!("#e-{field}")).as_deref(),
            Some(YEAR_OUT_OF_RANGE),
            "{start} – {end}"
        );
    }

    // The API.
    let (_, api) = api_user(&app, "program@example.com").await;
    let (status, created) = api
        .post(
            "/clients",
            json!({"email": "carol@example.com", "full_name": "Carol"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, msg) = api
        .post("/messages", json!({"subject": "Hi", "body": "Hello"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for start in ["-4714-11-24T00:00:00Z", "-10000-01-01T00:00:00Z"] {
        let (status, body) = api
            .post(
                "/mailings",
                json!({
                    "name": "Test mailing", "message_id": msg["id"], "client_ids": [created["id"]],
                    "start_at": start, "end_at": "2030-01-01T00:00:00Z", "periodicity": "once"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{start}: {body}");
        assert_error(&body, "validation");
        assert_eq!(
            field_errors(&body, "start_at"),
            [YEAR_OUT_OF_RANGE],
            "{start}"
        );
    }
    // NUL in API strings.
    let (status, body) = api
        .post(
            "/clients",
            json!({"email": "dan@example.com", "full_name": "D\u{0}an"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_errors(&body, "full_name").len(), 1, "{body}");

    // The report's custom range: the page and its CSV.
    let page = v
        .get("/reports?range=custom&from=-10000-01-01&to=-10000-01-05")
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&page.text().await.unwrap());
    assert_eq!(doc.text("#e-from").as_deref(), Some(YEAR_OUT_OF_RANGE));
    let csv = v
        .get("/reports/export.csv?range=custom&from=-4714-01-01&to=-4714-01-02")
        .await;
    assert_eq!(csv.status(), StatusCode::BAD_REQUEST);

    // A CSV import cell with NUL: that row is invalid, the rest goes in.
    let doc = import_preview(
        &v,
        "email,full_name,comment\nerin@example.com,Erin,ok\nnul@example.com,Nul,a\0b\n",
    )
    .await;
    assert_eq!(doc.text("#import-valid").as_deref(), Some("1"));
    assert_eq!(doc.text("#import-invalid").as_deref(), Some("1"));
    let row = doc.text("tr.row-error").unwrap_or_default();
    assert!(row.contains("NUL"), "{row}");
    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    // The admin: a post's date and title, a client's comment.
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let post = |title: &str, published_at: &str| {
        reqwest::multipart::Form::new()
            .text("title", title.to_owned())
            .text("slug", "")
            .text("body", "Words.")
            .text("published_at", published_at.to_owned())
    };
    let response = editor
        .post_multipart("/admin/posts/add/", post("Old", "-10000-01-01T00:00"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&response.text().await.unwrap());
    assert_eq!(
        doc.text("#e-published_at").as_deref(),
        Some(YEAR_OUT_OF_RANGE)
    );
    let response = editor
        .post_multipart("/admin/posts/add/", post("Ti\0tle", ""))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&response.text().await.unwrap());
    assert_eq!(
        doc.text("#e-title").as_deref(),
        Some("This text contains a NUL character.")
    );
    let root = sign_in_new(&app, "root@example.com", Role::Superuser).await;
    let owner = v.user.id.to_string();
    let response = root
        .post_form(
            &format!("/admin/clients/{client}/change/"),
            &[
                ("owner_id", owner.as_str()),
                ("email", "bob@example.com"),
                ("full_name", "Bob"),
                ("comment", "a\0b"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&response.text().await.unwrap());
    assert_eq!(
        doc.text("#e-comment").as_deref(),
        Some("This text contains a NUL character.")
    );

    // Nothing of it was stored.
    use sea_orm::PaginatorTrait;
    let db = &app.state.db;
    assert_eq!(
        mailer::entities::mailing::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        mailer::entities::post::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
    let clients = client::Entity::find().all(db).await.unwrap();
    assert!(clients.iter().all(|c| !c.comment.contains('\0')));
    assert_eq!(clients.len(), 3, "Bob, Carol and Erin: {clients:#?}");
}

#[tokio::test]
async fn out_of_range_dates_and_nul_are_refused_alike_sqlite() {
    out_of_range_dates_and_nul_are_refused_alike(Backend::Sqlite).await;
}

#[tokio::test]
async fn out_of_range_dates_and_nul_are_refused_alike_postgres() {
    out_of_range_dates_and_nul_are_refused_alike(Backend::Postgres).await;
}

/// The records of a CSV download (header included).
async fn csv_records(v: &mailer_tests::users::Visitor, path: &str) -> Vec<Vec<String>> {
    let response = v.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.bytes().await.unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Every CSV export writes a cell a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@`, tab, CR first) with a leading `'`, as OWASP advises; and the client export,
/// imported again, gives back the same values — no quote grows on the way round.
#[tokio::test]
async fn csv_exports_neutralise_formulas_and_import_back_unchanged() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let people = [
        (
            "-bob@example.com",
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+1 555 0100",
        ),
        ("carol@example.com", "@SUM(A1:A9)", "-2+3"),
        ("dan@example.com", "'=already quoted", "\ttabbed"),
        ("erin@example.com", "'t Hooft", "\rreturn"),
        ("fay@example.com", "Fay", "a=b"),
    ];
    let mut ids = Vec::new();
    for (email, name, comment) in people {
        let id = insert_named_client(&app, v.user.id, email, name).await;
        let mut row: client::ActiveModel = client::Entity::find_by_id(id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        row.comment = Set(comment.into());
        row.update(&app.state.db).await.unwrap();
        ids.push(id);
    }

    // The first three columns; the state columns after them are plain words.
    let whole = csv_records(&v, "/clients/export.csv").await;
    let exported: Vec<Vec<String>> = whole.iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(exported[0], ["email", "full_name", "comment"]);
    let find = |email: &str| {
        exported
            .iter()
            .find(|r| r[0].trim_start_matches('\'') == email)
            .unwrap_or_else(|| panic!("{email} in {exported:?}"))
            .clone()
    };
    assert_eq!(
        find("-bob@example.com"),
        [
            "'-bob@example.com",
            "'=HYPERLINK(\"http://evil.example\",\"x\")",
            "'+1 555 0100"
        ]
    );
    assert_eq!(
        find("carol@example.com"),
        ["carol@example.com", "'@SUM(A1:A9)", "'-2+3"]
    );
    assert_eq!(
        find("dan@example.com"),
        ["dan@example.com", "''=already quoted", "'\ttabbed"]
    );
    assert_eq!(
        find("erin@example.com"),
        ["erin@example.com", "'t Hooft", "'\rreturn"]
    );
    assert_eq!(find("fay@example.com"), ["fay@example.com", "Fay", "a=b"]);

    // Round trip: the export imported by another user gives the same clients, and their
    // export is the same file.
    let w = sign_in_new(&app, "walt@example.com", Role::User).await;
    let bytes = v.get("/clients/export.csv").await.bytes().await.unwrap();
    let doc = import_preview(&w, std::str::from_utf8(&bytes).unwrap()).await;
    assert_eq!(doc.text("#import-valid").as_deref(), Some("5"));
    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = w
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let mut imported: Vec<(String, String, String)> = client::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.owner_id == w.user.id)
        .map(|c| (c.email, c.full_name, c.comment))
        .collect();
    imported.sort();
    let mut expected: Vec<(String, String, String)> = people
        .iter()
        .map(|(e, n, c)| (e.to_string(), n.to_string(), c.to_string()))
        .collect();
    expected.sort();
    assert_eq!(imported, expected);
    assert_eq!(csv_records(&w, "/clients/export.csv").await, whole);

    // The attempt log and the reports.
    let message = make_message(&app, v.user.id, "-Sale").await;
    let mailing = mailing_from_tomorrow(&app, &v, message.id, &ids[..1]).await;
    let reply = "=cmd|' /C calc'!A0";
    attempt::ActiveModel {
        owner_id: Set(v.user.id),
        mailing_id: Set(mailing.id),
        message_id: Set(Some(message.id)),
        client_id: Set(Some(ids[0])),
        delivery_id: Set(None),
        recipient: Set("-bob@example.com".into()),
        occurrence_at: Set(Utc::now()),
        attempted_at: Set(Utc::now()),
        status: Set(AttemptStatus::Failure),
        smtp_code: Set(Some(550)),
        response: Set(Some(reply.into())),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let log = csv_records(&v, &format!("/mailings/{}/attempts.csv", mailing.id)).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1][1], "'-bob@example.com");
    assert_eq!(log[1][5], format!("'{reply}"));
    let report = csv_records(&v, "/reports/export.csv?view=messages").await;
    assert_eq!(report.len(), 2, "{report:?}");
    assert_eq!(report[1][0], "'-Sale");
    assert_eq!(report[1][11], format!("'{reply}"));
    let report = csv_records(&v, "/reports/export.csv").await;
    assert_eq!(report[1][11], format!("'{reply}"));
}

/// On the embedded default (outbox, no SMTP) an attempt's reply names the outbox file, not
/// the server's path to it: on the mailing's page, in its attempt CSV and in the reports.
#[tokio::test]
async fn the_outbox_reply_shows_the_file_name_not_the_server_path() {
    let Some(app) = mailer_tests::spawn_app_with(Backend::Sqlite, |c| c.smtp_url = None).await
    else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let client = insert_named_client(&app, v.user.id, "bob@example.com", "Bob").await;
    let message = make_message(&app, v.user.id, "To the outbox").await;
    let log = app.dir.path().join("worker.log");
    let mut worker = Child::spawn("mailer-worker", &[], &app.env(), &log);
    let created = create_mailing(
        &v,
        message.id,
        &[client],
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let sent = eventually(Duration::from_secs(30), "the delivery sent", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == 1 && rows[0].status == DeliveryStatus::Sent).then(|| rows[0].clone())
        }
    })
    .await;
    still_running(&mut worker, &log);

    let files: Vec<String> = std::fs::read_dir(app.config.outbox_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let reply = format!("written to the outbox as {}", files[0]);
    let attempts = attempt::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].delivery_id, Some(sent.id));
    assert_eq!(attempts[0].response.as_deref(), Some(reply.as_str()));

    let server_dir = app.dir.path().display().to_string();
    let page = parse(
        &v.get(&format!("/mailings/{}", sent.mailing_id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        page.text("#report-last-reply").as_deref(),
        Some(reply.as_str())
    );
    let csv = csv_records(&v, &format!("/mailings/{}/attempts.csv", sent.mailing_id)).await;
    assert_eq!(csv[1][5], reply);
    let reports = v.get("/reports").await.text().await.unwrap();
    let doc = parse(&reports);
    assert_eq!(doc.texts("#report-rows td code"), [reply.as_str()]);
    assert!(
        !reports.contains(&server_dir),
        "no server path on the reports page"
    );
}

/// A queued payload this version cannot read (another version's, during a deploy) is
/// skipped by the sweep's look at the queue instead of failing it on every tick.
#[tokio::test]
async fn an_unreadable_payload_does_not_stop_the_sweep() {
    use mailer::jobs::DeliveryTask;
    use sea_orm::ConnectionTrait;

    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let queue = &app.state.queues.delivery;
    for id in [1, 2] {
        queue
            .push(DeliveryTask::Deliver { delivery_id: id })
            .await
            .expect("push");
    }
    app.state
        .db
        .execute_unprepared(
            "UPDATE Jobs SET job = CAST('{\"Bogus\":1}' AS BLOB) \
             WHERE rowid = (SELECT min(rowid) FROM Jobs)",
        )
        .await
        .expect("damage one payload");
    let unfinished = queue.unfinished().await.expect("the readable jobs");
    assert_eq!(unfinished, vec![DeliveryTask::Deliver { delivery_id: 2 }]);
}
