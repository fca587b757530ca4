//! Accounts as a visitor uses them: registration with a mailed confirmation link, sign-in
//! (throttled, `next`-aware, refused to the unverified and the blocked), avatars, password
//! reset and renewal by mail, password change, sign-out, and the `createsuperuser` command.
//! Mail goes through the real `mailer-worker` process to the fake SMTP server.

use std::time::{Duration, Instant};

use chrono::Utc;
use mailer::accounts::service::{self, NewAccount};
use mailer::accounts::tokens::{self, Purpose};
use mailer::entities::user::{self, Role};
use mailer_tests::app::{Child, bin_path};
use mailer_tests::html::{Doc, parse};
use mailer_tests::smtp::ReceivedMail;
use mailer_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};

pub(crate) const PASSWORD: &str = "violet-tuba-meadow-42";
pub(crate) const NEW_PASSWORD: &str = "amber-kettle-harbour-77";
/// Longer than the queue's 30 s heartbeat: the worker sometimes misses a poll and only finds
/// a new job when the heartbeat wakes it.
const MAIL_TIMEOUT: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------------------------------
// A visitor

/// One visitor: a cookie store of their own (so two of them are two devices) and the CSRF
/// token their first page gave them.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    pub(crate) client: reqwest::Client,
    token: String,
}

impl<'a> Browser<'a> {
    /// The visitor behind `app.client`.
    pub(crate) async fn new(app: &'a TestApp) -> Browser<'a> {
        Self::with_client(app, app.client.clone()).await
    }

    /// Another device: a fresh cookie store.
    pub(crate) async fn other_device(app: &'a TestApp) -> Browser<'a> {
        let client = device().build().expect("http client");
        Self::with_client(app, client).await
    }

    /// Another device, connecting from `ip`: on Linux every 127.x.y.z address is the
    /// loopback, so tests can play clients at different addresses.
    pub(crate) async fn from_ip(app: &'a TestApp, ip: &str) -> Browser<'a> {
        let ip: std::net::IpAddr = ip.parse().expect("an IP address");
        let client = device().local_address(ip).build().expect("http client");
        Self::with_client(app, client).await
    }

    async fn with_client(app: &'a TestApp, client: reqwest::Client) -> Browser<'a> {
        let token = csrf(app, &client, "/login").await;
        Browser { app, client, token }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.url(path))
            .send()
            .await
            .expect("GET")
    }

    /// GETs a page and parses it.
    pub(crate) async fn page(&self, path: &str) -> (StatusCode, Doc) {
        let response = self.get(path).await;
        (response.status(), doc(response).await)
    }

    /// POSTs an urlencoded form with the CSRF token.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_with_headers(path, fields, &[]).await
    }

    /// POSTs an urlencoded form with the CSRF token and these extra headers.
    pub(crate) async fn post_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("csrf_token", self.token.as_str())];
        form.extend_from_slice(fields);
        let mut request = self.client.post(self.app.url(path)).form(&form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    /// POSTs a multipart form, the token in the query string as the site's forms do.
    async fn post_multipart(&self, path: &str, form: Form) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .query(&[("csrf_token", &self.token)])
            .multipart(form)
            .send()
            .await
            .expect("POST multipart")
    }

    pub(crate) async fn register(&self, form: Form) -> reqwest::Response {
        self.post_multipart("/register", form).await
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }

    async fn login_next(&self, email: &str, password: &str, next: &str) -> reqwest::Response {
        self.post(
            "/login",
            &[("email", email), ("password", password), ("next", next)],
        )
        .await
    }

    /// Submits the form `form_css` of `doc` as a browser would: its own inputs, its action.
    async fn submit(&self, doc: &Doc, form_css: &str) -> reqwest::Response {
        let action = doc
            .attr(form_css, "action")
            .expect("the form has an action");
        self.client
            .post(self.app.url(&action))
            .form(&form_inputs(doc, form_css))
            .send()
            .await
            .expect("POST")
    }

    /// Whether this visitor is signed in: `/account` answers, or sends to the login page.
    async fn is_signed_in(&self) -> bool {
        let response = self.get("/account").await;
        match response.status() {
            StatusCode::OK => true,
            StatusCode::SEE_OTHER => {
                assert_eq!(location(&response), "/login?next=%2Faccount");
                false
            }
            other => panic!("GET /account answered {other}"),
        }
    }
}

/// A browser-like client: its own cookies, redirects not followed.
fn device() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
}

