//! Hostile input at the HTTP edge: every request body is cut at its limit while it streams
//! (the site's 413 page, or the API's JSON), the CSRF guard refuses before reading a body
//! it is going to refuse, images are judged by their header and decoded only for an
//! otherwise valid form, `next` after sign-in never leaves the site, and malformed path and
//! query values get the site's error page (the API: its JSON) — never poem's plain text.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailer::entities::user::Role;
use mailer::entities::{post, user};
use mailer_tests::html::{Doc, parse, parse_fragment};
use mailer_tests::users::{PASSWORD, new_client, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------
// Bodies sent by hand

/// How a body's length is told.
#[derive(Clone, Copy)]
enum Framing {
    /// `Transfer-Encoding: chunked`: no length up front.
    Chunked,
    /// `Content-Length` of the whole body.
    Declared,
}

/// The server's answer to a request sent by hand, and how much of the body went out.
struct Sent {
    status: u16,
    head: String,
    body: String,
    /// Body bytes written before the server answered or closed the connection.
    bytes: usize,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn page(&self) -> Doc {
        parse(&self.body)
    }
}

/// Sends `POST target` with `headers`, then a body of `total` bytes (`prefix`, then `a`s)
/// in 64 KiB pieces, while reading the answer. Writing stops once the server answers or
/// closes, so `bytes` tells how much it took in before it did.
async fn post_by_hand(
    app: &TestApp,
    target: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    prefix: &[u8],
    total: usize,
) -> Sent {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut head = format!("POST {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    match framing {
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::Declared => head.push_str(&format!("Content-Length: {total}\r\n")),
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let written = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicBool::new(false));
    let prefix = prefix.to_vec();
    let send = tokio::spawn({
        let (written, answered) = (written.clone(), answered.clone());
        async move {
            writer.write_all(head.as_bytes()).await?;
            let mut at = 0;
            while at < total && !answered.load(Ordering::SeqCst) {
                let n = (total - at).min(64 * 1024);
                let piece: Vec<u8> = (at..at + n)
                    .map(|i| prefix.get(i).copied().unwrap_or(b'a'))
                    .collect();
                if let Framing::Chunked = framing {
                    writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    writer.write_all(&piece).await?;
                    writer.write_all(b"\r\n").await?;
                } else {
                    writer.write_all(&piece).await?;
                }
                at += n;
                written.store(at, Ordering::SeqCst);
            }
            if let (Framing::Chunked, true) = (framing, at == total) {
                writer.write_all(b"0\r\n\r\n").await?;
            }
            Ok::<_, std::io::Error>(())
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(120), async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answered.store(true, Ordering::SeqCst);
                    answer.extend_from_slice(&buf[..n]);
                }
            }
        }
    })
    .await;
    send.abort();
    assert!(read.is_ok(), "POST {target}: no answer within 2 minutes");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("POST {target}: no HTTP answer: {answer:?}"));
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("POST {target}: no status in {head:?}"));
    // A chunked answer body: the pieces joined.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Sent {
        status,
        head: head.to_owned(),
        body,
        bytes: written.load(Ordering::SeqCst),
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A fresh visitor's CSRF cookie (as a `Cookie` header) and the token of the login page.
async fn csrf_cookie_and_token(app: &TestApp) -> (String, String) {
    let response = new_client().get(app.url("/login")).send().await.unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let token = parse(&response.text().await.unwrap())
        .attr("input[name='csrf_token']", "value")
        .expect("a CSRF token on the login page");
    (cookies.join("; "), token)
}

/// The CSRF token `visitor` gets (with its cookie) on the login page.
async fn login_token(app: &TestApp, visitor: &reqwest::Client) -> String {
    let page = visitor.get(app.url("/login")).send().await.unwrap();
    parse(&page.text().await.unwrap())
        .attr("input[name='csrf_token']", "value")
        .expect("a CSRF token on the login page")
}

/// The fields marked invalid on a form page.
fn invalid_fields(doc: &Doc) -> Vec<String> {
    doc.attrs("[aria-invalid=true]", "id")
        .iter()
        .map(|id| id.trim_start_matches("f-").to_owned())
        .collect()
}

