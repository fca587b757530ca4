//! Hostile and random form values to every POST route of the site (the router's own list,
//! so a new route is covered without anyone remembering), signed in as a user and as a
//! superuser, against the real `mailer serve` process: no answer may be a 5xx, and the
//! process must still be up at the end. The values are what careless users and attackers
//! send: NUL, line breaks, huge and negative numbers, years out of range, formulas, markup,
//! and fields missing, repeated or unknown. The seed is fixed, so a failure replays.

use mailer::entities::user::Role;
use mailer::web::RouteKind;
use mailer_tests::app::ServeProcess;
use mailer_tests::html::parse;
use mailer_tests::users::{new_client, sign_in_at, verified_user};
use mailer_tests::{Backend, spawn_app};
use reqwest::StatusCode;

use crate::mailings::client_message_mailing;

/// Values no form should fail on with a 5xx.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "\0",
    "a\0b",
    "x\r\nBcc: victim@example.com",
    "line\nbreak",
    "-1",
    "0",
    "2147483648",
    "-9223372036854775809",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "-10000-01-01T00:00",
    "-4714-11-24T00:00",
    "275760-09-13T00:00",
    "2026-13-45T25:61",
    "0000-00-00",
    "=HYPERLINK(\"http://evil.example\")",
    "<script>alert(1)</script>",
    "'; DROP TABLE clients; --",
    "../../../../etc/passwd",
    "%00%0d%0a",
    "\u{202e}gnp.exe",
    "😀😀😀",
    "a@b",
    "@",
    "true",
    "on",
    "daily",
    "once",
];

/// Field names tried on actions that show no form.
const ACTION_FIELDS: &[&str] = &[
    "id",
    "ids",
    "action",
    "_selected_action",
    "select_across",
    "name",
    "label",
    "confirm",
    "import_id",
    "email",
    "force",
    "q",
];

/// xorshift64*: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn value(&mut self) -> String {
        match self.below(10) {
            // Long text: over every length limit, under the body limit.
            0 => "x".repeat(20_000 + self.below(60_000)),
            // Random characters, control characters included.
            1 => (0..self.below(40))
                .map(|_| char::from_u32(self.below(0x3000) as u32).unwrap_or('?'))
                .collect(),
            _ => HOSTILE[self.below(HOSTILE.len())].to_owned(),
        }
    }
}

/// A browser of the `mailer serve` process.
struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    async fn sign_in(base: &str, email: &str) -> Browser {
        let http = new_client();
        sign_in_at(&http, base, email).await;
        Browser {
            http,
            base: base.to_owned(),
        }
    }

    async fn csrf(&self, path: &str) -> Option<String> {
        let body = self.get(path).await.1;
        parse(&body).attr("input[name='csrf_token']", "value")
    }

    /// Status and body; 599 when there was no answer (the caller checks the process). One
    /// retry: a refusal answered before its body was read (413, 404 for a NUL) closes the
    /// connection, and the client's next request may find it closed, as browsers do (they
    /// retry too).
    async fn get(&self, path: &str) -> (StatusCode, String) {
        for _ in 0..2 {
            if let Ok(response) = self.http.get(format!("{}{path}", self.base)).send().await {
                let status = response.status();
                return (status, response.text().await.unwrap_or_default());
            }
        }
        (StatusCode::from_u16(599).unwrap_or_default(), String::new())
    }

    /// The names of the fields of the page's main form, and whether it is multipart.
    async fn form_fields(&self, path: &str) -> (Vec<String>, bool) {
        let (status, body) = self.get(path).await;
        if status != StatusCode::OK {
            return (Vec::new(), false);
        }
        let doc = parse(&body);
        let mut names: Vec<String> = doc
            .attrs("form[method='post'] [name]", "name")
            .into_iter()
            .filter(|n| n != "csrf_token")
            .collect();
        names.sort();
        names.dedup();
        let multipart = doc
            .attr("form[enctype='multipart/form-data']", "enctype")
            .is_some();
        (names, multipart)
    }
}

