//! `/reports`, its CSV export and `/dashboard`: the figures on the page against counts the
//! test makes itself from the log it wrote; another user's data never shows; bad ranges
//! are form errors and empty ranges an empty state. The benchmark (ignored) seeds a
//! million attempts on PostgreSQL and times the page.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration as Elapsed, Instant};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use mailer::entities::attempt::{self, AttemptStatus};
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::mailing::{self, MailingStatus, Periodicity};
use mailer::entities::user::Role;
use mailer_tests::html::{Doc, parse, parse_fragment};
use mailer_tests::smtp::Behavior;
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::mailings::{insert_client, make_message};

/// One try as the test writes it: which mailing (index into the fixture), which delivery
/// (a label), when (days before today, minutes after noon), how it went.
#[derive(Clone, Debug)]
struct Try {
    owner: usize,
    mailing: usize,
    delivery: &'static str,
    days_ago: i64,
    minute: i64,
    success: bool,
    reply: &'static str,
}

const fn t(
    owner: usize,
    mailing: usize,
    delivery: &'static str,
    days_ago: i64,
    minute: i64,
    success: bool,
    reply: &'static str,
) -> Try {
    Try {
        owner,
        mailing,
        delivery,
        days_ago,
        minute,
        success,
        reply,
    }
}

const ANN: usize = 0;
const EVE: usize = 1;

/// Ann's mailings 0–2 (0 and 2 send the same message), Eve's mailing 3.
const LOG: &[Try] = &[
    t(ANN, 1, "old", 40, 0, true, "250 old"),
    t(ANN, 1, "edge", 8, 0, false, "451 4.7.1 Try again later"),
    t(ANN, 1, "edge", 6, 0, true, "250 edge retried"),
    t(ANN, 1, "ten", 10, 0, true, "250 ten"),
    t(ANN, 2, "slow", 2, 0, false, "421 busy"),
    t(ANN, 2, "slow", 2, 30, false, "421 still busy"),
    t(ANN, 2, "slow", 1, 0, true, "250 slow done"),
    t(ANN, 0, "bad", 1, 5, false, "550 5.1.1 No such user"),
    t(ANN, 0, "ok", 0, 0, true, "250 ok"),
    t(ANN, 0, "retry", 0, 1, false, "451 4.3.0 Try again later"),
    t(ANN, 0, "retry", 0, 11, true, "250 retry ok"),
    t(EVE, 3, "eve", 0, 2, false, "EVE-SECRET-REPLY"),
    t(EVE, 3, "eve", 0, 3, true, "250 eve"),
];

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn at(days_ago: i64, minute: i64) -> DateTime<Utc> {
    (today() - Duration::days(days_ago))
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc()
        + Duration::minutes(minute)
}

/// What the page should show for some tries, counted here from the fixture alone.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    deliveries: u64,
    successes: u64,
    failures: u64,
    retries: u64,
    rate: String,
    last_reply: String,
}

fn expected(
    all: &[Try],
    chosen: impl Fn(&Try) -> bool,
    from: NaiveDate,
    to: NaiveDate,
) -> Expected {
    let in_range = |x: &Try| {
        let day = at(x.days_ago, x.minute).date_naive();
        day >= from && day <= to
    };
    let first_of = |d: &str| {
        all.iter()
            .filter(|x| x.delivery == d)
            .map(|x| at(x.days_ago, x.minute))
            .min()
    };
    let mut e = Expected::default();
    let mut last: Option<(DateTime<Utc>, &str)> = None;
    for x in all.iter().filter(|x| chosen(x) && in_range(x)) {
        let when = at(x.days_ago, x.minute);
        if x.success {
            e.successes += 1;
        } else {
            e.failures += 1;
        }
        if first_of(x.delivery) == Some(when) {
            e.deliveries += 1;
        } else {
            e.retries += 1;
        }
        if last.is_none_or(|(t, _)| when > t) {
            last = Some((when, x.reply));
        }
    }
    let tries = e.successes + e.failures;
    e.rate = if tries == 0 {
        "—".into()
    } else {
        format!("{:.1} %", e.successes as f64 * 100.0 / tries as f64)
    };
    e.last_reply = last.map(|(_, r)| r.to_owned()).unwrap_or_default();
    e
}

struct Fixture {
    ann: Visitor,
    eve: Visitor,
    mailings: Vec<i32>,
    subjects: Vec<String>,
}

