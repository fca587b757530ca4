//! The admin at /admin: the role × model × action matrix (allowed works, forbidden is 403
//! and changes nothing), bulk actions that ask first, the audit trail and history, forms
//! with 422, post images, deletes with related objects, search and filters — all read from
//! parsed HTML.

use chrono::Utc;
use mailer::delivery::stop::OWNER_BLOCKED;
use mailer::entities::delivery::{self, DeliveryStatus};
use mailer::entities::user::Role;
use mailer::entities::{
    admin_log, attempt, client, global_suppression, mailing, message, post, suppression, user,
};
use mailer_tests::app::eventually;
use mailer_tests::html::{Doc, parse};
use mailer_tests::users::{Visitor, sign_in_new};
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::mailings::{client_message_mailing, insert_named_client};

const MODELS: [&str; 9] = [
    "users",
    "mailings",
    "attempts",
    "clients",
    "messages",
    "posts",
    "log",
    "suppressions",
    "global_suppressions",
];

/// The permission table the site promises (issue 7): deny by default, per model and action.
fn allowed(role: Role, model: &str, perm: &str) -> bool {
    match role {
        // The audit log is read-only, for superusers alone.
        Role::Superuser if model == "log" => perm == "view",
        Role::Superuser => !matches!(
            (model, perm),
            ("mailings", "add")
                | ("attempts", "add")
                | ("attempts", "change")
                // The recipients' word: nobody in the admin lifts an unsubscribe.
                | ("suppressions", "add" | "change" | "delete")
        ),
        Role::Manager => matches!(
            (model, perm),
            ("users", "view" | "block" | "unblock")
                | ("mailings", "view" | "disable" | "enable")
                | ("attempts", "view")
                | ("suppressions", "view")
                | ("global_suppressions", "view" | "add" | "change" | "delete")
        ),
        Role::ContentManager => model == "posts",
        Role::User => false,
    }
}

fn custom_actions(model: &str) -> &'static [&'static str] {
    match model {
        "users" => &["block", "unblock"],
        "mailings" => &["disable", "enable"],
        "posts" => &["publish", "unpublish"],
        _ => &[],
    }
}

/// The custom actions also offered as buttons on an object's page (Ann's: she is active).
fn object_actions(model: &str) -> &'static [&'static str] {
    match model {
        "users" => &["block"],
        _ => &[],
    }
}

/// The admin pages of this site's own, shown to whoever may view the model.
fn extra_pages(model: &str) -> &'static [&'static str] {
    match model {
        "mailings" => &[
            "/admin/mailings/:id/recipients/",
            "/admin/mailings/:id/report/",
        ],
        "posts" => &["/admin/posts/markdown/"],
        _ => &[],
    }
}

struct World {
    app: TestApp,
    ann: Visitor,
    ids: std::collections::BTreeMap<&'static str, String>,
}

async fn body(response: reqwest::Response) -> Doc {
    parse(&response.text().await.unwrap())
}

