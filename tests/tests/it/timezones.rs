//! Time zones: each user's IANA zone, set at registration (from the browser), on the
//! account page and through the API; forms take times in it and pages show them in it,
//! stored in UTC; recurring mailings keep its local wall-clock time across DST changes, the
//! scheduler's clock moved across both transitions (Europe/Berlin has DST; Europe/Moscow
//! and Asia/Tokyo do not).

use chrono::{DateTime, Duration, TimeZone, Utc};
use mailer::delivery::fanout;
use mailer::entities::delivery;
use mailer::entities::mailing;
use mailer::entities::user::{self, Role};
use mailer_tests::html::{Doc, parse};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use crate::accounts::{Browser, signup_form};
use crate::api::{api_for, field_errors};
use crate::mailings::{make_clients, make_message};

const DOMAIN: &str = "mail.example.test";

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap()
}

async fn doc(response: reqwest::Response) -> Doc {
    parse(&response.text().await.expect("body"))
}

async fn user_named(app: &TestApp, email: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the user")
}

/// A signed-in user living in `zone`.
pub(crate) async fn resident(app: &TestApp, email: &str, zone: &str) -> Visitor {
    let mut v = sign_in_new(app, email, Role::User).await;
    let mut active: user::ActiveModel = v.user.clone().into();
    active.timezone = Set(zone.to_owned());
    v.user = active.update(&app.state.db).await.unwrap();
    v
}

