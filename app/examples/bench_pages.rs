//! The server `just bench-pages` measures: the real site (the router, state, middleware and
//! caches of `mailer serve`) plus a bare Poem handler returning a constant at
//! `/__bench/bare` (and one as large as the home page at `/__bench/bare-3800`), outside all
//! middleware, in the same process (the site's requests pass one comparison of their path
//! on the way). Configured like `mailer serve` (MAILER_* / DATABASE_URL
//! / REDIS_URL); seeds an empty database with an owner, 30 mailings and 25 published posts
//! (plus a draft and a scheduled one), and for the signed-in pages gives the owner
//! `BENCH_CLIENTS` clients (default 50,000), 30 messages and one large mailing to all of them
//! with two occurrences (100,000 deliveries and attempts at the default size). Large tables
//! are filled by `INSERT … SELECT` over a counter, one statement each.
//!
//! When `BENCH_SESSION_FILE` is set, it mints a signed-in session of the owner (in the
//! site's session store, as signing in would) and writes `cookie=<Cookie header value>`
//! and `mailing=<id of the large mailing>` lines to that file.

use chrono::{Duration, Utc};
use mailer::accounts::service::{NewAccount, create_user};
use mailer::entities::mailing::{MailingStatus, Periodicity};
use mailer::entities::user::Role;
use mailer::entities::{client, delivery, mailing, mailing_client, message, post};
use mailer::{AppState, Config};
use poem::session::{Session, SessionStorage};
use poem::{Route, get, handler};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set, Statement,
};

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
        let seeded = seed(&state).await?;
        if let Ok(path) = std::env::var("BENCH_SESSION_FILE") {
            let cookie = mint_session(&state, seeded.owner).await?;
            std::fs::write(
                &path,
                format!("cookie={cookie}\nmailing={}\n", seeded.large_mailing),
            )?;
        }
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

/// What the signed-in lines need: the owner and the large mailing.
struct Seeded {
    owner: i32,
    large_mailing: i32,
}

const OWNER: &str = "bench@example.com";
const LARGE_MAILING: &str = "Everyone, twice";

/// A session of `owner` in the site's store, as signing in makes it; the `Cookie` value.
async fn mint_session(state: &AppState, owner: i32) -> anyhow::Result<String> {
    use mailer::accounts::session::{COOKIE_NAME, CacheSessionStorage, sign_in};
    let user = mailer::entities::user::Entity::find_by_id(owner)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the benchmark's owner is gone"))?;
    let session = Session::default();
    sign_in(&session, &user);
    let id = format!("bench-{}", uuid::Uuid::new_v4().simple());
    CacheSessionStorage::new(state.cache.clone())
        .update_session(&id, &session.entries(), None)
        .await
        .map_err(|e| anyhow::anyhow!("storing the session: {e}"))?;
    Ok(format!("{COOKIE_NAME}={id}"))
}

