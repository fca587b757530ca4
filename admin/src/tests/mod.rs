//! The admin over a toy entity (books by authors) on in-memory SQLite: lists, forms,
//! permissions, actions with confirmation, deletes and the audit trail.

use std::sync::{Arc, Mutex};

use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, Set,
};

use crate::{
    Actor, AdminError, AdminState, AuditEntry, AuditRecord, AuditSink, BoxFuture, ChangeEvent,
    ForeignKey, FormInput, ModelAdmin, Outcome, Perm, Registry, Related,
};

mod author {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "authors")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(column_type = "String(StringLen::N(40))")]
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod book {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "books")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub author_id: Option<i32>,
        #[sea_orm(column_type = "String(StringLen::N(20))", unique)]
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub blurb: String,
        #[sea_orm(column_type = "String(StringLen::N(10))")]
        pub kind: String,
        pub pages: i32,
        pub is_public: bool,
        pub published_at: Option<DateTimeUtc>,
        pub secret_code: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct Toy {
    db: DatabaseConnection,
    events: Mutex<Vec<ChangeEvent>>,
}

impl AdminState for Toy {
    fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Keeps entries in memory.
#[derive(Clone, Default)]
struct MemorySink(Arc<Mutex<Vec<AuditEntry>>>);

impl MemorySink {
    fn entries(&self) -> Vec<AuditEntry> {
        self.0.lock().unwrap().clone()
    }

    fn records(&self, keep: impl Fn(&AuditEntry) -> bool) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = self
            .entries()
            .into_iter()
            .filter(|e| keep(e))
            .map(|e| AuditRecord {
                at: e.at,
                actor_email: e.actor.email.clone(),
                action: e.action.clone(),
                model: e.model.clone(),
                object_id: e.object_id.clone(),
                object_repr: e.object_repr.clone(),
                changes: AuditRecord::parse_changes(&e.changes_json().to_string()),
            })
            .collect();
        out.reverse();
        out
    }
}

impl AuditSink for MemorySink {
    fn record<'a>(
        &'a self,
        _txn: &'a DatabaseTransaction,
        entry: AuditEntry,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        self.0.lock().unwrap().push(entry);
        Box::pin(async { Ok(()) })
    }

    fn history<'a>(
        &'a self,
        _db: &'a DatabaseConnection,
        model: &'a str,
        object_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>> {
        let records = self.records(|e| e.model == model && e.object_id == object_id);
        Box::pin(async move { Ok(records) })
    }

    fn recent<'a>(
        &'a self,
        _db: &'a DatabaseConnection,
        models: &'a [String],
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>> {
        let mut records = self.records(|e| models.contains(&e.model));
        records.truncate(limit as usize);
        Box::pin(async move { Ok(records) })
    }
}

