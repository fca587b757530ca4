//! Each user sees only their own objects: another user's client, message or mailing is
//! a 404 on every object route of the site (the router's own list), in pages, partials,
//! forms and actions alike, and never appears in lists, counts or exports.

use mailer::entities::user::Role;
use mailer::entities::{client, mailing, message};
use mailer_tests::html::parse_fragment;
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, spawn_app};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::mailings::client_message_mailing;

async fn other_users_objects_are_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let eve = sign_in_new(&app, "eve@example.com", Role::User).await;

    let (client, message, mailing) =
        client_message_mailing(&app, &ann, "secret@client.com", "Secret subject").await;
    let before = (
        client::Entity::find_by_id(client)
            .one(&app.state.db)
            .await
            .unwrap(),
        message::Entity::find_by_id(message.id)
            .one(&app.state.db)
            .await
            .unwrap(),
        mailing.clone(),
    );

    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    for (route, kind) in mailer::server::all_routes() {
        let (area, id) = if route.starts_with("/clients/:id") {
            ("clients", client)
        } else if route.starts_with("/messages/:id") {
            ("messages", message.id)
        } else if route.starts_with("/mailings/:id") {
            ("mailings", mailing.id)
        } else {
            continue;
        };
        let path = route.replace(":id", &id.to_string());
        if kind.takes_get() {
            let page = eve.get(&path).await;
            assert_eq!(
                page.status(),
                StatusCode::NOT_FOUND,
                "GET {path} as another user"
            );
            let partial = eve.htmx_get(&path, "content").await;
            assert_eq!(partial.status(), StatusCode::NOT_FOUND, "htmx GET {path}");
        }
        if kind.takes_post() {
            let post = eve
                .post_form(
                    &path,
                    &[
                        ("email", "stolen@example.com"),
                        ("full_name", "Stolen"),
                        ("subject", "Stolen"),
                        ("body", "Stolen"),
                        ("message_id", &message.id.to_string()),
                        ("client_ids", &client.to_string()),
                        ("start_at", "2030-01-01T00:00"),
                        ("end_at", "2030-02-01T00:00"),
                        ("name", "Test mailing"),
                        ("periodicity", "daily"),
                    ],
                )
                .await;
            assert_eq!(
                post.status(),
                StatusCode::NOT_FOUND,
                "POST {path} as another user"
            );
        }
        *checked.entry(area).or_default() += 1;
    }
    // View / edit / delete at least, for each kind of object.
    for area in ["clients", "messages", "mailings"] {
        assert!(
            checked.get(area).copied().unwrap_or(0) >= 2,
            "the walk covered {area}: {checked:?}"
        );
    }

    // Nothing changed or disappeared.
    let after = (
        client::Entity::find_by_id(client)
            .one(&app.state.db)
            .await
            .unwrap(),
        message::Entity::find_by_id(message.id)
            .one(&app.state.db)
            .await
            .unwrap(),
        mailing::Entity::find_by_id(mailing.id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(before, after);

    // Lists, partials and exports of the other user hold none of it.
    for (path, target) in [
        ("/clients?q=secret", "client-rows"),
        ("/mailings", "mailing-rows"),
        ("/messages", "message-rows"),
    ] {
        let doc = parse_fragment(&eve.htmx_get(path, target).await.text().await.unwrap());
        assert_eq!(doc.count("tbody tr"), 0, "{path} lists only own rows");
    }
    let export = eve.get("/clients/export.csv").await.text().await.unwrap();
    assert_eq!(export.trim(), "email,full_name,comment,state,since");
    let form = eve.get("/mailings/new").await.text().await.unwrap();
    let form = mailer_tests::html::parse(&form);
    assert_eq!(
        form.count("input[name='client_ids']"),
        0,
        "the picker offers only own clients"
    );
    assert_eq!(
        form.count("#f-message_id option[value]") - 1,
        0,
        "and only own messages"
    );
}

#[tokio::test]
async fn other_users_objects_are_404_sqlite() {
    other_users_objects_are_404(Backend::Sqlite).await;
}

#[tokio::test]
async fn other_users_objects_are_404_postgres() {
    other_users_objects_are_404(Backend::Postgres).await;
}
