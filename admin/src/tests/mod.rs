//! The admin over a toy entity (books by authors) on in-memory SQLite, driven through the
//! registry as an application drives it. This file is the toy (entities, state, an audit
//! sink in memory, the registry and helpers); the tests are in one file per topic.

use std::sync::{Arc, Mutex};

use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, Set,
};

use crate::{
    Actor, AdminState, AuditEntry, AuditRecord, AuditSink, BoxFuture, ChangeEvent, ForeignKey,
    FormInput, ModelAdmin, Perm, Registry, Related,
};

mod actions;
mod changelist;
mod delete;
mod forms;
mod permissions;

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
        zone: crate::Zone::default(),
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
        .readonly_display(C::SecretCode, |b: &book::Model| {
            format!("the code of {}", b.title)
        })
        .help_text(C::Blurb, "Markdown.")
        .help_link(C::Blurb, "Syntax", "/help/markdown")
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
        .object_action("publish", "Publish", |_actor, b| !b.is_public)
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
        .change_form_template("admin/authors/change_form.html")
        .change_context(|st: &Toy, a: &author::Model| {
            let author = a.id;
            Box::pin(async move {
                use sea_orm::{ColumnTrait, QueryFilter};
                let books = book::Entity::find()
                    .filter(book::Column::AuthorId.eq(author))
                    .count(&st.db)
                    .await?;
                Ok(serde_json::json!({ "books": books }))
            })
        })
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