/// The CSRF token `client` gets on `path`, from the `hx-headers` htmx sends with every request.
async fn csrf(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.expect("GET");
    let status = response.status();
    let body = response.text().await.expect("body");
    let headers = parse(&body)
        .attr("main[hx-headers]", "hx-headers")
        .unwrap_or_else(|| panic!("GET {path}: {status}, no hx-headers on <main>: {body}"));
    let headers: serde_json::Value = serde_json::from_str(&headers).expect("hx-headers is JSON");
    headers["X-CSRF-Token"]
        .as_str()
        .expect("a CSRF token in hx-headers")
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Responses and pages

pub(crate) async fn doc(response: reqwest::Response) -> Doc {
    parse(&response.text().await.expect("body"))
}

pub(crate) fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .expect("ASCII Location")
}

/// Asserts a `303 See Other` to `to`.
pub(crate) fn assert_redirect(response: &reqwest::Response, to: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "redirect to {to}");
    assert_eq!(location(response), to);
}

/// The name and value of every input of a form.
fn form_inputs(doc: &Doc, form_css: &str) -> Vec<(String, String)> {
    let selector = scraper::Selector::parse(&format!("{form_css} input[name]")).unwrap();
    doc.0
        .select(&selector)
        .map(|input| {
            let attr = |name| input.value().attr(name).unwrap_or_default().to_owned();
            (attr("name"), attr("value"))
        })
        .collect()
}

/// The message about the whole form (wrong credentials, throttling, …).
pub(crate) fn form_error(doc: &Doc) -> String {
    doc.text(".flash.error[role=alert]")
        .expect("a form error on the page")
}

/// The one-time messages of the session (shown on the page after a redirect), joined.
pub(crate) fn flash(doc: &Doc, kind: &str) -> Option<String> {
    let texts = doc.texts(&format!(".flashes .flash.{kind}"));
    (!texts.is_empty()).then(|| texts.join(" "))
}

/// The fields marked invalid, each with its message next to it.
pub(crate) fn invalid_fields(doc: &Doc) -> Vec<String> {
    let fields: Vec<String> = doc
        .attrs("input[aria-invalid=true]", "id")
        .iter()
        .map(|id| {
            id.strip_prefix("f-")
                .expect("field ids are f-<name>")
                .to_owned()
        })
        .collect();
    for field in &fields {
        assert!(
            doc.exists(&format!("small.field-error#e-{field}[role=alert]")),
            "the error of {field} is next to it"
        );
        assert_eq!(
            doc.attr(&format!("#f-{field}"), "aria-describedby"),
            Some(format!("e-{field}"))
        );
    }
    fields
}

// ---------------------------------------------------------------------------------------
// Accounts and mail

/// An account made directly in the database, with `PASSWORD`.
pub(crate) async fn make_user(app: &TestApp, email: &str, verified: bool) -> user::Model {
    service::create_user(
        &app.state.db,
        NewAccount {
            email: email.into(),
            password: PASSWORD.into(),
            phone: None,
            role: Role::User,
            is_verified: verified,
            language: None,
            timezone: "UTC".into(),
        },
    )
    .await
    .expect("create a user")
}

pub(crate) async fn find_user(app: &TestApp, email: &str) -> Option<user::Model> {
    service::find_by_email(&app.state.db, email)
        .await
        .expect("query users")
}

pub(crate) async fn user_count(app: &TestApp) -> u64 {
    user::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count users")
}

/// A reset or new-password link for `user` as the account is now, expiring at `expires_at`.
pub(crate) fn password_link(
    app: &TestApp,
    purpose: Purpose,
    user: &user::Model,
    expires_at: chrono::DateTime<Utc>,
) -> String {
    let path = match purpose {
        Purpose::ResetPassword => "/password/reset",
        Purpose::NewPassword => "/password/new",
        Purpose::Verify
        | Purpose::Unsubscribe
        | Purpose::ReturnPath
        | Purpose::UnsubscribeMail
        | Purpose::ReplyTo => {
            panic!("only password links are made here")
        }
    };
    let fingerprint = tokens::fingerprint(&user.password_hash);
    let token = tokens::sign(
        &app.state.secret_key,
        purpose,
        user.id,
        &fingerprint,
        expires_at,
    );
    format!("{path}/{token}")
}

pub(crate) fn in_an_hour() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::hours(1)
}

/// The registration form with a password and its confirmation.
pub(crate) fn signup_form(email: &str, password: &str) -> Form {
    Form::new()
        .text("email", email.to_owned())
        .text("password", password.to_owned())
        .text("password_confirm", password.to_owned())
}

/// The worker process that delivers queued mail to `app.smtp` (killed when dropped).
pub(crate) fn start_worker(app: &TestApp) -> Child {
    Child::spawn(
        "mailer-worker",
        &[],
        &app.env(),
        &app.dir.path().join("worker.log"),
    )
}

/// Waits for exactly `n` mails in total and returns them.
pub(crate) async fn mails(app: &TestApp, n: usize) -> Vec<ReceivedMail> {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    while app.smtp.messages().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mails = app.smtp.messages();
    let log = std::fs::read_to_string(app.dir.path().join("worker.log")).unwrap_or_default();
    assert_eq!(
        mails.len(),
        n,
        "exactly {n} mail(s); the worker's log:\n{log}"
    );
    mails
}

