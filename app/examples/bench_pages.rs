//! The server `just bench-pages` measures: the real site (the router, state, middleware and
//! caches of `mailer serve`) plus a bare Poem handler returning a constant at
//! `/__bench/bare` (and one as large as the home page at `/__bench/bare-3800`), outside all
//! middleware, in the same process (the site's requests pass one comparison of their path
//! on the way). Configured like `mailer serve` (MAILER_* / DATABASE_URL
//! / REDIS_URL); seeds an empty database with an owner, 200 clients, 30 mailings and 25
//! published posts (plus a draft and a scheduled one).

use chrono::{Duration, Utc};
use mailer::accounts::service::{NewAccount, create_user};
use mailer::entities::mailing::{MailingStatus, Periodicity};
use mailer::entities::user::Role;
use mailer::entities::{client, mailing, mailing_client, message, post};
use mailer::{AppState, Config};
use poem::{Route, get, handler};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

#[handler]
fn bare() -> &'static str {
    "ok"
}

/// A constant as large as the home page: what the bytes alone cost.
static PAGE_SIZED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "x".repeat(3_800));

#[handler]
fn bare_page_sized() -> &'static str {
    PAGE_SIZED.as_str()
}

fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    mailer::telemetry::init(&config);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let bind = config.bind;
        let state = AppState::build(config).await?;
        seed(&state).await?;
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let extra = Route::new()
            .at("/__bench/bare", get(bare))
            .at("/__bench/bare-3800", get(bare_page_sized));
        let extra = mailer::server::Extra {
            prefix: "/__bench/",
            routes: extra,
        };
        mailer::server::serve_with(state, Some(extra), listener, mailer::shutdown::signal()).await
    })
}

async fn seed(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    if post::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let now = Utc::now();
    let owner = create_user(
        db,
        NewAccount {
            email: "bench@example.com".into(),
            password: "bench password 0123".into(),
            phone: None,
            role: Role::User,
            is_verified: true,
            timezone: "UTC".into(),
            language: None,
        },
    )
    .await?;
    let message = message::ActiveModel {
        owner_id: Set(owner.id),
        subject: Set("Hello".into()),
        body: Set("A message.".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut clients = Vec::new();
    for i in 0..200 {
        let c = client::ActiveModel {
            owner_id: Set(owner.id),
            email: Set(format!("client{i}@example.com")),
            full_name: Set(format!("Client {i}")),
            comment: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        clients.push(c.id);
    }
    for i in 0..30i64 {
        // A third created, a third running, a third finished.
        let start = now + Duration::days(10 - i);
        let m = mailing::ActiveModel {
            owner_id: Set(owner.id),
            message_id: Set(message.id),
            start_at: Set(start),
            end_at: Set(start + Duration::days(10)),
            periodicity: Set(Periodicity::Daily),
            status: Set(MailingStatus::Created),
            is_enabled: Set(true),
            next_run_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let first = usize::try_from(i * 5).unwrap_or(0);
        for client_id in clients.iter().skip(first).take(20) {
            mailing_client::ActiveModel {
                mailing_id: Set(m.id),
                client_id: Set(*client_id),
            }
            .insert(db)
            .await?;
        }
    }
    let body = "Warm mailings reach the inbox. **Start small**, grow steadily, and watch \
                your replies.\n\n- Clean your lists\n- Send on a schedule\n- Read the reports\n\n"
        .repeat(6);
    for i in 0..27i64 {
        let (published, at) = match i {
            25 => (false, None),
            26 => (true, Some(now + Duration::days(3))),
            _ => (true, Some(now - Duration::hours(i + 1))),
        };
        post::ActiveModel {
            author_id: Set(Some(owner.id)),
            title: Set(format!("Warming tip number {}", i + 1)),
            slug: Set(format!("warming-tip-{}", i + 1)),
            body: Set(body.clone()),
            image: Set(None),
            view_count: Set(0),
            is_published: Set(published),
            published_at: Set(at),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    tracing::info!("seeded the benchmark's data");
    Ok(())
}
