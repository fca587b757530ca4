//! Hostile input at the HTTP edge: every request body is cut at its limit while it streams
//! (the site's 413 page, or the API's JSON), and the CSRF guard refuses before reading a
//! body it is going to refuse.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailer::entities::user;
use mailer::entities::user::Role;
use mailer_tests::html::{Doc, parse};
use mailer_tests::users::{PASSWORD, new_client};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::multipart::Form;
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
    let (_, api_token) = mailer::api::tokens::create(&app.state.db, owner.id, "limits")
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