/// Waits a moment, then asserts that no more than `n` mails arrived.
pub(crate) async fn assert_no_more_mail(app: &TestApp, n: usize) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let subjects: Vec<_> = app.smtp.messages().iter().map(|m| m.subject()).collect();
    assert_eq!(subjects.len(), n, "no other mail: {subjects:?}");
}

/// The site path of the link under `prefix` in a mail (which points at the public URL).
pub(crate) fn mailed_link(app: &TestApp, mail: &ReceivedMail, prefix: &str) -> String {
    let url = mail
        .links()
        .into_iter()
        .find(|link| link.starts_with(&app.url(prefix)))
        .unwrap_or_else(|| panic!("a {prefix} link in {:?}", mail.body_text()));
    url.strip_prefix(&app.address).unwrap().to_owned()
}

/// The generated password of a "new password" mail: the indented line after the announcement.
fn mailed_password(mail: &ReceivedMail) -> String {
    let text = mail.body_text();
    let (_, after) = text
        .split_once("your new Mailer password is:")
        .unwrap_or_else(|| panic!("the announcement in {text:?}"));
    let line = after
        .lines()
        .find(|line| !line.trim().is_empty())
        .expect("a line after the announcement");
    assert!(line.starts_with("    "), "indented: {line:?}");
    line.trim().to_owned()
}

/// A `width`×`height` PNG.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 7) as u8, 99])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::from(image)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode a PNG");
    bytes.into_inner()
}

/// A PNG padded past the 5 MB limit.
fn oversized_png() -> Vec<u8> {
    let mut bytes = png(8, 8);
    bytes.resize(5 * 1024 * 1024 + 1024, 0);
    bytes
}

