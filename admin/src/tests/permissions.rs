//! Permissions: deny by default, per role and model, custom actions included.

use sea_orm::EntityTrait;

use super::{actor, add_book, book, form, setup};
use crate::{AdminError, Perm};

#[tokio::test]
async fn permissions_deny_by_default() {
    let (toy, admin, sink) = setup().await;
    let book = add_book(&toy, "Requiem", None, "poetry", false).await;
    let id = book.id.to_string();
    let nobody = actor("user");
    assert!(matches!(
        admin.index(&toy, &nobody).await,
        Err(AdminError::Forbidden)
    ));
    assert!(matches!(
        admin.changelist(&toy, &nobody, "books", &[]).await,
        Err(AdminError::Forbidden)
    ));
    assert!(matches!(
        admin.changelist(&toy, &nobody, "nope", &[]).await,
        Err(AdminError::NotFound)
    ));

    let reader = actor("reader");
    let index = admin.index(&toy, &reader).await.unwrap();
    let models = index.context["admin"]["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "only the models the role may see");
    let view = admin
        .change_form(&toy, &reader, "books", &id)
        .await
        .unwrap();
    assert_eq!(view.context["mode"], "view");
    assert!(
        view.context["form"]["fieldsets"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["readonly"] == true),
        "a viewer sees every field read-only"
    );
    let change = form(&[("title", "Hacked"), ("kind", "novel"), ("pages", "1")]);
    assert!(matches!(
        admin.save(&toy, &reader, "books", Some(&id), &change).await,
        Err(AdminError::Forbidden)
    ));
    assert!(matches!(
        admin.add_form(&toy, &reader, "books").await,
        Err(AdminError::Forbidden)
    ));
    assert!(matches!(
        admin.delete(&toy, &reader, "books", &id).await,
        Err(AdminError::Forbidden)
    ));
    let publish = form(&[
        ("action", "publish"),
        ("_selected", &id),
        ("confirm", "yes"),
    ]);
    assert!(matches!(
        admin
            .changelist_action(&toy, &reader, "books", &[], &publish)
            .await,
        Err(AdminError::Forbidden)
    ));
    let unchanged = book::Entity::find_by_id(book.id)
        .one(&toy.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged, book, "nothing changed");
    assert!(sink.entries().is_empty());

    let editor = actor("editor");
    assert!(admin.can("editor", "books", &Perm::action("publish")));
    assert!(
        !admin.can("editor", "books", &Perm::action("fail")),
        "not granted"
    );
    assert!(!admin.can("editor", "books", &Perm::action("missing")));
    assert!(
        admin.can("root", "books", &Perm::action("fail")),
        "superusers may do all"
    );
    assert!(
        !admin.can("root", "authors", &Perm::Add),
        "unless the model disables it"
    );
    assert!(matches!(
        admin.add_form(&toy, &actor("root"), "authors").await,
        Err(AdminError::Forbidden)
    ));
    let list = admin.changelist(&toy, &editor, "books", &[]).await.unwrap();
    let actions: Vec<&str> = list.context["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["publish", "delete_selected"]);
}
