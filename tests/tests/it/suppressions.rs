//! The owner's side of consent: each client's state in the list (and its filter), the
//! suppression list (page, CSV both ways, API), and the rule that nobody but the recipient
//! lifts an unsubscribe or a complaint.

use mailer::consent::service::{Feedback, record};
use mailer::entities::feedback::Kind;
use mailer::entities::suppression::{self, Reason};
use mailer::entities::user::Role;
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::api::{api_user, assert_error, field_errors};
use crate::mailings::insert_client;

/// What `kind` does to `email` of `owner`, as the link, a bounce or a report would.
pub async fn feedback(app: &TestApp, owner: i32, email: &str, kind: Kind) {
    record(
        &app.state.db,
        Feedback {
            owner_id: owner,
            email: email.to_owned(),
            kind,
            delivery_id: None,
            mailing_id: None,
            detail: Some(format!("{kind:?} in a test")),
        },
    )
    .await
    .expect("record feedback");
}

async fn entries(app: &TestApp, owner: i32) -> Vec<suppression::Model> {
    suppression::Entity::find()
        .filter(suppression::Column::OwnerId.eq(owner))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// The e-mails and state badges of the client list at `path`.
async fn client_states(v: &Visitor, path: &str) -> Vec<(String, String)> {
    let doc = parse_fragment(&v.htmx_get(path, "client-rows").await.text().await.unwrap());
    let emails = doc.texts("tbody tr td:nth-child(2)");
    let states = doc.texts("tbody tr td.client-state .badge");
    assert_eq!(emails.len(), states.len(), "a state on every row of {path}");
    let mut rows: Vec<(String, String)> = emails.into_iter().zip(states).collect();
    rows.sort();
    rows
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = rows
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

async fn the_client_list_shows_and_filters_each_state(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    for email in [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
        "dan@example.com",
        "eve@example.com",
    ] {
        insert_client(&app, v.user.id, email).await;
    }
    feedback(&app, v.user.id, "bob@example.com", Kind::Unsubscribed).await;
    feedback(&app, v.user.id, "cat@example.com", Kind::Bounced).await;
    feedback(&app, v.user.id, "dan@example.com", Kind::Complained).await;
    // Another owner's unsubscribe is theirs alone.
    let other = sign_in_new(&app, "other@example.com", Role::User).await;
    feedback(&app, other.user.id, "ann@example.com", Kind::Unsubscribed).await;

    assert_eq!(
        client_states(&v, "/clients").await,
        pairs(&[
            ("ann@example.com", "active"),
            ("bob@example.com", "unsubscribed"),
            ("cat@example.com", "bounced"),
            ("dan@example.com", "complained"),
            ("eve@example.com", "active"),
        ])
    );
    let page = parse(&v.get("/clients").await.text().await.unwrap());
    let since = page.text("#client-rows tbody tr:nth-child(2) td.client-state small");
    assert!(
        since.as_deref().is_some_and(|s| s
            .strip_prefix("since ")
            .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%d %b %Y").is_ok())),
        "since when: {since:?}"
    );
    assert_eq!(
        client_states(&v, "/clients?status=active").await,
        pairs(&[("ann@example.com", "active"), ("eve@example.com", "active")])
    );
    assert_eq!(
        client_states(&v, "/clients?status=unsubscribed").await,
        pairs(&[("bob@example.com", "unsubscribed")])
    );
    assert_eq!(
        client_states(&v, "/clients?status=bounced&q=cat").await,
        pairs(&[("cat@example.com", "bounced")])
    );
    assert_eq!(
        client_states(&v, "/clients?status=complained").await,
        pairs(&[("dan@example.com", "complained")])
    );

    // Listed by the owner on the suppression page: "suppressed".
    let added = v
        .post_form(
            "/suppressions/new",
            &[("email", "EVE@example.com"), ("note", "asked by phone")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client_states(&v, "/clients?status=listed").await,
        pairs(&[("eve@example.com", "suppressed")])
    );

    // The export carries the state too.
    let csv = v
        .get("/clients/export.csv?status=unsubscribed")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,full_name,comment,state,since");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("bob@example.com,bob@example.com,,unsubscribed,20"));
}

#[tokio::test]
async fn the_client_list_shows_and_filters_each_state_sqlite() {
    the_client_list_shows_and_filters_each_state(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_client_list_shows_and_filters_each_state_postgres() {
    the_client_list_shows_and_filters_each_state(Backend::Postgres).await;
}

async fn the_owner_keeps_a_list_but_cannot_resubscribe_anyone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    feedback(&app, v.user.id, "gone@example.com", Kind::Unsubscribed).await;
    feedback(&app, v.user.id, "spam@example.com", Kind::Complained).await;
    feedback(&app, v.user.id, "bounce@example.com", Kind::Bounced).await;

    // Bad input: 422 with the message beside the field, nothing added.
    for (email, note, field, says) in [
        ("not an address", "", "email", "valid e-mail"),
        ("", "", "email", "Enter the e-mail"),
        ("nul\0@example.com", "", "email", "NUL"),
        ("ok@example.com", &"x".repeat(501)[..], "note", "500"),
        ("GONE@example.com", "", "email", "already (unsubscribed)"),
    ] {
        let r = v
            .post_form("/suppressions/new", &[("email", email), ("note", note)])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email:?}");
        let doc = parse(&r.text().await.unwrap());
        let errors = doc.texts(&format!("#e-{field}"));
        assert!(
            errors.iter().any(|e| e.contains(says)),
            "{email:?}: {errors:?}"
        );
    }
    assert_eq!(entries(&app, v.user.id).await.len(), 3);

    // The list shows all three with their reason; only the bounce can be removed.
    let page = parse(&v.get("/suppressions").await.text().await.unwrap());
    assert_eq!(page.count("#suppression-rows tbody tr"), 3);
    let removable = page.attrs("#suppression-rows a[href$='/delete']", "href");
    let all = entries(&app, v.user.id).await;
    let by_email = |email: &str| all.iter().find(|e| e.email == email).unwrap().clone();
    let bounce = by_email("bounce@example.com");
    let gone = by_email("gone@example.com");
    let spam = by_email("spam@example.com");
    assert_eq!(removable, [format!("/suppressions/{}/delete", bounce.id)]);

    // An unsubscribe and a complaint stay, however the owner asks.
    for entry in [&gone, &spam] {
        let ask = parse(
            &v.get(&format!("/suppressions/{}/delete", entry.id))
                .await
                .text()
                .await
                .unwrap(),
        );
        assert!(
            ask.text("h1").unwrap().contains("Only the recipient"),
            "the page says who can undo it"
        );
        assert!(!ask.exists("form button.danger"));
        let r = v
            .post_form(&format!("/suppressions/{}/delete", entry.id), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(entries(&app, v.user.id).await.len(), 3, "nothing lifted");
    let after = parse(&v.get("/suppressions").await.text().await.unwrap());
    assert!(
        after
            .text(".flash.error")
            .is_some_and(|t| t.contains("only the recipient can take that back")),
        "the refusal is said"
    );

    // A bounce the owner may take off, after a confirmation.
    let ask = parse(
        &v.get(&format!("/suppressions/{}/delete", bounce.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        ask.text("article")
            .unwrap()
            .contains("mailbox exists again")
    );
    let r = v
        .post_form(&format!("/suppressions/{}/delete", bounce.id), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entries(&app, v.user.id).await.len(), 2);

    // Another owner's entry is a 404, both ways.
    let eve = sign_in_new(&app, "eve@example.com", Role::User).await;
    let path = format!("/suppressions/{}/delete", gone.id);
    assert_eq!(eve.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        eve.post_form(&path, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let theirs = parse(&eve.get("/suppressions").await.text().await.unwrap());
    assert_eq!(theirs.count("#suppression-rows tbody tr"), 0);
}

#[tokio::test]
async fn the_owner_keeps_a_list_but_cannot_resubscribe_anyone_sqlite() {
    the_owner_keeps_a_list_but_cannot_resubscribe_anyone(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_owner_keeps_a_list_but_cannot_resubscribe_anyone_postgres() {
    the_owner_keeps_a_list_but_cannot_resubscribe_anyone(Backend::Postgres).await;
}

async fn the_list_goes_out_and_comes_back_as_csv(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    feedback(&app, v.user.id, "gone@example.com", Kind::Unsubscribed).await;
    let file = "email;note\n\
                one@example.com;from the old system\n\
                =cmd@example.com;formula\n\
                GONE@example.com;already there\n\
                one@example.com;twice in the file\n\
                not-an-address;bad\n\
                \n\
                two@example.com;\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file.as_bytes().to_vec())
            .file_name("list.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let r = v.post_multipart("/suppressions/import", form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc = parse(&r.text().await.unwrap());
    let said = doc.text("#import-result").unwrap();
    assert!(said.contains("Added 3 addresses"), "{said}");
    assert!(said.contains("2 were on your list already"), "{said}");
    assert!(said.contains("1 row skipped"), "{said}");
    assert_eq!(doc.texts("#import-invalid tbody td:first-child"), ["6"]);
    let mut emails: Vec<String> = entries(&app, v.user.id)
        .await
        .into_iter()
        .map(|e| e.email)
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "=cmd@example.com",
            "gone@example.com",
            "one@example.com",
            "two@example.com"
        ]
    );

    // The export neutralises formulas, and imports again adding nothing.
    let csv = v
        .get("/suppressions/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("email,reason,note,since\n"), "{csv}");
    assert!(csv.contains("'=cmd@example.com,listed,formula,"), "{csv}");
    assert!(csv.contains("gone@example.com,unsubscribed,"), "{csv}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes())
            .file_name("suppressions.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let again = parse(
        &v.post_multipart("/suppressions/import", form)
            .await
            .text()
            .await
            .unwrap(),
    );
    let said = again.text("#import-result").unwrap();
    assert!(
        said.contains("Added 0 addresses; 4 were on your list already"),
        "{said}"
    );
    let unsubscribed = entries(&app, v.user.id)
        .await
        .into_iter()
        .find(|e| e.email == "gone@example.com")
        .unwrap();
    assert_eq!(
        unsubscribed.reason,
        Reason::Unsubscribed,
        "the reason stays"
    );

    // Not a CSV file: the message beside the field.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0xff, 0xfe, 0x00])
            .file_name("x.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let r = v.post_multipart("/suppressions/import", form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("not UTF-8"));
}

#[tokio::test]
async fn the_list_goes_out_and_comes_back_as_csv_sqlite() {
    the_list_goes_out_and_comes_back_as_csv(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_list_goes_out_and_comes_back_as_csv_postgres() {
    the_list_goes_out_and_comes_back_as_csv(Backend::Postgres).await;
}

async fn the_api_lists_adds_and_removes_by_the_same_rules(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (user, api) = api_user(&app, "owner@example.com").await;
    let (_, stranger) = api_user(&app, "stranger@example.com").await;
    insert_client(&app, user.id, "gone@example.com").await;
    feedback(&app, user.id, "gone@example.com", Kind::Unsubscribed).await;

    let (status, body) = api
        .post(
            "/suppressions",
            json!({"email": " New@Example.com ", "note": "by API"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "new@example.com");
    assert_eq!(body["reason"], "listed");
    assert_eq!(body["removable"], true);
    let new_id = body["id"].as_i64().unwrap();

    let (status, body) = api
        .post("/suppressions", json!({"email": "new@example.com"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "validation");
    assert!(field_errors(&body, "email")[0].contains("already"));
    let (status, body) = api.post("/suppressions", json!({"email": 5})).await;
    assert_eq!(status.as_u16() / 100, 4, "{body}");

    let (status, body) = api.get("/suppressions?reason=unsubscribed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["email"], "gone@example.com");
    assert_eq!(body["items"][0]["removable"], false);
    let gone_id = body["items"][0]["id"].as_i64().unwrap();

    // The recipient's word stands: 409, still there.
    let (status, body) = api.delete(&format!("/suppressions/{gone_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    let (status, _) = api.get(&format!("/suppressions/{gone_id}")).await;
    assert_eq!(status, StatusCode::OK);

    // Someone else's entry does not exist for the stranger.
    let (status, _) = stranger.get(&format!("/suppressions/{new_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stranger.delete(&format!("/suppressions/{new_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = api.delete(&format!("/suppressions/{new_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.get("/suppressions").await;
    assert_eq!(body["total"], 1);

    // The client API says where each client stands, and filters by it.
    let (_, body) = api.get("/clients?state=unsubscribed").await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["state"], "unsubscribed");
    assert!(body["items"][0]["state_since"].is_string());
    let (_, body) = api.get("/clients?state=active").await;
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn the_api_lists_adds_and_removes_by_the_same_rules_sqlite() {
    the_api_lists_adds_and_removes_by_the_same_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_api_lists_adds_and_removes_by_the_same_rules_postgres() {
    the_api_lists_adds_and_removes_by_the_same_rules(Backend::Postgres).await;
}

/// A manager puts an address on the instance's list in the admin: every owner's client
/// with it shows "suppressed", and no mailing sends to it.
async fn a_manager_suppresses_an_address_for_everyone(backend: Backend) {
    use mailer::entities::delivery::{self, DeliveryStatus};
    use mailer::entities::global_suppression;
    use mailer_tests::app::eventually;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let manager = sign_in_new(&app, "manager@example.com", Role::Manager).await;
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let trap = insert_client(&app, v.user.id, "trap@spam.example").await;
    let ok = insert_client(&app, v.user.id, "ok@example.com").await;

    let bad = manager
        .post_form(
            "/admin/global_suppressions/add/",
            &[
                ("email", "not an address"),
                ("reason", "listed"),
                ("detail", ""),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let made = manager
        .post_form(
            "/admin/global_suppressions/add/",
            &[
                ("email", " TRAP@spam.example "),
                ("reason", "complained"),
                ("detail", "a known spam trap"),
            ],
        )
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let row = global_suppression::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("added");
    assert_eq!(row.email, "trap@spam.example");
    assert_eq!(row.added_by, Some(manager.user.id));

    assert_eq!(
        client_states(&v, "/clients").await,
        pairs(&[
            ("ok@example.com", "active"),
            ("trap@spam.example", "suppressed")
        ])
    );
    assert_eq!(
        client_states(&v, "/clients?status=listed").await,
        pairs(&[("trap@spam.example", "suppressed")])
    );

    let _worker = crate::outage::worker(&app, "worker.log");
    let mailing = crate::stop::mailing_now(&app, &v, &[trap, ok], "Hello").await;
    let rows = eventually(
        std::time::Duration::from_secs(30),
        "the mailing settled",
        || async {
            let rows = delivery::Entity::find()
                .filter(delivery::Column::MailingId.eq(mailing))
                .all(&app.state.db)
                .await
                .unwrap();
            (rows.len() == 2 && rows.iter().all(|d| d.status != DeliveryStatus::Pending))
                .then_some(rows)
        },
    )
    .await;
    let status_of = |id: i32| rows.iter().find(|d| d.client_id == id).unwrap().status;
    assert_eq!(status_of(trap), DeliveryStatus::Skipped);
    assert_eq!(status_of(ok), DeliveryStatus::Sent);
    let mails = app.smtp.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["ok@example.com"]);

    // The owners' lists are the managers' to read, not to change.
    let users_list = manager.get("/admin/suppressions/").await;
    assert_eq!(users_list.status(), StatusCode::OK);
    assert_eq!(
        manager.get("/admin/suppressions/add/").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_manager_suppresses_an_address_for_everyone_sqlite() {
    a_manager_suppresses_an_address_for_everyone(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_manager_suppresses_an_address_for_everyone_postgres() {
    a_manager_suppresses_an_address_for_everyone(Backend::Postgres).await;
}

/// The reports count what recipients said back: per mailing, per message, per day (the
/// chart and its table) and in the CSV.
async fn reports_count_unsubscribes_bounces_and_complaints(backend: Backend) {
    use crate::mailings::client_message_mailing;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "owner@example.com", Role::User).await;
    let (_, first_message, a) = client_message_mailing(&app, &v, "x@example.com", "Spring").await;
    let (_, _, b) = client_message_mailing(&app, &v, "y@example.com", "Summer").await;
    let said = |email: &str, kind: Kind, mailing: Option<i32>, delivery: Option<i64>| Feedback {
        owner_id: v.user.id,
        email: email.to_owned(),
        kind,
        delivery_id: delivery,
        mailing_id: mailing,
        detail: None,
    };
    let db = &app.state.db;
    for fb in [
        said("u1@example.com", Kind::Unsubscribed, Some(a.id), None),
        said("u2@example.com", Kind::Unsubscribed, Some(a.id), None),
        said("h1@example.com", Kind::Bounced, Some(a.id), Some(900_001)),
        said(
            "s1@example.com",
            Kind::SoftBounced,
            Some(a.id),
            Some(900_002),
        ),
        said("c1@example.com", Kind::Complained, Some(b.id), None),
        // An old link that names no mailing: in the totals only.
        said("u3@example.com", Kind::Unsubscribed, None, None),
        // A resubscribe counts nowhere.
        said("u1@example.com", Kind::Resubscribed, Some(a.id), None),
    ] {
        assert!(record(db, fb).await.unwrap());
    }
    // The same bounce reported again is one event.
    assert!(
        !record(
            db,
            said("h1@example.com", Kind::Bounced, Some(a.id), Some(900_001))
        )
        .await
        .unwrap()
    );
    // Another owner's feedback is theirs.
    let other = sign_in_new(&app, "other@example.com", Role::User).await;
    feedback(&app, other.user.id, "z@example.com", Kind::Complained).await;

    let doc = parse(&v.get("/reports?range=today").await.text().await.unwrap());
    let n = |id: &str| doc.text(id).unwrap_or_default();
    assert_eq!(
        (
            n("#total-unsubscribes"),
            n("#total-bounces"),
            n("#total-complaints")
        ),
        ("3".into(), "2".into(), "1".into())
    );
    let rows: Vec<Vec<String>> = doc
        .texts("#report-table tbody td")
        .chunks(12)
        .map(|c| c.to_vec())
        .collect();
    let row_of = |name: &str| {
        rows.iter()
            .find(|r| r[0].contains(name))
            .unwrap_or_else(|| panic!("a row for {name}: {rows:?}"))
            .clone()
    };
    assert_eq!(row_of("Spring")[6..9], ["2", "2", "0"]);
    assert_eq!(row_of("Summer")[6..9], ["0", "0", "1"]);
    // The chart marks the day, and its table has the numbers.
    assert!(
        doc.exists("svg.chart circle.said title"),
        "a dot on today's bar"
    );
    let today = chrono::Utc::now().date_naive().to_string();
    let day_rows = doc.texts("#chart-table tbody tr td");
    assert_eq!(day_rows[2..5], ["3", "2", "1"], "{today}: {day_rows:?}");

    // Per message: the same counts under the mailing's message.
    let doc = parse(
        &v.get("/reports?range=today&view=messages")
            .await
            .text()
            .await
            .unwrap(),
    );
    let rows: Vec<Vec<String>> = doc
        .texts("#report-table tbody td")
        .chunks(12)
        .map(|c| c.to_vec())
        .collect();
    let spring = rows.iter().find(|r| r[0] == first_message.subject).unwrap();
    assert_eq!(spring[6..9], ["2", "2", "0"]);

    // And the CSV, sorted by unsubscribes.
    let csv = v
        .get("/reports/export.csv?range=today&sort=unsubscribes&dir=desc")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .contains("Retries,Unsubscribes,Bounces,Complaints,Last attempt"),
        "{csv}"
    );
    assert!(lines.next().unwrap().contains("Spring"), "{csv}");
}

#[tokio::test]
async fn reports_count_unsubscribes_bounces_and_complaints_sqlite() {
    reports_count_unsubscribes_bounces_and_complaints(Backend::Sqlite).await;
}

#[tokio::test]
async fn reports_count_unsubscribes_bounces_and_complaints_postgres() {
    reports_count_unsubscribes_bounces_and_complaints(Backend::Postgres).await;
}