async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let db = &state.db;
    if post::Entity::find().count(db).await? > 0 {
        let owner = mailer::reports::seed::owner_id(db, OWNER).await?;
        let large = mailing::Entity::find()
            .filter(mailing::Column::OwnerId.eq(owner))
            .filter(mailing::Column::Name.eq(LARGE_MAILING))
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the database was seeded by an older benchmark"))?;
        return Ok(Seeded {
            owner,
            large_mailing: large.id,
        });
    }
    let now = Utc::now();
    let owner = create_user(
        db,
        NewAccount {
            email: OWNER.into(),
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
    let clients: i64 = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let large_mailing = seed_large(db, owner.id, message.id, clients).await?;
    tracing::info!("seeded the benchmark's data");
    Ok(Seeded {
        owner: owner.id,
        large_mailing,
    })
}

/// Runs `sql` with `values` ($1, $2, … on both backends).
async fn exec(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> anyhow::Result<u64> {
    let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    Ok(db.execute_raw(statement).await?.rows_affected())
}

/// `WITH RECURSIVE n(i)` counting 1 to `$1`: a row source both backends understand.
const COUNTER: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) ";

/// The owner's big account: `clients` more clients (names in a shuffled order, so sorting
/// does work), 29 more messages, and one mailing to every client with two past
/// occurrences, each delivered and logged (one attempt in fifty failed).
async fn seed_large(
    db: &DatabaseConnection,
    owner: i32,
    message: i32,
    clients: i64,
) -> anyhow::Result<i32> {
    let now = Utc::now();
    exec(
        db,
        &format!(
            "{COUNTER}INSERT INTO clients (owner_id, email, full_name, comment, attributes, \
             created_at, updated_at) \
             SELECT $2, 'person' || i || '@example.org', \
             'Person ' || ((i * 7919) % $1) || ' ' || i, '', '{{}}', $3, $3 FROM n"
        ),
        vec![clients.into(), owner.into(), now.into()],
    )
    .await?;
    exec(
        db,
        &format!(
            "{COUNTER}INSERT INTO messages (owner_id, subject, body, created_at, updated_at) \
             SELECT $2, 'Newsletter ' || i, 'News number ' || i || '.', \
             $3, $3 FROM n"
        ),
        vec![29i64.into(), owner.into(), now.into()],
    )
    .await?;
    let start = now - Duration::days(3);
    let large = mailing::ActiveModel {
        owner_id: Set(owner),
        name: Set(LARGE_MAILING.into()),
        message_id: Set(message),
        start_at: Set(start),
        end_at: Set(now - Duration::hours(1)),
        periodicity: Set(Periodicity::Daily),
        status: Set(MailingStatus::Finished),
        is_enabled: Set(false),
        next_run_at: Set(None),
        created_at: Set(start),
        updated_at: Set(start),
        ..Default::default()
    }
    .insert(db)
    .await?;
    exec(
        db,
        "INSERT INTO mailing_clients (mailing_id, client_id) \
         SELECT $1, id FROM clients WHERE owner_id = $2 AND email LIKE 'person%'",
        vec![large.id.into(), owner.into()],
    )
    .await?;
    for day in [start, start + Duration::days(1)] {
        let at = day + Duration::hours(9);
        exec(
            db,
            "INSERT INTO deliveries (mailing_id, client_id, occurrence_at, status, tries, \
             message_id_header, last_error, sent_at, created_at, updated_at) \
             SELECT $1, c.id, $2, CASE WHEN c.id % 50 = 1 THEN 'failed' ELSE 'sent' END, 1, \
             '<bench.' || $3 || '.' || c.id || '@example.org>', \
             CASE WHEN c.id % 50 = 1 THEN '550 5.1.1 No such user' END, $2, $2, $2 \
             FROM mailing_clients mc JOIN clients c ON c.id = mc.client_id \
             WHERE mc.mailing_id = $1",
            vec![large.id.into(), at.into(), at.timestamp().into()],
        )
        .await?;
        // The log in lots of 50 deliveries, each lot 20 ms after the last (as a worker
        // sends them): instants are not shared by the whole occurrence.
        let (first, last): (Option<i64>, Option<i64>) = delivery::Entity::find()
            .select_only()
            .column_as(delivery::Column::Id.min(), "first")
            .column_as(delivery::Column::Id.max(), "last")
            .filter(delivery::Column::MailingId.eq(large.id))
            .filter(delivery::Column::OccurrenceAt.eq(at))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or_default();
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        for (lot, from) in (first..=last).step_by(50).enumerate() {
            let attempted = at + Duration::milliseconds(20 * i64::try_from(lot)?);
            exec(
                db,
                "INSERT INTO attempts (owner_id, mailing_id, message_id, client_id, \
                 delivery_id, recipient, occurrence_at, attempted_at, status, smtp_code, \
                 response) \
                 SELECT $1, d.mailing_id, $2, d.client_id, d.id, c.email, d.occurrence_at, $3, \
                 CASE WHEN d.status = 'failed' THEN 'failure' ELSE 'success' END, \
                 CASE WHEN d.status = 'failed' THEN 550 ELSE 250 END, \
                 CASE WHEN d.status = 'failed' THEN '550 5.1.1 No such user' \
                 ELSE '250 2.0.0 Ok' END \
                 FROM deliveries d JOIN clients c ON c.id = d.client_id \
                 WHERE d.mailing_id = $4 AND d.id >= $5 AND d.id < $6 ORDER BY d.id",
                vec![
                    owner.into(),
                    message.into(),
                    attempted.into(),
                    large.id.into(),
                    from.into(),
                    (from + 50).into(),
                ],
            )
            .await?;
        }
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        for table in [
            "clients",
            "mailing_clients",
            "deliveries",
            "attempts",
            "report_slots",
        ] {
            exec(db, &format!("VACUUM ANALYZE {table}"), vec![]).await?;
        }
    } else {
        exec(db, "ANALYZE", vec![]).await?;
    }
    Ok(large.id)
}