fn file_part(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Registration and e-mail verification

async fn register_verify_and_sign_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    let email = "ann.lee@example.com";

    let response = browser
        .register(signup_form("Ann.Lee@Example.COM", PASSWORD))
        .await;
    assert_redirect(&response, "/login");
    let (_, login_page) = browser.page("/login").await;
    let notice = flash(&login_page, "success").expect("a notice after registering");
    assert!(notice.contains(email), "{notice}");
    let stored = find_user(&app, email).await.expect("stored lower-cased");
    assert!(!stored.is_verified && stored.is_active);
    assert_eq!(stored.role, Role::User);

    // The mail has a text and an HTML part, both with the link to the public URL.
    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.to, [email]);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Confirm your e-mail address")
    );
    let first_link = mailed_link(&app, mail, "/verify/");
    let html = parse(&mail.html_body().expect("an HTML part"));
    assert!(
        html.attrs("a[href]", "href")
            .contains(&app.url(&first_link)),
        "the HTML part links to {first_link}"
    );

    // Not confirmed yet: refused, with a form to get the link again.
    let response = browser.login(email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = doc(response).await;
    assert!(form_error(&page).contains("Confirm your e-mail address"));
    let resend = "form[action='/verify/resend']";
    assert_eq!(
        page.attr(&format!("{resend} input[name=email]"), "value")
            .as_deref(),
        Some(email)
    );
    assert_redirect(&browser.submit(&page, resend).await, "/login");
    let second_link = mailed_link(&app, &mails(&app, 2).await[1], "/verify/");
    assert!(!browser.is_signed_in().await);

    let response = browser.get(&second_link).await;
    assert_redirect(&response, "/login");
    let (_, login_page) = browser.page("/login").await;
    assert!(flash(&login_page, "success").is_some_and(|t| t.contains("is confirmed")));
    assert!(find_user(&app, email).await.unwrap().is_verified);

    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    let (status, account) = browser.page("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account.text("dl.facts dd").as_deref(), Some(email));

    // Both links are spent now.
    for link in [&second_link, &first_link] {
        let response = browser.get(link).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{link}");
        let page = doc(response).await;
        assert_eq!(
            page.text("main h1").as_deref(),
            Some("This link cannot be used")
        );
        assert_eq!(
            page.text("p[role=alert]").as_deref(),
            Some("This link has already been used.")
        );
    }
}

#[tokio::test]
async fn register_verify_and_sign_in_sqlite() {
    register_verify_and_sign_in(Backend::Sqlite).await;
}

#[tokio::test]
async fn register_verify_and_sign_in_postgres() {
    register_verify_and_sign_in(Backend::Postgres).await;
}

/// Replaces the first character of `part` with another base64url character.
fn change_first_char(part: &str) -> String {
    let replacement = if part.starts_with('A') { 'B' } else { 'A' };
    format!("{replacement}{}", &part[1..])
}

#[tokio::test]
async fn tampered_expired_and_garbage_verification_links_are_refused() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let user = make_user(&app, "tom@example.com", false).await;
    let fingerprint = tokens::fingerprint(&format!("{}|{}", user.email, user.is_verified));
    let mint = |purpose, expires| {
        tokens::sign(
            &app.state.secret_key,
            purpose,
            user.id,
            &fingerprint,
            expires,
        )
    };
    let good = mint(Purpose::Verify, in_an_hour());
    let (payload, signature) = good.split_once('.').unwrap();

    let bad_links = [
        (
            format!("{payload}.{}", change_first_char(signature)),
            "This link is not valid.",
        ),
        (
            format!("{}.{signature}", change_first_char(payload)),
            "This link is not valid.",
        ),
        (
            mint(Purpose::Verify, Utc::now() - chrono::Duration::seconds(5)),
            "This link has expired. Ask for a new one.",
        ),
        (
            mint(Purpose::ResetPassword, in_an_hour()),
            "This link is not valid.",
        ),
        (
            "garbage".to_owned(),
            "This link is not valid. Check that you copied all of it.",
        ),
        (
            "a.b".to_owned(),
            "This link is not valid. Check that you copied all of it.",
        ),
    ];
    for (token, message) in &bad_links {
        let (status, page) = browser.page(&format!("/verify/{token}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}");
        assert_eq!(
            page.text("p[role=alert]").as_deref(),
            Some(*message),
            "{token}"
        );
    }
    assert!(!find_user(&app, &user.email).await.unwrap().is_verified);

    // The genuine link still works: the refusals were about the tokens.
    assert_redirect(&browser.get(&format!("/verify/{good}")).await, "/login");
    assert!(find_user(&app, &user.email).await.unwrap().is_verified);
}

#[tokio::test]
async fn registration_errors_are_shown_next_to_their_fields() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    make_user(&app, "taken@example.com", true).await;
    let email = "someone.new@example.com";
    let cases: &[(&str, &str, &str, &str)] = &[
        // (what, email, password, confirmation) → the one field in error
        ("email", "not-an-email", PASSWORD, PASSWORD),
        ("password", email, "short-1", "short-1"),
        ("password", email, "password123", "password123"),
        ("password", email, "qwertyuiop", "qwertyuiop"),
        ("password", email, "1234567890", "1234567890"),
        ("password", email, "84059382716", "84059382716"),
        ("password", email, email, email),
        ("password_confirm", email, PASSWORD, "violet-tuba-meadow-43"),
        // A taken address is no error of its own: the same answer as for a new one.
        ("password", "TAKEN@Example.com", "short-1", "short-1"),
    ];
    for (field, email, password, confirm) in cases {
        let form = Form::new()
            .text("email", email.to_string())
            .text("password", password.to_string())
            .text("password_confirm", confirm.to_string());
        let response = browser.register(form).await;
        let what = format!("{email} / {password} / {confirm}");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}"
        );
        let page = doc(response).await;
        assert_eq!(invalid_fields(&page), [*field], "{what}");
        // The address is kept for another try; passwords never come back.
        assert_eq!(
            page.attr("#f-email", "value"),
            Some(email.trim().to_lowercase()),
            "{what}"
        );
        assert_eq!(page.attr("#f-password", "value"), None);
    }
    let bad_phone = signup_form(email, PASSWORD).text("phone", "call me");
    let page = doc(browser.register(bad_phone).await).await;
    assert_eq!(invalid_fields(&page), ["phone"]);

    assert_eq!(user_count(&app).await, 1, "nobody was registered");
    assert!(app.smtp.messages().is_empty());
}

// ---------------------------------------------------------------------------------------
// Avatars

/// GETs `target` with a raw request line, so no client normalises `..` away.
async fn raw_get(app: &TestApp, target: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let status = String::from_utf8_lossy(&answer[..12]).to_string();
    let code = status["HTTP/1.1 ".len()..].parse().expect("a status code");
    (code, answer)
}