/// Creates a mailing through the form, its times typed as local wall-clock times.
async fn mailing_from_form(
    app: &TestApp,
    v: &Visitor,
    start: &str,
    end: &str,
    periodicity: &str,
) -> mailing::Model {
    let clients = make_clients(
        app,
        v,
        &format!("c{}x", start.replace([':', '-'], "").to_lowercase()),
        1,
    )
    .await;
    let message = make_message(app, v.user.id, "Hello").await;
    let client = clients[0].to_string();
    let message = message.id.to_string();
    let response = v
        .post_form(
            "/mailings/new",
            &[
                ("name", "Local time"),
                ("message_id", &message),
                ("client_ids", &client),
                ("start_at", start),
                ("end_at", end),
                ("periodicity", periodicity),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "mailing created");
    mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .order_by_desc(mailing::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the mailing")
}

async fn reload(app: &TestApp, id: i32) -> mailing::Model {
    mailing::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn registration_takes_the_zone_and_refuses_a_bad_one(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = Browser::new(&app).await;
    // The form asks for the zone, filled in by the site's own script (no inline script).
    let (status, form) = browser.page("/register").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.exists("input[name='timezone'][data-browser-timezone][list='timezones']"));
    assert!(form.exists("datalist#timezones option[value='Europe/Moscow']"));
    let script = form
        .attrs("script[src]", "src")
        .into_iter()
        .find(|s| s.contains("app"))
        .expect("the site's script");
    let js = app.get(&script).await.text().await.unwrap();
    assert!(js.contains("Intl.DateTimeFormat().resolvedOptions().timeZone"));

    let response = browser
        .register(
            signup_form("bad@example.com", "a long passphrase 1").text("timezone", "Mars/Olympus"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = doc(response).await;
    let error = page.text("#e-timezone").expect("an error beside the field");
    assert!(error.contains("time zone"), "{error}");
    assert_eq!(
        page.attr("#f-timezone", "value").as_deref(),
        Some("Mars/Olympus")
    );
    assert!(
        user::Entity::find()
            .filter(user::Column::Email.eq("bad@example.com"))
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none()
    );

    let response = browser
        .register(
            signup_form("ann@example.com", "a long passphrase 1").text("timezone", "Europe/Berlin"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        user_named(&app, "ann@example.com").await.timezone,
        "Europe/Berlin"
    );
    // A browser without the script sends nothing: UTC.
    let response = browser
        .register(signup_form("bob@example.com", "a long passphrase 1"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(user_named(&app, "bob@example.com").await.timezone, "UTC");
}

#[tokio::test]
async fn registration_takes_the_zone_and_refuses_a_bad_one_sqlite() {
    registration_takes_the_zone_and_refuses_a_bad_one(Backend::Sqlite).await;
}

#[tokio::test]
async fn registration_takes_the_zone_and_refuses_a_bad_one_postgres() {
    registration_takes_the_zone_and_refuses_a_bad_one(Backend::Postgres).await;
}

async fn account_page_and_api_change_the_zone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let page = doc(v.get("/account/edit").await).await;
    assert_eq!(page.attr("#f-timezone", "value").as_deref(), Some("UTC"));

    let form = |zone: &str| {
        reqwest::multipart::Form::new()
            .text("phone", "")
            .text("timezone", zone.to_owned())
    };
    let response = v
        .post_multipart("/account/edit", form("Nowhere/City"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = doc(response).await;
    assert!(
        page.text("#e-timezone").is_some(),
        "an error beside the field"
    );
    assert_eq!(user_named(&app, "ann@example.com").await.timezone, "UTC");

    let response = v.post_multipart("/account/edit", form("Asia/Tokyo")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let account = doc(v.get("/account").await).await;
    assert_eq!(account.text("#timezone").as_deref(), Some("Asia/Tokyo"));

    // The API: read, set, and a bad zone is a 422 naming the field.
    let api = api_for(&app, &v.user).await;
    let (status, me) = api.get("/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["timezone"], "Asia/Tokyo");
    assert_eq!(me["email"], "ann@example.com");
    let (status, body) = api
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"timezone": "Europe/Atlantis"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "validation");
    assert!(!field_errors(&body, "timezone").is_empty(), "{body}");
    let (status, body) = api
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"timezone": "Europe/Moscow"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["timezone"], "Europe/Moscow");
    assert_eq!(
        user_named(&app, "ann@example.com").await.timezone,
        "Europe/Moscow"
    );
    let (status, body) = api
        .call(Method::PATCH, "/me", Some(json!({"timezone": 3})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The document describes it.
    let spec: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(
        spec["paths"]["/me"]["patch"].is_object(),
        "PATCH /me in the document"
    );
    assert!(spec["components"]["schemas"]["Account"]["properties"]["timezone"].is_object());
}

#[tokio::test]
async fn account_page_and_api_change_the_zone_sqlite() {
    account_page_and_api_change_the_zone(Backend::Sqlite).await;
}

#[tokio::test]
async fn account_page_and_api_change_the_zone_postgres() {
    account_page_and_api_change_the_zone(Backend::Postgres).await;
}

/// 09:00 typed in Berlin is 08:00Z in winter and 07:00Z in summer, and shows back as 09:00
/// in the form, the detail page and the list, the zone named.
async fn the_mailing_form_round_trips_local_times(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = resident(&app, "ann@example.com", "Europe/Berlin").await;
    let form = doc(v.get("/mailings/new").await).await;
    assert_eq!(
        form.text("label[for='f-start_at']").as_deref(),
        Some("Start (Europe/Berlin)")
    );
    assert!(
        form.text("#h-start_at")
            .unwrap_or_default()
            .contains("first")
    );

    let winter = mailing_from_form(&app, &v, "2027-01-12T09:00", "2027-12-01T09:00", "daily").await;
    assert_eq!(winter.start_at, utc(2027, 1, 12, 8, 0));
    assert_eq!(winter.end_at, utc(2027, 12, 1, 8, 0));
    let summer =
        mailing_from_form(&app, &v, "2027-07-12T09:00", "2027-12-01T09:00", "weekly").await;
    assert_eq!(summer.start_at, utc(2027, 7, 12, 7, 0));

    for (m, typed, shown) in [
        (&winter, "2027-01-12T09:00", "12 Jan 2027, 09:00 CET"),
        (&summer, "2027-07-12T09:00", "12 Jul 2027, 09:00 CEST"),
    ] {
        let edit = doc(v.get(&format!("/mailings/{}/edit", m.id)).await).await;
        assert_eq!(edit.attr("#f-start_at", "value").as_deref(), Some(typed));
        let detail = v
            .get(&format!("/mailings/{}", m.id))
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains(shown), "{shown} on the detail page");
        assert!(!detail.contains("(UTC)"));
    }
    let list = v.get("/mailings").await.text().await.unwrap();
    assert!(list.contains("12 Jan 2027, 09:00 CET") && list.contains("12 Jul 2027, 09:00 CEST"));
    let head = parse(&list).text(".page-head p").unwrap_or_default();
    assert!(
        head.contains("Europe/Berlin"),
        "the list names the zone: {head}"
    );

    // Saving the form unchanged keeps the instants.
    let client = crate::mailings::client_id(&app, v.user.id, "c20270712t0900x0@example.com").await;
    let response = v
        .post_form(
            &format!("/mailings/{}/edit", summer.id),
            &[
                ("name", "Local time"),
                ("message_id", &summer.message_id.to_string()),
                ("client_ids", &client.to_string()),
                ("start_at", "2027-07-12T09:00"),
                ("end_at", "2027-12-01T09:00"),
                ("periodicity", "weekly"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        reload(&app, summer.id).await.start_at,
        utc(2027, 7, 12, 7, 0)
    );

    // A start in the spring gap is the end of the gap; in the autumn fold the first one.
    let gap = mailing_from_form(&app, &v, "2027-03-28T02:30", "2027-12-01T09:00", "once").await;
    assert_eq!(gap.start_at, utc(2027, 3, 28, 1, 0), "03:00 CEST");
    let fold = mailing_from_form(&app, &v, "2027-10-31T02:30", "2027-12-01T09:00", "once").await;
    assert_eq!(fold.start_at, utc(2027, 10, 31, 0, 30), "02:30 CEST");

    // Moscow and Tokyo have no DST: the same offset all year.
    let m = resident(&app, "bob@example.com", "Europe/Moscow").await;
    let moscow = mailing_from_form(&app, &m, "2027-07-12T09:00", "2027-12-01T09:00", "daily").await;
    assert_eq!(moscow.start_at, utc(2027, 7, 12, 6, 0));
    let detail = m
        .get(&format!("/mailings/{}", moscow.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("12 Jul 2027, 09:00 MSK"));
    let t = resident(&app, "kei@example.com", "Asia/Tokyo").await;
    let tokyo = mailing_from_form(&app, &t, "2027-01-12T09:00", "2027-12-01T09:00", "daily").await;
    assert_eq!(tokyo.start_at, utc(2027, 1, 12, 0, 0));
    let detail = t
        .get(&format!("/mailings/{}", tokyo.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("12 Jan 2027, 09:00 JST"));
    // Another viewer's zone does not leak: Berlin still sees Berlin.
    let list = v.get("/mailings").await.text().await.unwrap();
    assert!(!list.contains("MSK") && !list.contains("JST"));
}

#[tokio::test]
async fn the_mailing_form_round_trips_local_times_sqlite() {
    the_mailing_form_round_trips_local_times(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_mailing_form_round_trips_local_times_postgres() {
    the_mailing_form_round_trips_local_times(Backend::Postgres).await;
}

/// One scheduler fan-out (as the worker's tick runs it) at `now`.
async fn tick_at(app: &TestApp, now: DateTime<Utc>) {
    fanout::fan_out_due(&app.state.db, now, DOMAIN, Duration::seconds(60))
        .await
        .unwrap();
}

/// Moves the clock a minute past each planned send before `limit`, earliest first, and
/// ticks there (twice: a second tick finds nothing more due).
async fn run_until(app: &TestApp, limit: DateTime<Utc>) {
    for _ in 0..100 {
        let due = mailing::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|m| m.next_run_at)
            .filter(|t| *t < limit)
            .min();
        let Some(due) = due else { return };
        tick_at(app, due + Duration::minutes(1)).await;
        tick_at(app, due + Duration::minutes(2)).await;
    }
    panic!("the schedule never passed {limit}");
}

async fn occurrences(app: &TestApp, mailing_id: i32) -> Vec<DateTime<Utc>> {
    let mut at: Vec<DateTime<Utc>> = delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.occurrence_at)
        .collect();
    at.sort();
    at.dedup();
    at
}

/// Daily 09:00: Berlin's sends move from 08:00Z to 07:00Z on 28 Mar 2027 and back to
/// 08:00Z on 31 Oct 2027, always 09:00 local; Moscow's stay at 06:00Z.
async fn daily_mailings_keep_local_time_across_dst(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let berlin = resident(&app, "ann@example.com", "Europe/Berlin").await;
    let moscow = resident(&app, "bob@example.com", "Europe/Moscow").await;
    let spring = mailing_from_form(
        &app,
        &berlin,
        "2027-03-26T09:00",
        "2027-04-01T00:00",
        "daily",
    )
    .await;
    let autumn = mailing_from_form(
        &app,
        &berlin,
        "2027-10-29T09:00",
        "2027-11-03T00:00",
        "daily",
    )
    .await;
    let msk = mailing_from_form(
        &app,
        &moscow,
        "2027-03-26T09:00",
        "2027-04-01T00:00",
        "daily",
    )
    .await;
    let msk_autumn = mailing_from_form(
        &app,
        &moscow,
        "2027-10-29T09:00",
        "2027-11-03T00:00",
        "daily",
    )
    .await;

    // The clock moves a minute past each planned send, as the worker's tick would see it.
    run_until(&app, utc(2027, 3, 30, 0, 0)).await;
    assert_eq!(
        occurrences(&app, spring.id).await,
        vec![
            utc(2027, 3, 26, 8, 0),
            utc(2027, 3, 27, 8, 0),
            utc(2027, 3, 28, 7, 0),
            utc(2027, 3, 29, 7, 0),
        ]
    );
    assert_eq!(
        occurrences(&app, msk.id).await,
        vec![
            utc(2027, 3, 26, 6, 0),
            utc(2027, 3, 27, 6, 0),
            utc(2027, 3, 28, 6, 0),
            utc(2027, 3, 29, 6, 0),
        ]
    );
    assert_eq!(
        reload(&app, spring.id).await.next_run_at,
        Some(utc(2027, 3, 30, 7, 0))
    );

    // Autumn, the clock moved across 31 Oct 2027.
    run_until(&app, utc(2027, 11, 2, 0, 0)).await;
    assert_eq!(
        occurrences(&app, autumn.id).await,
        vec![
            utc(2027, 10, 29, 7, 0),
            utc(2027, 10, 30, 7, 0),
            utc(2027, 10, 31, 8, 0),
            utc(2027, 11, 1, 8, 0),
        ]
    );
    assert_eq!(
        occurrences(&app, msk_autumn.id).await,
        vec![
            utc(2027, 10, 29, 6, 0),
            utc(2027, 10, 30, 6, 0),
            utc(2027, 10, 31, 6, 0),
            utc(2027, 11, 1, 6, 0),
        ]
    );
    // The next send is shown as 09:00 local on the mailing's page.
    let detail = berlin
        .get(&format!("/mailings/{}", autumn.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("2 Nov 2027, 09:00 CET"),
        "next send shown in Berlin time"
    );
}

#[tokio::test]
async fn daily_mailings_keep_local_time_across_dst_sqlite() {
    daily_mailings_keep_local_time_across_dst(Backend::Sqlite).await;
}

#[tokio::test]
async fn daily_mailings_keep_local_time_across_dst_postgres() {
    daily_mailings_keep_local_time_across_dst(Backend::Postgres).await;
}

/// Monthly keeps its calendar rule in the owner's zone: 31 Jan 09:00 Berlin, then the
/// last day of February, then 31 March in summer time.
async fn monthly_counts_local_months(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = resident(&app, "ann@example.com", "Europe/Berlin").await;
    let m = mailing_from_form(&app, &v, "2027-01-31T09:00", "2027-05-01T00:00", "monthly").await;
    let mut planned = Vec::new();
    while let Some(due) = reload(&app, m.id).await.next_run_at {
        assert!(planned.len() < 10, "the schedule moves on: {planned:?}");
        planned.push(due);
        tick_at(&app, due + Duration::minutes(1)).await;
    }
    assert_eq!(
        planned,
        vec![
            utc(2027, 1, 31, 8, 0),
            utc(2027, 2, 28, 8, 0),
            utc(2027, 3, 31, 7, 0),
            utc(2027, 4, 30, 7, 0),
        ]
    );
}

#[tokio::test]
async fn monthly_counts_local_months_sqlite() {
    monthly_counts_local_months(Backend::Sqlite).await;
}

#[tokio::test]
async fn monthly_counts_local_months_postgres() {
    monthly_counts_local_months(Backend::Postgres).await;
}