async fn hostile_posts_never_answer_5xx(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut serve = ServeProcess::start(&app, "serve.log").await;
    let base = serve.base.clone();

    let user = verified_user(&app, "fuzz@example.com", Role::User).await;
    verified_user(&app, "root@example.com", Role::Superuser).await;
    // The admin's user routes work on this one (deleting the fuzzing user would end its run).
    let victim = verified_user(&app, "victim@example.com", Role::User).await;
    let owner = Browser::sign_in(&base, "fuzz@example.com").await;
    let (client, message, mailing) = {
        let visitor = mailer_tests::users::Visitor {
            user: user.clone(),
            client: owner.http.clone(),
            base: base.clone(),
        };
        client_message_mailing(&app, &visitor, "someone@example.com", "Fuzzed").await
    };
    let root = Browser::sign_in(&base, "root@example.com").await;

    let mut routes: Vec<(String, RouteKind)> = mailer::server::all_routes()
        .into_iter()
        .filter(|(_, kind)| kind.takes_post())
        .collect();
    // What ends the session or deletes the objects goes last, the admin's deletes after the
    // owner's.
    routes.sort_by_key(|(path, _)| {
        (
            path == "/logout",
            path.contains("delete"),
            path.starts_with("/admin"),
        )
    });

    let mut rng = Rng(0x5eed_2026_1207_0021);
    let mut failures = Vec::new();
    let mut sent = 0;
    let mut last = String::new();
    for (route, kind) in &routes {
        let is_admin = route.starts_with("/admin");
        let models: &[&str] = if route.contains(":model") {
            &[
                "users", "mailings", "clients", "messages", "posts", "attempts", "log",
            ]
        } else {
            &[""]
        };
        for model in models {
            let id = if route.starts_with("/clients/") {
                client.to_string()
            } else if route.starts_with("/messages/") {
                message.id.to_string()
            } else if route.starts_with("/mailings/") || route.starts_with("/admin/mailings") {
                mailing.id.to_string()
            } else if *model == "users" {
                victim.id.to_string()
            } else {
                // Hostile, but short: a URL over hyper's limit is a 414 answered before the
                // body is read, which the client sees as a broken pipe.
                HOSTILE[rng.below(HOSTILE.len())].to_owned()
            };
            let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let path = route
                .replace(":model", model)
                .replace(":id", &id)
                .replace(":token", "not-a-token");
            let browser = if is_admin { &root } else { &owner };
            let (mut fields, multipart) = if kind.takes_get() {
                browser.form_fields(&path).await
            } else {
                (Vec::new(), false)
            };
            if fields.is_empty() {
                fields = ACTION_FIELDS.iter().map(|f| (*f).to_owned()).collect();
            }
            for _ in 0..6 {
                // After the first /logout the browser is anonymous: its token is the login page's.
                let token_page = if path == "/logout" {
                    "/login"
                } else {
                    "/account/password"
                };
                let Some(token) = browser.csrf(token_page).await else {
                    serve.check_alive(&last);
                    panic!("{path}: the browser lost its session after {last}");
                };
                let mut values: Vec<(String, String)> = Vec::new();
                for field in &fields {
                    match rng.below(6) {
                        0 => {} // missing
                        1 => {
                            values.push((field.clone(), rng.value()));
                            values.push((field.clone(), rng.value()));
                        }
                        _ => values.push((field.clone(), rng.value())),
                    }
                }
                if rng.below(4) == 0 {
                    values.push(("unexpected_field".into(), rng.value()));
                }
                let url = format!("{base}{path}");
                let request = if multipart {
                    let mut form = reqwest::multipart::Form::new();
                    for (name, value) in &values {
                        form = if rng.below(3) == 0 {
                            let part = reqwest::multipart::Part::bytes(value.clone().into_bytes())
                                .file_name("upload.bin");
                            form.part(name.clone(), part)
                        } else {
                            form.text(name.clone(), value.clone())
                        };
                    }
                    browser
                        .http
                        .post(&url)
                        .query(&[("csrf_token", &token)])
                        .multipart(form)
                } else {
                    let mut body = vec![("csrf_token".to_owned(), token.clone())];
                    body.extend(values.iter().cloned());
                    browser.http.post(&url).form(&body)
                };
                sent += 1;
                last = format!("POST {path} {values:.200?}");
                match request.send().await {
                    Ok(response) if response.status().is_server_error() => {
                        let status = response.status();
                        let text = response.text().await.unwrap_or_default();
                        let short: String = text.chars().take(200).collect();
                        let short_path: String = path.chars().take(80).collect();
                        let fields: Vec<String> = values
                            .iter()
                            .map(|(k, v)| {
                                format!("{k}={:?}", v.chars().take(40).collect::<String>())
                            })
                            .collect();
                        failures.push(format!("POST {short_path} {fields:?} → {status}: {short}"));
                    }
                    Ok(_) => {}
                    Err(e) => failures.push(format!("POST {path}: no answer ({e})")),
                }
            }
        }
    }
    let (status, _) = owner.get("/healthz").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the server answers after {sent} hostile posts"
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile posts failed:\n{}\nserver log:\n{}",
        failures.len(),
        failures.join("\n"),
        serve.log()
    );
    assert!(sent > 200, "only {sent} posts were sent");
    serve.check_alive("every post");
}

#[tokio::test]
async fn hostile_posts_never_answer_5xx_sqlite() {
    hostile_posts_never_answer_5xx(Backend::Sqlite).await;
}

#[tokio::test]
async fn hostile_posts_never_answer_5xx_postgres() {
    hostile_posts_never_answer_5xx(Backend::Postgres).await;
}