#[tokio::test]
async fn avatars_are_checked_resized_and_served_safely() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;

    let with_avatar = signup_form("pic@example.com", PASSWORD)
        .part("avatar", file_part(png(60, 40), "me.png", "image/png"));
    assert_redirect(&browser.register(with_avatar).await, "/login");
    let name = find_user(&app, "pic@example.com")
        .await
        .unwrap()
        .avatar
        .expect("the avatar is kept");
    let response = browser.get(&format!("/media/avatars/{name}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let served = response.bytes().await.unwrap();
    let image = image::load_from_memory_with_format(&served, image::ImageFormat::Png)
        .expect("a PNG is served");
    assert_eq!((image.width(), image.height()), (256, 256));

    // Refused by content or size, next to the field, and nobody is registered.
    let bad_files = [
        ("evil.png", b"<?php system($_GET['c']); ?>".to_vec()),
        ("big.png", oversized_png()),
    ];
    for (file_name, bytes) in bad_files {
        let form = signup_form("bad.pic@example.com", PASSWORD)
            .part("avatar", file_part(bytes, file_name, "image/png"));
        let response = browser.register(form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{file_name}"
        );
        let page = doc(response).await;
        assert_eq!(invalid_fields(&page), ["avatar"], "{file_name}");
    }
    assert_eq!(user_count(&app).await, 1);

    // Only stored avatar names are served: no way out of the directory.
    let secret = std::fs::read(app.dir.path().join("secret_key")).unwrap();
    for target in [
        "/media/avatars/../secret_key",
        "/media/avatars/..%2Fsecret_key",
        "/media/avatars/%2e%2e%2fsecret_key",
        "/media/avatars/nope.png",
        "/media/avatars/1-0123456789abcdef.png",
    ] {
        let (status, answer) = raw_get(&app, target).await;
        assert_eq!(status, 404, "{target}");
        assert!(
            !answer.windows(secret.len()).any(|w| w == secret),
            "{target} leaks the key"
        );
    }
}

#[tokio::test]
async fn profile_edit_sets_the_phone_and_replaces_or_removes_the_avatar() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let email = "prof@example.com";
    make_user(&app, email, true).await;
    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    let (status, form) = browser.page("/account/edit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.exists("form[enctype='multipart/form-data'] #f-avatar[type=file]"));

    let bad_phone = Form::new().text("phone", "12ab");
    let response = browser.post_multipart("/account/edit", bad_phone).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&doc(response).await), ["phone"]);

    let upload = |width| {
        Form::new()
            .text("phone", "+1 555 123 4567")
            .part("avatar", file_part(png(width, 50), "a.png", "image/png"))
    };
    assert_redirect(
        &browser.post_multipart("/account/edit", upload(50)).await,
        "/account",
    );
    let first = find_user(&app, email).await.unwrap().avatar.unwrap();
    let (_, account) = browser.page("/account").await;
    assert_eq!(
        account.attr("img.avatar-lg", "src"),
        Some(format!("/media/avatars/{first}"))
    );
    assert!(
        account
            .texts("dl.facts dd")
            .contains(&"+1 555 123 4567".to_owned())
    );

    // A new avatar replaces the old file; removing it deletes the file.
    assert_redirect(
        &browser.post_multipart("/account/edit", upload(70)).await,
        "/account",
    );
    let second = find_user(&app, email).await.unwrap().avatar.unwrap();
    assert_ne!(first, second);
    let avatars = app.dir.path().join("avatars");
    assert!(!avatars.join(&first).exists() && avatars.join(&second).exists());
    let remove = Form::new().text("remove_avatar", "1");
    assert_redirect(
        &browser.post_multipart("/account/edit", remove).await,
        "/account",
    );
    assert_eq!(find_user(&app, email).await.unwrap().avatar, None);
    assert!(!avatars.join(&second).exists());
    assert_eq!(
        browser
            .get(&format!("/media/avatars/{second}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_new_confirmation_link_is_mailed_only_to_unverified_accounts() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    make_user(&app, "done@example.com", true).await;
    make_user(&app, "pending@example.com", false).await;

    for email in [
        "done@example.com",
        "nobody@example.com",
        "Pending@Example.com",
    ] {
        let response = browser.post("/verify/resend", &[("email", email)]).await;
        assert_redirect(&response, "/login");
    }
    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.to, ["pending@example.com"]);
    assert_no_more_mail(&app, 1).await;
    confirm_by_mailed_link(&browser, mail).await;
}

/// Follows the confirmation link of `mail` and checks that it confirmed the address.
pub(crate) async fn confirm_by_mailed_link(browser: &Browser<'_>, mail: &ReceivedMail) {
    let link = mailed_link(browser.app, mail, "/verify/");
    assert_redirect(&browser.get(&link).await, "/login");
    let email = &mail.to[0];
    let user = find_user(browser.app, email).await.expect("the account");
    assert!(user.is_verified, "{email} is confirmed");
}

// ---------------------------------------------------------------------------------------
// Signing in

/// Times `rounds` requests of each of two kinds, alternating them so that any load on the
/// machine falls on both alike; `send(round, first_kind)` makes one request and checks its
/// answer. Returns the median time of each kind.
pub(crate) async fn median_times<F, Fut>(rounds: usize, mut send: F) -> (Duration, Duration)
where
    F: FnMut(usize, bool) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (kind, first) in [(0, true), (1, false)] {
            let started = Instant::now();
            send(round, first).await;
            samples[kind].push(started.elapsed());
        }
    }
    let [first, second] = samples.map(|mut kind| {
        kind.sort();
        kind[kind.len() / 2]
    });
    (first, second)
}

