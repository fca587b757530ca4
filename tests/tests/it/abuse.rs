//! The account pages probed as an attacker would use them (issue 21): failing someone's
//! sign-in to lock them out, forged forwarding headers, mail bombing through the "mail me a
//! link" forms, and registration as an oracle of which addresses have accounts.

use std::time::Instant;

use mailer::accounts::tokens::Purpose;
use mailer::config::ForwardedHeader;
use mailer_tests::{Backend, spawn_app, spawn_app_with};
use reqwest::StatusCode;

use super::accounts::{
    Browser, NEW_PASSWORD, PASSWORD, assert_no_more_mail, assert_redirect, confirm_by_mailed_link,
    doc, find_user, flash, form_error, in_an_hour, location, mailed_link, mails, make_user,
    median_times, password_link, signup_form, start_worker, user_count,
};

const WRONG: &str = "wrong-password-123";

// ---------------------------------------------------------------------------------------
// Sign-in throttling

/// Fails `n` sign-ins for `email` from `browser`, each answered as a wrong password.
async fn fail_sign_ins(browser: &Browser<'_>, email: &str, n: usize, headers: &[(&str, &str)]) {
    for attempt in 1..=n {
        let response = sign_in(browser, email, WRONG, headers).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email} #{attempt}"
        );
        assert_eq!(
            form_error(&doc(response).await),
            "The e-mail or the password is wrong."
        );
    }
}

async fn sign_in(
    browser: &Browser<'_>,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post_with_headers(
            "/login",
            &[("email", email), ("password", password)],
            headers,
        )
        .await
}

/// Asserts a refusal for too many failures: 429, and a message that says so and what to do.
async fn assert_refused(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let message = form_error(&doc(response).await);
    assert!(message.starts_with("Too many failed sign-ins"), "{message}");
    assert!(message.contains("reset your password"), "{message}");
}

/// One client's failures refuse that client for that e-mail, whether or not the account
/// exists, and not for other e-mails.
#[tokio::test]
async fn repeated_failures_refuse_the_client_for_that_email() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    make_user(&app, "target@example.com", true).await;
    make_user(&app, "bystander@example.com", true).await;
    let per_pair = app.config.throttle.failures_per_pair as usize;

    for email in ["target@example.com", "ghost@example.com"] {
        fail_sign_ins(&browser, email, per_pair, &[]).await;
        // Even the right password is refused now, and the page says why.
        assert_refused(sign_in(&browser, email, PASSWORD, &[]).await).await;
    }
    assert_redirect(
        &sign_in(&browser, "bystander@example.com", PASSWORD, &[]).await,
        "/dashboard",
    );
}

async fn owner_signs_in_while_an_attacker_hammers_the_address(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.throttle.slowdown_ms = 500).await else {
        return;
    };
    let email = "owner@example.com";
    make_user(&app, email, true).await;
    let limits = app.config.throttle.clone();
    let (per_pair, per_address) = (
        limits.failures_per_pair as usize,
        limits.failures_per_address as usize,
    );
    assert!(per_pair < per_address, "the defaults this test is about");

    // One attacker address: refused once its failures are used up, even with the password.
    let attacker = Browser::from_ip(&app, "127.0.0.2").await;
    fail_sign_ins(&attacker, email, per_pair, &[]).await;
    assert_refused(sign_in(&attacker, email, WRONG, &[]).await).await;
    assert_refused(sign_in(&attacker, email, PASSWORD, &[]).await).await;

    // More attacker addresses take the e-mail past its own ceiling: slowed, never refused.
    let mut failed = per_pair;
    for ip in 3.. {
        if failed >= per_address {
            break;
        }
        let attacker = Browser::from_ip(&app, &format!("127.0.0.{ip}")).await;
        let n = per_pair.min(per_address - failed);
        fail_sign_ins(&attacker, email, n, &[]).await;
        failed += n;
    }
    let another = Browser::from_ip(&app, "127.0.0.100").await;
    let started = Instant::now();
    fail_sign_ins(&another, email, 1, &[]).await;
    assert!(started.elapsed() >= limits.slowdown(), "slowed down");

    // The owner, from elsewhere, with the right password, gets in (after the same wait).
    let owner = Browser::from_ip(&app, "127.0.0.200").await;
    let started = Instant::now();
    assert_redirect(&sign_in(&owner, email, PASSWORD, &[]).await, "/dashboard");
    assert!(started.elapsed() >= limits.slowdown());
    // The attacker's first address stays refused.
    assert_refused(sign_in(&attacker, email, PASSWORD, &[]).await).await;
}

#[tokio::test]
async fn owner_signs_in_while_an_attacker_hammers_the_address_sqlite() {
    owner_signs_in_while_an_attacker_hammers_the_address(Backend::Sqlite).await;
}

