//! The sender identity (issue 25, item 5): a user's display name and postal line, and a
//! reply-to address that is used only once the link mailed to it is followed.

use mailer_tests::{Backend, spawn_app};
use reqwest::StatusCode;

use crate::accounts::{
    Browser, PASSWORD, assert_redirect, doc, find_user, flash, invalid_fields, mailed_link, mails,
    make_user, start_worker,
};

async fn a_reply_to_address_is_used_once_confirmed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    let email = "shop@example.com";
    make_user(&app, email, true).await;
    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");

    // Bad input is shown beside each field, and nothing is saved.
    let response = browser
        .post(
            "/account/sender",
            &[
                ("sender_name", "Shop\r\nBcc: all@example.com"),
                ("reply_to", "not-an-address"),
                ("postal_address", "1 Main St\n2nd line"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = doc(response).await;
    let mut fields = invalid_fields(&page);
    fields.sort();
    assert_eq!(fields, ["postal_address", "reply_to", "sender_name"]);
    assert_eq!(find_user(&app, email).await.unwrap().sender_name, "");
    let response = browser
        .post(
            "/account/sender",
            &[("sender_name", "Eve <ceo@bank.example>")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A good form saves the name and postal line at once; the reply-to waits for its link.
    let response = browser
        .post(
            "/account/sender",
            &[
                ("sender_name", "Цветочная лавка"),
                ("reply_to", "Help@Shop.example"),
                ("postal_address", "1 Main St, Springfield"),
            ],
        )
        .await;
    assert_redirect(&response, "/account#sender");
    let user = find_user(&app, email).await.unwrap();
    assert_eq!(user.sender_name, "Цветочная лавка");
    assert_eq!(user.postal_address, "1 Main St, Springfield");
    assert_eq!(user.reply_to, None, "not used before it is confirmed");
    let (_, account) = browser.page("/account").await;
    assert!(
        flash(&account, "success").is_some_and(|f| f.contains("help@shop.example")),
        "the flash names the address"
    );
    let from = account.text("#sender").unwrap_or_default();
    assert!(from.contains("Цветочная лавка <noreply@"), "{from}");

    let mail = &mails(&app, 1).await[0];
    assert_eq!(
        mail.to,
        ["help@shop.example"],
        "the link goes to the new address"
    );
    let link = mailed_link(&app, mail, "/account/reply-to/");

    // A tampered link does nothing; the real one works without signing in, twice.
    let (status, _) = browser.page(&format!("{link}x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(find_user(&app, email).await.unwrap().reply_to, None);
    let stranger = Browser::new(&app).await;
    for _ in 0..2 {
        let (status, page) = stranger.page(&link).await;
        assert_eq!(status, StatusCode::OK);
        let text = page.text("article").unwrap_or_default();
        assert!(text.contains("help@shop.example"), "{text}");
    }
    assert_eq!(
        find_user(&app, email).await.unwrap().reply_to.as_deref(),
        Some("help@shop.example")
    );

    // Saving it again mails nothing; clearing it stops using it.
    let same = [
        ("sender_name", "Цветочная лавка"),
        ("reply_to", "help@shop.example"),
        ("postal_address", ""),
    ];
    assert_redirect(
        &browser.post("/account/sender", &same).await,
        "/account#sender",
    );
    let cleared = [
        ("sender_name", ""),
        ("reply_to", ""),
        ("postal_address", ""),
    ];
    assert_redirect(
        &browser.post("/account/sender", &cleared).await,
        "/account#sender",
    );
    let user = find_user(&app, email).await.unwrap();
    assert_eq!((user.reply_to, user.sender_name), (None, String::new()));
    crate::accounts::assert_no_more_mail(&app, 1).await;
}

#[tokio::test]
async fn a_reply_to_address_is_used_once_confirmed_sqlite() {
    a_reply_to_address_is_used_once_confirmed(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reply_to_address_is_used_once_confirmed_postgres() {
    a_reply_to_address_is_used_once_confirmed(Backend::Postgres).await;
}

#[tokio::test]
async fn the_sender_form_needs_a_signed_in_user_and_a_csrf_token() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let response = app
        .client
        .post(app.url("/account/sender"))
        .form(&[("sender_name", "X")])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_client_error() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let browser = Browser::new(&app).await;
    let (status, _) = browser.page("/account/sender").await;
    assert_ne!(status, StatusCode::OK, "the form is for signed-in users");
}