async fn insert_mailing(
    app: &TestApp,
    owner: i32,
    message: i32,
    next: Option<DateTime<Utc>>,
) -> i32 {
    let now = Utc::now();
    mailing::ActiveModel {
        owner_id: Set(owner),
        name: Set(format!("Mailing of message {message}")),
        message_id: Set(message),
        start_at: Set(now - Duration::days(60)),
        end_at: Set(now + Duration::days(60)),
        periodicity: Set(Periodicity::Daily),
        status: Set(MailingStatus::Running),
        // Disabled with no worker running: nothing here sends by itself.
        is_enabled: Set(next.is_some()),
        next_run_at: Set(next),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

/// Ann's three mailings and Eve's one, and the whole LOG written in time order.
async fn fixture(app: &TestApp) -> Fixture {
    let ann = sign_in_new(app, "ann@example.com", Role::User).await;
    let eve = sign_in_new(app, "eve@example.com", Role::User).await;
    let owners = [ann.user.id, eve.user.id];
    let autumn = make_message(app, ann.user.id, "Autumn sale").await;
    let winter = make_message(app, ann.user.id, "Winter news").await;
    let secret = make_message(app, eve.user.id, "Eve secret subject").await;
    let soon = Utc::now() + Duration::hours(3);
    let mailings = vec![
        insert_mailing(app, ann.user.id, autumn.id, Some(soon)).await,
        insert_mailing(app, ann.user.id, winter.id, None).await,
        insert_mailing(app, ann.user.id, autumn.id, None).await,
        insert_mailing(app, eve.user.id, secret.id, Some(soon)).await,
    ];
    let messages = [autumn.id, winter.id, autumn.id, secret.id];
    let subjects = vec![
        autumn.subject.clone(),
        winter.subject.clone(),
        autumn.subject.clone(),
        secret.subject.clone(),
    ];

    let mut tries = LOG.to_vec();
    tries.sort_by_key(|x| at(x.days_ago, x.minute));
    let mut deliveries: BTreeMap<&str, (i64, i32, String)> = BTreeMap::new();
    for x in &tries {
        let owner = owners[x.owner];
        if !deliveries.contains_key(x.delivery) {
            let email = format!("{}@client.example", x.delivery);
            let client = insert_client(app, owner, &email).await;
            let occurrence = at(x.days_ago, x.minute);
            let row = delivery::ActiveModel {
                mailing_id: Set(mailings[x.mailing]),
                client_id: Set(client),
                occurrence_at: Set(occurrence),
                status: Set(DeliveryStatus::Sent),
                tries: Set(1),
                message_id_header: Set(format!("<{}@test>", x.delivery)),
                created_at: Set(occurrence),
                updated_at: Set(occurrence),
                ..Default::default()
            }
            .insert(&app.state.db)
            .await
            .unwrap();
            deliveries.insert(x.delivery, (row.id, client, email));
        }
        let (delivery_id, client_id, email) = deliveries[x.delivery].clone();
        attempt::ActiveModel {
            owner_id: Set(owner),
            mailing_id: Set(mailings[x.mailing]),
            message_id: Set(Some(messages[x.mailing])),
            client_id: Set(Some(client_id)),
            delivery_id: Set(Some(delivery_id)),
            recipient: Set(email),
            occurrence_at: Set(at(x.days_ago, x.minute)),
            attempted_at: Set(at(x.days_ago, x.minute)),
            status: Set(if x.success {
                AttemptStatus::Success
            } else {
                AttemptStatus::Failure
            }),
            smtp_code: Set(x.reply.get(..3).and_then(|c| c.parse().ok())),
            response: Set(Some(x.reply.into())),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    Fixture {
        ann,
        eve,
        mailings,
        subjects,
    }
}

/// The cells of the report table, row by row.
fn table(doc: &Doc) -> Vec<Vec<String>> {
    let cells = doc.texts("#report-table tbody td");
    cells.chunks(12).map(|c| c.to_vec()).collect()
}

fn figures_of(row: &[String]) -> Expected {
    Expected {
        deliveries: row[1].parse().unwrap(),
        successes: row[2].parse().unwrap(),
        failures: row[3].parse().unwrap(),
        rate: row[4].clone(),
        retries: row[5].parse().unwrap(),
        last_reply: row[11].clone(),
    }
}

fn totals(doc: &Doc) -> (u64, u64, u64, String, u64) {
    let n = |id: &str| doc.text(id).unwrap().parse::<u64>().unwrap();
    (
        n("#total-deliveries"),
        n("#total-successes"),
        n("#total-failures"),
        doc.text("#total-rate").unwrap(),
        n("#total-retries"),
    )
}

async fn page(v: &Visitor, path: &str) -> Doc {
    let response = v.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    parse(&response.text().await.unwrap())
}

async fn figures_match_the_log(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let f = fixture(&app).await;
    let ann_tries = |x: &Try| x.owner == ANN;
    for (query, from, to) in [
        ("range=30d", today() - Duration::days(29), today()),
        ("range=7d", today() - Duration::days(6), today()),
        ("range=today", today(), today()),
        (
            &*format!(
                "range=custom&from={}&to={}",
                today() - Duration::days(45),
                today() - Duration::days(2)
            ),
            today() - Duration::days(45),
            today() - Duration::days(2),
        ),
    ] {
        let doc = page(&f.ann, &format!("/reports?{query}")).await;
        let want = expected(LOG, ann_tries, from, to);
        assert_eq!(
            totals(&doc),
            (
                want.deliveries,
                want.successes,
                want.failures,
                want.rate.clone(),
                want.retries
            ),
            "{query}"
        );
        // Per mailing: one row per mailing with tries in the range, named by link.
        let rows = table(&doc);
        let links = doc.attrs("#report-table tbody td a", "href");
        let mut seen = BTreeSet::new();
        for (row, link) in rows.iter().zip(&links) {
            let index = f
                .mailings
                .iter()
                .position(|id| *link == format!("/mailings/{id}#report-title"))
                .unwrap_or_else(|| panic!("unexpected link {link}"));
            assert!(index < 3, "only Ann's mailings: {link}");
            // Named by the mailing's name.
            let named = mailing::Entity::find_by_id(f.mailings[index])
                .one(&app.state.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row[0], named.name);
            let want = expected(LOG, |x| x.owner == ANN && x.mailing == index, from, to);
            assert_eq!(figures_of(row), want, "{query}, mailing {index}");
            seen.insert(index);
        }
        let with_tries: BTreeSet<usize> = LOG
            .iter()
            .filter(|x| x.owner == ANN)
            .filter(|x| {
                let d = at(x.days_ago, x.minute).date_naive();
                d >= from && d <= to
            })
            .map(|x| x.mailing)
            .collect();
        assert_eq!(seen, with_tries, "{query}");

        // The chart: one bar per day, and its table says the same per day.
        assert_eq!(
            doc.count("svg.chart g > title"),
            (to - from).num_days() as usize + 1,
            "{query}"
        );
        let day_rows = doc.texts("#chart-table tbody tr > *");
        for day in day_rows.chunks(6) {
            // One date format: "7 Dec 2026".
            let date = NaiveDate::parse_from_str(&day[0], "%d %b %Y").unwrap();
            let on_day = |x: &Try| x.owner == ANN && at(x.days_ago, x.minute).date_naive() == date;
            let want = expected(LOG, on_day, date, date);
            assert_eq!(
                (
                    day[1].parse::<u64>().unwrap(),
                    day[2].parse::<u64>().unwrap()
                ),
                (want.successes, want.failures),
                "{query} {date}"
            );
        }
    }

    // Per message: mailings 0 and 2 send the same message and add up.
    let doc = page(&f.ann, "/reports?range=30d&view=messages").await;
    let rows = table(&doc);
    assert_eq!(rows.len(), 2);
    let from = today() - Duration::days(29);
    for row in &rows {
        let index = if row[0] == "Autumn sale" { 0 } else { 1 };
        assert_eq!(row[0], f.subjects[index]);
        let want = expected(
            LOG,
            |x| x.owner == ANN && (x.mailing == index || (index == 0 && x.mailing == 2)),
            from,
            today(),
        );
        assert_eq!(figures_of(row), want, "message {}", row[0]);
    }

    // Eve sees her own figures only; nothing of Ann's, and Ann nothing of Eve's.
    let eve = page(&f.eve, "/reports?range=30d").await;
    let eve_rows = table(&eve);
    assert_eq!(eve_rows.len(), 1);
    assert_eq!(
        figures_of(&eve_rows[0]),
        expected(LOG, |x| x.owner == EVE, from, today())
    );
    for doc in [
        &eve,
        &page(&f.eve, "/reports?range=30d&view=messages").await,
    ] {
        let text = doc.text("main").unwrap();
        assert!(!text.contains("Autumn") && !text.contains("Winter") && !text.contains("250 ok"));
    }
    for path in [
        "/reports?range=30d",
        "/reports?range=30d&view=messages",
        "/dashboard",
    ] {
        let text = page(&f.ann, path).await.text("main").unwrap();
        assert!(
            !text.contains("EVE-SECRET-REPLY") && !text.contains("Eve secret"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn figures_match_the_log_sqlite() {
    figures_match_the_log(Backend::Sqlite).await;
}

#[tokio::test]
async fn figures_match_the_log_postgres() {
    figures_match_the_log(Backend::Postgres).await;
}

/// Parses CSV text into rows of fields.
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn csv_is_the_table(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let f = fixture(&app).await;
    for query in [
        "range=30d",
        "range=30d&view=messages",
        "range=7d&sort=retries&dir=desc",
        "range=30d&sort=name&dir=asc",
    ] {
        let doc = page(&f.ann, &format!("/reports?{query}")).await;
        let href = doc.attr("#report-csv", "href").unwrap();
        let response = f.ann.get(&href).await;
        assert_eq!(response.status(), StatusCode::OK, "{href}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let rows = csv_rows(&response.text().await.unwrap());
        let headers = doc.texts("#report-table thead th");
        // Header names without the sort arrows.
        let headers: Vec<String> = headers
            .iter()
            .map(|h| h.trim_end_matches([' ', '↑', '↓']).to_owned())
            .collect();
        assert_eq!(rows[0], headers, "{query}");
        assert_eq!(&rows[1..], &table(&doc)[..], "{query}");
    }

    // Sorted by deliveries, largest first; then the other way.
    let doc = page(&f.ann, "/reports?range=30d&sort=deliveries&dir=desc").await;
    let col: Vec<u64> = table(&doc).iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(col.windows(2).all(|w| w[0] >= w[1]), "{col:?}");
    assert_eq!(
        doc.attr("th[aria-sort] a", "href")
            .as_deref()
            .map(|h| h.contains("dir=asc")),
        Some(true)
    );
    let doc = page(&f.ann, "/reports?range=30d&sort=deliveries&dir=asc").await;
    let asc: Vec<u64> = table(&doc).iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    // Sorting by htmx swaps only the table, keeping the range.
    let fragment = f
        .ann
        .htmx_get("/reports?range=7d&sort=name&dir=asc", "report-rows")
        .await
        .text()
        .await
        .unwrap();
    let fragment = parse_fragment(&fragment);
    assert!(fragment.exists("#report-table") && !fragment.exists("h1"));
    assert!(
        fragment
            .attrs("th a", "href")
            .iter()
            .all(|h| h.contains("range=7d"))
    );
}

#[tokio::test]
async fn csv_is_the_table_sqlite() {
    csv_is_the_table(Backend::Sqlite).await;
}

#[tokio::test]
async fn csv_is_the_table_postgres() {
    csv_is_the_table(Backend::Postgres).await;
}

#[tokio::test]
async fn empty_ranges_and_bad_dates() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let f = fixture(&app).await;
    // A range with nothing in it is an empty state, not an error.
    let doc = page(
        &f.ann,
        "/reports?range=custom&from=2001-01-01&to=2001-01-31",
    )
    .await;
    assert!(doc.exists("#report-empty"));
    assert!(!doc.exists("#report-table"));
    assert_eq!(doc.text("#total-deliveries").as_deref(), Some("0"));
    let fresh = sign_in_new(&app, "new@example.com", Role::User).await;
    let doc = page(&fresh, "/reports").await;
    assert!(doc.exists("#report-empty"));

    for (query, field) in [
        ("range=custom&from=2026-02-30&to=2026-03-01", "from"),
        ("range=custom&from=2026-03-05&to=2026-03-01", "to"),
        ("range=custom&from=&to=", "from"),
        ("range=custom&from=2000-01-01&to=2026-01-01", "to"),
        ("range=forever", ""),
    ] {
        let response = f.ann.get(&format!("/reports?{query}")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        let doc = parse(&response.text().await.unwrap());
        if field.is_empty() {
            assert!(doc.exists(".flash.error"), "{query}");
        } else {
            assert!(doc.exists(&format!("#e-{field}")), "{query}");
            assert_eq!(
                doc.attr(&format!("#f-{field}"), "aria-invalid").as_deref(),
                Some("true")
            );
        }
        assert!(doc.exists("#report-invalid") && !doc.exists("#report-table"));
        let csv = f.ann.get(&format!("/reports/export.csv?{query}")).await;
        assert_eq!(csv.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    // Anonymous visitors are sent to sign in.
    let anonymous = app.get("/reports").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn dashboard_shows_statuses_next_sends_and_failures() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let f = fixture(&app).await;
    let doc = page(&f.ann, "/dashboard").await;
    // Ann's three mailings are inside their dates (started 60 days ago, end in 60 days);
    // two are disabled.
    let status = |key: &str| doc.text(&format!("#status-{key} .number")).unwrap();
    assert_eq!(
        (
            status("created"),
            status("running"),
            status("finished"),
            status("disabled")
        ),
        // Disabled is a state of its own, counted once: the four add up to all three.
        ("0".into(), "1".into(), "0".into(), "2".into())
    );
    assert_eq!(
        doc.attr("#status-running", "href").as_deref(),
        Some("/mailings?status=running")
    );
    // The one enabled mailing with a next run, linked with its report.
    let next = doc.attrs("#next-sends a", "href");
    assert_eq!(
        next,
        vec![
            format!("/mailings/{}", f.mailings[0]),
            format!("/mailings/{}#report-title", f.mailings[0])
        ]
    );
    // Recent failures, newest first, with the server's reply; never Eve's.
    let mut failures: Vec<&Try> = LOG
        .iter()
        .filter(|x| x.owner == ANN && !x.success)
        .collect();
    failures.sort_by_key(|x| std::cmp::Reverse(at(x.days_ago, x.minute)));
    let replies = doc.texts("#recent-failures tbody td code");
    let want: Vec<String> = failures.iter().map(|x| x.reply.to_owned()).collect();
    assert_eq!(replies, want);
    // The last 7 days, with a report link per mailing.
    let week = expected(
        LOG,
        |x| x.owner == ANN,
        today() - Duration::days(6),
        today(),
    );
    let summary = doc.text("#week-summary").unwrap();
    assert!(
        summary.contains(&format!("{} deliveries", week.deliveries)),
        "{summary}"
    );
    assert!(
        doc.attrs("#week-mailings a", "href")
            .iter()
            .any(|h| *h == format!("/mailings/{}#report-title", f.mailings[0]))
    );
    // Signing in lands on the dashboard; the navigation links to it and to the reports.
    assert!(doc.exists("header nav a[href='/dashboard'][aria-current=page]"));
    assert!(doc.exists("header nav a[href='/reports']"));

    let fresh = sign_in_new(&app, "new@example.com", Role::User).await;
    let empty = page(&fresh, "/dashboard").await;
    assert!(
        empty.exists("#next-empty")
            && empty.exists("#failures-empty")
            && empty.exists("#week-empty")
    );
}

/// The real send path feeds the report: a mailing sent by `mailer send` through the fake
/// SMTP server, one client refused for good.
#[tokio::test]
async fn sent_mailings_appear_in_the_report() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let id = crate::send_cli::mailing_of(&app, &v, "ann", 3, -Duration::minutes(1)).await;
    app.smtp.script([Behavior::TempFail, Behavior::PermFail]);
    let run = crate::send_cli::mailer_send(&app, &["--mailing", &id.to_string()]).await;
    assert!(run.code.is_some(), "{run}");

    let log = attempt::Entity::find()
        .filter(attempt::Column::MailingId.eq(id))
        .order_by_asc(attempt::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(log.len() >= 4, "a retry and a refusal: {log:#?}");
    let deliveries: BTreeSet<Option<i64>> = log.iter().map(|a| a.delivery_id).collect();
    let successes = log
        .iter()
        .filter(|a| a.status == AttemptStatus::Success)
        .count() as u64;
    let failures = log.len() as u64 - successes;
    let doc = page(&v, "/reports?range=today").await;
    assert_eq!(
        table(&doc)
            .iter()
            .map(|r| (
                r[1].parse::<u64>().unwrap(),
                r[2].parse::<u64>().unwrap(),
                r[3].parse::<u64>().unwrap(),
                r[5].parse::<u64>().unwrap(),
                r[11].clone()
            ))
            .collect::<Vec<_>>(),
        vec![(
            deliveries.len() as u64,
            successes,
            failures,
            log.len() as u64 - deliveries.len() as u64,
            log.iter()
                .max_by_key(|a| (a.attempted_at, a.id))
                .and_then(|a| a.response.clone())
                .unwrap_or_default()
        )]
    );
}

/// `just bench-reports`: a million attempts for one user on PostgreSQL, then the reports
/// page timed (median of nine requests after one warm-up) for the default 30 days and for
/// a custom range over all of them.
#[tokio::test]
#[ignore = "slow: seeds a million rows; run with `just bench-reports`"]
async fn bench_reports_with_a_million_attempts() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        panic!("the benchmark needs PostgreSQL");
    };
    let count: u64 = std::env::var("BENCH_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let v = sign_in_new(&app, "bench@example.com", Role::User).await;
    let plan = mailer::reports::seed::SeedPlan {
        count,
        days: 30,
        mailings: 20,
    };
    let seeded = mailer::reports::seed::seed_attempts(&app.state.db, v.user.id, plan)
        .await
        .unwrap();
    println!("{seeded}");
    let from = today() - Duration::days(29);
    let everything = format!("/reports?range=custom&from={from}&to={}", today());
    for path in [
        "/reports?range=30d".to_owned(),
        "/reports?range=7d".to_owned(),
        "/reports?range=30d&view=messages&sort=rate".to_owned(),
        everything,
        "/dashboard".to_owned(),
    ] {
        let mut times = Vec::new();
        for run in 0..10 {
            let started = Instant::now();
            let response = v.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK);
            let body = response.text().await.unwrap();
            if run > 0 {
                times.push(started.elapsed());
            } else if path.starts_with("/reports") {
                let doc = parse(&body);
                // Figures are written with the language's group separator ("1,000,000").
                let figure = |id: &str| {
                    doc.text(id)
                        .unwrap()
                        .replace(|c: char| !c.is_ascii_digit(), "")
                        .parse::<u64>()
                        .unwrap()
                };
                let total = figure("#total-successes") + figure("#total-failures");
                println!("{path}: {total} attempts in range");
            }
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{path}: median {:.1} ms (min {:.1}, max {:.1})",
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
        assert!(
            median < Elapsed::from_millis(1000),
            "{path} took {median:?}"
        );
    }
}

fn ms(d: Elapsed) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The mailing page's own report reads the roll-up and pages the per-client table in the
/// database: totals, per-client counts with each client's newest reply, and page 2.
async fn mailing_report_pages_per_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    // Starts tomorrow: nothing is sent; the test writes the log itself.
    let id = crate::send_cli::mailing_of(&app, &v, "ann", 1, Duration::days(1)).await;
    let m = mailing::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let log = |recipient: String, minute: i64, success: bool| attempt::ActiveModel {
        owner_id: Set(v.user.id),
        mailing_id: Set(id),
        message_id: Set(Some(m.message_id)),
        recipient: Set(recipient),
        occurrence_at: Set(at(0, 0)),
        attempted_at: Set(at(0, minute)),
        status: Set(if success {
            AttemptStatus::Success
        } else {
            AttemptStatus::Failure
        }),
        smtp_code: Set(Some(if success { 250 } else { 451 })),
        response: Set(Some(if success { "250 ok" } else { "451 busy" }.into())),
        ..Default::default()
    };
    // 25 recipients: each fails once, the even ones then succeed.
    for i in 0..25 {
        let recipient = format!("r{i:02}@example.com");
        log(recipient.clone(), i, false)
            .insert(&app.state.db)
            .await
            .unwrap();
        if i % 2 == 0 {
            log(recipient, 30 + i, true)
                .insert(&app.state.db)
                .await
                .unwrap();
        }
    }
    let first = page(&v, &format!("/mailings/{id}")).await;
    assert_eq!(first.text("#report-attempts").as_deref(), Some("38"));
    assert_eq!(first.text("#report-successes").as_deref(), Some("13"));
    assert_eq!(first.text("#report-failures").as_deref(), Some("25"));
    assert_eq!(
        first.text("#report-last-reply").as_deref(),
        Some("250 ok"),
        "the newest attempt's reply (r24's success)"
    );
    let rows = first.texts("#report-clients tbody tr");
    assert_eq!(rows.len(), 20, "{rows:#?}");
    let cells =
        |doc: &Doc, n: usize| doc.texts(&format!("#report-clients tbody tr:nth-child({n}) td"));
    let r00 = cells(&first, 1);
    assert_eq!(&r00[..3], ["r00@example.com", "1", "1"]);
    assert!(r00[4].contains("250 ok"), "{r00:?}");
    let r01 = cells(&first, 2);
    assert_eq!(&r01[..3], ["r01@example.com", "0", "1"]);
    assert!(r01[4].contains("451 busy"), "{r01:?}");

    let second = page(&v, &format!("/mailings/{id}?page=2")).await;
    let rows = second.texts("#report-clients tbody tr td:first-child");
    assert_eq!(
        rows,
        (20..25)
            .map(|i| format!("r{i:02}@example.com"))
            .collect::<Vec<_>>()
    );
    assert_eq!(cells(&second, 5)[..3], ["r24@example.com", "1", "1"]);

    // The table is kept under the log's version (its count of attempts and its newest
    // one): an attempt logged since shows at once, even one older than the newest.
    log("r01@example.com".into(), 5, true)
        .insert(&app.state.db)
        .await
        .unwrap();
    let again = page(&v, &format!("/mailings/{id}")).await;
    assert_eq!(again.text("#report-attempts").as_deref(), Some("39"));
    let r01 = cells(&again, 2);
    assert_eq!(&r01[..3], ["r01@example.com", "1", "1"]);
    assert!(r01[4].contains("250 ok"), "{r01:?}");
}

#[tokio::test]
async fn mailing_report_pages_per_client_sqlite() {
    mailing_report_pages_per_client(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailing_report_pages_per_client_postgres() {
    mailing_report_pages_per_client(Backend::Postgres).await;
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// One attempt of a mailing at `when`, with no delivery (so a first try).
fn attempt_at(
    owner: i32,
    (mailing, message): (i32, i32),
    when: DateTime<Utc>,
    success: bool,
) -> attempt::ActiveModel {
    attempt::ActiveModel {
        owner_id: Set(owner),
        mailing_id: Set(mailing),
        message_id: Set(Some(message)),
        recipient: Set("night@client.example".into()),
        occurrence_at: Set(when),
        attempted_at: Set(when),
        status: Set(if success {
            AttemptStatus::Success
        } else {
            AttemptStatus::Failure
        }),
        smtp_code: Set(Some(if success { 250 } else { 451 })),
        response: Set(Some(if success { "250 ok" } else { "451 later" }.into())),
        ..Default::default()
    }
}

/// A user living in `zone` with a mailing, and their attempts at the given instants
/// (`true`: a success).
async fn resident_with_log(
    app: &TestApp,
    email: &str,
    zone: &str,
    log: &[(&str, bool)],
) -> (Visitor, i32) {
    let v = crate::timezones::resident(app, email, zone).await;
    let message = make_message(app, v.user.id, "Night news").await;
    let mailing = insert_mailing(app, v.user.id, message.id, None).await;
    for (when, success) in log {
        attempt_at(v.user.id, (mailing, message.id), instant(when), *success)
            .insert(&app.state.db)
            .await
            .unwrap();
    }
    (v, mailing)
}

/// (day, successes, failures, unsubscribes) of the chart's table on `/reports`.
fn chart_days(doc: &Doc) -> Vec<(NaiveDate, u64, u64, u64)> {
    doc.texts("#chart-table tbody tr > *")
        .chunks(6)
        .map(|d| {
            (
                NaiveDate::parse_from_str(&d[0], "%d %b %Y").unwrap(),
                d[1].parse().unwrap(),
                d[2].parse().unwrap(),
                d[3].parse().unwrap(),
            )
        })
        .collect()
}

fn custom(from: &str, to: &str) -> String {
    format!("/reports?range=custom&from={from}&to={to}")
}

/// Days are the viewer's local days: an attempt counts on the day its user's clock showed,
/// in zones east and west of UTC, with half- and quarter-hour offsets, and on the days the
/// clocks change (23 and 25 hours). The reports page (chart, totals, CSV), a mailing's own
/// report (page and API) and the feedback log all agree.
async fn days_are_the_viewers(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Moscow (+03:00): 22:30Z is 01:30 the next day, 20:59Z still 23:59 the same day.
    let (moscow, mailing) = resident_with_log(
        &app,
        "msk@example.com",
        "Europe/Moscow",
        &[
            ("2026-11-10T22:30:00Z", true),
            ("2026-11-10T20:59:00Z", false),
        ],
    )
    .await;
    let message = mailing::Entity::find_by_id(mailing)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .message_id;
    // An unsubscribe in the night counts on the local day too.
    mailer::entities::feedback::ActiveModel {
        owner_id: Set(moscow.user.id),
        email: Set("night@client.example".into()),
        kind: Set(mailer::entities::feedback::Kind::Unsubscribed),
        mailing_id: Set(Some(mailing)),
        message_id: Set(Some(message)),
        created_at: Set(instant("2026-11-10T22:45:00Z")),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let doc = page(&moscow, &custom("2026-11-10", "2026-11-11")).await;
    assert_eq!(
        chart_days(&doc),
        [(date("2026-11-10"), 0, 1, 0), (date("2026-11-11"), 1, 0, 1)]
    );
    let lead = doc.text(".page-head p").unwrap();
    assert!(!lead.contains("UTC"), "{lead}");
    let next_day = page(&moscow, &custom("2026-11-11", "2026-11-11")).await;
    assert_eq!(totals(&next_day), (1, 1, 0, "100.0 %".into(), 0));
    assert_eq!(next_day.text("#total-unsubscribes").as_deref(), Some("1"));
    let href = next_day.attr("#report-csv", "href").unwrap();
    let csv = csv_rows(&moscow.get(&href).await.text().await.unwrap());
    assert_eq!(csv.len(), 2, "{csv:?}");
    assert_eq!(&csv[1][1..4], ["1", "1", "0"], "{csv:?}");
    // The mailing's own report: its chart's bars and the API's days.
    let own = page(&moscow, &format!("/mailings/{mailing}")).await;
    let bars: Vec<String> = own
        .texts("svg.chart g > title")
        .iter()
        .map(|t| t.chars().take(10).collect())
        .collect();
    assert_eq!(bars, ["2026-11-10", "2026-11-11"]);
    let api = crate::api::api_for(&app, &moscow.user).await;
    let (status, report) = api.get(&format!("/mailings/{mailing}/report")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["days"],
        serde_json::json!([
            {"day": "2026-11-10", "successes": 0, "failures": 1},
            {"day": "2026-11-11", "successes": 1, "failures": 0}
        ])
    );

    // Kathmandu (+05:45) and Kolkata (+05:30): midnight is 18:15Z and 18:30Z.
    let (kathmandu, _) = resident_with_log(
        &app,
        "npt@example.com",
        "Asia/Kathmandu",
        &[
            ("2026-11-10T18:14:59Z", true),
            ("2026-11-10T18:15:00Z", false),
            ("2026-11-10T18:29:59Z", true),
        ],
    )
    .await;
    let doc = page(&kathmandu, &custom("2026-11-10", "2026-11-11")).await;
    assert_eq!(
        chart_days(&doc),
        [(date("2026-11-10"), 1, 0, 0), (date("2026-11-11"), 1, 1, 0)]
    );
    let (kolkata, _) = resident_with_log(
        &app,
        "ist@example.com",
        "Asia/Kolkata",
        &[
            ("2026-11-10T18:29:00Z", true),
            ("2026-11-10T18:30:00Z", false),
        ],
    )
    .await;
    let doc = page(&kolkata, &custom("2026-11-10", "2026-11-11")).await;
    assert_eq!(
        chart_days(&doc),
        [(date("2026-11-10"), 1, 0, 0), (date("2026-11-11"), 0, 1, 0)]
    );

    // Los Angeles: 8 Mar 2026 has 23 hours (08:00Z–07:00Z), 1 Nov 2026 has 25 (07:00Z–08:00Z).
    let (la, _) = resident_with_log(
        &app,
        "pst@example.com",
        "America/Los_Angeles",
        &[
            ("2026-03-08T07:59:00Z", true),
            ("2026-03-08T08:00:00Z", false),
            ("2026-03-09T06:59:00Z", true),
            ("2026-03-09T07:00:00Z", true),
            ("2026-11-01T06:59:00Z", true),
            ("2026-11-01T07:00:00Z", false),
            ("2026-11-02T07:59:00Z", true),
            ("2026-11-02T08:00:00Z", false),
        ],
    )
    .await;
    let doc = page(&la, &custom("2026-03-07", "2026-03-09")).await;
    assert_eq!(
        chart_days(&doc),
        [
            (date("2026-03-07"), 1, 0, 0),
            (date("2026-03-08"), 1, 1, 0),
            (date("2026-03-09"), 1, 0, 0)
        ]
    );
    let spring = page(&la, &custom("2026-03-08", "2026-03-08")).await;
    assert_eq!(totals(&spring), (2, 1, 1, "50.0 %".into(), 0));
    let doc = page(&la, &custom("2026-10-31", "2026-11-02")).await;
    assert_eq!(
        chart_days(&doc),
        [
            (date("2026-10-31"), 1, 0, 0),
            (date("2026-11-01"), 1, 1, 0),
            (date("2026-11-02"), 0, 1, 0)
        ]
    );
}

#[tokio::test]
async fn days_are_the_viewers_sqlite() {
    days_are_the_viewers(Backend::Sqlite).await;
}

#[tokio::test]
async fn days_are_the_viewers_postgres() {
    days_are_the_viewers(Backend::Postgres).await;
}

/// The dashboard's week and the presets are the viewer's last days: in Moscow the week
/// starts at 21:00Z, so an attempt ten minutes after counts and one ten minutes before not.
#[tokio::test]
async fn the_week_is_the_viewers() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    // Moscow keeps +03:00 all year.
    let today = (Utc::now() + Duration::hours(3)).date_naive();
    let week_start = (today - Duration::days(6))
        .and_time(NaiveTime::MIN)
        .and_utc()
        - Duration::hours(3);
    let at = |d: Duration| (week_start + d).to_rfc3339();
    let (before, first, second) = (
        at(-Duration::minutes(10)),
        at(Duration::minutes(10)),
        at(Duration::minutes(20)),
    );
    let (v, _) = resident_with_log(
        &app,
        "msk@example.com",
        "Europe/Moscow",
        &[(&before, true), (&first, true), (&second, false)],
    )
    .await;
    let doc = page(&v, "/dashboard").await;
    let summary = doc.text("#week-summary").unwrap();
    assert!(summary.contains("2 deliveries"), "{summary}");
    let week = page(&v, "/reports?range=7d").await;
    assert_eq!(totals(&week), (2, 1, 1, "50.0 %".into(), 0));
    let days = chart_days(&week);
    assert_eq!(days.first().map(|d| d.0), Some(today - Duration::days(6)));
    assert_eq!(days.last().map(|d| d.0), Some(today));
}

/// The totals and the days of a range are the attempt log's, counted here by each attempt's
/// local day, in zones with odd offsets and across a DST change: attempts every 37 minutes
/// for four days (through every quarter-hour boundary), in pairs of a try and a retry.
async fn range_totals_are_the_logs(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let message = make_message(&app, v.user.id, "Spring").await;
    let mailing = insert_mailing(&app, v.user.id, message.id, None).await;
    let client = insert_client(&app, v.user.id, "c@client.example").await;
    let start = instant("2026-03-06T00:00:00Z");
    let times: Vec<DateTime<Utc>> = (0..160)
        .map(|k| start + Duration::minutes(37 * k))
        .collect();
    let mut deliveries = Vec::new();
    for pair in times.chunks(2) {
        let row = delivery::ActiveModel {
            mailing_id: Set(mailing),
            client_id: Set(client),
            occurrence_at: Set(pair[0]),
            status: Set(DeliveryStatus::Sent),
            tries: Set(2),
            message_id_header: Set(format!("<{}@test>", pair[0].timestamp())),
            created_at: Set(pair[0]),
            updated_at: Set(pair[0]),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
        deliveries.push(row.id);
    }
    let log: Vec<attempt::ActiveModel> = times
        .iter()
        .enumerate()
        .map(|(k, when)| {
            let mut a = attempt_at(
                v.user.id,
                (mailing, message.id),
                *when,
                k % 2 == 1 || k % 3 == 0,
            );
            a.client_id = Set(Some(client));
            a.delivery_id = Set(Some(deliveries[k / 2]));
            a
        })
        .collect();
    // Several attempts per statement, as the recorder writes them.
    for chunk in log.chunks(25) {
        attempt::Entity::insert_many(chunk.to_vec())
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    let written = attempt::Entity::find()
        .filter(attempt::Column::OwnerId.eq(v.user.id))
        .order_by_asc(attempt::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(written.len(), times.len());

    let (from, to) = (date("2026-03-07"), date("2026-03-09"));
    for zone in [
        "Asia/Kathmandu",
        "America/Los_Angeles",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "UTC",
    ] {
        let mut user: mailer::entities::user::ActiveModel = v.user.clone().into();
        user.timezone = Set(zone.to_owned());
        user.update(&app.state.db).await.unwrap();
        let tz = mailer::timezone::zone_or_utc(zone);
        assert_eq!(tz.to_string(), zone);
        let local = |a: &attempt::Model| a.attempted_at.with_timezone(&tz).date_naive();
        let mut first_seen = BTreeSet::new();
        let mut want_days: BTreeMap<NaiveDate, (u64, u64, u64, u64)> = BTreeMap::new();
        for a in &written {
            let first = first_seen.insert(a.delivery_id);
            let day = want_days.entry(local(a)).or_default();
            if a.status == AttemptStatus::Success {
                day.0 += 1;
            } else {
                day.1 += 1;
            }
            if first {
                day.2 += 1;
            } else {
                day.3 += 1;
            }
        }
        let in_range: Vec<(u64, u64, u64, u64)> = want_days
            .range(from..=to)
            .map(|(_, figures)| *figures)
            .collect();
        let sum = |f: fn(&(u64, u64, u64, u64)) -> u64| in_range.iter().map(f).sum::<u64>();
        let (successes, failures) = (sum(|d| d.0), sum(|d| d.1));
        let doc = page(&v, &custom("2026-03-07", "2026-03-09")).await;
        assert_eq!(
            totals(&doc),
            (
                sum(|d| d.2),
                successes,
                failures,
                format!(
                    "{:.1} %",
                    successes as f64 * 100.0 / (successes + failures) as f64
                ),
                sum(|d| d.3)
            ),
            "{zone}"
        );
        assert_eq!(
            chart_days(&doc),
            want_days
                .range(from..=to)
                .map(|(day, d)| (*day, d.0, d.1, 0))
                .collect::<Vec<_>>(),
            "{zone}"
        );
    }
}

#[tokio::test]
async fn range_totals_are_the_logs_sqlite() {
    range_totals_are_the_logs(Backend::Sqlite).await;
}

#[tokio::test]
async fn range_totals_are_the_logs_postgres() {
    range_totals_are_the_logs(Backend::Postgres).await;
}
