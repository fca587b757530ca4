//! Message templates: a bad template is refused at save (422 with line and column in the
//! API, the error beside the field in the form), placeholders of other tools get a helpful
//! message, loops and huge output fail cleanly; the worker renders each recipient's e-mail
//! as `multipart/alternative` (text and HTML, the client's values escaped in the HTML), a
//! template that fails for one client fails that delivery only; and the preview renders
//! for a client the owner picks (another user's client is a 404).

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::message;
use mailer::entities::user::Role;
use mailer_tests::app::{Child, eventually};
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::smtp::ReceivedMail;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::api::{api_user, assert_error, field_errors};
use crate::mailings::{client_id, create_mailing, insert_message};

fn worker(app: &TestApp) -> Child {
    Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker.log"),
    )
}

async fn add_client(app: &TestApp, v: &Visitor, email: &str, name: &str, comment: &str) -> i32 {
    let r = v
        .post_form(
            "/clients/new",
            &[("email", email), ("full_name", name), ("comment", comment)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "client {email}");
    client_id(app, v.user.id, email).await
}

async fn messages_of(app: &TestApp, owner: i32) -> u64 {
    message::Entity::find()
        .filter(message::Column::OwnerId.eq(owner))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn api_refuses_bad_templates_with_line_and_column(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (user, api) = api_user(&app, "ann@example.com").await;

    let (status, body) = api
        .post(
            "/messages",
            json!({"subject": "Hi {{ client.full_name }}", "body": "Hello,\nthis is {{ client.full_name }\nBye"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "validation");
    let errors = body["template_errors"].as_array().expect("template_errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"], "body");
    assert_eq!(errors[0]["line"], 2, "{body}");
    assert!(errors[0]["column"].as_u64().unwrap() >= 9, "{body}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Syntax error"),
        "{body}"
    );
    let fields = field_errors(&body, "body");
    assert!(fields[0].starts_with("Line 2, column "), "{fields:?}");

    // A placeholder as people type it: the message says what to write instead.
    let (status, body) = api
        .post(
            "/messages",
            json!({"subject": "Hello {{name}}", "body": "Dear {name},\nsee you."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body, "subject"),
        ["Line 1, column 9: Unknown variable `name`. Did you mean {{ client.full_name }}?"]
    );
    let errors = body["template_errors"].as_array().unwrap();
    assert_eq!(
        (
            &errors[1]["field"],
            &errors[1]["line"],
            &errors[1]["column"]
        ),
        (&json!("body"), &json!(1), &json!(6)),
        "{body}"
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("{{ client.full_name }}")
    );

    // A loop that would run for ever, a macro that calls itself, another template.
    for bad in [
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{% macro again() %}{{ again() }}{% endmacro %}{{ again() }}",
        "{% include 'other.html' %}",
        "{{ 'x' * 2000000 }}",
    ] {
        let (status, body) = api
            .post("/messages", json!({"subject": "Loop", "body": bad}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["template_errors"][0]["field"], "body", "{bad}: {body}");
    }
    assert_eq!(messages_of(&app, user.id).await, 0);

    // A good one is saved, and an update is checked the same way.
    let (status, created) = api
        .post(
            "/messages",
            json!({"subject": "Hi {{ client.full_name | default('there') }}", "body": "**{{ today }}**: 50% off for {{ client.email }}."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, body) = api
        .put(
            &format!("/messages/{id}"),
            json!({"subject": "Fine", "body": "ok\n\n{{ client.phone }}"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["template_errors"][0]["line"], 3, "{body}");
    assert!(
        body["template_errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`client` has no `phone`"),
        "{body}"
    );
}

#[tokio::test]
async fn api_refuses_bad_templates_with_line_and_column_sqlite() {
    api_refuses_bad_templates_with_line_and_column(Backend::Sqlite).await;
}

#[tokio::test]
async fn api_refuses_bad_templates_with_line_and_column_postgres() {
    api_refuses_bad_templates_with_line_and_column(Backend::Postgres).await;
}

#[tokio::test]
async fn the_form_shows_template_errors_beside_the_field() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let r = v
        .post_form(
            "/messages/new",
            &[("subject", "Hello"), ("body", "Hi %name%,\n{% if %}")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&r.text().await.unwrap());
    assert!(doc.exists("#f-body[aria-invalid='true']"));
    assert!(!doc.exists("#e-subject"));
    let error = doc
        .text("#e-body.field-error")
        .expect("an error beside the body");
    assert!(
        error.contains("Line 1, column 4: `%name%` would be sent as typed")
            && error.contains("Line 2, column 7: Syntax error"),
        "{error}"
    );
    assert_eq!(messages_of(&app, v.user.id).await, 0);

    // Inline validation says the same while typing, and the placeholder gets its hint.
    let check = v
        .post_form(
            "/messages/new?validate=1",
            &[("subject", "Hello"), ("body", "Dear [first_name],")],
        )
        .await;
    assert_eq!(check.status(), StatusCode::OK);
    let doc = parse_fragment(&check.text().await.unwrap());
    let error = doc.text("#e-body").expect("a hint");
    assert!(
        error.contains("`[first_name]` would be sent as typed")
            && error.contains("{{ client.full_name }}"),
        "{error}"
    );
}

/// The parts of a `multipart/alternative` e-mail, decoded.
fn parts(mail: &ReceivedMail) -> (String, String) {
    let kind = mail.header("Content-Type").unwrap_or_default();
    assert!(kind.starts_with("multipart/alternative"), "{kind}");
    (mail.body_text(), mail.html_body().expect("an HTML part"))
}

async fn delivery_renders_each_recipient(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let ann = add_client(&app, &v, "ann@client.test", "Ann Lee", "").await;
    let bob = add_client(&app, &v, "bob@client.test", "<b>Bob</b> *Stone*", "").await;
    let r = v
        .post_form(
            "/messages/new",
            &[
                ("subject", "News for {{ client.full_name }}"),
                (
                    "body",
                    "Dear {{ client.full_name }},\nour **sale** starts today.\n\n\
                     - shoes\n- hats\n\n[Visit the shop](https://shop.example/sale)",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let message = message::Entity::find()
        .filter(message::Column::OwnerId.eq(v.user.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let _worker = worker(&app);
    let created = create_mailing(
        &v,
        message.id,
        &[ann, bob],
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let mails = app.smtp.wait_for_messages(2, Duration::from_secs(30)).await;
    let to = |addr: &str| {
        mails
            .iter()
            .find(|m| m.to == [addr])
            .unwrap_or_else(|| panic!("a mail to {addr}"))
    };

    let mail = to("ann@client.test");
    assert_eq!(mail.subject().as_deref(), Some("News for Ann Lee"));
    let (text, html) = parts(mail);
    assert!(
        text.starts_with("Dear Ann Lee,\nour **sale** starts today.\n\n- shoes\n- hats"),
        "{text}"
    );
    assert!(text.contains("/unsubscribe/"), "{text}");
    let doc = parse(&html);
    assert_eq!(doc.text("strong").as_deref(), Some("sale"));
    assert_eq!(doc.count("li"), 2);
    assert_eq!(
        doc.attr("a[href^='https://shop']", "href").as_deref(),
        Some("https://shop.example/sale")
    );
    assert!(doc.exists("a[href*='/unsubscribe/']"), "{html}");
    assert!(doc.exists("div[style*='max-width:600px']"), "{html}");
    assert!(
        html.contains("Dear Ann Lee,<br"),
        "line breaks stay: {html}"
    );

    // The client's name is text in both parts: no markup, no emphasis of its own.
    let mail = to("bob@client.test");
    assert_eq!(
        mail.subject().as_deref(),
        Some("News for <b>Bob</b> *Stone*")
    );
    let (text, html) = parts(mail);
    assert!(text.starts_with("Dear <b>Bob</b> *Stone*,\n"), "{text}");
    assert!(
        html.contains("Dear &lt;b&gt;Bob&lt;/b&gt; *Stone*,"),
        "{html}"
    );
    let doc = parse(&html);
    assert!(!doc.exists("b") && !doc.exists("em"), "{html}");
    assert_eq!(doc.count("strong"), 1, "only the template's own **sale**");

    // Both sent, one try each.
    let rows = eventually(Duration::from_secs(10), "both sent", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == 2 && rows.iter().all(|d| d.status == DeliveryStatus::Sent))
                .then_some(rows)
        }
    })
    .await;
    assert!(rows.iter().all(|d| d.tries == 1));
}

#[tokio::test]
async fn delivery_renders_each_recipient_sqlite() {
    delivery_renders_each_recipient(Backend::Sqlite).await;
}

#[tokio::test]
async fn delivery_renders_each_recipient_postgres() {
    delivery_renders_each_recipient(Backend::Postgres).await;
}

async fn a_template_that_fails_for_one_client_fails_that_delivery_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let plain = add_client(&app, &v, "plain@client.test", "Plain", "").await;
    let noted = add_client(&app, &v, "noted@client.test", "Noted", "has a note").await;
    let other = add_client(&app, &v, "other@client.test", "Other", "").await;
    // Saved before templates were checked: fails only where the comment is set.
    let message = insert_message(
        &app,
        v.user.id,
        "Hi {{ client.full_name }}",
        "{% if client.comment %}{{ client.missing }}{% endif %}Hello.",
    )
    .await;
    let _worker = worker(&app);
    create_mailing(
        &v,
        message.id,
        &[plain, noted, other],
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    let mails = app.smtp.wait_for_messages(2, Duration::from_secs(30)).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["other@client.test", "plain@client.test"]);

    let rows = eventually(Duration::from_secs(15), "every delivery settled", || {
        let app = &app;
        async move {
            let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
            (rows.len() == 3 && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
                .then_some(rows)
        }
    })
    .await;
    let failed: Vec<_> = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{rows:#?}");
    assert_eq!(failed[0].client_id, noted);
    assert_eq!(
        failed[0].tries, 1,
        "not retried: it would fail the same way"
    );
    let log = attempt::Entity::find()
        .filter(attempt::Column::ClientId.eq(noted))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, AttemptStatus::Failure);
    let reason = log[0].response.clone().unwrap_or_default();
    assert!(
        reason.contains("body template failed") && reason.contains("Line 1"),
        "{reason}"
    );
    // Nothing more goes out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.messages().len(), 2);
}

#[tokio::test]
async fn a_template_that_fails_for_one_client_fails_that_delivery_only_sqlite() {
    a_template_that_fails_for_one_client_fails_that_delivery_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_template_that_fails_for_one_client_fails_that_delivery_only_postgres() {
    a_template_that_fails_for_one_client_fails_that_delivery_only(Backend::Postgres).await;
}

async fn preview_renders_for_a_picked_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let eve = sign_in_new(&app, "eve@example.com", Role::User).await;
    let r = v
        .post_form(
            "/messages/new",
            &[
                ("subject", "Hi {{ client.full_name }}"),
                ("body", "Dear {{ client.full_name }},\n**welcome**."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = r.headers()["location"].to_str().unwrap().to_owned();

    // No clients yet: a sample recipient.
    let doc = parse(&v.get(&path).await.text().await.unwrap());
    assert_eq!(
        doc.text(".mail-subject").as_deref(),
        Some("Hi Sample Recipient")
    );
    assert!(doc.exists(".preview-sample"));
    assert!(
        doc.text(".mail-text")
            .unwrap()
            .starts_with("Dear Sample Recipient,")
    );

    let amy = add_client(&app, &v, "amy@client.test", "Amy <i>Moss</i>", "").await;
    let zed = add_client(&app, &v, "zed@client.test", "Zed", "").await;
    let theirs = add_client(&app, &eve, "x@client.test", "Eve's client", "").await;

    let doc = parse(
        &v.get(&format!("{path}?client={zed}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(doc.text(".mail-subject").as_deref(), Some("Hi Zed"));
    assert_eq!(
        doc.text(".mail-to").as_deref(),
        Some("Zed <zed@client.test>")
    );
    assert_eq!(
        doc.attr("#preview-client option[selected]", "value"),
        Some(zed.to_string())
    );
    assert_eq!(
        doc.count("#preview-client option"),
        2,
        "the owner's clients only"
    );
    let frame = doc.attr("iframe.mail-html", "src").expect("an HTML frame");
    assert_eq!(frame, format!("{path}/preview?client={zed}"));
    assert_eq!(doc.attr("iframe.mail-html", "sandbox").as_deref(), Some(""));

    // The frame's page: the HTML part, under a CSP of its own.
    let html = v.get(&format!("{path}/preview?client={amy}")).await;
    assert_eq!(html.status(), StatusCode::OK);
    let csp = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    let body = html.text().await.unwrap();
    assert!(body.contains("Dear Amy &lt;i&gt;Moss&lt;/i&gt;,"), "{body}");
    assert!(parse(&body).exists("strong"));

    // Another user's client, or none at all: 404, on the page and in the frame.
    for url in [
        format!("{path}?client={theirs}"),
        format!("{path}/preview?client={theirs}"),
        format!("{path}?client=999999"),
    ] {
        assert_eq!(v.get(&url).await.status(), StatusCode::NOT_FOUND, "{url}");
    }
    assert_eq!(
        eve.get(&format!("{path}/preview")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn preview_renders_for_a_picked_client_sqlite() {
    preview_renders_for_a_picked_client(Backend::Sqlite).await;
}

#[tokio::test]
async fn preview_renders_for_a_picked_client_postgres() {
    preview_renders_for_a_picked_client(Backend::Postgres).await;
}