#[tokio::test]
async fn owner_signs_in_while_an_attacker_hammers_the_address_postgres() {
    owner_signs_in_while_an_attacker_hammers_the_address(Backend::Postgres).await;
}

/// Twenty tries at once from one client get no more answers than its limit: each try is
/// counted before its password is checked, not after.
async fn a_burst_of_tries_gets_no_more_than_the_limit(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let email = "burst@example.com";
    make_user(&app, email, true).await;
    let per_pair = app.config.throttle.failures_per_pair as usize;
    let attacker = Browser::from_ip(&app, "127.0.0.2").await;
    let tries = (0..20).map(|_| sign_in(&attacker, email, WRONG, &[]));
    let statuses: Vec<StatusCode> = futures::future::join_all(tries)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let answered = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (answered, refused),
        (per_pair, 20 - per_pair),
        "{statuses:?}"
    );
    assert_refused(sign_in(&attacker, email, PASSWORD, &[]).await).await;
}

#[tokio::test]
async fn a_burst_of_tries_gets_no_more_than_the_limit_sqlite() {
    a_burst_of_tries_gets_no_more_than_the_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_burst_of_tries_gets_no_more_than_the_limit_postgres() {
    a_burst_of_tries_gets_no_more_than_the_limit(Backend::Postgres).await;
}

#[tokio::test]
async fn twenty_failures_from_one_address_do_not_lock_out_its_other_users() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let email = "colleague@example.com";
    make_user(&app, email, true).await;
    // An office behind one NAT address: someone fails twenty sign-ins (typos, old
    // passwords, a script), each for an address of their own.
    let office = Browser::from_ip(&app, "127.0.0.2").await;
    for n in 0..20 {
        fail_sign_ins(&office, &format!("typo{n}@example.com"), 1, &[]).await;
    }
    let colleague = Browser::from_ip(&app, "127.0.0.2").await;
    assert_redirect(
        &sign_in(&colleague, email, PASSWORD, &[]).await,
        "/dashboard",
    );
}

#[tokio::test]
async fn a_client_failing_for_many_addresses_is_refused_past_the_per_ip_limit() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.throttle.failures_per_ip = 8).await
    else {
        return;
    };
    make_user(&app, "target@example.com", true).await;
    // Two tries each for four addresses: under the pair limit every time.
    let sprayer = Browser::from_ip(&app, "127.0.0.2").await;
    for n in 0..4 {
        fail_sign_ins(&sprayer, &format!("victim{n}@example.com"), 2, &[]).await;
    }
    assert_refused(sign_in(&sprayer, "target@example.com", PASSWORD, &[]).await).await;
    let elsewhere = Browser::from_ip(&app, "127.0.0.3").await;
    assert_redirect(
        &sign_in(&elsewhere, "target@example.com", PASSWORD, &[]).await,
        "/dashboard",
    );
}

#[tokio::test]
async fn a_new_password_reopens_sign_in_from_the_client_that_set_it() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let email = "forgot@example.com";
    let user = make_user(&app, email, true).await;
    let browser = Browser::from_ip(&app, "127.0.0.2").await;
    let per_pair = app.config.throttle.failures_per_pair as usize;
    fail_sign_ins(&browser, email, per_pair, &[]).await;
    assert_refused(sign_in(&browser, email, PASSWORD, &[]).await).await;

    let link = password_link(&app, Purpose::ResetPassword, &user, in_an_hour());
    let new = [
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    assert_redirect(&browser.post(&link, &new).await, "/login");
    assert_redirect(
        &sign_in(&browser, email, NEW_PASSWORD, &[]).await,
        "/dashboard",
    );
}

