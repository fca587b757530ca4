//! Messages in the user area: list with search, sort and pages (htmx fragments) and the count
//! of mailings using each; forms with 422 and inline validation; a preview that shows the
//! body as text; deletion that asks first and refuses while a mailing sends the message;
//! and no way into another user's messages.

use chrono::{Duration, Utc};
use mailer::entities::mailing::{self, MailingStatus, Periodicity};
use mailer::entities::message;
use mailer::entities::user::Role;
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use scraper::Selector;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

async fn add(v: &Visitor, subject: &str, body: &str) -> reqwest::Response {
    v.post_form("/messages/new", &[("subject", subject), ("body", body)])
        .await
}

async fn count(app: &TestApp, owner: i32) -> u64 {
    message::Entity::find()
        .filter(message::Column::OwnerId.eq(owner))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn by_subject(app: &TestApp, subject: &str) -> message::Model {
    message::Entity::find()
        .filter(message::Column::Subject.eq(subject))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no message {subject:?}"))
}

/// Inserts `n` messages straight into the database, a minute apart (newest last).
async fn insert_many(app: &TestApp, owner: i32, n: usize) {
    let start = Utc::now() - Duration::days(1);
    for i in 0..n {
        let at = start + Duration::minutes(i as i64);
        message::ActiveModel {
            owner_id: Set(owner),
            subject: Set(format!("Newsletter {i:02}")),
            body: Set(format!("Issue number {i}.")),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
}

async fn add_mailing(app: &TestApp, owner: i32, message_id: i32) -> mailing::Model {
    let now = Utc::now();
    mailing::ActiveModel {
        owner_id: Set(owner),
        name: Set(format!("Mailing of message {message_id}")),
        message_id: Set(message_id),
        start_at: Set(now + Duration::days(1)),
        end_at: Set(now + Duration::days(2)),
        periodicity: Set(Periodicity::Once),
        status: Set(MailingStatus::Created),
        is_enabled: Set(true),
        next_run_at: Set(Some(now + Duration::days(1))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

async fn rows(v: &Visitor, path: &str) -> mailer_tests::html::Doc {
    let response = v.htmx_get(path, "message-rows").await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    parse_fragment(&response.text().await.unwrap())
}

async fn messages_list_search_sort_and_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;

    let empty = parse(&v.get("/messages").await.text().await.unwrap());
    assert!(
        empty.exists(".empty a[href='/messages/new']"),
        "empty state invites to write one"
    );
    assert!(empty.exists("header.site a[href='/messages'][aria-current='page']"));

    insert_many(&app, v.user.id, 45).await;
    let r = add(
        &v,
        "Spring sale",
        "Everything is 50% off.\nOnly the UNIQUE offer.",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sale = by_subject(&app, "Spring sale").await;
    add_mailing(&app, v.user.id, sale.id).await;
    add_mailing(&app, v.user.id, sale.id).await;

    let full = parse(&v.get("/messages").await.text().await.unwrap());
    assert!(full.exists("header.site"), "a plain GET is the whole page");
    assert_eq!(full.count("#message-rows tbody tr"), 20);
    assert_eq!(
        full.text(".pager span").as_deref(),
        Some("Page 1 of 3 · 46 in all")
    );
    // Newest edits first by default, with the number of mailings that send each message.
    assert_eq!(
        full.text("tbody tr:first-child td:nth-child(1)").as_deref(),
        Some("Spring sale")
    );
    assert_eq!(
        full.text(&format!("#message-{} td.mailings", sale.id))
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        full.text("tbody tr:nth-child(2) td.mailings").as_deref(),
        Some("0")
    );

    // htmx asks for the rows only: no layout, same table.
    let page = v.htmx_get("/messages?page=3", "message-rows").await;
    assert_eq!(
        page.headers()["vary"],
        "HX-Request, HX-Target, Accept-Language"
    );
    let page = parse_fragment(&page.text().await.unwrap());
    assert!(!page.exists("header.site") && !page.exists("h1"));
    assert_eq!(page.count("tbody tr"), 6);

    // Search the subject or the body, case-insensitive.
    let found = rows(&v, "/messages?q=unique").await;
    assert_eq!(found.texts("tbody tr td:nth-child(1)"), vec!["Spring sale"]);
    let found = rows(&v, "/messages?q=NEWSLETTER%2004").await;
    assert_eq!(
        found.texts("tbody tr td:nth-child(1)"),
        vec!["Newsletter 04"]
    );
    let found = rows(&v, "/messages?q=issue%20number%2012.").await;
    assert_eq!(
        found.texts("tbody tr td:nth-child(1)"),
        vec!["Newsletter 12"]
    );
    // LIKE wildcards in the search are literal: "50%" matches, "%_" does not.
    let found = rows(&v, "/messages?q=50%25").await;
    assert_eq!(found.count("tbody tr"), 1);
    let none = rows(&v, "/messages?q=%25_").await;
    assert!(none.exists(".empty"), "no match for a literal %_");

    // Sort by subject, both ways, and by creation.
    let sorted = parse(
        &v.get("/messages?sort=subject&dir=desc")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        sorted.text("tbody tr td:nth-child(1)").as_deref(),
        Some("Spring sale")
    );
    assert_eq!(
        sorted.attr("th[aria-sort]", "aria-sort").as_deref(),
        Some("descending")
    );
    let sorted = rows(&v, "/messages?sort=subject&dir=asc").await;
    assert_eq!(
        sorted.text("tbody tr td:nth-child(1)").as_deref(),
        Some("Newsletter 00")
    );
    let sorted = rows(&v, "/messages?sort=created&dir=desc").await;
    assert_eq!(
        sorted.text("tbody tr td:nth-child(1)").as_deref(),
        Some("Spring sale")
    );
    let sorted = rows(&v, "/messages?sort=updated&dir=asc").await;
    assert_eq!(
        sorted.text("tbody tr td:nth-child(1)").as_deref(),
        Some("Newsletter 00")
    );

    // A page past the end shows the last page.
    let last = parse(&v.get("/messages?page=99").await.text().await.unwrap());
    assert_eq!(
        last.text(".pager span").as_deref(),
        Some("Page 3 of 3 · 46 in all")
    );
}

#[tokio::test]
async fn messages_list_search_sort_and_pages_sqlite() {
    messages_list_search_sort_and_pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn messages_list_search_sort_and_pages_postgres() {
    messages_list_search_sort_and_pages(Backend::Postgres).await;
}

#[tokio::test]
async fn message_forms_validate_with_422_and_inline() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;

    let bad = add(&v, "   ", "").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert!(doc.exists("#f-subject[aria-invalid='true']"));
    assert!(doc.exists("#e-subject.field-error"));
    assert!(doc.exists("#f-body[aria-invalid='true']"));
    assert!(doc.exists("#e-body.field-error"));

    let long_subject = "s".repeat(256);
    let long_body = "b".repeat(100_001);
    let bad = add(&v, &long_subject, &long_body).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert!(doc.exists("#e-subject") && doc.exists("#e-body"));
    assert_eq!(
        doc.attr("#f-subject", "value").as_deref(),
        Some(long_subject.as_str()),
        "input is kept"
    );
    assert_eq!(count(&app, v.user.id).await, 0);

    // The limits themselves are fine (characters, not bytes).
    let ok = add(&v, &"é".repeat(255), &"ж".repeat(100_000)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, v.user.id).await, 1);

    // Inline validation: errors come back, nothing is saved.
    let check = v
        .post_form(
            "/messages/new?validate=1",
            &[("subject", "Hello"), ("body", "  ")],
        )
        .await;
    assert_eq!(check.status(), StatusCode::OK);
    let doc = parse_fragment(&check.text().await.unwrap());
    assert!(doc.exists("#e-body"));
    assert!(!doc.exists("#e-subject"));
    let check = v
        .post_form(
            "/messages/new?validate=1",
            &[("subject", "Hello"), ("body", "All good")],
        )
        .await;
    assert_eq!(check.status(), StatusCode::OK);
    let doc = parse_fragment(&check.text().await.unwrap());
    assert!(!doc.exists(".field-error"));
    assert_eq!(count(&app, v.user.id).await, 1);

    // An htmx submit with errors gets the form block (422 is swapped by the page's config).
    let token = v.csrf("/messages/new").await;
    let fragment = v
        .client
        .post(v.url("/messages/new"))
        .header("HX-Request", "true")
        .header("HX-Target", "message-form")
        .form(&[
            ("csrf_token", token.as_str()),
            ("subject", ""),
            ("body", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(fragment.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse_fragment(&fragment.text().await.unwrap());
    assert!(doc.exists("form #e-subject") && !doc.exists("h1"));

    // Create lands on the preview with a toast; edit saves and does the same.
    let created = add(&v, "  Welcome  ", "Hi there,\r\nthanks for joining.\r\n").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let welcome = by_subject(&app, "Welcome").await;
    assert_eq!(welcome.body, "Hi there,\nthanks for joining.");
    assert_eq!(
        created.headers()["location"],
        format!("/messages/{}", welcome.id).as_str()
    );
    let shown = parse(
        &v.get(&format!("/messages/{}", welcome.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(shown.exists(".flash.success"), "a toast after the action");

    let form = parse(
        &v.get(&format!("/messages/{}/edit", welcome.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(form.attr("#f-subject", "value").as_deref(), Some("Welcome"));
    assert_eq!(
        form.text("#f-body").as_deref(),
        Some("Hi there, thanks for joining.")
    );
    let bad_edit = v
        .post_form(
            &format!("/messages/{}/edit", welcome.id),
            &[("subject", ""), ("body", "Changed")],
        )
        .await;
    assert_eq!(bad_edit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let edit = v
        .post_form(
            &format!("/messages/{}/edit", welcome.id),
            &[("subject", "Welcome aboard"), ("body", "Changed")],
        )
        .await;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let after = message::Entity::find_by_id(welcome.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.subject.as_str(), after.body.as_str()),
        ("Welcome aboard", "Changed")
    );
    assert!(after.updated_at >= welcome.updated_at);
}

#[tokio::test]
async fn preview_shows_the_mail_as_text() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let body = "Dear reader,\n<script>alert('x')</script>\n\n<b>Bold?</b> No & never.";
    add(&v, "Hello <i>you</i>", body).await;
    let m = by_subject(&app, "Hello <i>you</i>").await;

    let page = v.get(&format!("/messages/{}", m.id)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let doc = parse(&page.text().await.unwrap());
    assert_eq!(
        doc.text(".mail-subject").as_deref(),
        Some("Hello <i>you</i>")
    );
    assert!(!doc.exists(".mail-subject i"));
    assert_eq!(
        doc.text(".mail-from").as_deref(),
        Some(app.config.mail_from.as_str())
    );
    assert_eq!(
        doc.text(".mail-to").as_deref(),
        Some("Sample Recipient <recipient@example.com>"),
        "a placeholder recipient while the address book is empty"
    );
    // The body is text: markup is shown, not run; line breaks are kept.
    let raw: String = doc
        .0
        .select(&Selector::parse(".mail-body").unwrap())
        .next()
        .expect("a mail body")
        .text()
        .collect();
    assert_eq!(raw, body);
    assert!(raw.contains("<script>"));
    assert!(!doc.exists(".mail-body script") && !doc.exists(".mail-body b"));
    assert!(doc.exists(&format!("a[href='/messages/{}/edit']", m.id)));
    assert!(doc.exists(&format!("a[href='/messages/{}/delete']", m.id)));
    assert!(doc.exists(".message-mailings p.muted"), "no mailing yet");

    // With clients, the first one is the example recipient; mailings using it are listed.
    v.post_form(
        "/clients/new",
        &[
            ("email", "bob@example.com"),
            ("full_name", "Bob Stone"),
            ("comment", ""),
        ],
    )
    .await;
    v.post_form(
        "/clients/new",
        &[
            ("email", "amy@example.com"),
            ("full_name", "Amy Moss"),
            ("comment", ""),
        ],
    )
    .await;
    let used = add_mailing(&app, v.user.id, m.id).await;
    let doc = parse(
        &v.get(&format!("/messages/{}", m.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        doc.text(".mail-to").as_deref(),
        Some("Bob Stone <bob@example.com>")
    );
    assert!(doc.exists(&format!(
        ".message-mailings a[href='/mailings/{}']",
        used.id
    )));
}

#[tokio::test]
async fn deleting_a_message_asks_first_and_refuses_while_used() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    add(&v, "Free", "Nobody sends me.").await;
    add(&v, "Busy", "A mailing sends me.").await;
    let free = by_subject(&app, "Free").await;
    let busy = by_subject(&app, "Busy").await;
    let mailing = add_mailing(&app, v.user.id, busy.id).await;

    let confirm = parse(
        &v.get(&format!("/messages/{}/delete", free.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(confirm.exists(&format!(
        "form[action='/messages/{}/delete'] button",
        free.id
    )));
    assert_eq!(
        count(&app, v.user.id).await,
        2,
        "the confirmation deletes nothing"
    );
    let deleted = v
        .post_form(&format!("/messages/{}/delete", free.id), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(deleted.headers()["location"], "/messages");
    assert_eq!(count(&app, v.user.id).await, 1);
    let list = parse(&v.get("/messages").await.text().await.unwrap());
    assert!(list.exists(".flash.success"));

    // A message a mailing sends: the page says which mailing and offers no delete button.
    let confirm = parse(
        &v.get(&format!("/messages/{}/delete", busy.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(!confirm.exists("form[action$='/delete']"));
    assert!(
        confirm
            .text(".flash.error")
            .unwrap()
            .contains(&format!("“{}”", mailing.name))
    );
    assert!(confirm.exists(&format!("a[href='/mailings/{}']", mailing.id)));
    let refused = v
        .post_form(&format!("/messages/{}/delete", busy.id), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let doc = parse(&refused.text().await.unwrap());
    assert!(
        doc.text("main")
            .unwrap()
            .contains(&format!("used by mailing “{}”", mailing.name))
    );
    assert_eq!(count(&app, v.user.id).await, 1, "still there");

    // Once the mailing is gone, the message may go too.
    mailing::Entity::delete_by_id(mailing.id)
        .exec(&app.state.db)
        .await
        .unwrap();
    let deleted = v
        .post_form(&format!("/messages/{}/delete", busy.id), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, v.user.id).await, 0);
}

#[tokio::test]
async fn other_users_messages_are_not_found() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let eve = sign_in_new(&app, "eve@example.com", Role::User).await;
    add(&ann, "Private plans", "Secret text.").await;
    let m = by_subject(&app, "Private plans").await;

    for path in ["", "/edit", "/delete"] {
        let url = format!("/messages/{}{path}", m.id);
        let response = eve.get(&url).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {url}");
        let doc = parse(&response.text().await.unwrap());
        assert_eq!(doc.text("main h1").as_deref(), Some("Page not found"));
    }
    for path in ["/edit", "/edit?validate=1", "/delete"] {
        let url = format!("/messages/{}{path}", m.id);
        let response = eve
            .post_form(&url, &[("subject", "Mine now"), ("body", "Overwritten")])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "POST {url}");
    }
    let after = by_subject(&app, "Private plans").await;
    assert_eq!((after.subject, after.body), (m.subject, m.body));

    let list = parse(&eve.get("/messages").await.text().await.unwrap());
    assert!(!list.exists("tbody tr"));
    assert!(list.exists(".empty"));
    let search = rows(&eve, "/messages?q=private").await;
    assert!(!search.exists("tbody tr"));

    // The owner still sees it.
    let list = parse(&ann.get("/messages").await.text().await.unwrap());
    assert_eq!(
        list.texts("tbody tr td:nth-child(1)"),
        vec!["Private plans"]
    );
}
