//! Deleting: the confirmation lists related objects, protected ones block the delete,
//! and the history outlives the object.

use sea_orm::{EntityTrait, PaginatorTrait};

use super::{actor, add_author, add_book, author, setup};
use crate::AdminError;

#[tokio::test]
async fn deletes_show_related_objects_and_protected_ones_block() {
    let (toy, admin, sink) = setup().await;
    let leo = add_author(&toy, "Leo Tolstoy").await;
    let nobody = add_author(&toy, "Nobody").await;
    add_book(&toy, "War and Peace", Some(leo.id), "novel", true).await;
    let editor = actor("editor");

    let blocked = admin
        .delete_form(&toy, &editor, "authors", &leo.id.to_string())
        .await
        .unwrap();
    assert_eq!(blocked.status, 409);
    assert_eq!(blocked.context["preview"]["blocked"], true);
    assert_eq!(
        blocked.context["preview"]["related"][0]["shown"][0],
        "War and Peace"
    );
    assert!(matches!(
        admin
            .delete(&toy, &editor, "authors", &leo.id.to_string())
            .await,
        Err(AdminError::Conflict(_))
    ));
    assert_eq!(author::Entity::find().count(&toy.db).await.unwrap(), 2);

    let free = admin
        .delete_form(&toy, &editor, "authors", &nobody.id.to_string())
        .await
        .unwrap();
    assert_eq!(free.status, 200);
    admin
        .delete(&toy, &editor, "authors", &nobody.id.to_string())
        .await
        .unwrap();
    assert_eq!(author::Entity::find().count(&toy.db).await.unwrap(), 1);
    let entry = sink.entries().pop().unwrap();
    assert_eq!(
        (entry.action.as_str(), entry.object_repr.as_str()),
        ("delete", "Nobody")
    );
    let history = admin
        .history(&toy, &editor, "authors", &nobody.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        history.context["object"]["exists"], false,
        "history outlives the object"
    );
    assert!(matches!(
        admin.delete_form(&toy, &editor, "authors", "999").await,
        Err(AdminError::NotFound)
    ));
    assert!(matches!(
        admin
            .change_form(&toy, &editor, "books", "not-a-number")
            .await,
        Err(AdminError::NotFound)
    ));
}