#[tokio::test]
async fn forged_forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // A proxy is configured, but the peer is not it.
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| {
        c.proxies.trusted = vec!["127.0.0.9/32".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let email = "victim@example.com";
    make_user(&app, email, true).await;
    let per_pair = app.config.throttle.failures_per_pair;

    // Each try claims another client address; all of them are the peer's own.
    let peer = Browser::from_ip(&app, "127.0.0.2").await;
    for n in 0..per_pair {
        let forged = format!("203.0.113.{n}");
        let headers = [
            ("X-Forwarded-For", forged.as_str()),
            ("Forwarded", &format!("for={forged}")),
        ];
        fail_sign_ins(&peer, email, 1, &headers).await;
    }
    let headers = [
        ("X-Forwarded-For", "198.51.100.1"),
        ("Forwarded", "for=198.51.100.1"),
    ];
    assert_refused(sign_in(&peer, email, PASSWORD, &headers).await).await;
}

/// The header value a proxy sends for a request that came through `hops` (client first).
fn forwarded_value(header: ForwardedHeader, hops: &[&str]) -> String {
    match header {
        ForwardedHeader::XForwardedFor => hops.join(", "),
        ForwardedHeader::Forwarded => hops
            .iter()
            .map(|hop| match hop.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V6(_)) => format!("for=\"[{hop}]:4711\";proto=https"),
                _ => format!("for={hop};proto=https"),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

async fn clients_behind_a_trusted_proxy_are_counted_apart(header: ForwardedHeader) {
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| {
        c.proxies.trusted = vec!["127.0.0.4/30".parse().unwrap()];
        c.proxies.header = header;
    })
    .await
    else {
        return;
    };
    let name = match header {
        ForwardedHeader::XForwardedFor => "X-Forwarded-For",
        ForwardedHeader::Forwarded => "Forwarded",
    };
    let email = "shared@example.com";
    make_user(&app, email, true).await;
    let per_pair = app.config.throttle.failures_per_pair as usize;

    // Two people behind the same proxy (127.0.0.5): one fails until refused…
    let attacker = Browser::from_ip(&app, "127.0.0.5").await;
    let from_attacker = forwarded_value(header, &["203.0.113.7"]);
    fail_sign_ins(&attacker, email, per_pair, &[(name, &from_attacker)]).await;
    assert_refused(sign_in(&attacker, email, PASSWORD, &[(name, &from_attacker)]).await).await;
    // …and cannot escape by writing another address left of the one the proxy added, nor
    // behind a second proxy of ours (127.0.0.6).
    for hops in [
        &["198.51.100.1", "203.0.113.7"][..],
        &["203.0.113.7", "127.0.0.6"][..],
    ] {
        let value = forwarded_value(header, hops);
        assert_refused(sign_in(&attacker, email, PASSWORD, &[(name, &value)]).await).await;
    }
    // The other is counted as the client they are, and gets in.
    let owner = Browser::from_ip(&app, "127.0.0.5").await;
    let from_owner = forwarded_value(header, &["2001:db8::8"]);
    assert_redirect(
        &sign_in(&owner, email, PASSWORD, &[(name, &from_owner)]).await,
        "/dashboard",
    );
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_counted_apart_by_x_forwarded_for() {
    clients_behind_a_trusted_proxy_are_counted_apart(ForwardedHeader::XForwardedFor).await;
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_counted_apart_by_forwarded() {
    clients_behind_a_trusted_proxy_are_counted_apart(ForwardedHeader::Forwarded).await;
}

// ---------------------------------------------------------------------------------------
// Account mail

/// Follows a 303 to `/login` and returns the one-time message shown there.
async fn notice_after(
    browser: &Browser<'_>,
    response: reqwest::Response,
) -> (StatusCode, String, Option<String>) {
    let (status, to) = (response.status(), location(&response).to_owned());
    let (_, page) = browser.page(&to).await;
    (status, to, flash(&page, "success"))
}

async fn account_mail_goes_once_per_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let _worker = start_worker(&app);
    make_user(&app, "reset@example.com", true).await;
    make_user(&app, "renew@example.com", true).await;
    make_user(&app, "pending@example.com", false).await;

    for (path, email) in [
        ("/password/reset", "reset@example.com"),
        ("/password/new", "renew@example.com"),
        ("/verify/resend", "pending@example.com"),
    ] {
        let browser = Browser::other_device(&app).await;
        // The answer to a request that mails, and to one that does not, is the same.
        let first = browser.post(path, &[("email", email)]).await;
        let first = notice_after(&browser, first).await;
        let second = browser.post(path, &[("email", email)]).await;
        assert_eq!(notice_after(&browser, second).await, first, "{path}");
        assert_eq!(first.0, StatusCode::SEE_OTHER);
        let fields = [("email", email)];
        let rest = (0..18).map(|_| browser.post(path, &fields));
        for response in futures::future::join_all(rest).await {
            assert_redirect(&response, "/login");
        }
    }
    // Another kind of account mail to an address just mailed waits as well.
    let browser = Browser::new(&app).await;
    let response = browser
        .post("/password/new", &[("email", "reset@example.com")])
        .await;
    assert_redirect(&response, "/login");

    let mut got: Vec<(String, String)> = mails(&app, 3)
        .await
        .iter()
        .map(|m| (m.to.join(","), m.subject().unwrap_or_default()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "pending@example.com".into(),
                "Confirm your e-mail address".into()
            ),
            (
                "renew@example.com".into(),
                "Confirm: a new password for Mailer".into()
            ),
            ("reset@example.com".into(), "Reset your password".into()),
        ]
    );
    assert_no_more_mail(&app, 3).await;
}

#[tokio::test]
async fn account_mail_goes_once_per_address_sqlite() {
    account_mail_goes_once_per_address(Backend::Sqlite).await;
}

#[tokio::test]
async fn account_mail_goes_once_per_address_postgres() {
    account_mail_goes_once_per_address(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// Registration

/// What a visitor sees after registering `email`: status, where to, and the message there
/// (with the address itself taken out, so answers for two addresses compare).
async fn registration_answer(
    browser: &Browser<'_>,
    email: &str,
) -> (StatusCode, String, Option<String>) {
    let response = browser.register(signup_form(email, NEW_PASSWORD)).await;
    let status = response.status();
    if status != StatusCode::SEE_OTHER {
        return (status, String::new(), None);
    }
    let (status, to, notice) = notice_after(browser, response).await;
    let notice = notice.map(|n| n.replace(&email.to_lowercase(), "<address>"));
    (status, to, notice)
}

async fn registering_a_taken_address_answers_as_a_new_one(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let _worker = start_worker(&app);
    let browser = Browser::new(&app).await;
    let owner = make_user(&app, "owner@example.com", true).await;
    make_user(&app, "pending@example.com", false).await;

    let new = registration_answer(&browser, "newcomer@example.com").await;
    assert_eq!(new.0, StatusCode::SEE_OTHER);
    assert_eq!(new.1, "/login");
    assert!(
        new.2.as_deref().is_some_and(|n| n.contains("<address>")),
        "{new:?}"
    );
    assert_eq!(
        registration_answer(&browser, "Owner@Example.com").await,
        new
    );

    // No second account, and the owner's password is theirs still.
    assert_eq!(user_count(&app).await, 3);
    let stored = find_user(&app, "owner@example.com").await.unwrap();
    assert_eq!(stored.password_hash, owner.password_hash);

    // The owner is told by mail instead, with the ways back in.
    let received = mails(&app, 2).await;
    let notice = received
        .iter()
        .find(|m| m.to == ["owner@example.com"])
        .expect("a mail to the owner");
    assert_eq!(
        notice.subject().as_deref(),
        Some("Someone tried to register with your address")
    );
    mailed_link(&app, notice, "/login");
    mailed_link(&app, notice, "/password/reset");
    assert!(received.iter().any(|m| m.to == ["newcomer@example.com"]));

    // Asking again mails nobody (the account-mail limit), and still answers the same.
    assert_eq!(
        registration_answer(&browser, "owner@example.com").await,
        new
    );

    // An unconfirmed owner gets a confirmation link in the notice, and it works.
    assert_eq!(
        registration_answer(&browser, "pending@example.com").await,
        new
    );
    let received = mails(&app, 3).await;
    let notice = received
        .iter()
        .find(|m| m.to == ["pending@example.com"])
        .expect("a mail to the unconfirmed owner");
    confirm_by_mailed_link(&browser, notice).await;
    assert_no_more_mail(&app, 3).await;
}

#[tokio::test]
async fn registering_a_taken_address_answers_as_a_new_one_sqlite() {
    registering_a_taken_address_answers_as_a_new_one(Backend::Sqlite).await;
}

#[tokio::test]
async fn registering_a_taken_address_answers_as_a_new_one_postgres() {
    registering_a_taken_address_answers_as_a_new_one(Backend::Postgres).await;
}

#[tokio::test]
async fn registering_a_taken_address_takes_as_long_as_a_new_one() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = &Browser::new(&app).await;
    make_user(&app, "taken@example.com", true).await;
    let (taken, new) = median_times(5, |n, taken| {
        let email = if taken {
            "taken@example.com".to_owned()
        } else {
            format!("new{n}@example.com")
        };
        async move {
            let response = browser.register(signup_form(&email, NEW_PASSWORD)).await;
            assert_redirect(&response, "/login");
        }
    })
    .await;
    eprintln!("registration: taken address {taken:?}, new address {new:?} (medians of 5)");
    let ratio = taken.as_secs_f64() / new.as_secs_f64();
    assert!(
        (0.5..=2.0).contains(&ratio),
        "taken address {taken:?} vs new address {new:?}"
    );
}

async fn concurrent_registrations_of_one_address_make_one_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    let registrations =
        (0..6).map(|_| browser.register(signup_form("twice@example.com", PASSWORD)));
    for response in futures::future::join_all(registrations).await {
        assert_redirect(&response, "/login");
    }
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn concurrent_registrations_of_one_address_make_one_account_sqlite() {
    concurrent_registrations_of_one_address_make_one_account(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_address_make_one_account_postgres() {
    concurrent_registrations_of_one_address_make_one_account(Backend::Postgres).await;
}