async fn register(app: &TestApp, form: Form) -> (StatusCode, Doc, Duration) {
    let visitor = new_client();
    let token = login_token(app, &visitor).await;
    let started = Instant::now();
    let response = visitor
        .post(app.url("/register"))
        .query(&[("csrf_token", token)])
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let doc = parse(&response.text().await.unwrap());
    (status, doc, started.elapsed())
}

/// `path?csrf_token=…`, the token encoded.
fn with_token(app: &TestApp, path: &str, token: &str) -> String {
    let url = reqwest::Url::parse_with_params(&app.url(path), &[("csrf_token", token)]).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The site's error page: inside the layout, with its heading.
fn assert_error_page(doc: &Doc, title: &str, what: &str) {
    assert!(doc.exists("header.site"), "{what}: inside the layout");
    assert_eq!(doc.text("main h1").as_deref(), Some(title), "{what}");
}

const BODY: usize = 64 * 1024 * 1024;

/// The server answered before it took in `max` bytes of the body.
fn assert_cut(what: &str, sent: &Sent, max: usize) {
    eprintln!(
        "{what}: {} after {} of {BODY} bytes",
        sent.status, sent.bytes
    );
    assert!(
        sent.bytes < max,
        "{what}: answered after {} bytes",
        sent.bytes
    );
}

#[tokio::test]
async fn bodies_are_cut_at_their_limit_while_they_stream() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (cookie, token) = csrf_cookie_and_token(&app).await;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];

    // No CSRF cookie: no token can be valid, and nothing of the body is read.
    let started = Instant::now();
    let refused = post_by_hand(&app, "/login", &form, Framing::Chunked, b"email=", BODY).await;
    assert_eq!(refused.status, 403, "{}", refused.head);
    assert_error_page(&refused.page(), "Not allowed", "no cookie");
    assert_cut("no cookie", &refused, BODY / 4);
    eprintln!("no cookie: answered in {:?}", started.elapsed());

    // A cookie but no token besides the form: the form is read only up to its limit.
    let with_cookie = [form[0], ("Cookie", cookie.as_str())];
    for framing in [Framing::Chunked, Framing::Declared] {
        let cut = post_by_hand(&app, "/login", &with_cookie, framing, b"email=", BODY).await;
        assert_eq!(cut.status, 413, "{}", cut.head);
        assert!(
            cut.header("content-type")
                .is_some_and(|ct| ct.starts_with("text/html"))
        );
        assert_error_page(&cut.page(), "Too large", "a 64 MB form");
        assert_cut("a 64 MB form", &cut, BODY / 4);
    }
    // A declared length over the limit is refused before any of it is read, even with a
    // valid token (the 3 MB are never sent here: the answer comes first).
    let declared = post_by_hand(
        &app,
        "/login",
        &[
            form[0],
            ("Cookie", cookie.as_str()),
            ("X-CSRF-Token", token.as_str()),
        ],
        Framing::Declared,
        b"email=",
        3 * 1024 * 1024,
    )
    .await;
    assert_eq!(declared.status, 413, "{}", declared.head);
    assert_error_page(&declared.page(), "Too large", "a declared 3 MB form");

    // A multipart text field that never ends: cut at the upload limit, with the token.
    let multipart = [
        ("Content-Type", "multipart/form-data; boundary=XyZ"),
        ("Cookie", cookie.as_str()),
    ];
    let prefix = b"--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n";
    let register = with_token(&app, "/register", &token);
    let cut = post_by_hand(&app, &register, &multipart, Framing::Chunked, prefix, BODY).await;
    assert_eq!(cut.status, 413, "{}", cut.head);
    assert_error_page(&cut.page(), "Too large", "a 64 MB multipart field");
    assert_cut("a 64 MB multipart text field", &cut, BODY / 2);
    // A file field likewise.
    let prefix =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\
                   Content-Type: image/png\r\n\r\n";
    let cut = post_by_hand(&app, &register, &multipart, Framing::Chunked, prefix, BODY).await;
    assert_eq!(cut.status, 413, "{}", cut.head);
    assert_cut("a 64 MB multipart file field", &cut, BODY / 2);
    assert_eq!(user::Entity::find().count(&app.state.db).await.unwrap(), 0);

    // The API: JSON in its error shape.
    let owner = mailer_tests::users::verified_user(&app, "api@example.com", Role::User).await;
    let (_, api_token) = mailer::accounts::api_tokens::create(&app.state.db, owner.id, "limits")
        .await
        .unwrap_or_else(|_| panic!("an API token"));
    let bearer = format!("Bearer {api_token}");
    let json = [
        ("Content-Type", "application/json"),
        ("Authorization", bearer.as_str()),
    ];
    let prefix = br#"{"subject": "Big", "body": ""#;
    let cut = post_by_hand(
        &app,
        "/api/v1/messages",
        &json,
        Framing::Chunked,
        prefix,
        BODY,
    )
    .await;
    assert_eq!(cut.status, 413, "{}", cut.head);
    let answer: Value = serde_json::from_str(&cut.body).expect("a JSON answer");
    assert_eq!(answer["error"], "payload_too_large", "{answer}");
    assert_cut("a 64 MB JSON body", &cut, BODY / 4);
}

