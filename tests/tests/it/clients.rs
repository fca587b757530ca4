//! Clients in the user area: list with search, sort and pages (htmx fragments), forms with
//! 422 and inline validation, delete with confirmation, CSV import and export.

use std::time::{Duration, Instant};

use mailer::entities::client;
use mailer::entities::user::Role;
use mailer_tests::html::{Doc, parse, parse_fragment};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

pub async fn add(v: &Visitor, email: &str, name: &str) -> reqwest::Response {
    v.post_form(
        "/clients/new",
        &[("email", email), ("full_name", name), ("comment", "")],
    )
    .await
}

async fn count(app: &TestApp, owner: i32) -> u64 {
    client::Entity::find()
        .filter(client::Column::OwnerId.eq(owner))
        .count(&app.state.db)
        .await
        .unwrap()
}

fn csv_form(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("text/csv")
            .unwrap(),
    )
}

/// Uploads `csv` to the import and returns its preview page (200).
pub async fn import_preview(v: &Visitor, csv: &str) -> Doc {
    let preview = v
        .post_multipart(
            "/clients/import",
            csv_form("people.csv", csv.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    parse(&preview.text().await.unwrap())
}

async fn clients_list_search_sort_and_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;

    let empty = parse(&v.get("/clients").await.text().await.unwrap());
    assert!(
        empty.exists(".empty a[href='/clients/new']"),
        "empty state invites to add"
    );

    for i in 0..45 {
        let r = add(
            &v,
            &format!("c{i:02}@example.com"),
            &format!("Client {i:02}"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    add(&v, "zed@other.org", "Zed Unique").await;
    add(&v, "maria@example.ru", "Мария Сидорова").await;

    let full = parse(&v.get("/clients").await.text().await.unwrap());
    assert!(full.exists("header.site"), "a plain GET is the whole page");
    assert_eq!(full.count("#client-rows tbody tr"), 20);
    assert_eq!(
        full.text(".pager span").as_deref(),
        Some("Page 1 of 3 · 47 in all")
    );

    // htmx asks for the rows only: no layout, same table.
    let rows = v.htmx_get("/clients?page=3", "client-rows").await;
    assert_eq!(
        rows.headers()["vary"],
        "HX-Request, HX-Target, Accept-Language"
    );
    let rows = parse_fragment(&rows.text().await.unwrap());
    assert!(!rows.exists("header.site") && !rows.exists("h1"));
    assert_eq!(rows.count("tbody tr"), 7);

    // Search by name or e-mail, case-insensitive.
    let found = parse_fragment(
        &v.htmx_get("/clients?q=UNIQUE", "client-rows")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        found.texts("tbody tr td:nth-child(2)"),
        vec!["zed@other.org"]
    );
    let found = parse_fragment(
        &v.htmx_get("/clients?q=other.org", "client-rows")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(found.count("tbody tr"), 1);
    // Non-ASCII names too, in any case (SQLite's LOWER() folds only ASCII).
    for q in ["мар", "МАРИЯ", "Сидорова"] {
        let found = parse_fragment(
            &v.htmx_get(&format!("/clients?q={q}"), "client-rows")
                .await
                .text()
                .await
                .unwrap(),
        );
        assert_eq!(
            found.texts("tbody tr td:nth-child(2)"),
            vec!["maria@example.ru"],
            "q={q}"
        );
    }
    // LIKE wildcards in the search are literal.
    let none = parse_fragment(
        &v.htmx_get("/clients?q=%25_", "client-rows")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(none.exists(".empty"), "no match for a literal %_");

    // Sort by e-mail, descending.
    let sorted = parse(
        &v.get("/clients?sort=email&dir=desc")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        sorted.text("tbody tr td:nth-child(2)").as_deref(),
        Some("zed@other.org")
    );
    assert_eq!(
        sorted.attr("th[aria-sort]", "aria-sort").as_deref(),
        Some("descending")
    );

    // A page past the end shows the last page.
    let last = parse(&v.get("/clients?page=99").await.text().await.unwrap());
    assert_eq!(
        last.text(".pager span").as_deref(),
        Some("Page 3 of 3 · 47 in all")
    );
}

#[tokio::test]
async fn clients_list_search_sort_and_pages_sqlite() {
    clients_list_search_sort_and_pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn clients_list_search_sort_and_pages_postgres() {
    clients_list_search_sort_and_pages(Backend::Postgres).await;
}

#[tokio::test]
async fn client_forms_validate_with_422_and_inline() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    assert_eq!(
        add(&v, "Bob@Example.com", "Bob").await.status(),
        StatusCode::SEE_OTHER
    );

    let bad = add(&v, "not-an-address", "").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&bad.text().await.unwrap());
    assert!(doc.exists("#f-email[aria-invalid='true']"));
    assert!(doc.exists("#e-email.field-error"));
    assert!(doc.exists("#e-full_name.field-error"));
    assert_eq!(
        doc.attr("#f-email", "value").as_deref(),
        Some("not-an-address"),
        "input is kept"
    );

    let duplicate = add(&v, "  bob@EXAMPLE.com ", "Bobby").await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse(&duplicate.text().await.unwrap());
    assert_eq!(
        doc.text("#e-email").as_deref(),
        Some("You already have a client with this address.")
    );

    // Inline validation: errors come back, nothing is saved.
    let check = v
        .post_form(
            "/clients/new?validate=1",
            &[("email", "carol@example.com"), ("full_name", "")],
        )
        .await;
    assert_eq!(check.status(), StatusCode::OK);
    let doc = parse_fragment(&check.text().await.unwrap());
    assert!(doc.exists("#e-full_name"));
    assert!(!doc.exists("#e-email"));
    assert_eq!(count(&app, v.user.id).await, 1);

    // An htmx submit with errors gets the form block (422 is swapped by the page's config).
    let token = v.csrf("/clients/new").await;
    let fragment = v
        .client
        .post(v.url("/clients/new"))
        .header("HX-Request", "true")
        .header("HX-Target", "client-form")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "x"),
            ("full_name", "X"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(fragment.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let doc = parse_fragment(&fragment.text().await.unwrap());
    assert!(doc.exists("form #e-email") && !doc.exists("h1"));

    // Edit keeps the address unique but allows keeping its own.
    let bob = client::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let edit = v
        .post_form(
            &format!("/clients/{}/edit", bob.id),
            &[
                ("email", "bob@example.com"),
                ("full_name", "Robert"),
                ("comment", "VIP"),
            ],
        )
        .await;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let after = client::Entity::find_by_id(bob.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.full_name.as_str(), after.comment.as_str()),
        ("Robert", "VIP")
    );
    let listed = parse(&v.get("/clients").await.text().await.unwrap());
    assert!(listed.exists(".flash.success"), "a toast after the action");
}

#[tokio::test]
async fn deleting_a_client_asks_first() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    add(&v, "bob@example.com", "Bob").await;
    let bob = client::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let confirm = parse(
        &v.get(&format!("/clients/{}/delete", bob.id))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(confirm.exists(&format!("form[action='/clients/{}/delete'] button", bob.id)));
    assert_eq!(
        count(&app, v.user.id).await,
        1,
        "the confirmation page deletes nothing"
    );
    let deleted = v
        .post_form(&format!("/clients/{}/delete", bob.id), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, v.user.id).await, 0);
}

#[tokio::test]
async fn csv_import_previews_then_imports_and_exports() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    add(&v, "existing@example.com", "Existing").await;

    let csv = "\u{feff}ФИО;Email;Комментарий\n\
               Иван Петров;ivan@example.com;first\n\
               Dup In File;IVAN@example.com;\n\
               Already There;existing@example.com;\n\
               No At;broken-address;\n\
               ;;\n\
               Мария;maria@example.com;\"with ; semicolon\"\n";
    let doc = import_preview(&v, csv).await;
    assert_eq!(doc.text("#import-valid").as_deref(), Some("2"));
    assert_eq!(doc.text("#import-duplicates").as_deref(), Some("2"));
    assert_eq!(doc.text("#import-invalid").as_deref(), Some("1"));
    assert_eq!(doc.count("tr.row-error"), 1);
    assert!(doc.text("tr.row-error").unwrap().contains("broken-address"));
    assert_eq!(
        count(&app, v.user.id).await,
        1,
        "the preview imports nothing"
    );

    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, v.user.id).await, 3);
    let maria = client::Entity::find()
        .filter(client::Column::Email.eq("maria@example.com"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (maria.full_name.as_str(), maria.comment.as_str()),
        ("Мария", "with ; semicolon")
    );
    let flash = parse(&v.get("/clients").await.text().await.unwrap());
    assert_eq!(
        flash
            .text(".flash.success")
            .map(|t| t.trim_end_matches('×').trim().to_owned())
            .as_deref(),
        Some("Imported 2 clients. Skipped 2 duplicates and 1 invalid rows.")
    );
    // The same upload cannot be imported twice.
    let again = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Export: a CSV with a header and every client.
    let export = v.get("/clients/export.csv").await;
    assert!(
        export.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = export.text().await.unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "email,full_name,comment,state,since");
    lines.sort();
    assert_eq!(lines.len(), 3);
    assert!(lines.contains(&"maria@example.com,Мария,with ; semicolon,active,"));
}

#[tokio::test]
async fn csv_import_rejects_bad_files_with_a_message() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let cp1251_name = vec![
        0xC8, 0xE2, 0xE0, 0xED, b';', b'a', b'@', b'b', b'.', b'c', b'\n',
    ];
    for (name, bytes, expected) in [
        ("empty.csv", Vec::new(), "Choose a CSV file."),
        ("blank.csv", b"\n\n;;\n".to_vec(), "The file is empty."),
        ("cp1251.csv", cp1251_name, "not UTF-8"),
    ] {
        let response = v
            .post_multipart("/clients/import", csv_form(name, bytes))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let doc = parse(&response.text().await.unwrap());
        let error = doc.text("#e-file").unwrap_or_default();
        assert!(error.contains(expected), "{name}: {error}");
    }
    assert_eq!(count(&app, v.user.id).await, 0);
}

async fn ten_thousand_rows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    let mut csv = String::from("email,full_name,comment\n");
    for i in 0..10_000 {
        csv.push_str(&format!("person{i}@example.com,Person {i},row {i}\n"));
    }
    let started = Instant::now();
    let preview = v
        .post_multipart("/clients/import", csv_form("big.csv", csv.into_bytes()))
        .await;
    let doc = parse(&preview.text().await.unwrap());
    assert_eq!(doc.text("#import-valid").as_deref(), Some("10000"));
    assert!(
        doc.count("tbody tr") <= 100,
        "the preview shows a sample, not 10,000 rows"
    );
    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let elapsed = started.elapsed();
    assert_eq!(count(&app, v.user.id).await, 10_000);
    // Not a benchmark: a guard against row-by-row inserts (those take minutes in debug builds).
    assert!(
        elapsed < Duration::from_secs(30),
        "10,000 rows took {elapsed:?}"
    );
    eprintln!("imported 10,000 rows on {backend:?} in {elapsed:?}");
}