#[tokio::test]
async fn an_unknown_email_takes_as_long_as_a_wrong_password() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    make_user(&app, "known@example.com", true).await;
    let (known, unknown) = median_times(3, |_, known| {
        let email = if known {
            "known@example.com"
        } else {
            "unknown@example.com"
        };
        let response = browser.login(email, "wrong-password-123");
        async { assert_eq!(response.await.status(), StatusCode::UNPROCESSABLE_ENTITY) }
    })
    .await;
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (1.0 / 3.0..=3.0).contains(&ratio),
        "wrong password {known:?} vs unknown e-mail {unknown:?}"
    );
}

#[tokio::test]
async fn sign_in_follows_next_only_to_local_paths() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let email = "next@example.com";
    make_user(&app, email, true).await;

    // A page that needs an account sends to the login page, which keeps where to go back.
    assert_redirect(
        &browser.get("/account/password").await,
        "/login?next=%2Faccount%2Fpassword",
    );
    let (_, page) = browser.page("/login?next=%2Faccount%2Fpassword").await;
    assert_eq!(
        page.attr("form[action='/login'] input[name=next]", "value")
            .as_deref(),
        Some("/account/password")
    );
    // Whatever `next` holds stays a value: no markup gets into the page.
    let hostile = "/\"><script src=/x.js></script>";
    let login_page = browser
        .client
        .get(app.url("/login"))
        .query(&[("next", hostile)]);
    let page = doc(login_page.send().await.unwrap()).await;
    assert_eq!(
        page.attr("input[name=next]", "value").as_deref(),
        Some(hostile)
    );
    assert!(!page.exists("main script"));

    for (next, goes_to) in [
        ("/account/password", "/account/password"),
        ("/account/edit?tab=1", "/account/edit?tab=1"),
        ("https://evil.example", "/dashboard"),
        ("//evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ] {
        let response = browser.login_next(email, PASSWORD, next).await;
        assert_redirect(&response, goes_to);
    }
}

// ---------------------------------------------------------------------------------------
// Passwords

#[tokio::test]
async fn password_reset_by_mail() {
    // One account mail per second to an address (not five minutes), for the second link.
    let one_second = |c: &mut mailer::Config| c.throttle.account_mail_interval_secs = 1;
    let Some(app) = spawn_app_with(Backend::Sqlite, one_second).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    let email = "forgetful@example.com";
    make_user(&app, email, true).await;

    // The same answer whether or not the account exists.
    let mut answers = Vec::new();
    for address in ["stranger@example.com", email] {
        let response = browser.post("/password/reset", &[("email", address)]).await;
        let (status, to) = (response.status(), location(&response).to_owned());
        let (_, page) = browser.page(&to).await;
        answers.push((status, to, flash(&page, "success")));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::SEE_OTHER);
    assert_eq!(answers[0].1, "/login");
    assert!(
        answers[0]
            .2
            .as_deref()
            .unwrap()
            .contains("If an account exists")
    );

    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.to, [email]);
    assert_eq!(mail.subject().as_deref(), Some("Reset your password"));
    let link = mailed_link(&app, mail, "/password/reset/");
    // A second link, asked for before the password changes (a second later: links carry
    // their expiry in seconds, so one asked for in the same second is the same link; and
    // the account-mail limit is one second here).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = browser.post("/password/reset", &[("email", email)]).await;
    assert_redirect(&response, "/login");
    let other_link = mailed_link(&app, &mails(&app, 2).await[1], "/password/reset/");
    assert_ne!(link, other_link);

    let (status, form) = browser.page(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.exists("form[method=post] #f-password[type=password]"));
    let mismatch = [("password", NEW_PASSWORD), ("password_confirm", PASSWORD)];
    let response = browser.post(&link, &mismatch).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&doc(response).await), ["password_confirm"]);

    let new = [
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    assert_redirect(&browser.post(&link, &new).await, "/login");
    assert_eq!(
        browser.login(email, PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password is refused"
    );
    assert_redirect(&browser.login(email, NEW_PASSWORD).await, "/dashboard");

    // Both links are dead: the one used, and the one issued before the change.
    for link in [&link, &other_link] {
        assert_eq!(
            browser.get(link).await.status(),
            StatusCode::BAD_REQUEST,
            "{link}"
        );
        let again = [
            ("password", "another-fine-pass-9"),
            ("password_confirm", "another-fine-pass-9"),
        ];
        assert_eq!(
            browser.post(link, &again).await.status(),
            StatusCode::BAD_REQUEST,
            "{link}"
        );
    }

    // Links last an hour.
    let user = find_user(&app, email).await.unwrap();
    let expired = password_link(
        &app,
        Purpose::ResetPassword,
        &user,
        Utc::now() - chrono::Duration::seconds(5),
    );
    let (status, page) = browser.page(&expired).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        page.text("p[role=alert]").as_deref(),
        Some("This link has expired. Ask for a new one.")
    );
    assert_no_more_mail(&app, 2).await;
}