/// One text field of a multipart form is held to the limit of a form; the message is next
/// to the field.
#[tokio::test]
async fn a_long_multipart_text_field_is_an_error_next_to_it() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let form = Form::new()
        .text("email", "long@example.com")
        .text("password", PASSWORD)
        .text("password_confirm", PASSWORD)
        .text("phone", "1".repeat(3 * 1024 * 1024));
    let (status, page, _) = register(&app, form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&page), ["phone"]);
    assert_eq!(
        page.text("#e-phone").as_deref(),
        Some("The text is larger than 2 MB.")
    );
    assert_eq!(user::Entity::find().count(&app.state.db).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------
// Images

/// An 8000×8000 grey PNG: tiny on the wire, 64 MB and more once decoded.
fn bomb() -> Vec<u8> {
    use image::ImageEncoder;
    let pixels = vec![0u8; 8000 * 8000];
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, 8000, 8000, image::ExtendedColorType::L8)
    .expect("encode the bomb");
    out
}

/// A 200×200 PNG whose header is fine and whose pixel data is damaged: only decoding it
/// can tell.
fn damaged_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(200, 200, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::from(image)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .unwrap();
    let mut bytes = bytes.into_inner();
    // Inside the image data: before IEND (12 bytes) and the data chunk's CRC (4).
    let at = bytes.len() - 40;
    for b in &mut bytes[at - 200..at] {
        *b ^= 0x5a;
    }
    bytes
}

fn image_part(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name("me.png")
        .mime_str("image/png")
        .unwrap()
}

fn signup(email: &str, password: &str, avatar: Vec<u8>) -> Form {
    Form::new()
        .text("email", email.to_owned())
        .text("password", password.to_owned())
        .text("password_confirm", password.to_owned())
        .part("avatar", image_part(avatar))
}

const TOO_MANY_PIXELS: &str =
    "The image is too big; it may be at most 4096 × 4096 pixels, 8 bits per channel.";
/// Reading a header takes microseconds; decoding and shrinking the bomb takes seconds.
const QUICK: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn image_bombs_are_refused_by_their_header() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let bomb = bomb();
    eprintln!("the 8000×8000 PNG is {} bytes", bomb.len());

    // Registration: the form is fine but for the image.
    let (status, page, took) =
        register(&app, signup("bomb@example.com", PASSWORD, bomb.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&page), ["avatar"]);
    assert_eq!(page.text("#e-avatar").as_deref(), Some(TOO_MANY_PIXELS));
    assert!(took < QUICK, "registration took {took:?}");
    eprintln!("registration with the bomb answered in {took:?}");

    // The profile.
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let started = Instant::now();
    let response = ann
        .post_multipart(
            "/account/edit",
            Form::new()
                .text("phone", "")
                .part("avatar", image_part(bomb.clone())),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = parse(&response.text().await.unwrap());
    assert_eq!(page.text("#e-avatar").as_deref(), Some(TOO_MANY_PIXELS));
    assert!(took < QUICK + QUICK, "profile took {took:?}");

    // A post's image in the admin.
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let form = Form::new()
        .text("title", "Bomb")
        .text("slug", "")
        .text("body", "Boom.")
        .text("published_at", "")
        .part("image", image_part(bomb));
    let started = Instant::now();
    let response = editor.post_multipart("/admin/posts/add/", form).await;
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = parse(&response.text().await.unwrap());
    assert_eq!(page.text("#e-image").as_deref(), Some(TOO_MANY_PIXELS));
    assert!(took < QUICK + QUICK, "admin took {took:?}");
    assert_eq!(post::Entity::find().count(&app.state.db).await.unwrap(), 0);
}