#[tokio::test]
async fn csv_import_of_ten_thousand_rows_sqlite() {
    ten_thousand_rows(Backend::Sqlite).await;
}

#[tokio::test]
async fn csv_import_of_ten_thousand_rows_postgres() {
    ten_thousand_rows(Backend::Postgres).await;
}

/// The import applies the client form's own rules (an empty name is an error row, as on
/// the form, not a client named after the address), and every line of the file is a row
/// of the preview: a quote never closed, a short and a long line are error rows with their
/// line number and text, and the lines after an unclosed quote are still read.
#[tokio::test]
async fn csv_import_applies_the_form_rules_to_every_line() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let v = sign_in_new(&app, "ann@example.com", Role::User).await;
    // What the form says about an empty name.
    let form = parse(
        &add(&v, "client15@example.com", "")
            .await
            .text()
            .await
            .unwrap(),
    );
    let form_says = form.text("#e-full_name").unwrap();

    let long_name = "N".repeat(201);
    let csv = format!(
        "email,full_name,comment\n\
         ann@example.com,Ann,ok\n\
         client15@example.com,,\n\
         short@example.com\n\
         long@example.com,Long,c,extra\n\
         quote@example.com,\"Unclosed,comment\n\
         bob@example.com,Bob,after the quote\n\
         big@example.com,{long_name},\n\
         \n\
         cyd@example.com,Cyd,\"two\nlines\"\n\
         last@example.com,\"Never closed\n"
    );
    let doc = import_preview(&v, &csv).await;
    assert_eq!(
        doc.text("#import-valid").as_deref(),
        Some("3"),
        "ann, bob, cyd"
    );
    assert_eq!(doc.text("#import-invalid").as_deref(), Some("6"));
    assert_eq!(
        doc.texts("table.import-rows tbody tr td:first-child"),
        ["2", "3", "4", "5", "6", "7", "8", "10", "12"],
        "every line that is not blank, by its number"
    );
    assert_eq!(doc.count("tr.row-error"), 6);
    let row = |line: &str| {
        doc.texts("table.import-rows tbody tr")
            .into_iter()
            .find(|t| t.trim_start().starts_with(line))
            .unwrap_or_default()
    };
    assert!(row("3").contains(&form_says), "{}", row("3"));
    assert!(row("3").contains("client15@example.com"));
    assert!(row("4").contains("short@example.com") && row("4").contains("1 cell"));
    assert!(row("5").contains("long@example.com,Long,c,extra") && row("5").contains("4 cells"));
    assert!(row("6").contains("quote@example.com,\"Unclosed,comment"));
    assert!(row("6").contains("never closed"), "{}", row("6"));
    assert!(row("8").contains("200 characters"), "{}", row("8"));
    assert!(row("12").contains("last@example.com") && row("12").contains("never closed"));
    // Error rows are highlighted alike: the table is not striped under them.
    assert!(!doc.exists("table.import-rows.striped"));

    let import_id = doc.attr("input[name='import_id']", "value").unwrap();
    let done = v
        .post_form("/clients/import/confirm", &[("import_id", &import_id)])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let mut names: Vec<String> = client::Entity::find()
        .filter(client::Column::OwnerId.eq(v.user.id))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.full_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Ann", "Bob", "Cyd"]);

    // Without a header: the e-mail and the name (and a comment); a lone address is short.
    let doc = import_preview(&v, "dan@example.com;Dan\nerin@example.com\n").await;
    assert_eq!(doc.text("#import-valid").as_deref(), Some("1"));
    assert_eq!(doc.count("tr.row-error"), 1);
    assert!(
        doc.text("tr.row-error")
            .unwrap()
            .contains("erin@example.com")
    );
}
