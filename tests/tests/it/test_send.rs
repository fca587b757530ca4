//! "Send a test to me" (issue 25, item 4) and the sender identity in what goes out
//! (item 5): a test renders the message for a picked client with their attributes, goes at
//! once to the owner's own address marked "[Test]", leaves no delivery or attempt and is
//! limited per user; real deliveries carry the owner's display name beside the instance's
//! address, their confirmed Reply-To and their postal line.

use std::time::Duration;

use chrono::Duration as Span;
use mailer::entities::user::Role;
use mailer::entities::{attempt, delivery, user};
use mailer_tests::app::Child;
use mailer_tests::html::parse;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait, Set};

use crate::accounts::{assert_redirect, flash};
use crate::mailings::{client_id, create_mailing};

async fn count_rows(app: &TestApp) -> (u64, u64) {
    (
        delivery::Entity::find().count(&app.state.db).await.unwrap(),
        attempt::Entity::find().count(&app.state.db).await.unwrap(),
    )
}

async fn a_test_goes_to_the_owner_and_mailings_carry_their_identity(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "shop@example.com", Role::User).await;
    let saved = v
        .post_form(
            "/account/sender",
            &[
                ("sender_name", "Цветочная лавка"),
                ("reply_to", ""),
                ("postal_address", "1 Main St, Springfield"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    // The reply-to address as if its link had been followed (see `sender::`).
    let mut owner = user::Entity::find_by_id(v.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    owner.reply_to = Set(Some("help@shop.example".into()));
    owner.update(&app.state.db).await.unwrap();

    let r = v
        .post_form(
            "/clients/new",
            &[
                ("email", "anna@client.test"),
                ("full_name", "Анна"),
                ("attributes", "city: Berlin"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let anna = client_id(&app, v.user.id, "anna@client.test").await;
    let r = v
        .post_form(
            "/messages/new",
            &[
                (
                    "subject",
                    "Hello {{ client.full_name }} in {{ client.attributes.city }}",
                ),
                ("body", "Regards,\n{{ sender.name }}"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = r.headers()["location"].to_str().unwrap().to_owned();
    let message: i32 = page.rsplit('/').next().unwrap().parse().unwrap();

    // The message page shows who it comes from and the button.
    let html = v
        .get(&format!("{page}?client={anna}"))
        .await
        .text()
        .await
        .unwrap();
    let doc = parse(&html);
    let from = doc.text(".mail-from").unwrap_or_default();
    assert!(
        from.contains("Цветочная лавка") && from.contains("noreply@"),
        "{from}"
    );
    assert_eq!(
        doc.text(".mail-reply-to").as_deref(),
        Some("Цветочная лавка <help@shop.example>")
    );
    assert!(doc.exists(&format!(
        "form[action='/messages/{message}/test'] input[name=client][value='{anna}']"
    )));

    let anna_s = anna.to_string();
    let test = |client: String| {
        let v = &v;
        let path = format!("/messages/{message}/test");
        async move { v.post_form(&path, &[("client", client.as_str())]).await }
    };
    let r = test(anna_s.clone()).await;
    assert_redirect(&r, &format!("/messages/{message}?client={anna}"));
    let mails = app.smtp.wait_for_messages(1, Duration::from_secs(10)).await;
    let mail = &mails[0];
    assert_eq!(
        mail.to,
        ["shop@example.com"],
        "to the owner, not the client"
    );
    assert_eq!(
        mail.subject().as_deref(),
        Some("[Test] Hello Анна in Berlin")
    );
    let from = mail.header("From").unwrap_or_default();
    assert!(
        from.contains("Цветочная лавка") && from.contains("<noreply@"),
        "{from}"
    );
    assert!(
        mail.header("Reply-To")
            .unwrap_or_default()
            .contains("help@shop.example")
    );
    let text = mail.body_text();
    assert!(text.contains("Regards,\nЦветочная лавка"), "{text}");
    assert!(
        text.contains("1 Main St, Springfield"),
        "the postal line: {text}"
    );
    assert!(
        mail.html_body()
            .unwrap_or_default()
            .contains("1 Main St, Springfield")
    );
    assert_eq!(
        count_rows(&app).await,
        (0, 0),
        "no delivery, no attempt: not in reports"
    );
    // Its unsubscribe link is a stand-in that says so.
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/unsubscribe/"))
        .expect("an unsubscribe link");
    let stand_in = app.client.get(&link).send().await.unwrap();
    assert_eq!(stand_in.status(), StatusCode::OK);
    assert!(stand_in.text().await.unwrap().contains("This is a test"));

    // Somebody else's client or message is a 404, and sends nothing.
    let other = sign_in_new(&app, "other@example.com", Role::User).await;
    let r = other
        .post_form(
            &format!("/messages/{message}/test"),
            &[("client", anna_s.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = other
        .post_form(
            "/clients/new",
            &[("email", "x@client.test"), ("full_name", "X")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let theirs = client_id(&app, other.user.id, "x@client.test").await;
    assert_eq!(
        test(theirs.to_string()).await.status(),
        StatusCode::NOT_FOUND
    );

    // Five per window: the sixth says so and sends nothing.
    for _ in 0..4 {
        assert_eq!(test(anna_s.clone()).await.status(), StatusCode::SEE_OTHER);
    }
    app.smtp.wait_for_messages(5, Duration::from_secs(10)).await;
    let r = test(anna_s.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let shown = parse(&v.get(&page).await.text().await.unwrap());
    assert!(
        flash(&shown, "error").is_some_and(|f| f.contains("tests in the last 10 minutes")),
        "the limit is explained"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.messages().len(), 5);

    // A real mailing carries the same identity, without the mark.
    let _worker = Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker.log"),
    );
    let created = create_mailing(
        &v,
        message,
        &[anna],
        -Span::minutes(1),
        Span::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let mails = app.smtp.wait_for_messages(6, Duration::from_secs(30)).await;
    let mail = mails
        .iter()
        .find(|m| m.to == ["anna@client.test"])
        .expect("the delivery");
    assert_eq!(mail.subject().as_deref(), Some("Hello Анна in Berlin"));
    let from = mail.header("From").unwrap_or_default();
    assert!(
        from.contains("Цветочная лавка") && from.contains("<noreply@"),
        "{from}"
    );
    assert!(
        mail.header("Reply-To")
            .unwrap_or_default()
            .contains("help@shop.example")
    );
    assert!(mail.body_text().contains("1 Main St, Springfield"));
}

#[tokio::test]
async fn a_test_goes_to_the_owner_and_mailings_carry_their_identity_sqlite() {
    a_test_goes_to_the_owner_and_mailings_carry_their_identity(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_test_goes_to_the_owner_and_mailings_carry_their_identity_postgres() {
    a_test_goes_to_the_owner_and_mailings_carry_their_identity(Backend::Postgres).await;
}