fn actor(role: &str) -> Actor {
    Actor {
        id: 7,
        email: format!("{role}@example.com"),
        role: role.to_owned(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn form(list: &[(&str, &str)]) -> FormInput {
    FormInput::from_pairs(pairs(list))
}

fn books_admin() -> ModelAdmin<book::Entity, Toy> {
    use book::Column as C;
    ModelAdmin::<book::Entity, Toy>::new("books", "Book", "Books")
        .list_display(&[C::Title, C::AuthorId, C::Kind, C::IsPublic, C::Pages])
        .list_computed("Title length", |b: &book::Model| {
            b.title.chars().count().to_string()
        })
        .search_fields(&[C::Title, C::AuthorId])
        .list_filter(&[C::IsPublic, C::Kind, C::PublishedAt])
        .ordering(C::Title, false)
        .list_per_page(3)
        .fieldset(
            "Book",
            &[C::Title, C::AuthorId, C::Blurb, C::Kind, C::Pages],
        )
        .fieldset("Publishing", &[C::IsPublic, C::PublishedAt, C::SecretCode])
        .readonly_fields(&[C::SecretCode])
        .initial(C::IsPublic, "on")
        .initial(C::Kind, "novel")
        .allow_blank(C::Blurb)
        .choices(C::Kind, &[("novel", "Novel"), ("poetry", "Poetry")])
        .foreign_key(
            C::AuthorId,
            ForeignKey::to::<author::Entity>(author::Column::Name),
        )
        .repr(|b: &book::Model| b.title.clone())
        .clean(|book: &mut book::ActiveModel, ctx| {
            if ctx.is_new {
                book.secret_code = Set("s3cret".into());
            }
            if let sea_orm::ActiveValue::Set(pages) = &book.pages
                && *pages < 1
            {
                return Err(vec![(Some(C::Pages), "A book has pages.".into())]);
            }
            Ok(())
        })
        .action("publish", "Publish selected books", |st, _actor, books| {
            Box::pin(async move {
                let n = books.len();
                for b in books {
                    let mut active: book::ActiveModel = b.into();
                    active.is_public = Set(true);
                    active.update(&st.db).await?;
                }
                Ok(format!("Published {n} books."))
            })
        })
        .action("fail", "Always fails", |_st, _actor, _books| {
            Box::pin(async { Err("Nothing doing.".into()) })
        })
        .on_change(|st, event| {
            st.events.lock().unwrap().push(event.clone());
            Box::pin(async {})
        })
        .permit(
            "editor",
            &[
                Perm::View,
                Perm::Add,
                Perm::Change,
                Perm::Delete,
                Perm::action("publish"),
            ],
        )
        .permit("reader", &[Perm::View])
}

fn authors_admin() -> ModelAdmin<author::Entity, Toy> {
    ModelAdmin::new("authors", "Author", "Authors")
        .list_display(&[author::Column::Name])
        .search_fields(&[author::Column::Name])
        .repr(|a: &author::Model| a.name.clone())
        .related(Related::protect::<book::Entity>(
            "books",
            book::Column::AuthorId,
            book::Column::Title,
        ))
        .permit("editor", &[Perm::View, Perm::Delete])
        .disable(Perm::Add)
}

async fn setup() -> (Toy, Registry<Toy>, MemorySink) {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(40) NOT NULL);
         CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NULL,
           title VARCHAR(20) NOT NULL UNIQUE, blurb TEXT NOT NULL, kind VARCHAR(10) NOT NULL,
           pages INTEGER NOT NULL, is_public BOOLEAN NOT NULL, published_at TEXT NULL,
           secret_code VARCHAR(20) NOT NULL);",
    )
    .await
    .unwrap();
    let sink = MemorySink::default();
    let registry = Registry::new("/admin", "Toy admin", sink.clone())
        .register(books_admin())
        .register(authors_admin())
        .superuser_role("root");
    let toy = Toy {
        db,
        events: Mutex::new(Vec::new()),
    };
    (toy, registry, sink)
}

async fn add_author(toy: &Toy, name: &str) -> author::Model {
    author::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
    .insert(&toy.db)
    .await
    .unwrap()
}

async fn add_book(
    toy: &Toy,
    title: &str,
    author: Option<i32>,
    kind: &str,
    public: bool,
) -> book::Model {
    book::ActiveModel {
        title: Set(title.into()),
        author_id: Set(author),
        blurb: Set(String::new()),
        kind: Set(kind.into()),
        pages: Set(100),
        is_public: Set(public),
        published_at: Set(Some(chrono::Utc::now())),
        secret_code: Set("x".into()),
        ..Default::default()
    }
    .insert(&toy.db)
    .await
    .unwrap()
}