#[tokio::test]
async fn a_new_password_is_generated_and_mailed_after_confirmation() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    let email = "renew@example.com";
    make_user(&app, email, true).await;

    assert_redirect(
        &browser.post("/password/new", &[("email", email)]).await,
        "/login",
    );
    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.to, [email]);
    let link = mailed_link(&app, mail, "/password/new/");

    // Opening the link only asks for confirmation.
    let hash_before = find_user(&app, email).await.unwrap().password_hash;
    let (status, page) = browser.page(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.exists("main form[method=post] button[type=submit]"));
    assert_eq!(
        find_user(&app, email).await.unwrap().password_hash,
        hash_before
    );

    assert_redirect(&browser.post(&link, &[]).await, "/login");
    let mail = &mails(&app, 2).await[1];
    assert_eq!(mail.to, [email]);
    assert!(mail.html_body().is_some());
    let generated = mailed_password(mail);
    assert!(generated.len() >= 16, "{generated}");

    assert_eq!(
        browser.login(email, PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_redirect(&browser.login(email, &generated).await, "/dashboard");
    assert_eq!(
        browser.post(&link, &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "used once"
    );
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_devices() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let email = "two.devices@example.com";
    make_user(&app, email, true).await;
    let laptop = Browser::new(&app).await;
    let phone = Browser::other_device(&app).await;
    assert_redirect(&laptop.login(email, PASSWORD).await, "/dashboard");
    assert_redirect(&phone.login(email, PASSWORD).await, "/dashboard");
    assert!(phone.is_signed_in().await);

    let wrong_old = [
        ("old_password", "not-my-password-1"),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let response = laptop.post("/account/password", &wrong_old).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&doc(response).await), ["old_password"]);
    assert!(phone.is_signed_in().await, "nothing changed");

    let change = [
        ("old_password", PASSWORD),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    assert_redirect(&laptop.post("/account/password", &change).await, "/account");
    let (status, account) = laptop.page("/account").await;
    assert_eq!(status, StatusCode::OK, "this device stays signed in");
    assert!(flash(&account, "success").is_some_and(|t| t.contains("Other devices")));
    assert!(
        !phone.is_signed_in().await,
        "the other device is signed out"
    );
    assert_redirect(&phone.login(email, NEW_PASSWORD).await, "/dashboard");
}

// ---------------------------------------------------------------------------------------
// Blocking, superusers, signing out

#[tokio::test]
async fn a_blocked_user_is_signed_out_at_once_and_cannot_sign_in() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let email = "blocked@example.com";
    let user = make_user(&app, email, true).await;
    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    assert!(browser.is_signed_in().await);

    let user = service::set_active(&app.state.db, user, false)
        .await
        .unwrap();
    assert!(!browser.is_signed_in().await, "the session died at once");
    let response = browser.login(email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(form_error(&doc(response).await).contains("This account is blocked"));

    service::set_active(&app.state.db, user, true)
        .await
        .unwrap();
    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    assert!(browser.is_signed_in().await);
}

/// Runs `mailer` with the app's configuration plus `extra` environment variables.
async fn run_mailer(app: &TestApp, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    let output = tokio::process::Command::new(bin_path("mailer"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(app.env())
        .envs(extra.iter().copied())
        .current_dir(app.dir.path())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("mailer exits")
        .expect("run mailer")
}

#[tokio::test]
async fn createsuperuser_makes_a_verified_superuser_who_can_sign_in() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let args = ["createsuperuser", "--email", "Root@Example.com"];
    let weak = run_mailer(&app, &args, &[("MAILER_SUPERUSER_PASSWORD", "password123")]).await;
    assert!(!weak.status.success(), "a weak password is refused");
    assert_eq!(user_count(&app).await, 0);

    let out = run_mailer(&app, &args, &[("MAILER_SUPERUSER_PASSWORD", PASSWORD)]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = find_user(&app, "root@example.com").await.expect("created");
    assert_eq!(root.role, Role::Superuser);
    assert!(root.is_verified && root.is_active);

    let browser = Browser::new(&app).await;
    assert_redirect(
        &browser.login("root@example.com", PASSWORD).await,
        "/dashboard",
    );
    let (_, account) = browser.page("/account").await;
    assert!(
        account
            .texts("dl.facts dd")
            .contains(&"Superuser".to_owned())
    );
}

#[tokio::test]
async fn createsuperuser_with_a_role_makes_staff_and_re_roles_an_existing_account() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let password = [("MAILER_SUPERUSER_PASSWORD", PASSWORD)];
    for (email, role, expected) in [
        ("boss@example.com", "manager", Role::Manager),
        (
            "writer@example.com",
            "content-manager",
            Role::ContentManager,
        ),
    ] {
        let args = ["createsuperuser", "--email", email, "--role", role];
        let out = run_mailer(&app, &args, &password).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let staff = find_user(&app, email).await.expect("created");
        assert_eq!(staff.role, expected);
        assert!(staff.is_verified && staff.is_active);
        let browser = Browser::new(&app).await;
        assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    }

    let unknown = [
        "createsuperuser",
        "--email",
        "x@example.com",
        "--role",
        "user",
    ];
    let refused = run_mailer(&app, &unknown, &password).await;
    assert!(
        !refused.status.success(),
        "an ordinary user registers on the site"
    );
    assert!(find_user(&app, "x@example.com").await.is_none());

    // Without --role the account becomes a superuser, existing or not.
    let promote = ["createsuperuser", "--email", "boss@example.com"];
    let out = run_mailer(&app, &promote, &password).await;
    assert!(out.status.success());
    let boss = find_user(&app, "boss@example.com")
        .await
        .expect("still there");
    assert_eq!(boss.role, Role::Superuser);
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    make_user(&app, "leaving@example.com", true).await;
    assert_redirect(
        &browser.login("leaving@example.com", PASSWORD).await,
        "/dashboard",
    );

    let forged = browser
        .client
        .post(app.url("/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(browser.is_signed_in().await);

    let (_, account) = browser.page("/account").await;
    assert_redirect(
        &browser.submit(&account, "form[action='/logout']").await,
        "/",
    );
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn the_next_page_says_why_the_session_ended() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let email = "told@example.com";
    make_user(&app, email, true).await;
    let mut untold = Vec::new();
    let mut expect = |what: &str, shown: Option<String>, says: &str| {
        if !shown.is_some_and(|text| text.contains(says)) {
            untold.push(what.to_owned());
        }
    };

    assert_redirect(&browser.login(email, PASSWORD).await, "/dashboard");
    assert_redirect(&browser.post("/logout", &[]).await, "/");
    let (_, home) = browser.page("/").await;
    expect("sign-out", flash(&home, "success"), "You have signed out.");

    let user = find_user(&app, email).await.unwrap();
    let new = [
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let link = password_link(&app, Purpose::ResetPassword, &user, in_an_hour());
    assert_redirect(&browser.post(&link, &new).await, "/login");
    let (_, login) = browser.page("/login").await;
    expect(
        "reset",
        flash(&login, "success"),
        "Your password is changed.",
    );

    assert_redirect(&browser.login(email, NEW_PASSWORD).await, "/dashboard");
    let user = find_user(&app, email).await.unwrap();
    let user = service::set_active(&app.state.db, user, false)
        .await
        .unwrap();
    assert!(!browser.is_signed_in().await);
    let (_, login) = browser.page("/login?next=%2Faccount").await;
    expect(
        "blocking",
        flash(&login, "error"),
        "Your account has been blocked.",
    );
    service::set_active(&app.state.db, user, true)
        .await
        .unwrap();

    let user = find_user(&app, email).await.unwrap();
    let link = password_link(&app, Purpose::NewPassword, &user, in_an_hour());
    assert_redirect(&browser.post(&link, &[]).await, "/login");
    let (_, login) = browser.page("/login").await;
    expect(
        "new password",
        flash(&login, "success"),
        "We have mailed you a new password.",
    );

    assert!(untold.is_empty(), "no message after: {untold:?}");
}

#[tokio::test]
async fn a_too_big_avatar_keeps_the_rest_of_the_form() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let form = signup_form("keep.me@example.com", PASSWORD)
        .text("phone", "+1 555 123 4567")
        .part("avatar", file_part(oversized_png(), "big.png", "image/png"));
    let response = browser.register(form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = doc(response).await;
    assert_eq!(invalid_fields(&page), ["avatar"]);
    assert_eq!(
        page.attr("#f-email", "value").as_deref(),
        Some("keep.me@example.com")
    );
    assert_eq!(
        page.attr("#f-phone", "value").as_deref(),
        Some("+1 555 123 4567")
    );
}

/// An address with a NUL byte (PostgreSQL refuses one in a query) finds no account on
/// every form that looks one up: the usual answer, never a 500.
async fn an_address_with_a_nul_finds_nobody(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    make_user(&app, "nul@example.com", false).await;
    let browser = Browser::new(&app).await;
    for path in ["/verify/resend", "/password/reset", "/password/new"] {
        let response = browser.post(path, &[("email", "nul\0@example.com")]).await;
        assert!(
            response.status().is_redirection() || response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
    }
    let response = browser
        .post(
            "/login",
            &[("email", "nul\0@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(
        !response.status().is_server_error(),
        "login: {}",
        response.status()
    );
}

#[tokio::test]
async fn an_address_with_a_nul_finds_nobody_sqlite() {
    an_address_with_a_nul_finds_nobody(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_address_with_a_nul_finds_nobody_postgres() {
    an_address_with_a_nul_finds_nobody(Backend::Postgres).await;
}
