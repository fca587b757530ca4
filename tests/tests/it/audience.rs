//! Who a mailing reaches: clients' custom attributes and tags (form, API, CSV import and
//! export, the list's `?tag=` filter), and mailings that target tags, resolved again at
//! every occurrence of the fan-out — each client once, another user's tags refused.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mailer::delivery::fanout;
use mailer::entities::user::Role;
use mailer::entities::{client, delivery, mailing, tag};
use mailer_tests::html::{parse, parse_fragment};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::api::{api_for, assert_error, field_errors};
use crate::clients::import_preview;
use crate::mailings::{client_id, make_message};

async fn find_client(app: &TestApp, owner: i32, email: &str) -> client::Model {
    client::Entity::find_by_id(client_id(app, owner, email).await)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn tags_of(app: &TestApp, id: i32) -> Vec<String> {
    mailer::clients::service::tag_names(&app.state.db, id)
        .await
        .unwrap()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn client_form(
    v: &Visitor,
    path: &str,
    email: &str,
    tags: &str,
    attributes: &str,
) -> reqwest::Response {
    v.post_form(
        path,
        &[
            ("email", email),
            ("full_name", "Some One"),
            ("comment", ""),
            ("tags", tags),
            ("attributes", attributes),
        ],
    )
    .await
}

/// The e-mail addresses the clients list shows for `query`.
async fn listed(v: &Visitor, query: &str) -> BTreeSet<String> {
    let rows = v
        .htmx_get(&format!("/clients{query}"), "client-rows")
        .await
        .text()
        .await
        .unwrap();
    parse_fragment(&rows)
        .texts("tbody tr td:nth-child(2)")
        .into_iter()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn attributes_and_tags_through_the_form(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let r = client_form(
        &v,
        "/clients/new",
        "ivan@example.com",
        " Customers, VIP; customers ,, ",
        "Plan: gold\n\n city :  Kazan \nnote: a: b",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ivan = find_client(&app, v.user.id, "ivan@example.com").await;
    assert_eq!(
        mailer::clients::attributes(&ivan),
        map(&[("city", "Kazan"), ("note", "a: b"), ("plan", "gold")])
    );
    assert_eq!(tags_of(&app, ivan.id).await, vec!["customers", "vip"]);

    // The edit form shows them back.
    let edit = v
        .get(&format!("/clients/{}/edit", ivan.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        edit.contains(">city: Kazan\nnote: a: b\nplan: gold</textarea>"),
        "one line each: {edit}"
    );
    let edit = parse(&edit);
    // The admin shows them, read-only.
    let root = sign_in_new(&app, "root@example.com", Role::Superuser).await;
    let change = root
        .get(&format!("/admin/clients/{}/change/", ivan.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(change.contains("Kazan"), "{change}");
    assert_eq!(
        edit.attr("input#f-tags", "value").as_deref(),
        Some("customers, vip")
    );

    // Bad lines are named beside the field; nothing changes.
    let bad = client_form(
        &v,
        &format!("/clients/{}/edit", ivan.id),
        "ivan@example.com",
        &"x".repeat(51),
        &("plan: silver\n1st: x\nno colon here\nemail: a@b.c\nlong: ".to_owned()
            + &"v".repeat(1001)),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    let error = doc.text("#e-attributes").unwrap_or_default();
    for line in ["Line 2", "Line 3", "Line 4", "Line 5"] {
        assert!(error.contains(line), "{line} in {error}");
    }
    assert!(!error.contains("Line 1"), "{error}");
    assert!(
        doc.text("#e-tags").unwrap_or_default().contains("50"),
        "tag too long"
    );
    // The form keeps what was typed.
    assert!(
        doc.text("textarea#f-attributes")
            .unwrap_or_default()
            .starts_with("plan: silver 1st: x")
    );
    let unchanged = find_client(&app, v.user.id, "ivan@example.com").await;
    assert_eq!(unchanged.attributes, ivan.attributes);
    assert_eq!(tags_of(&app, ivan.id).await, vec!["customers", "vip"]);

    // Inline validation reports the same, without saving.
    let inline = client_form(
        &v,
        &format!("/clients/{}/edit?validate=1", ivan.id),
        "ivan@example.com",
        "ok",
        "9lives: x",
    )
    .await;
    let doc = parse_fragment(&inline.text().await.unwrap());
    assert!(
        doc.text("#e-attributes")
            .unwrap_or_default()
            .contains("Line 1")
    );

    // Saving replaces both; an empty text removes them.
    let saved = client_form(
        &v,
        &format!("/clients/{}/edit", ivan.id),
        "ivan@example.com",
        "vip",
        "",
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let ivan = find_client(&app, v.user.id, "ivan@example.com").await;
    assert!(mailer::clients::attributes(&ivan).is_empty());
    assert_eq!(ivan.attributes, "{}");
    assert_eq!(tags_of(&app, ivan.id).await, vec!["vip"]);

    // The list shows tags and filters by one (any case); a tag nobody carries shows none.
    client_form(&v, "/clients/new", "olga@example.com", "customers", "").await;
    client_form(&v, "/clients/new", "petr@example.com", "", "").await;
    let full = parse(&v.get("/clients").await.text().await.unwrap());
    assert_eq!(
        full.texts(&format!("#client-{} .client-tags .chip", ivan.id)),
        vec!["vip"]
    );
    assert!(full.exists("#client-tags a[data-tag='customers']"));
    assert_eq!(
        listed(&v, "").await,
        set(&["ivan@example.com", "olga@example.com", "petr@example.com"])
    );
    assert_eq!(
        listed(&v, "?tag=customers").await,
        set(&["olga@example.com"])
    );
    assert_eq!(listed(&v, "?tag=VIP").await, set(&["ivan@example.com"]));
    assert!(listed(&v, "?tag=nobody").await.is_empty());

    // Another user's tag of the same name is theirs: it filters nothing of Ann's.
    let bob = sign_in_new(&app, "bob@example.com", Role::User).await;
    client_form(
        &bob,
        "/clients/new",
        "bobs@example.com",
        "vip, partners",
        "",
    )
    .await;
    assert_eq!(listed(&v, "?tag=vip").await, set(&["ivan@example.com"]));
    assert!(listed(&v, "?tag=partners").await.is_empty());
    assert_eq!(listed(&bob, "?tag=vip").await, set(&["bobs@example.com"]));
    // The export keeps the filter and writes the tags.
    let export = v
        .get("/clients/export.csv?tag=vip")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines[0], "email,full_name,comment,state,since,tags");
    assert_eq!(lines.len(), 2, "{export}");
    assert!(lines[1].starts_with("ivan@example.com,") && lines[1].ends_with(",vip"));
}

#[tokio::test]
async fn attributes_and_tags_through_the_form_sqlite() {
    attributes_and_tags_through_the_form(Backend::Sqlite).await;
}

#[tokio::test]
async fn attributes_and_tags_through_the_form_postgres() {
    attributes_and_tags_through_the_form(Backend::Postgres).await;
}

async fn attributes_and_tags_through_the_api(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let api = api_for(&app, &v.user).await;
    let (status, body) = api
        .post(
            "/clients",
            json!({
                "email": "ivan@example.com", "full_name": "Ivan",
                "attributes": {"Plan": "gold", "city": "Kazan"},
                "tags": ["Customers", "vip", "customers"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["attributes"], json!({"city": "Kazan", "plan": "gold"}));
    assert_eq!(body["tags"], json!(["customers", "vip"]));
    let id = body["id"].as_i64().unwrap();

    // A replace without them leaves them; with them, replaces them.
    let (status, body) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "ivan@example.com", "full_name": "Ivan P."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attributes"], json!({"city": "Kazan", "plan": "gold"}));
    assert_eq!(body["tags"], json!(["customers", "vip"]));
    let (_, body) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "ivan@example.com", "full_name": "Ivan P.",
                   "attributes": {"plan": "silver"}, "tags": []}),
        )
        .await;
    assert_eq!(body["attributes"], json!({"plan": "silver"}));
    assert_eq!(body["tags"], json!([]));
    let (_, body) = api.get(&format!("/clients/{id}")).await;
    assert_eq!(body["attributes"], json!({"plan": "silver"}));

    // Bad names, values and tags: 422 with the messages per field.
    for (attributes, tags, field) in [
        (json!({"1st": "x"}), json!([]), "attributes"),
        (json!({"a-b": "x"}), json!([]), "attributes"),
        (json!({"k".repeat(41): "x"}), json!([]), "attributes"),
        (json!({"email": "x"}), json!([]), "attributes"),
        (json!({"k": "a\nb"}), json!([]), "attributes"),
        (json!({"k": "a\u{0}b"}), json!([]), "attributes"),
        (json!({"k": "v".repeat(1001)}), json!([]), "attributes"),
        (json!({"plan": "a", "PLAN": "b"}), json!([]), "attributes"),
        (json!({}), json!(["a,b"]), "tags"),
        (json!({}), json!(["t".repeat(51)]), "tags"),
        (json!({}), json!(["  "]), "tags"),
    ] {
        let (status, body) = api
            .put(
                &format!("/clients/{id}"),
                json!({"email": "ivan@example.com", "full_name": "Ivan",
                       "attributes": attributes, "tags": tags}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{attributes} {tags}: {body}"
        );
        assert_error(&body, "validation");
        assert!(!field_errors(&body, field).is_empty(), "{field} in {body}");
    }
    let many: serde_json::Map<String, serde_json::Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (status, body) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "ivan@example.com", "full_name": "Ivan", "attributes": many}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A value that is not a string is not read.
    let (status, body) = api
        .put(
            &format!("/clients/{id}"),
            json!({"email": "ivan@example.com", "full_name": "Ivan", "attributes": {"n": 5}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, body) = api.get(&format!("/clients/{id}")).await;
    assert_eq!(body["attributes"], json!({"plan": "silver"}), "unchanged");

    // `?tag=` filters the list.
    api.post(
        "/clients",
        json!({"email": "olga@example.com", "full_name": "Olga", "tags": ["customers"]}),
    )
    .await;
    let (status, body) = api.get("/clients?tag=Customers").await;
    assert_eq!(status, StatusCode::OK);
    let emails: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec!["olga@example.com"]);
    let (_, body) = api.get("/clients").await;
    assert_eq!(body["total"], 2);
}

#[tokio::test]
async fn attributes_and_tags_through_the_api_sqlite() {
    attributes_and_tags_through_the_api(Backend::Sqlite).await;
}

#[tokio::test]
async fn attributes_and_tags_through_the_api_postgres() {
    attributes_and_tags_through_the_api(Backend::Postgres).await;
}

/// Confirms the import of `csv` and returns the preview page it showed.
async fn import(v: &Visitor, csv: &str) -> mailer_tests::html::Doc {
    let preview = import_preview(v, csv).await;
    let import_id = preview.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    preview
}

async fn csv_import_maps_columns_to_attributes_and_tags(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let long = "v".repeat(1001);
    let csv = format!(
        "email;full_name;Plan Type;Город;tags;state;plan-type\n\
         ann@example.org;Ann;gold;Kazan;customers, VIP;active;x\n\
         bob@example.org;Bob;;;;;\n\
         carl@example.org;Carl;{long};;;;\n\
         dora@example.org;Dora;silver;;a,{};;\n",
        "t".repeat(51)
    );
    let preview = import(&v, &csv).await;
    assert_eq!(preview.text("#import-valid").as_deref(), Some("2"));
    assert_eq!(preview.text("#import-invalid").as_deref(), Some("2"));
    assert!(
        preview
            .text("#import-columns")
            .unwrap_or_default()
            .contains("plan_type")
    );
    let skipped = preview.texts("#import-skipped li");
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped.iter().any(|s| s.starts_with("“Город”")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|s| s.starts_with("“state”")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("“plan-type”") && s.contains("Plan Type")),
        "{skipped:?}"
    );
    let errors = preview.texts(".row-error .field-error");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("plan_type") && e.contains("1,000")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("50")), "{errors:?}");

    let ann = find_client(&app, v.user.id, "ann@example.org").await;
    assert_eq!(
        mailer::clients::attributes(&ann),
        map(&[("plan_type", "gold")])
    );
    assert_eq!(tags_of(&app, ann.id).await, vec!["customers", "vip"]);
    let bob = find_client(&app, v.user.id, "bob@example.org").await;
    assert!(mailer::clients::attributes(&bob).is_empty());
    assert!(tags_of(&app, bob.id).await.is_empty());

    // The export writes them; imported by someone else, it gives the same clients back.
    let export = v.get("/clients/export.csv").await.text().await.unwrap();
    let mut lines: Vec<&str> = export.lines().collect();
    assert_eq!(
        lines.remove(0),
        "email,full_name,comment,state,since,tags,plan_type"
    );
    assert!(
        lines.contains(&"ann@example.org,Ann,,active,,\"customers, vip\",gold"),
        "{export}"
    );
    let other = sign_in_new(&app, "other@example.com", Role::User).await;
    import(&other, &export).await;
    let ann2 = find_client(&app, other.user.id, "ann@example.org").await;
    assert_eq!(ann2.attributes, ann.attributes);
    assert_eq!(tags_of(&app, ann2.id).await, vec!["customers", "vip"]);
    // Tags are per owner: the same names, other rows.
    let customers = tag::Entity::find()
        .filter(tag::Column::Name.eq("customers"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(customers, 2);

    // A file without tags or extra columns imports as before.
    import(
        &v,
        "email,full_name,comment\nplain@example.org,Plain,note\n",
    )
    .await;
    let plain = find_client(&app, v.user.id, "plain@example.org").await;
    assert_eq!(plain.attributes, "{}");
}

#[tokio::test]
async fn csv_import_maps_columns_to_attributes_and_tags_sqlite() {
    csv_import_maps_columns_to_attributes_and_tags(Backend::Sqlite).await;
}

#[tokio::test]
async fn csv_import_maps_columns_to_attributes_and_tags_postgres() {
    csv_import_maps_columns_to_attributes_and_tags(Backend::Postgres).await;
}

async fn deliveries_of(
    app: &TestApp,
    mailing: i32,
    occurrence: DateTime<Utc>,
) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(mailing))
        .filter(delivery::Column::OccurrenceAt.eq(occurrence))
        .all(&app.state.db)
        .await
        .unwrap()
}

const DOMAIN: &str = "mail.example.test";

/// Runs the fan-out (as the scheduler's tick does) a minute after `occurrence` and returns
/// that occurrence's deliveries.
async fn fan_out_at(
    app: &TestApp,
    mailing_id: i32,
    occurrence: DateTime<Utc>,
) -> Vec<delivery::Model> {
    let mailing = mailing::Entity::find_by_id(mailing_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let now = occurrence + Duration::minutes(1);
    fanout::fan_out(&app.state.db, &mailing, now, DOMAIN, Duration::seconds(60))
        .await
        .unwrap();
    deliveries_of(app, mailing_id, occurrence).await
}

fn client_ids(rows: &[delivery::Model]) -> Vec<i32> {
    let mut ids: Vec<i32> = rows.iter().map(|d| d.client_id).collect();
    ids.sort();
    ids
}

async fn a_tagged_mailing_reaches_clients_tagged_later(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let api = api_for(&app, &v.user).await;
    let mut ids = BTreeMap::new();
    for (email, tags) in [
        ("picked@example.com", json!(["customers"])),
        ("tagged@example.com", json!(["customers", "vip"])),
        ("later@example.com", json!([])),
        ("other@example.com", json!(["vip"])),
    ] {
        let (status, body) = api
            .post(
                "/clients",
                json!({"email": email, "full_name": email, "tags": tags}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.insert(email, body["id"].as_i64().unwrap() as i32);
    }
    let message = make_message(&app, v.user.id, "Daily news").await;
    let start = (Utc::now() + Duration::hours(1)).trunc_subsecs(0);
    let (status, body) = api
        .post(
            "/mailings",
            json!({
                "name": "Test mailing", "message_id": message.id,
                "client_ids": [ids["picked@example.com"]],
                "tags": ["Customers"],
                "start_at": start, "end_at": start + Duration::days(10),
                "periodicity": "daily",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tags"], json!(["customers"]));
    let mailing_id = body["id"].as_i64().unwrap() as i32;
    let (_, got) = api.get(&format!("/mailings/{mailing_id}")).await;
    assert_eq!(got["tags"], json!(["customers"]));
    assert_eq!(
        fanout::recipient_count(&app.state.db, mailing_id)
            .await
            .unwrap(),
        2,
        "picked and tagged, the one both picked and tagged once"
    );

    // The first occurrence: the picked client (also tagged) once, and the tagged one.
    let first = start;
    let rows = fan_out_at(&app, mailing_id, first).await;
    let mut expected = vec![ids["picked@example.com"], ids["tagged@example.com"]];
    expected.sort();
    assert_eq!(client_ids(&rows), expected);
    for d in &rows {
        assert_eq!(
            d.message_id_header,
            fanout::message_id_header(mailing_id, d.client_id, first, DOMAIN)
        );
        assert_eq!(d.status, delivery::DeliveryStatus::Pending);
        assert_eq!(d.tries, 0);
        assert!(d.next_try_at.is_some());
    }

    // Tagged after the mailing was made: in the next occurrence.
    let later = ids["later@example.com"];
    let (status, body) = api
        .put(
            &format!("/clients/{later}"),
            json!({"email": "later@example.com", "full_name": "Later", "tags": ["customers"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = first + Duration::days(1);
    let rows = fan_out_at(&app, mailing_id, second).await;
    let mut expected = vec![ids["picked@example.com"], ids["tagged@example.com"], later];
    expected.sort();
    assert_eq!(client_ids(&rows), expected);
    // The first occurrence is as it was.
    assert_eq!(deliveries_of(&app, mailing_id, first).await.len(), 2);

    // Fanned out again (a retried job, "send now" twice): nothing more.
    let now = Utc::now();
    fanout::insert_deliveries(&app.state.db, mailing_id, second, now, DOMAIN, now)
        .await
        .unwrap();
    assert_eq!(deliveries_of(&app, mailing_id, second).await.len(), 3);
    let all = delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(all, 5);

    // Untagged, a client leaves the following occurrences (but keeps what it got).
    api.put(
        &format!("/clients/{}", ids["tagged@example.com"]),
        json!({"email": "tagged@example.com", "full_name": "T", "tags": ["vip"]}),
    )
    .await;
    assert_eq!(
        fanout::recipient_count(&app.state.db, mailing_id)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_tagged_mailing_reaches_clients_tagged_later_sqlite() {
    a_tagged_mailing_reaches_clients_tagged_later(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_tagged_mailing_reaches_clients_tagged_later_postgres() {
    a_tagged_mailing_reaches_clients_tagged_later(Backend::Postgres).await;
}

fn at(offset: Duration) -> String {
    (Utc::now() + offset).format("%Y-%m-%dT%H:%M").to_string()
}

async fn mailing_form(
    v: &Visitor,
    path: &str,
    message: i32,
    clients: &[i32],
    tags: &[i32],
) -> reqwest::Response {
    let message = message.to_string();
    let (start, end) = (at(Duration::days(1)), at(Duration::days(9)));
    let clients: Vec<String> = clients.iter().map(|c| c.to_string()).collect();
    let tags: Vec<String> = tags.iter().map(|c| c.to_string()).collect();
    let mut fields = vec![
        ("message_id", message.as_str()),
        ("start_at", start.as_str()),
        ("end_at", end.as_str()),
        ("name", "Test mailing"),
        ("periodicity", "weekly"),
    ];
    fields.extend(clients.iter().map(|c| ("client_ids", c.as_str())));
    fields.extend(tags.iter().map(|t| ("tag_ids", t.as_str())));
    v.post_form(path, &fields).await
}

async fn tag_id(app: &TestApp, owner: i32, name: &str) -> i32 {
    tag::Entity::find()
        .filter(tag::Column::OwnerId.eq(owner))
        .filter(tag::Column::Name.eq(name))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("tag")
        .id
}

async fn mailings_target_only_their_owners_tags(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let bob = sign_in_new(&app, "bob@example.com", Role::User).await;
    client_form(&v, "/clients/new", "c1@example.com", "customers", "").await;
    client_form(&v, "/clients/new", "c2@example.com", "customers", "").await;
    client_form(&bob, "/clients/new", "b1@example.com", "partners", "").await;
    let customers = tag_id(&app, v.user.id, "customers").await;
    let partners = tag_id(&app, bob.user.id, "partners").await;
    let message = make_message(&app, v.user.id, "Hello").await;

    // The form offers the owner's tags only.
    let form = parse(&v.get("/mailings/new").await.text().await.unwrap());
    assert_eq!(
        form.attrs("input[name='tag_ids']", "value"),
        vec![customers.to_string()]
    );

    // Neither clients nor tags: refused as before.
    let none = mailing_form(&v, "/mailings/new", message.id, &[], &[]).await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&none.text().await.unwrap());
    assert!(doc.exists("#e-client_ids"));

    // Another user's tag: refused beside the field.
    let theirs = mailing_form(&v, "/mailings/new", message.id, &[], &[partners]).await;
    assert_eq!(theirs.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&theirs.text().await.unwrap());
    assert!(
        doc.text("#e-tags")
            .unwrap_or_default()
            .contains("not yours")
    );
    assert_eq!(
        mailing::Entity::find().count(&app.state.db).await.unwrap(),
        0
    );

    // In the API, by name: only the owner's namespace (Bob's "partners" is unknown to Ann).
    let api = api_for(&app, &v.user).await;
    let body = json!({
        "name": "Test mailing", "message_id": message.id, "tags": ["partners"],
        "start_at": Utc::now() + Duration::days(1), "end_at": Utc::now() + Duration::days(2),
        "periodicity": "once",
    });
    let (status, answer) = api.post("/mailings", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        field_errors(&answer, "tags")
            .iter()
            .any(|m| m.contains("partners")),
        "{answer}"
    );
    let (status, answer) = api
        .post(
            "/mailings",
            json!({
                "name": "Test mailing", "message_id": message.id,
                "start_at": Utc::now() + Duration::days(1), "end_at": Utc::now() + Duration::days(2),
                "periodicity": "once",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(!field_errors(&answer, "client_ids").is_empty(), "{answer}");

    // Tags only: made, shown with the recipients they resolve to now.
    let made = mailing_form(&v, "/mailings/new", message.id, &[], &[customers]).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let id = mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let detail = parse(
        &v.get(&format!("/mailings/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(detail.texts(".mailing-tags .chip"), vec!["#customers"]);
    assert_eq!(detail.text("#recipient-count").as_deref(), Some("2"));
    client_form(&v, "/clients/new", "c3@example.com", "Customers", "").await;
    let detail = parse(
        &v.get(&format!("/mailings/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(detail.text("#recipient-count").as_deref(), Some("3"));
    let edit = parse(
        &v.get(&format!("/mailings/{id}/edit"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        edit.attrs("input[name='tag_ids'][checked]", "value"),
        vec![customers.to_string()]
    );
    // Editing to another user's tag is refused too; the mailing keeps its tag.
    let edited = mailing_form(
        &v,
        &format!("/mailings/{id}/edit"),
        message.id,
        &[],
        &[customers, partners],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, got) = api.get(&format!("/mailings/{id}")).await;
    assert_eq!(got["tags"], json!(["customers"]));
    // Bob cannot see it, nor count through it.
    assert_eq!(
        bob.get(&format!("/mailings/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn mailings_target_only_their_owners_tags_sqlite() {
    mailings_target_only_their_owners_tags(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailings_target_only_their_owners_tags_postgres() {
    mailings_target_only_their_owners_tags(Backend::Postgres).await;
}

async fn a_tag_of_ten_thousand_fans_out_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let db = &app.state.db;
    let now = Utc::now();
    let rows: Vec<client::ActiveModel> = (0..10_000)
        .map(|i| client::ActiveModel {
            owner_id: sea_orm::Set(v.user.id),
            email: sea_orm::Set(format!("c{i}@example.com")),
            full_name: sea_orm::Set(format!("C {i}")),
            comment: sea_orm::Set(String::new()),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
            ..Default::default()
        })
        .collect();
    let key = [client::Column::OwnerId, client::Column::Email];
    mailer::db::insert_new(db, rows, key, 500).await.unwrap();
    let tags = mailer::clients::tags::ensure(db, v.user.id, &["all".to_owned()])
        .await
        .unwrap();
    let ids: Vec<i32> = client::Entity::find()
        .filter(client::Column::OwnerId.eq(v.user.id))
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let pairs: Vec<(i32, i32)> = ids.iter().map(|c| (*c, tags[0].id)).collect();
    mailer::clients::tags::link(db, &pairs).await.unwrap();
    let message = make_message(&app, v.user.id, "All").await;
    let made = mailing_form(&v, "/mailings/new", message.id, &[ids[0]], &[tags[0].id]).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let mailing = mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let started = std::time::Instant::now();
    let rows = fan_out_at(&app, mailing.id, mailing.start_at).await;
    let elapsed = started.elapsed();
    assert_eq!(rows.len(), 10_000, "each client once");
    eprintln!("fan-out of 10,000 tagged clients on {backend:?}: {elapsed:?}");
    // Not a benchmark: a guard against a statement per client.
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}

#[tokio::test]
async fn a_tag_of_ten_thousand_fans_out_at_once_sqlite() {
    a_tag_of_ten_thousand_fans_out_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_tag_of_ten_thousand_fans_out_at_once_postgres() {
    a_tag_of_ten_thousand_fans_out_at_once(Backend::Postgres).await;
}