#[tokio::test]
async fn registration_checks_the_form_before_decoding_the_image() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    // Only decoding finds this image damaged: with a bad password it is never decoded.
    let (status, page, _) =
        register(&app, signup("weak@example.com", "short", damaged_png())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&page), ["password"]);
    // With a good one it is, and the damage is reported next to it.
    let (status, page, _) =
        register(&app, signup("fine@example.com", PASSWORD, damaged_png())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid_fields(&page), ["avatar"]);
    assert_eq!(
        page.text("#e-avatar").as_deref(),
        Some("The image is damaged and could not be read.")
    );

    // A bomb beside a bad password: both errors at once, from the header alone.
    let (status, page, took) = register(&app, signup("weak@example.com", "short", bomb())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut invalid = invalid_fields(&page);
    invalid.sort();
    assert_eq!(invalid, ["avatar", "password"]);
    assert_eq!(page.text("#e-avatar").as_deref(), Some(TOO_MANY_PIXELS));
    assert!(took < QUICK, "took {took:?}");
    assert_eq!(user::Entity::find().count(&app.state.db).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------
// Redirects

/// Signs in `email` from `visitor` (whose page gave `token`) with `next`; where the site
/// sends them.
async fn location_after_sign_in(
    app: &TestApp,
    visitor: &reqwest::Client,
    token: &str,
    email: &str,
    next: &str,
) -> String {
    let response = visitor
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token),
            ("email", email),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
    response.headers()["location"]
        .to_str()
        .map(str::to_owned)
        .unwrap_or_else(|_| panic!("{next:?}: a Location of visible ASCII"))
}

#[tokio::test]
async fn next_after_sign_in_never_leaves_the_site() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let email = "next@example.com";
    mailer_tests::users::verified_user(&app, email, Role::User).await;
    let sign_in = |next: &'static str| {
        let app = &app;
        async move {
            let visitor = new_client();
            let token = login_token(app, &visitor).await;
            location_after_sign_in(app, &visitor, &token, email, next).await
        }
    };
    // Each of these, as the browser reads it, leads to another host or runs script.
    for hostile in [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5C%5Cevil.example",
        "/%09/evil.example",
        "/x%0d%0aSet-Cookie:%20a=b",
        "http://evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        " /evil.example",
        "  //evil.example",
        "\t//evil.example",
        "/..//evil.example",
    ] {
        assert_eq!(sign_in(hostile).await, "/dashboard", "{hostile:?}");
    }
    for (good, kept) in [
        ("/clients?p=2", "/clients?p=2"),
        ("/mailings/3#x", "/mailings/3#x"),
        ("/account/edit?tab=1", "/account/edit?tab=1"),
    ] {
        assert_eq!(sign_in(good).await, kept, "{good:?}");
    }

    // The login page's own form carries `next` as given (a tab, decoded from `%09`);
    // submitting it still goes to the dashboard.
    let visitor = new_client();
    let page = visitor
        .get(format!("{}/login?next=/%09/evil.example", app.address))
        .send()
        .await
        .unwrap();
    let page = parse(&page.text().await.unwrap());
    let next = page
        .attr("input[name=next]", "value")
        .expect("next is kept");
    assert_eq!(next, "/\t/evil.example");
    let token = page.attr("input[name='csrf_token']", "value").unwrap();
    let location = location_after_sign_in(&app, &visitor, &token, email, &next).await;
    assert_eq!(location, "/dashboard");
}

// ---------------------------------------------------------------------------------------
// Malformed path and query values

const MALFORMED: [&str; 5] = ["abc", "99999999999999999999", "1.5", "-1", "%00"];

