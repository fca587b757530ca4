//! Russian and English: the language a page is in (the account's setting, else the
//! switcher's cookie, else `Accept-Language`, else English), the anonymous pages cached per
//! language, plural forms in a count spliced into a cached page, and account e-mails in the
//! account's language.

use mailer::entities::user::{self, Role};
use mailer::i18n::Lang;
use mailer_tests::html::parse;
use mailer_tests::users::{new_client, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::accounts::{Browser, location, mails, signup_form, start_worker};
use crate::blog::{cache_status, published};

/// GET `path` as a new anonymous visitor whose browser asks for `accept` (and sends the
/// switcher's cookie when `cookie` is set): `(X-Cache, <html lang>, body)`.
async fn visit(
    app: &TestApp,
    path: &str,
    accept: Option<&str>,
    cookie: Option<&str>,
) -> (String, String, String) {
    let mut request = new_client().get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("Accept-Language", accept);
    }
    if let Some(lang) = cookie {
        request = request.header("Cookie", format!("lang={lang}"));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let cache = cache_status(&response);
    let body = response.text().await.unwrap();
    let lang = parse(&body).attr("html", "lang").unwrap_or_default();
    (cache, lang, body)
}

fn nav_blog(body: &str) -> String {
    parse(body)
        .texts("header.site a[href='/blog']")
        .first()
        .cloned()
        .unwrap_or_default()
}

async fn anonymous_pages_follow_the_browser_and_the_switcher(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    published(&app, "first-post", "First post", 2).await;

    // The browser's language; a language we do not have falls back to English.
    let (cache, lang, body) = visit(&app, "/", Some("ru-RU,ru;q=0.9,en;q=0.5"), None).await;
    assert_eq!((cache.as_str(), lang.as_str()), ("miss", "ru"));
    assert_eq!(nav_blog(&body), "Блог");
    // English is cached apart from Russian: its first view computes its own page.
    let (cache, lang, body) = visit(&app, "/", Some("de-DE,de"), None).await;
    assert_eq!((cache.as_str(), lang.as_str()), ("miss", "en"));
    assert_eq!(nav_blog(&body), "Blog");
    for (accept, want_lang, want_word) in [(Some("ru"), "ru", "Блог"), (None, "en", "Blog")] {
        let (cache, lang, body) = visit(&app, "/", accept, None).await;
        assert_eq!((cache.as_str(), lang.as_str()), ("hit", want_lang));
        assert_eq!(nav_blog(&body), want_word);
    }

    // The switcher: a link that sets the cookie and comes back; the cookie beats the
    // browser.
    let response = new_client()
        .get(app.url("/language/ru?next=/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location_of(&response), "/blog");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("lang=ru;"), "{cookie}");
    let (_, lang, body) = visit(&app, "/blog", Some("en"), Some("ru")).await;
    assert_eq!(lang, "ru");
    assert!(parse(&body).text("h1").unwrap().contains("Блог"));
    let (_, lang, _) = visit(&app, "/blog", Some("ru"), Some("en")).await;
    assert_eq!(lang, "en");
    // Every page has the switcher, naming each language in itself.
    let links = parse(&body).attrs(".lang-switch a", "href");
    assert_eq!(
        links,
        ["/language/en?next=/blog", "/language/ru?next=/blog"]
    );

    // Not a language, or a way off the site: no.
    let response = new_client()
        .get(app.url("/language/de"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for next in ["//evil.example", "https://evil.example/", "/\\evil.example"] {
        let response = new_client()
            .get(app.url("/language/en"))
            .query(&[("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(location_of(&response), "/", "{next}");
    }

    // A count spliced into a cached page takes the plural form its number needs.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (_, _, body) = visit(&app, "/blog/first-post", Some("ru"), None).await;
        seen.push(parse(&body).text(".views").unwrap());
    }
    assert_eq!(
        seen,
        [
            "1 просмотр",
            "2 просмотра",
            "3 просмотра",
            "4 просмотра",
            "5 просмотров"
        ]
    );
    let (_, _, body) = visit(&app, "/blog/first-post", None, None).await;
    assert_eq!(parse(&body).text(".views").unwrap(), "6 views");
}

fn location_of(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn anonymous_pages_follow_the_browser_and_the_switcher_sqlite() {
    anonymous_pages_follow_the_browser_and_the_switcher(Backend::Sqlite).await;
}

#[tokio::test]
async fn anonymous_pages_follow_the_browser_and_the_switcher_postgres() {
    anonymous_pages_follow_the_browser_and_the_switcher(Backend::Postgres).await;
}

async fn language_of(app: &TestApp, id: i32) -> Option<String> {
    user::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .language
}

#[tokio::test]
async fn the_accounts_language_wins_over_the_browser_and_its_mail_follows() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let _worker = start_worker(&app);

    // Registering in Russian makes a Russian account, and its confirmation mail is Russian.
    let browser = Browser::new(&app).await;
    let response = browser
        .client
        .post(app.url("/register"))
        .query(&[("csrf_token", csrf_of(&browser).await)])
        .header("Accept-Language", "ru")
        .multipart(signup_form(
            "olga@example.com",
            "a long enough passphrase 7",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mail = &mails(&app, 1).await[0];
    let russian = app
        .state
        .templates
        .catalog()
        .message(Lang::Ru, "mail-subject-verify", None)
        .unwrap();
    assert_eq!(mail.subject().as_deref(), Some(russian.as_str()));
    assert!(
        mail.body_text().contains("Здравствуйте"),
        "{}",
        mail.body_text()
    );

    // A signed-in user's setting beats the browser; "as my browser asks" gives it back.
    let visitor = sign_in_new(&app, "ivan@example.com", Role::User).await;
    let page_lang = |accept: &'static str| {
        let client = visitor.client.clone();
        let url = visitor.url("/dashboard");
        async move {
            let body = client
                .get(url)
                .header("Accept-Language", accept)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            parse(&body).attr("html", "lang").unwrap()
        }
    };
    assert_eq!(page_lang("ru").await, "ru");
    assert_eq!(page_lang("en").await, "en");
    let response = visitor
        .post_form(
            "/account/language",
            &[("language", "ru"), ("next", "/clients")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/clients");
    assert_eq!(
        language_of(&app, visitor.user.id).await.as_deref(),
        Some("ru")
    );
    assert_eq!(page_lang("en").await, "ru");
    // The signed-in switcher is a form with the CSRF token, not a link.
    let body = visitor.get("/clients").await.text().await.unwrap();
    let doc = parse(&body);
    assert!(doc.exists("form.lang-switch input[name='csrf_token']"));
    assert_eq!(doc.attrs("form.lang-switch button", "value"), ["en", "ru"]);
    // The account page shows the setting as a form of its own.
    let body = visitor.get("/account").await.text().await.unwrap();
    let doc = parse(&body);
    assert_eq!(
        doc.attr("#account-language select option[selected]", "value")
            .as_deref(),
        Some("ru")
    );
    assert_eq!(
        doc.attrs("#account-language option", "value"),
        ["", "en", "ru"]
    );
    let response = visitor
        .post_form("/account/language", &[("language", "")])
        .await;
    assert_eq!(location(&response), "/");
    assert_eq!(language_of(&app, visitor.user.id).await, None);
    assert_eq!(page_lang("en").await, "en");
    // Not a language: refused, nothing changed.
    let response = visitor
        .post_form("/account/language", &[("language", "de")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(language_of(&app, visitor.user.id).await, None);
    // Without the CSRF token: refused.
    let response = visitor
        .client
        .post(visitor.url("/account/language"))
        .form(&[("language", "ru")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(language_of(&app, visitor.user.id).await, None);
}

async fn csrf_of(browser: &Browser<'_>) -> String {
    let body = browser.get("/login").await.text().await.unwrap();
    parse(&body)
        .attr("input[name='csrf_token']", "value")
        .unwrap()
}
