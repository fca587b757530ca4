//! The add and change forms: widgets, errors beside the fields, saving, and the audit
//! entries and change events a save leaves.

use sea_orm::EntityTrait;

use super::{actor, add_author, add_book, book, book_count, form, setup};
use crate::{Outcome, phrase};

#[tokio::test]
async fn forms_validate_beside_the_fields_and_audit_changes() {
    let (toy, admin, sink) = setup().await;
    let leo = add_author(&toy, "Leo Tolstoy").await;
    let editor = actor("editor");

    let blank = admin.add_form(&toy, &editor, "books").await.unwrap();
    let fields = &blank.context["form"]["fieldsets"][0]["fields"];
    assert_eq!(fields[0]["input_type"], "text");
    assert_eq!(fields[0]["maxlength"], 20);
    assert_eq!(fields[0]["required"], true);
    assert_eq!(fields[1]["input_type"], "select");
    assert_eq!(fields[1]["choices"][0]["label"], "Leo Tolstoy");
    assert_eq!(fields[2]["input_type"], "textarea");
    assert_eq!(fields[3]["choices"].as_array().unwrap().len(), 2);
    let publishing = &blank.context["form"]["fieldsets"][1]["fields"];
    assert_eq!(publishing[0]["input_type"], "checkbox");
    assert_eq!(
        publishing[0]["checked"], true,
        "initial value of the add form"
    );
    assert_eq!(fields[3]["value"], "novel");
    assert_eq!(publishing[1]["input_type"], "datetime-local");
    assert_eq!(publishing[2]["readonly"], true);

    let bad = form(&[
        ("title", "A title far too long for it"),
        ("kind", "cookbook"),
        ("pages", "many"),
        ("published_at", "soon"),
    ]);
    let Outcome::Render(view) = admin
        .save(&toy, &editor, "books", None, &bad)
        .await
        .unwrap()
    else {
        panic!("a bad form is shown again");
    };
    assert_eq!(view.status, 422);
    let errors = |view: &crate::View, set: usize, field: usize| {
        view.context["form"]["fieldsets"][set]["fields"][field]["errors"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        errors(&view, 0, 0),
        phrase("admin-at-most-characters", &[("count", &20)])
    );
    assert_eq!(errors(&view, 0, 3), "Select one of the choices.");
    assert_eq!(errors(&view, 0, 4), "Enter a whole number.");
    assert_eq!(
        errors(&view, 1, 1),
        "Enter a date and time (YYYY-MM-DD HH:MM)."
    );
    assert_eq!(
        view.context["form"]["fieldsets"][0]["fields"][0]["value"], "A title far too long for it",
        "what was typed comes back"
    );
    let orphan = form(&[
        ("title", "Orphan"),
        ("author_id", "999"),
        ("kind", "novel"),
        ("pages", "9"),
    ]);
    let Outcome::Render(view) = admin
        .save(&toy, &editor, "books", None, &orphan)
        .await
        .unwrap()
    else {
        panic!("a missing author is refused");
    };
    assert_eq!(
        errors(&view, 0, 1),
        phrase("admin-no-object", &[("id", &999)])
    );
    let zero = form(&[("title", "Zero"), ("kind", "novel"), ("pages", "0")]);
    let Outcome::Render(view) = admin
        .save(&toy, &editor, "books", None, &zero)
        .await
        .unwrap()
    else {
        panic!("the clean hook refuses");
    };
    assert_eq!(errors(&view, 0, 4), "A book has pages.");
    assert_eq!(book_count(&toy).await, 0);

    let leo_id = leo.id.to_string();
    let good = form(&[
        ("title", "War and Peace"),
        ("author_id", &leo_id),
        ("kind", "novel"),
        ("pages", "1225"),
        ("is_public", "on"),
        ("published_at", "1869-01-01T00:00"),
        ("secret_code", "ignored"),
    ]);
    let Outcome::Redirect { to, message, .. } = admin
        .save(&toy, &editor, "books", None, &good)
        .await
        .unwrap()
    else {
        panic!("saved");
    };
    assert_eq!(to, "/admin/books/");
    assert_eq!(
        message,
        phrase(
            "admin-added",
            &[("model", &"book"), ("name", &"War and Peace")]
        )
    );
    let saved = book::Entity::find().one(&toy.db).await.unwrap().unwrap();
    assert_eq!(
        (saved.pages, saved.is_public, saved.author_id),
        (1225, true, Some(leo.id))
    );
    assert_eq!(
        saved.secret_code, "s3cret",
        "readonly fields are not taken from the form"
    );
    assert_eq!(
        saved.published_at.unwrap().to_rfc3339(),
        "1869-01-01T00:00:00+00:00"
    );

    let duplicate = form(&[
        ("title", "War and Peace"),
        ("kind", "novel"),
        ("pages", "5"),
    ]);
    let Outcome::Render(view) = admin
        .save(&toy, &editor, "books", None, &duplicate)
        .await
        .unwrap()
    else {
        panic!("a duplicate is refused");
    };
    assert_eq!(view.status, 422);
    assert_eq!(
        errors(&view, 0, 0),
        phrase("admin-unique", &[("model", &"book")])
    );

    let id = saved.id.to_string();
    let edit = form(&[
        ("title", "War and Peace"),
        ("author_id", &leo_id),
        ("kind", "novel"),
        ("pages", "1300"),
        ("published_at", "1869-01-01T00:00"),
        ("_continue", "1"),
    ]);
    let Outcome::Redirect { to, .. } = admin
        .save(&toy, &editor, "books", Some(&id), &edit)
        .await
        .unwrap()
    else {
        panic!("changed");
    };
    assert_eq!(to, format!("/admin/books/{id}/change/"));
    let entries = sink.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, "add");
    assert_eq!(entries[0].changes["title"].new, "War and Peace");
    assert_eq!(entries[1].action, "change");
    assert_eq!(entries[1].actor.email, "editor@example.com");
    let changed: Vec<&String> = entries[1].changes.keys().collect();
    assert_eq!(
        changed,
        ["is_public", "pages"],
        "only what changed (the box was unticked)"
    );
    assert_eq!(entries[1].changes["pages"].old, 1225);
    assert_eq!(entries[1].changes["pages"].new, 1300);

    let history = admin.history(&toy, &editor, "books", &id).await.unwrap();
    let records = history.context["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["action"], "change", "newest first");
    let events = toy.events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].action, "change");
}

