//! Bulk actions: a confirmation first, then the action with an audit entry per object;
//! "select all" across pages.

use sea_orm::EntityTrait;

use super::{actor, add_book, book, book_count, form, pairs, setup};
use crate::Outcome;

#[tokio::test]
async fn bulk_actions_ask_first_then_run_and_audit() {
    let (toy, admin, sink) = setup().await;
    let a = add_book(&toy, "Evening", None, "poetry", false).await;
    let b = add_book(&toy, "Requiem", None, "poetry", false).await;
    let c = add_book(&toy, "Anna Karenina", None, "novel", false).await;
    let editor = actor("editor");
    let ids = [a.id.to_string(), b.id.to_string()];

    let ask = form(&[
        ("action", "publish"),
        ("_selected", &ids[0]),
        ("_selected", &ids[1]),
    ]);
    let Outcome::Render(confirm) = admin
        .changelist_action(&toy, &editor, "books", &[], &ask)
        .await
        .unwrap()
    else {
        panic!("a confirmation first");
    };
    assert_eq!(confirm.template, "admin/action_confirm.html");
    assert_eq!(confirm.context["total"], 2);
    let listed: Vec<&str> = confirm.context["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["repr"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["Evening", "Requiem"]);
    let public = book::Entity::find()
        .all(&toy.db)
        .await
        .unwrap()
        .iter()
        .filter(|b| b.is_public)
        .count();
    assert_eq!(public, 0, "nothing ran before the confirmation");

    let go = form(&[
        ("action", "publish"),
        ("_selected", &ids[0]),
        ("_selected", &ids[1]),
        ("confirm", "yes"),
    ]);
    let Outcome::Redirect { message, kind, .. } = admin
        .changelist_action(&toy, &editor, "books", &[], &go)
        .await
        .unwrap()
    else {
        panic!("ran");
    };
    assert_eq!((message.as_str(), kind), ("Published 2 books.", "success"));
    let after = book::Entity::find_by_id(c.id)
        .one(&toy.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!after.is_public, "unselected rows are left alone");
    let entries = sink.entries();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.action == "action:publish"));
    assert_eq!(entries[0].changes["is_public"].old, false);
    assert_eq!(entries[0].changes["is_public"].new, true);

    // "Select all" across pages takes the list's search and filters from the query.
    let query = pairs(&[("kind", "novel")]);
    let across = form(&[("action", "delete_selected"), ("select_across", "1")]);
    let Outcome::Render(confirm) = admin
        .changelist_action(&toy, &editor, "books", &query, &across)
        .await
        .unwrap()
    else {
        panic!("confirmation");
    };
    assert_eq!(confirm.context["total"], 1);
    assert_eq!(confirm.context["post_url"], "/admin/books/?kind=novel");
    let across = form(&[
        ("action", "delete_selected"),
        ("select_across", "1"),
        ("confirm", "yes"),
    ]);
    admin
        .changelist_action(&toy, &editor, "books", &query, &across)
        .await
        .unwrap();
    assert_eq!(book_count(&toy).await, 2);
    assert_eq!(sink.entries().last().unwrap().action, "delete");

    let none = form(&[("action", "publish"), ("confirm", "yes")]);
    let Outcome::Redirect { kind, .. } = admin
        .changelist_action(&toy, &editor, "books", &[], &none)
        .await
        .unwrap()
    else {
        panic!("nothing selected");
    };
    assert_eq!(kind, "error");
    let failing = form(&[
        ("action", "fail"),
        ("_selected", &ids[0]),
        ("confirm", "yes"),
    ]);
    let Outcome::Redirect { message, kind, .. } = admin
        .changelist_action(&toy, &actor("root"), "books", &[], &failing)
        .await
        .unwrap()
    else {
        panic!("an action's error is a message");
    };
    assert_eq!((message.as_str(), kind), ("Nothing doing.", "error"));
}

/// An object action is the bulk action for one object, offered on its page while it
/// applies: the same permission, confirmation and audit entry, then back to the page.
#[tokio::test]
async fn object_actions_are_the_bulk_action_for_one_object() {
    let (toy, admin, sink) = setup().await;
    let draft = add_book(&toy, "Draft", None, "novel", false).await;
    let public = add_book(&toy, "Public", None, "novel", true).await;
    let (editor, reader) = (actor("editor"), actor("reader"));
    let id = draft.id.to_string();

    let page = admin
        .change_form(&toy, &editor, "books", &id)
        .await
        .unwrap();
    let offered = page.context["object_actions"].as_array().unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0]["name"], "publish");
    assert_eq!(offered[0]["label"], "Publish");
    assert_eq!(offered[0]["url"], format!("/admin/books/{id}/action/"));
    let other = admin
        .change_form(&toy, &editor, "books", &public.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        other.context["object_actions"],
        serde_json::json!([]),
        "no longer applies"
    );
    let read_only = admin
        .change_form(&toy, &reader, "books", &id)
        .await
        .unwrap();
    assert_eq!(
        read_only.context["object_actions"],
        serde_json::json!([]),
        "not granted: not offered"
    );

    let refused = admin
        .object_action(
            &toy,
            &reader,
            "books",
            &id,
            &form(&[("action", "publish"), ("confirm", "yes")]),
        )
        .await;
    assert!(matches!(refused, Err(crate::AdminError::Forbidden)));
    let unknown = admin
        .object_action(
            &toy,
            &editor,
            "books",
            &id,
            &form(&[("action", "fail"), ("confirm", "yes")]),
        )
        .await;
    assert!(
        matches!(unknown, Err(crate::AdminError::BadRequest(_))),
        "not an object action"
    );
    let missing = admin
        .object_action(
            &toy,
            &editor,
            "books",
            "9999",
            &form(&[("action", "publish")]),
        )
        .await;
    assert!(matches!(missing, Err(crate::AdminError::NotFound)));

    let Outcome::Render(confirm) = admin
        .object_action(&toy, &editor, "books", &id, &form(&[("action", "publish")]))
        .await
        .unwrap()
    else {
        panic!("a confirmation first");
    };
    assert_eq!(confirm.template, "admin/action_confirm.html");
    assert_eq!(
        confirm.context["post_url"],
        format!("/admin/books/{id}/action/")
    );
    assert_eq!(confirm.context["selected"], serde_json::json!([id]));
    assert!(
        sink.entries().is_empty(),
        "nothing ran before the confirmation"
    );

    let Outcome::Redirect { to, message, kind } = admin
        .object_action(
            &toy,
            &editor,
            "books",
            &id,
            &form(&[("action", "publish"), ("confirm", "yes")]),
        )
        .await
        .unwrap()
    else {
        panic!("ran");
    };
    assert_eq!(to, format!("/admin/books/{id}/change/"));
    assert_eq!((message.as_str(), kind), ("Published 1 books.", "success"));
    let after = book::Entity::find_by_id(draft.id)
        .one(&toy.db)
        .await
        .unwrap()
        .unwrap();
    assert!(after.is_public);
    let entries = sink.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "action:publish");
    assert_eq!(entries[0].object_id, id);
}
