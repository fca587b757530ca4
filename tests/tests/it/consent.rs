//! A recipient can say stop: every mailing e-mail carries a signed one-click unsubscribe
//! link (RFC 8058), the link's page changes nothing on GET, a POST without any cookie
//! unsubscribes at once, and the owner never mails that address again — even after
//! deleting and importing the client again — until the recipient takes it back.

use std::time::Duration;

use mailer::delivery::stop::SUPPRESSED;
use mailer::entities::client;
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::suppression::{self, Reason};
use mailer::entities::user::Role;
use mailer_tests::app::eventually;
use mailer_tests::html::parse;
use mailer_tests::smtp::ReceivedMail;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, ModelTrait, QueryFilter};

use crate::mailings::insert_client;
use crate::outage::worker;
use crate::stop::mailing_now;

/// A once-mailing of `v` to `clients` that starts now, and waits until none of its
/// deliveries is pending. Returns its rows.
async fn send_to(
    app: &TestApp,
    v: &Visitor,
    clients: &[i32],
    subject: &str,
) -> Vec<delivery::Model> {
    let id = mailing_now(app, v, clients, subject).await;
    eventually(Duration::from_secs(30), "the mailing settled", || async {
        let rows = delivery::Entity::find()
            .filter(delivery::Column::MailingId.eq(id))
            .all(&app.state.db)
            .await
            .unwrap();
        (rows.len() == clients.len() && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
            .then_some(rows)
    })
    .await
}

/// The value of header `name` in a raw message.
fn header<'a>(mail: &'a ReceivedMail, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}: ");
    mail.data
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(prefix.as_str()))
}

/// The unsubscribe token of the mail to `to` with `subject` in its headers.
fn token_in(mails: &[ReceivedMail], to: &str) -> String {
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to.iter().any(|t| t == to))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    assert_eq!(
        header(mail, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click"),
        "RFC 8058 one-click"
    );
    let link = header(mail, "List-Unsubscribe").expect("List-Unsubscribe header");
    // `<https://…>, <mailto:…>`: the link comes first.
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .map(|(url, _)| url)
        .unwrap_or_else(|| panic!("not <url>: {link}"));
    let (_, token) = url
        .split_once("/unsubscribe/")
        .unwrap_or_else(|| panic!("not an unsubscribe link: {url}"));
    token.to_owned()
}

async fn suppressions(app: &TestApp) -> Vec<suppression::Model> {
    suppression::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn recipient_unsubscribes_with_one_click_and_is_not_mailed_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let ann = insert_client(&app, v.user.id, "ann@example.com").await;
    let bob = insert_client(&app, v.user.id, "bob@example.com").await;
    let _worker = worker(&app, "worker.log");

    send_to(&app, &v, &[ann, bob], "First").await;
    let mails = app.smtp.messages();
    assert_eq!(mails.len(), 2);
    assert!(
        mails.iter().all(|m| m.data.contains("unsubscribe")),
        "the text says how to unsubscribe"
    );
    let token = token_in(&mails, "ann@example.com");
    assert_ne!(
        token,
        token_in(&mails, "bob@example.com"),
        "one link per recipient"
    );

    // A stranger's browser, or the mail provider: no cookie, no CSRF token.
    let anyone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let link = app.url(&format!("/unsubscribe/{token}"));
    // Mail scanners follow links: GET changes nothing.
    let ask = anyone.get(&link).send().await.unwrap();
    assert_eq!(ask.status(), StatusCode::OK);
    let page = parse(&ask.text().await.unwrap());
    assert_eq!(page.attr("article", "data-step").as_deref(), Some("ask"));
    assert_eq!(page.text(".email").as_deref(), Some("a***@example.com"));
    assert!(suppressions(&app).await.is_empty(), "GET changed nothing");

    // The provider's one-click POST (RFC 8058), twice: one entry.
    for _ in 0..2 {
        let done = anyone
            .post(&link)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK);
        let page = parse(&done.text().await.unwrap());
        assert_eq!(
            page.attr("article", "data-step").as_deref(),
            Some("unsubscribed")
        );
    }
    let list = suppressions(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].owner_id, list[0].email.as_str(), list[0].reason),
        (v.user.id, "ann@example.com", Reason::Unsubscribed)
    );

    // A forged or mangled token does nothing.
    let mangled = format!("{}x", &token[..token.len() - 1]);
    for bad in [mangled.as_str(), "nonsense", "a.b"] {
        let r = anyone
            .post(app.url(&format!("/unsubscribe/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(suppressions(&app).await.len(), 1);

    // The next mailing skips Ann and sends to Bob.
    app.smtp.take_messages();
    let rows = send_to(&app, &v, &[ann, bob], "Second").await;
    let skipped: Vec<_> = rows
        .iter()
        .filter(|d| d.status == DeliveryStatus::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].client_id, ann);
    assert_eq!(skipped[0].last_error.as_deref(), Some(SUPPRESSED));
    let mails = app.smtp.messages();
    assert_eq!(
        mails.iter().map(|m| m.to.clone()).collect::<Vec<_>>(),
        [vec!["bob@example.com".to_owned()]]
    );

    // Deleted and imported again (in other letters): still unsubscribed.
    let row = client::Entity::find_by_id(ann)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    row.delete(&app.state.db).await.unwrap();
    let gone = anyone.get(&link).send().await.unwrap();
    let page = parse(&gone.text().await.unwrap());
    assert_eq!(page.attr("article", "data-step").as_deref(), Some("gone"));
    let ann_again = insert_client(&app, v.user.id, "Ann@Example.com").await;
    app.smtp.take_messages();
    let rows = send_to(&app, &v, &[ann_again, bob], "Third").await;
    assert_eq!(
        rows.iter()
            .filter(|d| d.status == DeliveryStatus::Skipped)
            .map(|d| d.client_id)
            .collect::<Vec<_>>(),
        [ann_again]
    );

    // The recipient takes it back, from the link of the mail they got then.
    let again = app.url(&format!(
        "/unsubscribe/{}",
        mailer::consent::token(
            &app.state.secret_key,
            mailer::consent::Recipient {
                owner_id: v.user.id,
                client_id: ann_again,
                mailing_id: None,
            },
        )
    ));
    let ask = parse(
        &anyone
            .get(&again)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        ask.attr("article", "data-step").as_deref(),
        Some("unsubscribed"),
        "the page says so, with the undo"
    );
    let undo = anyone.post(format!("{again}/undo")).send().await.unwrap();
    assert_eq!(undo.status(), StatusCode::OK);
    assert!(suppressions(&app).await.is_empty());
    app.smtp.take_messages();
    let rows = send_to(&app, &v, &[ann_again, bob], "Fourth").await;
    assert!(rows.iter().all(|d| d.status == DeliveryStatus::Sent));
}

#[tokio::test]
async fn recipient_unsubscribes_with_one_click_and_is_not_mailed_again_sqlite() {
    recipient_unsubscribes_with_one_click_and_is_not_mailed_again(Backend::Sqlite).await;
}

#[tokio::test]
async fn recipient_unsubscribes_with_one_click_and_is_not_mailed_again_postgres() {
    recipient_unsubscribes_with_one_click_and_is_not_mailed_again(Backend::Postgres).await;
}