async fn make_post(app: &TestApp, title: &str, slug: &str, published: bool) -> post::Model {
    post::ActiveModel {
        author_id: Set(None),
        title: Set(title.into()),
        slug: Set(slug.into()),
        body: Set("Body".into()),
        image: Set(None),
        view_count: Set(0),
        is_published: Set(published),
        published_at: Set(published.then(Utc::now)),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

/// Ann (a user) with a client, a message, a mailing that starts tomorrow, one attempt,
/// and a blog post.
async fn world(backend: Backend) -> Option<World> {
    let app = spawn_app(backend).await?;
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let (client, message, mailing) =
        client_message_mailing(&app, &ann, "bob@client.com", "Autumn news").await;
    let attempt = attempt::ActiveModel {
        owner_id: Set(ann.user.id),
        mailing_id: Set(mailing.id),
        message_id: Set(Some(message.id)),
        client_id: Set(Some(client)),
        delivery_id: Set(None),
        recipient: Set("bob@client.com".into()),
        occurrence_at: Set(Utc::now()),
        attempted_at: Set(Utc::now()),
        status: Set(attempt::AttemptStatus::Failure),
        smtp_code: Set(Some(451)),
        response: Set(Some("451 try again later".into())),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let post = make_post(&app, "Hello", "hello", false).await;
    let suppression = suppression::ActiveModel {
        owner_id: Set(ann.user.id),
        email: Set("gone@client.com".into()),
        reason: Set(suppression::Reason::Unsubscribed),
        detail: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let global = global_suppression::ActiveModel {
        email: Set("trap@spam.example".into()),
        reason: Set(suppression::Reason::Complained),
        detail: Set(Some("a spam trap".into())),
        added_by: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let log = admin_log::ActiveModel {
        actor_id: Set(None),
        actor_email: Set("gone@example.com".into()),
        action: Set("change".into()),
        model: Set("posts".into()),
        object_id: Set(post.id.to_string()),
        object_repr: Set("Hello".into()),
        changes: Set("{}".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let ids = [
        ("users", ann.user.id.to_string()),
        ("mailings", mailing.id.to_string()),
        ("attempts", attempt.id.to_string()),
        ("clients", client.to_string()),
        ("messages", message.id.to_string()),
        ("posts", post.id.to_string()),
        ("log", log.id.to_string()),
        ("suppressions", suppression.id.to_string()),
        ("global_suppressions", global.id.to_string()),
    ]
    .into_iter()
    .collect();
    Some(World { app, ann, ids })
}

/// Every row the admin could touch, and the audit trail's length.
async fn snapshot(app: &TestApp) -> String {
    let db = &app.state.db;
    format!(
        "{:?}",
        (
            user::Entity::find()
                .order_by_asc(user::Column::Id)
                .all(db)
                .await
                .unwrap(),
            mailing::Entity::find().all(db).await.unwrap(),
            attempt::Entity::find().all(db).await.unwrap(),
            client::Entity::find().all(db).await.unwrap(),
            message::Entity::find().all(db).await.unwrap(),
            post::Entity::find().all(db).await.unwrap(),
            admin_log::Entity::find().count(db).await.unwrap(),
            suppression::Entity::find().all(db).await.unwrap(),
            global_suppression::Entity::find().all(db).await.unwrap(),
        )
    )
}

/// Fields that would be valid for some model, so a refused POST is refused for its
/// permission and not for its content.
const ANY_FIELDS: [(&str, &str); 8] = [
    ("email", "new@example.com"),
    ("role", "superuser"),
    ("title", "Changed"),
    ("subject", "Changed"),
    ("full_name", "Changed"),
    ("body", "Changed"),
    ("owner_id", "1"),
    ("is_enabled", "on"),
];

#[tokio::test]
async fn role_model_action_matrix() {
    let Some(w) = world(Backend::Sqlite).await else {
        return;
    };
    let app = &w.app;
    // Anonymous visitors are sent to sign in.
    let anonymous = app.get("/admin/users/").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/admin").await.status(), StatusCode::SEE_OTHER);

    let manager = sign_in_new(app, "manager@example.com", Role::Manager).await;
    let content = sign_in_new(app, "content@example.com", Role::ContentManager).await;
    let root = sign_in_new(app, "root@example.com", Role::Superuser).await;
    let visitors = [
        (Role::User, &w.ann),
        (Role::Manager, &manager),
        (Role::ContentManager, &content),
        (Role::Superuser, &root),
    ];
    let mut checked = 0;
    for (role, v) in &visitors {
        let index = v.get("/admin/").await;
        let sees_any = MODELS.iter().any(|m| allowed(*role, m, "view"));
        assert_eq!(index.status().is_success(), sees_any, "{role:?} /admin/");
        if sees_any {
            let doc = body(index).await;
            let listed = doc.count(".admin-models tbody tr");
            let expected = MODELS.iter().filter(|m| allowed(*role, m, "view")).count();
            assert_eq!(listed, expected, "{role:?} sees the models it may view");
        }
        for model in MODELS {
            let id = &w.ids[model];
            let before = snapshot(app).await;
            let expect = |perm: &str| {
                if allowed(*role, model, perm) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                }
            };
            let list = v.get(&format!("/admin/{model}/")).await;
            assert_eq!(list.headers()["cache-control"], "no-store");
            assert_eq!(list.status(), expect("view"), "{role:?} views {model}");
            let can_see = allowed(*role, model, "view") || allowed(*role, model, "change");
            let page = v.get(&format!("/admin/{model}/{id}/change/")).await;
            assert_eq!(
                page.status().is_success(),
                can_see,
                "{role:?} opens a {model}"
            );
            if can_see {
                let doc = body(page).await;
                assert_eq!(
                    doc.exists("#admin-form button[type='submit']"),
                    allowed(*role, model, "change"),
                    "{role:?} gets a Save button on {model} only with the change permission"
                );
                // The object's buttons: the actions the role may run on it (Ann is active).
                let offered: Vec<&str> = object_actions(model)
                    .iter()
                    .copied()
                    .filter(|a| allowed(*role, model, a))
                    .collect();
                assert_eq!(
                    object_buttons(&doc),
                    offered,
                    "{role:?} object buttons on {model}"
                );
                assert_eq!(
                    doc.exists("#report-link"),
                    model == "mailings",
                    "{role:?}: a mailing's page links to its report"
                );
            }
            // The admin's own pages of an object or model follow its view permission.
            for extra in extra_pages(model) {
                let response = v.get(&extra.replace(":id", id)).await;
                assert_eq!(response.status(), expect("view"), "{role:?} GET {extra}");
            }
            let add = v.get(&format!("/admin/{model}/add/")).await;
            assert_eq!(add.status(), expect("add"), "{role:?} add {model}");
            let delete = v.get(&format!("/admin/{model}/{id}/delete/")).await;
            if allowed(*role, model, "delete") {
                assert!(
                    matches!(delete.status(), StatusCode::OK | StatusCode::CONFLICT),
                    "{role:?} may delete {model}: {}",
                    delete.status()
                );
            } else {
                assert_eq!(
                    delete.status(),
                    StatusCode::FORBIDDEN,
                    "{role:?} delete {model}"
                );
            }
            // Forbidden POSTs are 403 and change nothing.
            let mut refused: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
            if !allowed(*role, model, "add") {
                refused.push((format!("/admin/{model}/add/"), ANY_FIELDS.to_vec()));
            }
            if !allowed(*role, model, "change") {
                refused.push((format!("/admin/{model}/{id}/change/"), ANY_FIELDS.to_vec()));
            }
            if !allowed(*role, model, "delete") {
                refused.push((format!("/admin/{model}/{id}/delete/"), vec![]));
                refused.push((
                    format!("/admin/{model}/"),
                    vec![
                        ("action", "delete_selected"),
                        ("_selected", id),
                        ("confirm", "yes"),
                    ],
                ));
            }
            for action in custom_actions(model) {
                let fields = vec![
                    ("action", *action),
                    ("_selected", id.as_str()),
                    ("confirm", "yes"),
                ];
                if allowed(*role, model, action) {
                    // Allowed: it asks first, and asking changes nothing.
                    let ask = v.post_form(&format!("/admin/{model}/"), &fields[..2]).await;
                    assert_eq!(ask.status(), StatusCode::OK, "{role:?} {action} {model}");
                    let doc = body(ask).await;
                    assert_eq!(doc.count(".confirm .objects li"), 1);
                    assert!(doc.exists(".confirm input[name='confirm'][value='yes']"));
                } else {
                    refused.push((format!("/admin/{model}/"), fields));
                }
            }
            for action in object_actions(model) {
                let path = format!("/admin/{model}/{id}/action/");
                if allowed(*role, model, action) {
                    let ask = v.post_form(&path, &[("action", action)]).await;
                    assert_eq!(
                        ask.status(),
                        StatusCode::OK,
                        "{role:?} {action} one {model}"
                    );
                    let doc = body(ask).await;
                    assert_eq!(doc.count(".confirm .objects li"), 1);
                } else {
                    refused.push((path, vec![("action", *action), ("confirm", "yes")]));
                }
            }
            for (path, fields) in &refused {
                let response = v.post_form(path, fields).await;
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{role:?} POST {path} {fields:?}"
                );
                checked += 1;
            }
            assert_eq!(
                snapshot(app).await,
                before,
                "{role:?} changed nothing in {model}"
            );
        }
    }
    assert!(checked > 50, "the matrix refused {checked} requests");
    // Every admin POST route is in the table the CSRF test walks.
    let mutating = mailer::server::mutating_routes();
    for route in [
        "/admin/:model/",
        "/admin/:model/add/",
        "/admin/:model/:id/change/",
        "/admin/:model/:id/delete/",
        "/admin/:model/:id/action/",
    ] {
        assert!(
            mutating.iter().any(|r| r == route),
            "{route} is CSRF-checked"
        );
    }
}

async fn manager_blocks_a_user_who_is_signed_out_at_once(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let app = &w.app;
    let manager = sign_in_new(app, "manager@example.com", Role::Manager).await;
    let ann_id = w.ids["users"].clone();
    assert_eq!(w.ann.get("/clients").await.status(), StatusCode::OK);

    let ask = manager
        .post_form(
            "/admin/users/",
            &[("action", "block"), ("_selected", &ann_id)],
        )
        .await;
    assert_eq!(ask.status(), StatusCode::OK);
    let confirm = body(ask).await;
    assert_eq!(confirm.texts(".confirm .objects li"), ["ann@example.com"]);
    let ann = user::Entity::find_by_id(w.ann.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(ann.is_active, "the confirmation page changes nothing");

    let done = manager
        .post_form(
            "/admin/users/",
            &[
                ("action", "block"),
                ("_selected", &ann_id),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let list = body(manager.get("/admin/users/").await).await;
    assert_eq!(
        list.text(".flash.success")
            .as_deref()
            .map(|t| t.trim_end_matches(" ×")),
        Some("Blocked 1 user.")
    );
    let ann = user::Entity::find_by_id(w.ann.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!ann.is_active);
    let bounced = w.ann.get("/clients").await;
    assert_eq!(
        bounced.status(),
        StatusCode::SEE_OTHER,
        "the blocked user is signed out at once"
    );

    let row = admin_log::Entity::find()
        .filter(admin_log::Column::Model.eq("users"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.action.as_str(),
            row.model.as_str(),
            row.object_id.as_str()
        ),
        ("action:block", "users", ann_id.as_str())
    );
    assert_eq!(row.actor_email, "manager@example.com");
    let changes: serde_json::Value = serde_json::from_str(&row.changes).unwrap();
    assert_eq!(changes["is_active"], serde_json::json!([true, false]));
    assert!(changes.get("sessions_valid_after").is_some());

    // The history page and the index's recent actions show it.
    let history = body(
        manager
            .get(&format!("/admin/users/{ann_id}/history/"))
            .await,
    )
    .await;
    assert_eq!(
        history.texts(".history tbody .history-action"),
        ["action:block"]
    );
    assert!(
        history
            .text(".history tbody td:nth-child(2)")
            .unwrap()
            .contains("manager@example.com")
    );
    let index = body(manager.get("/admin/").await).await;
    assert_eq!(index.count(".recent-actions li"), 1);

    // Nobody blocks themselves.
    let own = manager.user.id.to_string();
    manager
        .post_form(
            "/admin/users/",
            &[("action", "block"), ("_selected", &own), ("confirm", "yes")],
        )
        .await;
    let me = user::Entity::find_by_id(manager.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(me.is_active);

    manager
        .post_form(
            "/admin/users/",
            &[
                ("action", "unblock"),
                ("_selected", &ann_id),
                ("confirm", "yes"),
            ],
        )
        .await;
    let ann = user::Entity::find_by_id(w.ann.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(ann.is_active, "unblocked");
}

#[tokio::test]
async fn manager_blocks_a_user_sqlite() {
    manager_blocks_a_user_who_is_signed_out_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn manager_blocks_a_user_postgres() {
    manager_blocks_a_user_who_is_signed_out_at_once(Backend::Postgres).await;
}

#[tokio::test]
async fn manager_disables_mailings_and_superuser_changes_roles() {
    let Some(w) = world(Backend::Sqlite).await else {
        return;
    };
    let app = &w.app;
    let manager = sign_in_new(app, "manager@example.com", Role::Manager).await;
    let mailing_id = w.ids["mailings"].clone();
    let list = body(manager.get("/admin/mailings/").await).await;
    assert_eq!(
        list.count("tbody tr"),
        1,
        "a manager sees every user's mailings"
    );
    assert!(
        list.text("tbody tr").unwrap().contains("ann@example.com"),
        "the owner by e-mail"
    );
    let done = manager
        .post_form(
            "/admin/mailings/",
            &[
                ("action", "disable"),
                ("_selected", &mailing_id),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let m = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!m.is_enabled);
    let disabled = body(manager.get("/admin/mailings/?is_enabled=0").await).await;
    assert_eq!(disabled.count("tbody tr"), 1);
    let enabled = body(manager.get("/admin/mailings/?is_enabled=1").await).await;
    assert_eq!(enabled.count("tbody tr"), 0);

    let root = sign_in_new(app, "root@example.com", Role::Superuser).await;
    let ann_id = w.ids["users"].clone();
    let mut with_avatar: user::ActiveModel = w.ann.user.clone().into();
    with_avatar.avatar = Set(Some("1-0123456789abcdef.png".into()));
    with_avatar.update(&app.state.db).await.unwrap();
    let form = body(root.get(&format!("/admin/users/{ann_id}/change/")).await).await;
    assert_eq!(
        form.attr("#f-avatar img.preview", "src").as_deref(),
        Some("/media/avatars/1-0123456789abcdef.png"),
        "the avatar is shown, not uploaded here"
    );
    assert!(!form.exists("input[type='file']"));
    assert_eq!(
        form.attr("#f-email", "value").as_deref(),
        Some("ann@example.com")
    );
    assert_eq!(
        form.count("#f-role option"),
        5,
        "four roles and the empty choice"
    );
    assert!(
        form.exists("#field-created_at .readonly"),
        "dates are shown, not editable"
    );
    assert!(!form.exists("input[name='created_at']"));
    assert!(
        !form.exists("[name='password_hash']"),
        "the hash is never shown"
    );

    let fields = [
        ("email", "ann@example.com"),
        ("phone", ""),
        ("role", "manager"),
        ("is_active", "on"),
        ("is_verified", "on"),
    ];
    let bad = root
        .post_form(
            &format!("/admin/users/{ann_id}/change/"),
            &[("email", "not an e-mail"), ("role", "king")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = body(bad).await;
    assert_eq!(
        bad.text("#e-role").as_deref(),
        Some("Select one of the choices.")
    );
    assert_eq!(
        bad.attr("#f-email", "value").as_deref(),
        Some("not an e-mail")
    );
    let saved = root
        .post_form(&format!("/admin/users/{ann_id}/change/"), &fields)
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let ann = user::Entity::find_by_id(w.ann.user.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.role, Role::Manager);
    let row = admin_log::Entity::find()
        .filter(admin_log::Column::Model.eq("users"))
        .filter(admin_log::Column::Action.eq("change"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let changes: serde_json::Value = serde_json::from_str(&row.changes).unwrap();
    assert_eq!(
        changes,
        serde_json::json!({ "role": ["user", "manager"] }),
        "only the changed field"
    );

    // A superuser adds an account: active and confirmed by default, no usable password.
    let blank = body(root.get("/admin/users/add/").await).await;
    assert!(blank.exists("#f-is_active[checked]"));
    assert_eq!(
        blank.attr("#f-role option[selected]", "value").as_deref(),
        Some("user")
    );
    let made = root
        .post_form(
            "/admin/users/add/",
            &[
                ("email", " New@Example.com "),
                ("phone", ""),
                ("role", "content_manager"),
                ("is_active", "on"),
                ("is_verified", "on"),
            ],
        )
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let new = user::Entity::find()
        .filter(user::Column::Email.eq("new@example.com"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("added, with the address normalised");
    assert_eq!(new.role, Role::ContentManager);
    assert!(!mailer::accounts::password::verify("", &new.password_hash));
    let log = body(root.get("/admin/log/?q=new%40example.com").await).await;
    assert_eq!(
        log.count("tbody tr"),
        1,
        "the audit table lists the addition"
    );
    assert!(log.text("tbody tr").unwrap().contains("add"));

    // A foreign key typed as an id must point at a row.
    let orphan = root
        .post_form(
            "/admin/clients/add/",
            &[
                ("owner_id", "9999"),
                ("email", "x@example.com"),
                ("full_name", "X"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(orphan.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body(orphan).await.text("#e-owner_id").as_deref(),
        Some("There is no object #9999.")
    );
    let owner = w.ann.user.id.to_string();
    let duplicate = root
        .post_form(
            "/admin/clients/add/",
            &[
                ("owner_id", &owner),
                ("email", "BOB@client.com"),
                ("full_name", "Bob again"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(
        duplicate.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unique per owner"
    );
    assert_eq!(
        client::Entity::find().count(&app.state.db).await.unwrap(),
        1
    );

    // Deleting Ann lists what goes with her; her message is kept by her mailing.
    let preview = body(root.get(&format!("/admin/users/{ann_id}/delete/")).await).await;
    let groups = preview.texts(".related > li");
    assert!(
        groups
            .iter()
            .any(|g| g.starts_with("1 clients") && g.contains("bob@client.com")),
        "{groups:?}"
    );
    assert!(
        groups
            .iter()
            .any(|g| g.starts_with("1 messages") && g.contains("Autumn news")),
        "{groups:?}"
    );
    let message_id = w.ids["messages"].clone();
    let blocked = root
        .get(&format!("/admin/messages/{message_id}/delete/"))
        .await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    let refused = root
        .post_form(&format!("/admin/messages/{message_id}/delete/"), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        message::Entity::find().count(&app.state.db).await.unwrap(),
        1
    );
    let gone = root
        .post_form(&format!("/admin/users/{ann_id}/delete/"), &[])
        .await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client::Entity::find().count(&app.state.db).await.unwrap(),
        0,
        "cascaded"
    );
    let history = body(root.get(&format!("/admin/users/{ann_id}/history/")).await).await;
    assert_eq!(
        history.texts(".history-action"),
        ["delete", "change"],
        "history outlives the object"
    );
}

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 40, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::from(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn post_form(title: &str, slug: &str, image: Option<Vec<u8>>) -> Form {
    let mut form = Form::new()
        .text("title", title.to_owned())
        .text("slug", slug.to_owned())
        .text("body", "Warm words.")
        .text("published_at", "");
    if let Some(bytes) = image {
        form = form.part(
            "image",
            Part::bytes(bytes)
                .file_name("cover.png")
                .mime_str("image/png")
                .unwrap(),
        );
    }
    form
}

#[tokio::test]
async fn content_manager_runs_the_blog() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let index = body(editor.get("/admin/").await).await;
    assert_eq!(index.texts(".admin-models tbody th"), ["Posts"]);
    let form = body(editor.get("/admin/posts/add/").await).await;
    assert_eq!(
        form.attr("#admin-form", "enctype").as_deref(),
        Some("multipart/form-data")
    );
    assert_eq!(form.attr("#f-image", "type").as_deref(), Some("file"));
    assert_eq!(form.attr("#f-body", "name").as_deref(), Some("body"));
    assert_eq!(
        form.attr("#f-is_published", "type").as_deref(),
        Some("checkbox")
    );
    assert_eq!(
        form.attr("#f-published_at", "type").as_deref(),
        Some("datetime-local")
    );
    assert!(form.exists("#field-view_count .readonly"));

    let invalid = editor
        .post_multipart("/admin/posts/add/", post_form("", "Bad Slug!", None))
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = body(invalid).await;
    assert_eq!(
        invalid.text("#e-title").as_deref(),
        Some("This field is required.")
    );
    let not_image = editor
        .post_multipart(
            "/admin/posts/add/",
            post_form("Hi", "", Some(b"plain text".to_vec())),
        )
        .await;
    assert_eq!(not_image.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body(not_image).await.text("#e-image").as_deref(),
        Some("This file is not a PNG, JPEG, GIF or WebP image.")
    );
    assert_eq!(post::Entity::find().count(&app.state.db).await.unwrap(), 0);

    let created = editor
        .post_multipart(
            "/admin/posts/add/",
            post_form("Autumn sale, 20% off!", "", Some(png())),
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let p = post::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.slug, "autumn-sale-20-off");
    assert_eq!(p.author_id, Some(editor.user.id));
    assert!(!p.is_published, "a draft until published");
    let image = p.image.clone().expect("the image is stored");
    let served = app.get(&format!("/media/posts/{image}")).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    let list = body(editor.get("/admin/posts/").await).await;
    assert_eq!(
        list.attr("tbody img.thumb", "src"),
        Some(format!("/media/posts/{image}"))
    );

    // The public blog is cached, with the draft not on it.
    for expected in ["miss", "hit"] {
        let blog = app.get("/blog").await;
        assert_eq!(blog.headers()["x-cache"], expected);
        assert_eq!(body(blog).await.count("article.post-summary"), 0);
    }

    let id = p.id.to_string();
    let ask = editor
        .post_form(
            "/admin/posts/",
            &[("action", "publish"), ("_selected", &id)],
        )
        .await;
    assert_eq!(
        body(ask).await.texts(".confirm .objects li"),
        ["Autumn sale, 20% off!"]
    );
    editor
        .post_form(
            "/admin/posts/",
            &[
                ("action", "publish"),
                ("_selected", &id),
                ("confirm", "yes"),
            ],
        )
        .await;
    let p = post::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(p.is_published && p.published_at.is_some());
    // The audit trail names the post by its title, in no one language (not "Post #1").
    let named: Vec<String> = admin_log::Entity::find()
        .filter(admin_log::Column::Model.eq("posts"))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.object_repr)
        .collect();
    assert!(
        !named.is_empty() && named.iter().all(|n| n == "Autumn sale, 20% off!"),
        "{named:?}"
    );
    // Publishing in the admin dropped the cached blog and home pages.
    let blog = app.get("/blog").await;
    assert_eq!(blog.headers()["x-cache"], "miss");
    assert_eq!(
        body(blog).await.texts("article.post-summary h2"),
        ["Autumn sale, 20% off!"]
    );
    let home = app.get("/").await;
    assert_eq!(home.headers()["x-cache"], "miss");

    let edit = editor
        .post_multipart(
            &format!("/admin/posts/{id}/change/"),
            post_form("Autumn sale", "autumn", None)
                .text("is_published", "on")
                .text("view_count", "999"),
        )
        .await;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let p = post::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.title.as_str(), p.slug.as_str(), p.view_count),
        ("Autumn sale", "autumn", 0)
    );
    assert_eq!(
        p.image.as_deref(),
        Some(image.as_str()),
        "no new file keeps the image"
    );
    let history = body(editor.get(&format!("/admin/posts/{id}/history/")).await).await;
    assert_eq!(
        history.texts(".history-action"),
        ["change", "action:publish", "add"]
    );
    assert!(
        history
            .text(".history tbody tr .changes")
            .unwrap()
            .contains("Autumn sale, 20% off! → Autumn sale")
    );

    let confirm = editor.get(&format!("/admin/posts/{id}/delete/")).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert!(body(confirm).await.exists(".confirm form button.danger"));
    editor
        .post_form(&format!("/admin/posts/{id}/delete/"), &[])
        .await;
    assert_eq!(post::Entity::find().count(&app.state.db).await.unwrap(), 0);
}

async fn search_filter_sort_and_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let root = sign_in_new(&app, "root@example.com", Role::Superuser).await;
    for i in 0..30 {
        let email = format!("person{i:02}@example.com");
        let u = mailer::accounts::service::create_user(
            &app.state.db,
            mailer::accounts::service::NewAccount {
                email,
                password: "a long passphrase".into(),
                phone: None,
                role: if i % 10 == 0 {
                    Role::Manager
                } else {
                    Role::User
                },
                is_verified: true,
                language: None,
                timezone: "UTC".into(),
            },
        )
        .await
        .unwrap();
        if i % 3 == 0 {
            mailer::accounts::service::set_active(&app.state.db, u, false)
                .await
                .unwrap();
        }
    }
    let page = body(root.get("/admin/users/").await).await;
    assert_eq!(page.count("tbody tr"), 25, "25 a page");
    assert_eq!(
        page.text(".pager .count").as_deref(),
        Some("Page 1 of 2 · 31 users")
    );
    assert!(page.exists(".pager a[rel='next']"));
    let last = body(root.get("/admin/users/?p=2").await).await;
    assert_eq!(last.count("tbody tr"), 6);

    let found = body(root.get("/admin/users/?q=PERSON1").await).await;
    assert_eq!(
        found.count("tbody tr"),
        10,
        "person10..19, case-insensitive"
    );
    let fragment = root.htmx_get("/admin/users/?q=person2", "admin-list").await;
    let fragment = mailer_tests::html::parse_fragment(&fragment.text().await.unwrap());
    assert!(
        !fragment.exists("header.site"),
        "search-as-you-type gets the list only"
    );
    assert_eq!(fragment.count("tbody tr"), 10);

    let blocked = body(root.get("/admin/users/?is_active=0").await).await;
    assert_eq!(blocked.count("tbody tr"), 10);
    assert_eq!(
        blocked
            .text("#filter-is_active a[aria-current='true']")
            .as_deref(),
        Some("No")
    );
    let managers = body(root.get("/admin/users/?role=manager").await).await;
    assert_eq!(
        managers.texts("tbody td:nth-child(2)"),
        [
            "person20@example.com",
            "person10@example.com",
            "person00@example.com"
        ],
        "newest first"
    );
    let both = body(root.get("/admin/users/?role=manager&is_active=0").await).await;
    assert_eq!(
        both.texts("tbody td:nth-child(2)"),
        ["person00@example.com"],
        "filters combine"
    );
    let today = body(root.get("/admin/users/?created_at=today").await).await;
    assert_eq!(
        today.text(".pager .count").as_deref(),
        Some("Page 1 of 2 · 31 users")
    );

    let sorted = body(root.get("/admin/users/?o=email").await).await;
    assert_eq!(
        sorted.text("tbody tr td:nth-child(2)").as_deref(),
        Some("person00@example.com")
    );
    assert_eq!(
        sorted
            .attr("thead th[aria-sort='ascending'] a", "href")
            .as_deref(),
        Some("/admin/users/?o=-email")
    );
    let desc = body(root.get("/admin/users/?o=-email").await).await;
    assert_eq!(
        desc.text("tbody tr td:nth-child(2)").as_deref(),
        Some("root@example.com")
    );

    // Select all across pages: the confirmation counts every match, not the page.
    let ask = root
        .post_form(
            "/admin/users/?is_active=1",
            &[("action", "block"), ("select_across", "1")],
        )
        .await;
    let ask = body(ask).await;
    assert_eq!(
        ask.text(".confirm > p").as_deref(),
        Some("This applies to 21 users:")
    );
    assert_eq!(
        ask.attr(".confirm form", "action").as_deref(),
        Some("/admin/users/?is_active=1")
    );
}

#[tokio::test]
async fn search_filter_sort_and_pages_sqlite() {
    search_filter_sort_and_pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn search_filter_sort_and_pages_postgres() {
    search_filter_sort_and_pages(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// A user's page: the Block / Unblock button

/// The object-action buttons on a page, by action name.
fn object_buttons(doc: &Doc) -> Vec<String> {
    doc.attrs(".object-actions button[data-action]", "data-action")
}

/// Signs `email` in on a fresh browser: the status of the login POST.
async fn try_login(app: &TestApp, email: &str) -> StatusCode {
    let client = mailer_tests::users::new_client();
    let page = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = parse(&page)
        .attr("input[name='csrf_token']", "value")
        .unwrap();
    client
        .post(format!("{}/login", app.address))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", mailer_tests::users::PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn delivery_row(app: &TestApp, id: i64) -> delivery::Model {
    delivery::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

/// A manager blocks Ann from her page, with the bulk action's confirmation and effects:
/// her session ends, she cannot sign in, her queued delivery is stopped (cancelled, not
/// sent), the log records it; the button then says Unblock, which sends the delivery.
/// A content manager has neither the page nor the action.
async fn block_and_unblock_from_a_users_page(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let app = &w.app;
    let manager = sign_in_new(app, "manager@example.com", Role::Manager).await;
    let content = sign_in_new(app, "content@example.com", Role::ContentManager).await;
    let ann_id = w.ids["users"].clone();
    let page = format!("/admin/users/{ann_id}/change/");
    let action = format!("/admin/users/{ann_id}/action/");
    // A delivery of Ann's mailing, queued and not sent yet.
    let mailing_id: i32 = w.ids["mailings"].parse().unwrap();
    let client_id: i32 = w.ids["clients"].parse().unwrap();
    let queued = delivery::ActiveModel {
        mailing_id: Set(mailing_id),
        client_id: Set(client_id),
        occurrence_at: Set(Utc::now() - chrono::Duration::minutes(1)),
        status: Set(DeliveryStatus::Pending),
        tries: Set(0),
        claimed_until: Set(None),
        next_try_at: Set(None),
        message_id_header: Set(format!("<queued-{mailing_id}@test>")),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    let doc = body(manager.get(&page).await).await;
    assert_eq!(object_buttons(&doc), ["block"], "an active user: Block");
    assert_eq!(doc.text(".object-actions button").as_deref(), Some("Block"));
    assert_eq!(
        doc.attr(".object-actions form", "action").as_deref(),
        Some(action.as_str())
    );
    assert!(doc.exists(".object-actions form input[name='csrf_token']"));
    let own = body(
        manager
            .get(&format!("/admin/users/{}/change/", manager.user.id))
            .await,
    )
    .await;
    assert!(
        object_buttons(&own).is_empty(),
        "nobody is offered to block themselves"
    );

    // A content manager: no page, no action, nothing changes.
    assert_eq!(content.get(&page).await.status(), StatusCode::FORBIDDEN);
    let refused = content
        .post_form(&action, &[("action", "block"), ("confirm", "yes")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        user::Entity::find_by_id(w.ann.user.id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );
    // Not an object action of users, and no such user.
    let unknown = manager
        .post_form(
            &action,
            &[("action", "delete_selected"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let missing = manager
        .post_form(
            "/admin/users/999999/action/",
            &[("action", "block"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // It asks first, like the bulk action, and asking changes nothing.
    let ask = manager.post_form(&action, &[("action", "block")]).await;
    assert_eq!(ask.status(), StatusCode::OK);
    let confirm = body(ask).await;
    assert_eq!(confirm.texts(".confirm .objects li"), ["ann@example.com"]);
    assert_eq!(
        confirm.attr(".confirm form", "action").as_deref(),
        Some(action.as_str())
    );
    assert!(confirm.exists(".confirm input[name='confirm'][value='yes']"));
    assert!(
        user::Entity::find_by_id(w.ann.user.id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );

    let done = manager
        .post_form(&action, &[("action", "block"), ("confirm", "yes")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        page.as_str(),
        "back to her page"
    );
    let after = body(manager.get(&page).await).await;
    assert_eq!(
        after
            .text(".flash.success")
            .as_deref()
            .map(|t| t.trim_end_matches(" ×")),
        Some("Blocked 1 user.")
    );
    assert_eq!(
        object_buttons(&after),
        ["unblock"],
        "a blocked user: Unblock"
    );
    assert_eq!(
        after.text(".object-actions button").as_deref(),
        Some("Unblock")
    );
    assert_eq!(
        w.ann.get("/clients").await.status(),
        StatusCode::SEE_OTHER,
        "her session ended at once"
    );
    assert_eq!(
        try_login(app, "ann@example.com").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a blocked user cannot sign in"
    );
    let row = admin_log::Entity::find()
        .filter(admin_log::Column::Model.eq("users"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.action.as_str(), row.object_id.as_str()),
        ("action:block", ann_id.as_str())
    );
    assert_eq!(row.actor_email, "manager@example.com");

    // The queued delivery is stopped at the claim, as for the bulk action.
    let _worker = crate::outage::worker(app, "worker.log");
    let stopped = eventually(
        std::time::Duration::from_secs(60),
        "the queued delivery is cancelled",
        || async {
            let d = delivery_row(app, queued.id).await;
            (d.status == DeliveryStatus::Cancelled).then_some(d)
        },
    )
    .await;
    assert_eq!(stopped.last_error.as_deref(), Some(OWNER_BLOCKED));
    assert!(app.smtp.messages().is_empty(), "nothing went out");

    let undone = manager
        .post_form(&action, &[("action", "unblock"), ("confirm", "yes")])
        .await;
    assert_eq!(undone.status(), StatusCode::SEE_OTHER);
    let back = body(manager.get(&page).await).await;
    assert_eq!(object_buttons(&back), ["block"]);
    assert_eq!(
        try_login(app, "ann@example.com").await,
        StatusCode::SEE_OTHER
    );
    eventually(
        std::time::Duration::from_secs(60),
        "the delivery resumes and is sent",
        || async {
            (delivery_row(app, queued.id).await.status == DeliveryStatus::Sent).then_some(())
        },
    )
    .await;
    assert_eq!(app.smtp.messages().len(), 1, "sent once");
}

#[tokio::test]
async fn block_and_unblock_from_a_users_page_sqlite() {
    block_and_unblock_from_a_users_page(Backend::Sqlite).await;
}

#[tokio::test]
async fn block_and_unblock_from_a_users_page_postgres() {
    block_and_unblock_from_a_users_page(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// A mailing in the admin: its recipients and its report, read only

/// A mailing of Ann to 50 clients sent by `mailer send`, one address refused: a manager
/// sees 20 recipients and "and 30 more" on its page, all 50 a page at a time, and a report
/// whose numbers are the deliveries'; a plain user and a content manager get neither.
async fn mailing_admin_shows_recipients_and_report(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ann = sign_in_new(&app, "ann@example.com", Role::User).await;
    let manager = sign_in_new(&app, "manager@example.com", Role::Manager).await;
    let content = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let mut clients = Vec::new();
    for i in 0..50 {
        clients.push(
            insert_named_client(
                &app,
                ann.user.id,
                &format!("r{i:02}@example.com"),
                &format!("Client {i:02}"),
            )
            .await,
        );
    }
    let id = crate::stop::mailing_now(&app, &ann, &clients, "Fifty").await;
    app.smtp
        .refuse_recipient("r07@example.com", "550 5.1.1 no such user");
    crate::send_cli::mailer_send(&app, &["--mailing", &id.to_string()]).await;
    let deliveries = delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(id))
        .all(&app.state.db)
        .await
        .unwrap();
    let count = |s: DeliveryStatus| deliveries.iter().filter(|d| d.status == s).count();
    assert_eq!(
        (count(DeliveryStatus::Sent), count(DeliveryStatus::Failed)),
        (49, 1),
        "{deliveries:#?}"
    );
    let attempts = attempt::Entity::find()
        .filter(attempt::Column::MailingId.eq(id))
        .all(&app.state.db)
        .await
        .unwrap();
    let successes = attempts
        .iter()
        .filter(|a| a.status == attempt::AttemptStatus::Success)
        .count();

    let page = body(manager.get(&format!("/admin/mailings/{id}/change/")).await).await;
    assert_eq!(page.count("#recipient-chips .chip"), 20, "the chips fold");
    assert_eq!(
        page.text("#recipient-chips .chip").as_deref(),
        Some("Client 00 <r00@example.com>")
    );
    assert_eq!(
        page.text("#recipients-more").as_deref(),
        Some("and 30 more")
    );
    assert_eq!(
        page.text("#recipients-title").as_deref(),
        Some("Recipients (50)")
    );
    let recipients_url = format!("/admin/mailings/{id}/recipients/");
    let report_url = format!("/admin/mailings/{id}/report/");
    assert_eq!(
        page.attr("#recipients-link", "href").as_deref(),
        Some(recipients_url.as_str())
    );
    assert_eq!(
        page.attr("#report-link", "href").as_deref(),
        Some(report_url.as_str())
    );

    let first = body(manager.get(&recipients_url).await).await;
    assert_eq!(first.count("table.recipients tbody tr"), 20);
    assert!(first.exists(".pager a[rel='next']"));
    let last = body(manager.get(&format!("{recipients_url}?page=3")).await).await;
    assert_eq!(last.count("table.recipients tbody tr"), 10);
    assert_eq!(
        last.text("table.recipients tbody tr:last-child td:nth-child(2)")
            .as_deref(),
        Some("r49@example.com")
    );

    let report = manager.get(&report_url).await;
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(report.headers()["cache-control"], "no-store");
    let report = body(report).await;
    let number = |css: &str| -> usize { report.text(css).unwrap().trim().parse().unwrap() };
    assert_eq!(number("#progress-sent"), count(DeliveryStatus::Sent));
    assert_eq!(number("#progress-failed"), count(DeliveryStatus::Failed));
    assert_eq!(number("#progress-pending"), count(DeliveryStatus::Pending));
    assert_eq!(number("#report-attempts"), attempts.len());
    assert_eq!(number("#report-successes"), successes);
    assert_eq!(number("#report-failures"), attempts.len() - successes);
    assert!(
        report.exists(".chart-box svg"),
        "the chart is drawn, not escaped"
    );
    assert_eq!(
        report.count("table.striped tbody tr"),
        20,
        "a page of recipients"
    );
    assert_eq!(
        report.count(".admin-main form"),
        0,
        "read only: nothing to submit"
    );

    // Only staff who may view mailings.
    for (who, v) in [("a user", &ann), ("a content manager", &content)] {
        for path in [&report_url, &recipients_url] {
            assert_eq!(
                v.get(path).await.status(),
                StatusCode::FORBIDDEN,
                "{who}: {path}"
            );
        }
    }
    assert_eq!(app.get(&report_url).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        manager.get("/admin/mailings/999999/report/").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn mailing_admin_shows_recipients_and_report_sqlite() {
    mailing_admin_shows_recipients_and_report(Backend::Sqlite).await;
}

#[tokio::test]
async fn mailing_admin_shows_recipients_and_report_postgres() {
    mailing_admin_shows_recipients_and_report(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// The post form: Markdown explained, the site's own validation messages

async fn post_form_explains_markdown_and_validates_on_the_server(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let manager = sign_in_new(&app, "manager@example.com", Role::Manager).await;
    let form = body(editor.get("/admin/posts/add/").await).await;
    assert!(
        form.exists("#admin-form[novalidate]"),
        "no browser bubbles: the server's messages"
    );
    assert!(form.text("#h-body").unwrap().contains("Markdown"));
    let hint = form.attr("#h-body a", "href").unwrap();
    assert_eq!(hint, "/admin/posts/markdown/");
    let hint_page = editor.get(&hint).await;
    assert_eq!(hint_page.status(), StatusCode::OK);
    assert_eq!(
        body(hint_page).await.text("h1").as_deref(),
        Some("Markdown syntax")
    );
    assert_eq!(manager.get(&hint).await.status(), StatusCode::FORBIDDEN);

    // A blank title (spaces only) comes back with the error beside the field.
    let invalid = editor
        .post_multipart("/admin/posts/add/", post_form("   ", "", None))
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = body(invalid).await;
    assert_eq!(
        invalid.text("#e-title").as_deref(),
        Some("This field is required.")
    );
    assert_eq!(
        invalid.attr("#f-title", "aria-invalid").as_deref(),
        Some("true")
    );
    assert!(invalid.exists("#admin-form[novalidate]"));
    assert!(
        invalid
            .text("#admin-form .flash.error")
            .unwrap()
            .contains("Please correct the errors below.")
    );
    // A form without the field at all: the same, not a 500.
    let missing = editor
        .post_multipart(
            "/admin/posts/add/",
            Form::new().text("body", "No title here."),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body(missing).await.text("#e-title").as_deref(),
        Some("This field is required.")
    );
    assert_eq!(post::Entity::find().count(&app.state.db).await.unwrap(), 0);
}

#[tokio::test]
async fn post_form_explains_markdown_and_validates_on_the_server_sqlite() {
    post_form_explains_markdown_and_validates_on_the_server(Backend::Sqlite).await;
}

#[tokio::test]
async fn post_form_explains_markdown_and_validates_on_the_server_postgres() {
    post_form_explains_markdown_and_validates_on_the_server(Backend::Postgres).await;
}

/// A Cyrillic title gives a readable address (transliterated), not `post-<number>`.
#[tokio::test]
async fn cyrillic_titles_give_readable_slugs() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    let created = editor
        .post_multipart("/admin/posts/add/", post_form("Привет, мир", "", None))
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let p = post::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.slug, "privet-mir");
}

/// A mailing's name by the owner's rule in the admin too: required, one line, at most 200
/// characters; the list and the page call the mailing by it.
#[tokio::test]
async fn mailing_names_in_the_admin() {
    let Some(w) = world(Backend::Sqlite).await else {
        return;
    };
    let app = &w.app;
    let id = w.ids["mailings"].clone();
    let root = sign_in_new(app, "root@example.com", Role::Superuser).await;
    let list = body(root.get("/admin/mailings/").await).await;
    assert!(
        list.text("tbody tr")
            .unwrap()
            .contains("Autumn news mailing")
    );
    let found = body(root.get("/admin/mailings/?q=news+mail").await).await;
    assert_eq!(found.count("tbody tr"), 1, "searchable by name");
    let none = body(root.get("/admin/mailings/?q=winter").await).await;
    assert_eq!(none.count("tbody tr"), 0);
    let path = format!("/admin/mailings/{id}/change/");
    let page = body(root.get(&path).await).await;
    assert_eq!(
        page.attr("#f-name", "value").as_deref(),
        Some("Autumn news mailing")
    );
    let long = "x".repeat(201);
    for (name, expected) in [
        ("  ", "This field is required."),
        (long.as_str(), "Keep the name to 200 characters."),
    ] {
        let refused = root
            .post_form(&path, &[("name", name), ("is_enabled", "on")])
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        assert_eq!(
            body(refused).await.text("#e-name").as_deref(),
            Some(expected),
            "{name:?}"
        );
    }
    let saved = root
        .post_form(&path, &[("name", " Renamed "), ("is_enabled", "on")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let m = mailing::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.name, "Renamed");
}

/// Sets `visitor`'s time zone to `name`.
async fn set_timezone(app: &TestApp, visitor: &Visitor, name: &str) {
    let mut zone: user::ActiveModel = visitor.user.clone().into();
    zone.timezone = Set(name.into());
    zone.update(&app.state.db).await.unwrap();
}

/// The admin's date-time fields are typed and shown in the viewer's zone, named beside the
/// field, and stored in UTC; a time in the spring gap follows the site's rule (the first
/// instant after the gap).
async fn admin_times_are_in_the_viewers_zone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let editor = sign_in_new(&app, "content@example.com", Role::ContentManager).await;
    set_timezone(&app, &editor, "Europe/Berlin").await;

    let form = body(editor.get("/admin/posts/add/").await).await;
    let label = form.text("#field-published_at").unwrap_or_default();
    assert!(label.contains("(Europe/Berlin)"), "{label}");
    let created = editor
        .post_multipart(
            "/admin/posts/add/",
            post_form("Spring", "spring", Some(png())).text("published_at", "2027-03-28T02:30"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let stored = post::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let utc = |text: &str| text.parse::<chrono::DateTime<Utc>>().unwrap();
    assert_eq!(stored.published_at, Some(utc("2027-03-28T01:00:00Z")));
    let change_url = format!("/admin/posts/{}/change/", stored.id);
    let change = body(editor.get(&change_url).await).await;
    assert_eq!(
        change.attr("#f-published_at", "value").as_deref(),
        Some("2027-03-28T03:00")
    );

    // Winter time, and a form sent back with an error shows the time as typed.
    let refused = editor
        .post_multipart(
            &change_url,
            post_form("", "spring", None).text("published_at", "2027-01-12T09:00"),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body(refused)
            .await
            .attr("#f-published_at", "value")
            .as_deref(),
        Some("2027-01-12T09:00")
    );
    let changed = editor
        .post_multipart(
            &change_url,
            post_form("Spring", "spring", None).text("published_at", "2027-01-12T09:00"),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let stored = post::Entity::find_by_id(stored.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.published_at, Some(utc("2027-01-12T08:00:00Z")));
    let list = body(editor.get("/admin/posts/").await).await;
    let cells = list.texts("#admin-list tbody td");
    assert!(
        cells.iter().any(|c| c.contains("12 Jan 2027, 09:00 CET")),
        "{cells:?}"
    );
}

#[tokio::test]
async fn admin_times_are_in_the_viewers_zone_sqlite() {
    admin_times_are_in_the_viewers_zone(Backend::Sqlite).await;
}

#[tokio::test]
async fn admin_times_are_in_the_viewers_zone_postgres() {
    admin_times_are_in_the_viewers_zone(Backend::Postgres).await;
}

/// The date filters count days in the manager's zone: just after midnight in Moscow (UTC+3
/// all year) an entry is "today" there although it is still yesterday in UTC, and one just
/// before that midnight is not. A manager in UTC sees another list: both entries while it
/// is still that UTC yesterday, neither once the UTC day has turned too.
async fn date_filters_count_days_in_the_managers_zone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moscow = sign_in_new(&app, "moscow@example.com", Role::Manager).await;
    set_timezone(&app, &moscow, "Europe/Moscow").await;
    let in_utc = sign_in_new(&app, "utc@example.com", Role::Manager).await;
    assert_eq!(in_utc.user.timezone, "UTC");

    let offset = chrono::Duration::hours(3);
    let today = (Utc::now() + offset).date_naive();
    let midnight = today.and_hms_opt(0, 0, 0).unwrap().and_utc() - offset;
    let half_hour = chrono::Duration::minutes(30);
    for (email, at) in [
        ("after@example.com", midnight + half_hour),
        ("before@example.com", midnight - half_hour),
    ] {
        global_suppression::ActiveModel {
            email: Set(email.into()),
            reason: Set(suppression::Reason::Complained),
            detail: Set(None),
            added_by: Set(None),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let listed = |page: String| {
        (
            page.contains("after@example.com"),
            page.contains("before@example.com"),
        )
    };
    let path = "/admin/global_suppressions/?created_at=today";
    let page = moscow.get(path).await.text().await.unwrap();
    assert_eq!(listed(page), (true, false));
    let page = in_utc.get(path).await.text().await.unwrap();
    let (after, before) = listed(page);
    assert_eq!(after, before, "in UTC both entries fall on the same day");
}

#[tokio::test]
async fn date_filters_count_days_in_the_managers_zone_sqlite() {
    date_filters_count_days_in_the_managers_zone(Backend::Sqlite).await;
}

#[tokio::test]
async fn date_filters_count_days_in_the_managers_zone_postgres() {
    date_filters_count_days_in_the_managers_zone(Backend::Postgres).await;
}