/// An object's page in the model's own template, with the application's context; help
/// text with its link.
#[tokio::test]
async fn object_pages_take_the_models_template_and_context() {
    let (toy, admin, _sink) = setup().await;
    let author = add_author(&toy, "Akhmatova").await;
    add_book(&toy, "Evening", Some(author.id), "poetry", false).await;
    let editor = actor("editor");
    let page = admin
        .change_form(&toy, &editor, "authors", &author.id.to_string())
        .await
        .unwrap();
    assert_eq!(page.template, "admin/authors/change_form.html");
    assert_eq!(page.context["extra"]["books"], 1);

    let add = admin.add_form(&toy, &editor, "books").await.unwrap();
    assert_eq!(add.template, "admin/change_form.html");
    let blurb = add.context["form"]["fieldsets"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "blurb")
        .unwrap()
        .clone();
    assert_eq!(blurb["help"], "Markdown.");
    assert_eq!(blurb["help_link"]["text"], "Syntax");
    assert_eq!(blurb["help_link"]["url"], "/help/markdown");

    // A readonly field may show the object its own way instead of the stored value.
    let book = book::Entity::find().one(&toy.db).await.unwrap().unwrap();
    let page = admin
        .change_form(&toy, &editor, "books", &book.id.to_string())
        .await
        .unwrap();
    let code = &page.context["form"]["fieldsets"][1]["fields"][2];
    assert_eq!(code["name"], "secret_code");
    assert_eq!(code["display"], "the code of Evening");
    assert_eq!(code["value"], "x", "the stored value stays the value");
}