/// `route` with `value` for its parameters; an admin model stays a real one (`users`)
/// unless it is the only parameter.
fn concrete(route: &str, value: &str) -> String {
    let only_model = route.split('/').filter(|p| p.starts_with(':')).count() == 1;
    route
        .split('/')
        .map(|part| match part {
            ":model" if !only_model => "users",
            p if p.starts_with(':') => value,
            p => p,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn assert_site_error(response: reqwest::Response, allowed: &[u16], what: &str) {
    let status = response.status().as_u16();
    assert!(allowed.contains(&status), "{what}: {status}");
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}: {:?}",
        headers["content-type"]
    );
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    let doc = parse(&response.text().await.unwrap());
    assert!(doc.exists("header.site"), "{what}: inside the layout");
    assert!(doc.exists("main h1"), "{what}: a heading");
}

async fn malformed_values_get_the_site_error_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = sign_in_new(&app, "root@example.com", Role::Superuser).await;
    let token = admin.csrf("/account/password").await;
    let mut walked = 0;
    for (route, kind) in mailer::server::all_routes() {
        if route.contains(':') {
            for value in MALFORMED {
                let path = concrete(&route, value);
                if kind.takes_get() {
                    let what = format!("GET {path}");
                    assert_site_error(admin.get(&path).await, &[400, 404], &what).await;
                    let fragment = admin.htmx_get(&path, "content").await;
                    let status = fragment.status().as_u16();
                    assert!([400, 404].contains(&status), "htmx {what}: {status}");
                    let doc = parse_fragment(&fragment.text().await.unwrap());
                    assert!(
                        doc.exists("h1") && !doc.exists("header.site"),
                        "htmx {what}"
                    );
                }
                if kind.takes_post() {
                    let response = admin
                        .client
                        .post(admin.url(&path))
                        .form(&[("csrf_token", token.as_str())])
                        .send()
                        .await
                        .unwrap();
                    assert_site_error(response, &[400, 404], &format!("POST {path}")).await;
                }
                walked += 1;
            }
        } else if kind.takes_get() {
            let path =
                format!("{route}?page=x&p=x&per_page=x&from=x&to=x&dir=x&o=x&status=x&q=%00");
            let response = admin.get(&path).await;
            let status = response.status();
            // A download, or `/admin` on its way to `/admin/`.
            if (route.ends_with(".csv") && status == StatusCode::OK) || status.is_redirection() {
                continue;
            }
            assert_site_error(response, &[200, 400, 404, 422], &format!("GET {path}")).await;
            walked += 1;
        } else {
            // A POST-only action asked for with GET.
            assert_site_error(admin.get(&route).await, &[405], &format!("GET {route}")).await;
        }
    }
    assert!(walked > 40, "walked {walked} routes");

    // The import's second step without its `import_id`.
    let response = admin
        .client
        .post(admin.url("/clients/import/confirm"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_site_error(response, &[400], "confirm without import_id").await;

    // The API: its JSON error shape, for every operation of its document.
    let (_, api_token) = mailer::accounts::api_tokens::create(&app.state.db, admin.user.id, "walk")
        .await
        .unwrap_or_else(|_| panic!("an API token"));
    let spec: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let http = reqwest::Client::new();
    let mut operations = 0;
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let targets: Vec<String> = if path.contains('{') {
                MALFORMED
                    .iter()
                    .map(|value| {
                        path.split('/')
                            .map(|p| if p.starts_with('{') { *value } else { p })
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .collect()
            } else if ops[method.as_str().to_lowercase().as_str()]["parameters"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                // No parameter to spoil and `{}` is a valid body (`/me`): nothing to refuse.
                continue;
            } else {
                vec![
                    format!("{path}?page=x&per_page=x&from=x&dir=x"),
                    format!("{path}?q=%00"),
                ]
            };
            for target in targets {
                let response = http
                    .request(method.clone(), format!("{}/api/v1{target}", app.address))
                    .bearer_auth(&api_token)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.expect("JSON");
                // A search for a NUL finds nothing; anything else here is refused.
                if target.ends_with("q=%00") && status == 200 {
                    assert!(body["items"].is_array(), "{method} {target}: {body}");
                    continue;
                }
                assert!(
                    [400, 404, 422].contains(&status),
                    "{method} {target}: {status}"
                );
                assert!(
                    body["error"].is_string() && body["message"].is_string(),
                    "{method} {target}: {body}"
                );
                operations += 1;
            }
        }
    }
    assert!(operations > 20, "walked {operations} API operations");
}

#[tokio::test]
async fn malformed_values_get_the_site_error_page_sqlite() {
    malformed_values_get_the_site_error_page(Backend::Sqlite).await;
}

#[tokio::test]
async fn malformed_values_get_the_site_error_page_postgres() {
    malformed_values_get_the_site_error_page(Backend::Postgres).await;
}
