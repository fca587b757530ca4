//! Russian and English: the language a page is in (the account's setting, else the
//! switcher's cookie, else `Accept-Language`, else English), the anonymous pages cached per
//! language, plural forms in a count spliced into a cached page, and account e-mails in the
//! account's language.

use mailer::entities::user::{self, Role};
use mailer::i18n::Lang;
use mailer_tests::html::parse;
use mailer_tests::users::{Visitor, new_client, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::accounts::{Browser, location, mails, signup_form, start_worker};
use crate::blog::{cache_status, published};
use crate::mailings::{create_mailing, make_clients, make_message};

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

/// A new signed-in user of `role` whose account is set to Russian.
async fn russian(app: &TestApp, email: &str, role: Role) -> Visitor {
    let visitor = sign_in_new(app, email, role).await;
    let response = visitor
        .post_form("/account/language", &[("language", "ru")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    visitor
}

/// The success flash message of the page at `path`, without its close button.
async fn flash_of(visitor: &Visitor, path: &str) -> Option<String> {
    let body = visitor.get(path).await.text().await.unwrap();
    parse(&body)
        .text(".flash.success")
        .map(|t| t.trim_end_matches('×').trim().to_owned())
}

/// A refused form (422) and the message beside its `field`.
async fn error_beside(response: reqwest::Response, field: &str) -> Option<String> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    parse(&response.text().await.unwrap()).text(&format!("#e-{field}"))
}

/// The admin's own messages with values (a form error, the flash of an addition and of a
/// bulk delete) come in the manager's language: the admin crate gives them as ids with
/// values, which the site's catalog writes out.
async fn a_russian_manager_gets_the_admins_messages_in_russian(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let manager = russian(&app, "boss@example.com", Role::Manager).await;
    let too_long = format!("{}@example.com", "a".repeat(250));
    let response = manager
        .post_form(
            "/admin/global_suppressions/add/",
            &[("email", &too_long), ("reason", "listed"), ("detail", "")],
        )
        .await;
    assert_eq!(
        error_beside(response, "email").await.as_deref(),
        Some("Не больше 254 символов.")
    );

    let response = manager
        .post_form(
            "/admin/global_suppressions/add/",
            &[
                ("email", "spam@example.com"),
                ("reason", "listed"),
                ("detail", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        flash_of(&manager, "/admin/global_suppressions/")
            .await
            .as_deref(),
        Some("Запись общего стоп-листа «spam@example.com»: добавлено.")
    );
    let id = mailer::entities::global_suppression::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let response = manager
        .post_form(
            "/admin/global_suppressions/",
            &[
                ("action", "delete_selected"),
                ("_selected", &id),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        flash_of(&manager, "/admin/global_suppressions/")
            .await
            .as_deref(),
        Some("Общий стоп-лист: удалён 1 объект.")
    );

    // An English manager reads the same messages in English.
    let english = sign_in_new(&app, "chief@example.com", Role::Manager).await;
    let response = english
        .post_form(
            "/admin/global_suppressions/add/",
            &[("email", &too_long), ("reason", "listed"), ("detail", "")],
        )
        .await;
    assert_eq!(
        error_beside(response, "email").await.as_deref(),
        Some("At most 254 characters.")
    );
}

#[tokio::test]
async fn a_russian_manager_gets_the_admins_messages_in_russian_sqlite() {
    a_russian_manager_gets_the_admins_messages_in_russian(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_russian_manager_gets_the_admins_messages_in_russian_postgres() {
    a_russian_manager_gets_the_admins_messages_in_russian(Backend::Postgres).await;
}

/// A validation message that quotes the bad input is written out in the user's language.
async fn a_russian_users_bad_input_gets_a_russian_message(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = russian(&app, "olga@example.com", Role::User).await;
    let response = user
        .post_form(
            "/clients/new",
            &[
                ("email", "bob@example.com"),
                ("full_name", "Bob"),
                ("comment", ""),
                ("attributes", "plan: gold\n1st: x"),
            ],
        )
        .await;
    assert_eq!(
        error_beside(response, "attributes").await.as_deref(),
        Some("Строка 2: Имя «1st» должно начинаться с латинской буквы (a–z).")
    );
    // A mistake in a message's template: located, in Russian, the hint kept as typed.
    let response = user
        .post_form(
            "/messages/new",
            &[
                ("subject", "{{ client.email | upperr }}"),
                ("body", "Hi!\n{{ name }}"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = parse(&response.text().await.unwrap());
    assert_eq!(
        page.text("#e-subject").as_deref(),
        Some("Строка 1, столбец 19: Неизвестный фильтр `upperr`.")
    );
    assert_eq!(
        page.text("#e-body").as_deref(),
        Some(
            "Строка 2, столбец 4: Неизвестная переменная `name`. Может быть, вы имели в виду \
             {{ client.full_name }}?"
        )
    );
}

#[tokio::test]
async fn a_russian_users_bad_input_gets_a_russian_message_sqlite() {
    a_russian_users_bad_input_gets_a_russian_message(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_russian_users_bad_input_gets_a_russian_message_postgres() {
    a_russian_users_bad_input_gets_a_russian_message(Backend::Postgres).await;
}

/// The foot of a mailing's e-mail (text and HTML part) is in its owner's language: one
/// Russian owner, one who chose none (English).
async fn the_mailing_foot_speaks_the_owners_language(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let olga = russian(&app, "olga@example.com", Role::User).await;
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    for (owner, tag) in [(&olga, "ru"), (&ann, "en")] {
        let clients = make_clients(&app, owner, tag, 1).await;
        let message = make_message(&app, owner.user.id, "News").await;
        let created = create_mailing(
            owner,
            message.id,
            &clients,
            -chrono::Duration::minutes(1),
            chrono::Duration::days(1),
            "once",
        )
        .await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
    }
    let _worker = start_worker(&app);
    let mails = app
        .smtp
        .wait_for_messages(2, std::time::Duration::from_secs(30))
        .await;
    for (to, tag, lead, link) in [
        (
            "ru0@example.com",
            "ru",
            "Чтобы больше не получать эти письма, отпишитесь: ",
            "отпишитесь",
        ),
        (
            "en0@example.com",
            "en",
            "To stop getting these e-mails, unsubscribe: ",
            "unsubscribe",
        ),
    ] {
        let mail = mails
            .iter()
            .find(|m| m.to.iter().any(|t| t == to))
            .unwrap_or_else(|| panic!("no e-mail to {to}"));
        let text = mail.body_text();
        let foot = text.rsplit("-- \n").next().unwrap_or_default();
        assert!(foot.starts_with(lead), "{to}: {text}");
        let html = parse(&mail.html_body().expect("an HTML part"));
        assert_eq!(html.attr("html", "lang").as_deref(), Some(tag), "{to}");
        let unsubscribe = html.attrs("a", "href").pop().unwrap_or_default();
        assert!(unsubscribe.contains("/unsubscribe/"), "{to}: {unsubscribe}");
        assert_eq!(html.texts("a").pop().as_deref(), Some(link), "{to}");
    }
}

#[tokio::test]
async fn the_mailing_foot_speaks_the_owners_language_sqlite() {
    the_mailing_foot_speaks_the_owners_language(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_mailing_foot_speaks_the_owners_language_postgres() {
    the_mailing_foot_speaks_the_owners_language(Backend::Postgres).await;
}

/// The text of the error flash on the page at `path`, without its close button.
async fn error_flash_of(visitor: &Visitor, path: &str) -> Option<String> {
    let body = visitor.get(path).await.text().await.unwrap();
    parse(&body)
        .text(".flash.error")
        .map(|t| t.trim_end_matches('×').trim().to_owned())
}

/// A test send of a message whose template is broken (saved before templates were
/// checked) explains why in the user's language all the way down: the flash, the reason
/// inside it, the field and the mistake inside that (phrases nested four deep).
async fn a_russian_users_failed_test_send_is_explained_in_russian(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = russian(&app, "olga@example.com", Role::User).await;
    let message =
        crate::mailings::insert_message(&app, user.user.id, "Новости", "Привет, {{ client.").await;
    let page = format!("/messages/{}", message.id);
    let response = user.post_form(&format!("{page}/test"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shown = error_flash_of(&user, &page).await.unwrap_or_default();
    let lead = "Сообщение не удаётся собрать: в шаблоне сообщения ошибка (исправьте сообщение): \
                текст: Строка 1, столбец ";
    assert!(shown.starts_with(lead), "{shown}");
    assert!(
        shown.contains("Синтаксическая ошибка (описание MiniJinja, по-английски): "),
        "{shown}"
    );
    // Only MiniJinja's quoted detail (and its name) is in Latin letters.
    let ours = shown
        .split(" (описание MiniJinja")
        .next()
        .unwrap_or_default();
    assert!(
        !ours.chars().any(|c| c.is_ascii_alphabetic()),
        "English words in {ours:?}"
    );
    assert!(app.smtp.messages().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_russian_users_failed_test_send_is_explained_in_russian_sqlite() {
    a_russian_users_failed_test_send_is_explained_in_russian(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_russian_users_failed_test_send_is_explained_in_russian_postgres() {
    a_russian_users_failed_test_send_is_explained_in_russian(Backend::Postgres).await;
}

/// A delivery that fails in our own words (here a client's name with a line break, saved
/// before names were checked) keeps them as a phrase beside the English `response`: the
/// owner's pages (the mailing's report, the dashboard, the reports) and a manager's
/// attempt list show it in the reader's language; the CSV (and the API) keep English.
async fn a_deliverys_own_reason_is_shown_in_the_readers_language(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = russian(&app, "olga@example.com", Role::User).await;
    let client = crate::mailings::insert_named_client(
        &app,
        owner.user.id,
        "eve@example.com",
        "Eve\r\nBcc: victim@example.net",
    )
    .await;
    let message = make_message(&app, owner.user.id, "News").await;
    let created = create_mailing(
        &owner,
        message.id,
        &[client],
        -chrono::Duration::minutes(1),
        chrono::Duration::days(1),
        "once",
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let _worker = start_worker(&app);
    let failed = mailer_tests::app::eventually(
        std::time::Duration::from_secs(30),
        "the delivery's attempt",
        || {
            let app = &app;
            async move {
                let log = mailer::entities::attempt::Entity::find()
                    .all(&app.state.db)
                    .await
                    .unwrap();
                log.into_iter().next()
            }
        },
    )
    .await;
    let english = "the client's name has a line break, which cannot go in the To header: \
                   edit the client's name";
    let in_russian = "в имени клиента есть перевод строки, а в заголовок To его поставить \
                      нельзя: исправьте имя клиента";
    assert_eq!(failed.response.as_deref(), Some(english));
    assert!(failed.reason.is_some(), "the phrase is stored");

    let report = parse(
        &owner
            .get(&format!("/mailings/{}", failed.mailing_id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        report.text("#report-last-reply").as_deref(),
        Some(in_russian)
    );
    let dashboard = parse(&owner.get("/dashboard").await.text().await.unwrap());
    assert_eq!(
        dashboard.texts("#recent-failures tbody td code"),
        [in_russian]
    );
    let reports = parse(&owner.get("/reports").await.text().await.unwrap());
    assert_eq!(reports.texts("#report-rows td code"), [in_russian]);
    let csv = owner
        .get(&format!("/mailings/{}/attempts.csv", failed.mailing_id))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("the client's name has a line break"), "{csv}");

    let manager = russian(&app, "boss@example.com", Role::Manager).await;
    let list = manager.get("/admin/attempts/").await.text().await.unwrap();
    assert!(
        list.contains("в имени клиента есть перевод строки"),
        "the manager's list: {list}"
    );
    assert!(!list.contains("line break"), "no English in the list");
    let page = manager
        .get(&format!("/admin/attempts/{}/change/", failed.id))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        parse(&page).text("#f-response").as_deref(),
        Some(in_russian),
        "the manager's attempt page"
    );
    assert!(!page.contains("line break"), "no English on the page");
    assert!(
        !page.contains("delivery-reason"),
        "no stored JSON on the page"
    );
}

#[tokio::test]
async fn a_deliverys_own_reason_is_shown_in_the_readers_language_sqlite() {
    a_deliverys_own_reason_is_shown_in_the_readers_language(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_deliverys_own_reason_is_shown_in_the_readers_language_postgres() {
    a_deliverys_own_reason_is_shown_in_the_readers_language(Backend::Postgres).await;
}

/// The admin's log keeps keys (`add`, `global_suppressions`) and a Russian superuser
/// reads them in Russian: the model in the list, and the entry's own name on its page.
async fn a_russian_superuser_reads_the_audit_log_in_russian(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let root = russian(&app, "root@example.com", Role::Superuser).await;
    let response = root
        .post_form(
            "/admin/global_suppressions/add/",
            &[
                ("email", "spam@example.com"),
                ("reason", "listed"),
                ("detail", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let entry = mailer::entities::admin_log::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (entry.action.as_str(), entry.model.as_str()),
        ("add", "global_suppressions"),
        "keys are stored"
    );
    let list = parse(&root.get("/admin/log/").await.text().await.unwrap());
    let cells = list.texts("table tbody tr td");
    assert!(cells.iter().any(|c| c == "добавление"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "Общий стоп-лист"), "{cells:?}");
    assert!(
        !cells.iter().any(|c| c.contains("global_suppressions")),
        "{cells:?}"
    );
    let page = root
        .get(&format!("/admin/log/{}/change/", entry.id))
        .await
        .text()
        .await
        .unwrap();
    let doc = parse(&page);
    assert_eq!(
        doc.text("title")
            .map(|t| t.starts_with("добавление · Общий стоп-лист · spam@example.com")),
        Some(true),
        "{:?}",
        doc.text("title")
    );
    // The object's history names the fields that changed by their labels, in Russian.
    let history = root
        .get(&format!(
            "/admin/global_suppressions/{}/history/",
            entry.object_id
        ))
        .await
        .text()
        .await
        .unwrap();
    let changes = parse(&history).texts("ul.changes li");
    assert!(
        changes.iter().any(|c| c.starts_with("Электронная почта:")),
        "{changes:?}"
    );
    assert!(
        changes.iter().any(|c| c.starts_with("Причина:")),
        "{changes:?}"
    );
    assert!(
        !changes
            .iter()
            .any(|c| c.starts_with("email:") || c.starts_with("reason:")),
        "no column names: {changes:?}"
    );
}

#[tokio::test]
async fn a_russian_superuser_reads_the_audit_log_in_russian_sqlite() {
    a_russian_superuser_reads_the_audit_log_in_russian(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_russian_superuser_reads_the_audit_log_in_russian_postgres() {
    a_russian_superuser_reads_the_audit_log_in_russian(Backend::Postgres).await;
}