fn titles(view: &crate::View) -> Vec<String> {
    view.context["list"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repr"].as_str().unwrap().to_owned())
        .collect()
}

async fn book_count(toy: &Toy) -> u64 {
    book::Entity::find().count(&toy.db).await.unwrap()
}

#[tokio::test]
async fn changelist_searches_filters_sorts_and_pages() {
    let (toy, admin, _) = setup().await;
    let ann = add_author(&toy, "Ann Akhmatova").await;
    let leo = add_author(&toy, "Leo Tolstoy").await;
    add_book(&toy, "War and Peace", Some(leo.id), "novel", true).await;
    add_book(&toy, "Anna Karenina", Some(leo.id), "novel", false).await;
    add_book(&toy, "Requiem", Some(ann.id), "poetry", true).await;
    add_book(&toy, "Evening", Some(ann.id), "poetry", false).await;
    let reader = actor("reader");

    let all = admin.changelist(&toy, &reader, "books", &[]).await.unwrap();
    assert_eq!(all.template, "admin/changelist.html");
    assert_eq!(all.context["list"]["total"], 4);
    assert_eq!(all.context["list"]["pages"], 2);
    assert_eq!(
        titles(&all),
        ["Anna Karenina", "Evening", "Requiem"],
        "ordered by title, 3 a page"
    );
    let first = &all.context["list"]["rows"][0]["cells"];
    assert_eq!(
        first[1]["text"], "Leo Tolstoy",
        "a foreign key shows its label"
    );
    assert_eq!(first[2]["text"], "Novel", "a choice shows its label");
    assert_eq!(first[3]["kind"], "bool");
    assert_eq!(first[5]["text"], "13", "computed column");
    assert_eq!(all.context["list"]["next_query"], "?p=2");

    let page2 = admin
        .changelist(&toy, &reader, "books", &pairs(&[("p", "2")]))
        .await
        .unwrap();
    assert_eq!(titles(&page2), ["War and Peace"]);
    let past_end = admin
        .changelist(&toy, &reader, "books", &pairs(&[("p", "99")]))
        .await
        .unwrap();
    assert_eq!(past_end.context["list"]["page"], 2);

    let search = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "ANNA")]))
        .await
        .unwrap();
    assert_eq!(titles(&search), ["Anna Karenina"]);
    let by_author = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "akhmat")]))
        .await
        .unwrap();
    assert_eq!(
        titles(&by_author),
        ["Evening", "Requiem"],
        "search through the foreign key"
    );
    let wildcard = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "%")]))
        .await
        .unwrap();
    assert_eq!(
        wildcard.context["list"]["total"], 0,
        "LIKE wildcards are escaped"
    );

    let public = admin
        .changelist(
            &toy,
            &reader,
            "books",
            &pairs(&[("is_public", "1"), ("kind", "poetry")]),
        )
        .await
        .unwrap();
    assert_eq!(titles(&public), ["Requiem"]);
    let filters = public.context["list"]["filters"].as_array().unwrap();
    assert_eq!(filters[0]["title"], "Is public");
    let yes = &filters[0]["options"][1];
    assert_eq!(
        (yes["label"].as_str(), yes["selected"].as_bool()),
        (Some("Yes"), Some(true))
    );
    assert_eq!(
        filters[0]["options"][0]["query"], "?kind=poetry",
        "All drops the filter"
    );
    let bogus = admin
        .changelist(&toy, &reader, "books", &pairs(&[("kind", "cookbook")]))
        .await
        .unwrap();
    assert_eq!(
        bogus.context["list"]["total"], 4,
        "an unknown choice filters nothing"
    );
    let today = admin
        .changelist(&toy, &reader, "books", &pairs(&[("published_at", "today")]))
        .await
        .unwrap();
    assert_eq!(today.context["list"]["total"], 4);
    let undated = admin
        .changelist(&toy, &reader, "books", &pairs(&[("published_at", "none")]))
        .await
        .unwrap();
    assert_eq!(undated.context["list"]["total"], 0);

    let desc = admin
        .changelist(
            &toy,
            &reader,
            "books",
            &pairs(&[("o", "-pages"), ("q", "a")]),
        )
        .await
        .unwrap();
    let heads = desc.context["list"]["columns"].as_array().unwrap();
    assert_eq!(heads[4]["sorted"], "desc");
    assert_eq!(heads[4]["sort_query"], "?o=pages&q=a");
    assert_eq!(heads[5]["sortable"], false, "computed columns do not sort");
    let asc = admin
        .changelist(&toy, &reader, "books", &pairs(&[("o", "-title")]))
        .await
        .unwrap();
    assert_eq!(titles(&asc), ["War and Peace", "Requiem", "Evening"]);
}

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
    assert_eq!(errors(&view, 0, 0), "At most 20 characters.");
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
    assert_eq!(errors(&view, 0, 1), "There is no object #999.");
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
    assert_eq!(message, "The book “War and Peace” was added.");
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
    assert_eq!(errors(&view, 0, 0), "Another book already has this value.");

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
    assert_eq!(confirm.context["query"], "?kind=novel");
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
