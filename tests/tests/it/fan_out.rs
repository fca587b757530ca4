//! An occurrence's deliveries made in ranges of client ids (`delivery::fanout`): every
//! recipient — picked by hand, tagged, or both — gets exactly one delivery however the
//! ranges fall and however many workers make them at once; a worker makes the next range
//! only when the last one is half sent; a disabled mailing's fan-out waits and goes on
//! once it is enabled again; `mailer send` makes them all. Both backends.

use std::collections::{BTreeSet, HashSet};

use chrono::{Duration, Utc};
use mailer::delivery::fanout::{self, Ranges};
use mailer::entities::mailing::MailingStatus;
use mailer::entities::user::Role;
use mailer::entities::{client, delivery, mailing, mailing_tag};
use mailer_tests::users::sign_in_new;
use mailer_tests::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::mailings::{create_mailing, make_message};

const DOMAIN: &str = "mail.example.test";

/// A user with 350 clients: the mailing picks the first 200 by hand and targets the tag
/// that clients 100–299 carry, so 300 are recipients (100 of them twice over) and the
/// last 50 are not. Returns the mailing and its recipients' ids.
async fn audience(app: &TestApp) -> (mailing::Model, BTreeSet<i32>) {
    let v = sign_in_new(app, "ranges@example.com", Role::User).await;
    let db = &app.state.db;
    let now = Utc::now();
    let rows: Vec<client::ActiveModel> = (0..350)
        .map(|i| client::ActiveModel {
            owner_id: Set(v.user.id),
            email: Set(format!("r{i}@example.com")),
            full_name: Set(format!("R {i}")),
            comment: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let key = [client::Column::OwnerId, client::Column::Email];
    mailer::db::insert_new(db, rows, key, 500).await.unwrap();
    let mut ids: Vec<i32> = client::Entity::find()
        .filter(client::Column::OwnerId.eq(v.user.id))
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    let tags = mailer::clients::tags::ensure(db, v.user.id, &["vip".to_owned()])
        .await
        .unwrap();
    let pairs: Vec<(i32, i32)> = ids[100..300].iter().map(|c| (*c, tags[0].id)).collect();
    mailer::clients::tags::link(db, &pairs).await.unwrap();
    let message = make_message(app, v.user.id, "In ranges").await;
    // Starts tomorrow: nothing is due until the test says so.
    let made = create_mailing(
        &v,
        message.id,
        &ids[..200],
        Duration::days(1),
        Duration::days(2),
        "once",
    )
    .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let mailing = mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(v.user.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    mailing_tag::ActiveModel {
        mailing_id: Set(mailing.id),
        tag_id: Set(tags[0].id),
    }
    .insert(db)
    .await
    .unwrap();
    (mailing, ids[..300].iter().copied().collect())
}

/// The mailing's deliveries.
async fn deliveries(app: &TestApp, mailing_id: i32) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// The moment the mailing's first occurrence is due, a minute after its start.
fn due(mailing: &mailing::Model) -> chrono::DateTime<Utc> {
    mailing.start_at + Duration::minutes(1)
}

/// Goes on with every open fan-out, unpaced, until none is left, as one worker would:
/// the ids of the ranges it made.
async fn go_on(app: &TestApp, ranges: Ranges, now: chrono::DateTime<Utc>) -> Vec<i64> {
    let db = &app.state.db;
    let mut got = Vec::new();
    loop {
        let open = fanout::open_fan_outs(db, None).await.unwrap();
        if open.is_empty() {
            return got;
        }
        for row in open {
            let lease = Duration::seconds(60);
            if let Some(made) =
                fanout::continue_fan_out(db, &row, now, DOMAIN, lease, ranges, false)
                    .await
                    .unwrap()
            {
                got.extend(made.ids);
            }
        }
        tokio::task::yield_now().await;
    }
}

async fn two_workers_make_the_ranges_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let (mailing, recipients) = audience(&app).await;
    let ranges = Ranges::of(40);
    let now = due(&mailing);
    let first = fanout::start(db, &mailing, now, DOMAIN, Duration::seconds(60), ranges)
        .await
        .unwrap();
    // 40 picked by hand and as many tagged at most.
    assert!((40..=80).contains(&first.len()), "{}", first.len());
    assert_eq!(deliveries(&app, mailing.id).await.len(), first.len());
    let open = fanout::open_fan_outs(db, Some(mailing.id)).await.unwrap();
    assert_eq!(open.len(), 1, "the rest is to come");
    assert_eq!(open[0].ranges, 1);

    let (a, b) = tokio::join!(go_on(&app, ranges, now), go_on(&app, ranges, now));
    assert!(!a.is_empty() || !b.is_empty());
    let handed: Vec<i64> = first.iter().chain(&a).chain(&b).copied().collect();
    let unique: HashSet<i64> = handed.iter().copied().collect();
    assert_eq!(unique.len(), handed.len(), "no delivery handed out twice");

    let rows = deliveries(&app, mailing.id).await;
    let clients: Vec<i32> = rows.iter().map(|d| d.client_id).collect();
    let distinct: BTreeSet<i32> = clients.iter().copied().collect();
    assert_eq!(clients.len(), distinct.len(), "each recipient once");
    assert_eq!(distinct, recipients, "every recipient, and nobody else");
    let ids: HashSet<i64> = rows.iter().map(|d| d.id).collect();
    assert_eq!(ids, unique, "every delivery handed out");
    assert!(
        rows.iter().all(|d| d.next_try_at.is_some_and(|t| t > now)),
        "each held for the job that sends it"
    );
    assert!(fanout::open_fan_outs(db, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn two_workers_make_the_ranges_once_sqlite() {
    two_workers_make_the_ranges_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn two_workers_make_the_ranges_once_postgres() {
    two_workers_make_the_ranges_once(Backend::Postgres).await;
}

/// Marks the pending deliveries among `clients` sent, as the recorder would.
async fn send(app: &TestApp, mailing_id: i32, clients: std::ops::RangeInclusive<i32>) {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value("sent"))
        .filter(delivery::Column::MailingId.eq(mailing_id))
        .filter(delivery::Column::ClientId.between(*clients.start(), *clients.end()))
        .exec(&app.state.db)
        .await
        .unwrap();
}

async fn the_next_range_waits_until_the_last_is_half_sent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let (mailing, recipients) = audience(&app).await;
    let ranges = Ranges::of(40);
    let now = due(&mailing);
    let lease = Duration::seconds(60);
    let next = || async {
        let open = fanout::open_fan_outs(db, Some(mailing.id)).await.unwrap();
        let row = open.into_iter().next()?;
        fanout::continue_fan_out(db, &row, now, DOMAIN, lease, ranges, true)
            .await
            .unwrap()
            .map(|made| (row, made))
    };
    fanout::start(db, &mailing, now, DOMAIN, lease, ranges)
        .await
        .unwrap();
    // The second range follows the small first one at once.
    let (_, second) = next().await.expect("the second range at once");
    assert!(!second.ids.is_empty());
    let row = fanout::open_fan_outs(db, Some(mailing.id)).await.unwrap()[0].clone();
    assert_eq!(row.ranges, 2);
    assert!(next().await.is_none(), "nothing sent yet: the third waits");

    // Disabled: nothing more, however much is sent; the row waits.
    mailing::Entity::update_many()
        .col_expr(mailing::Column::IsEnabled, Expr::value(false))
        .filter(mailing::Column::Id.eq(mailing.id))
        .exec(db)
        .await
        .unwrap();
    send(&app, mailing.id, 0..=row.done_through).await;
    assert!(next().await.is_none(), "a disabled mailing makes no range");
    // Nothing pending, but ranges to come: the mailing is not finished.
    fanout::settle_statuses(db, now).await.unwrap();
    let status = mailing::Entity::find_by_id(mailing.id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(
        status,
        MailingStatus::Running,
        "finished with ranges to come"
    );
    assert_eq!(
        fanout::open_fan_outs(db, Some(mailing.id))
            .await
            .unwrap()
            .len(),
        1
    );
    mailing::Entity::update_many()
        .col_expr(mailing::Column::IsEnabled, Expr::value(true))
        .filter(mailing::Column::Id.eq(mailing.id))
        .exec(db)
        .await
        .unwrap();

    // Enabled again, the last range sent: the next one comes.
    let (_, third) = next()
        .await
        .expect("the third range once the second is sent");
    assert!(!third.ids.is_empty());
    let (mut last, mut made) = (third.last, 3);
    while !last {
        let row = fanout::open_fan_outs(db, Some(mailing.id)).await.unwrap()[0].clone();
        assert!(next().await.is_none(), "range {} waits", made + 1);
        send(&app, mailing.id, 0..=row.done_through).await;
        let (_, range) = next().await.expect("the next range once the last is sent");
        made += 1;
        assert!(made < 20, "ranges never end");
        last = range.last;
    }
    let rows = deliveries(&app, mailing.id).await;
    let clients: BTreeSet<i32> = rows.iter().map(|d| d.client_id).collect();
    assert_eq!(rows.len(), clients.len());
    assert_eq!(clients, recipients);
}

#[tokio::test]
async fn the_next_range_waits_until_the_last_is_half_sent_sqlite() {
    the_next_range_waits_until_the_last_is_half_sent(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_next_range_waits_until_the_last_is_half_sent_postgres() {
    the_next_range_waits_until_the_last_is_half_sent(Backend::Postgres).await;
}

/// `fan_out` (what `mailer send` and the tests' ticks run) makes every range at once.
async fn a_whole_fan_out_makes_every_range(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let (mailing, recipients) = audience(&app).await;
    let lease = Duration::seconds(60);
    // Ranges of 40: eight or so, each read again before the next.
    let ids = fanout::fan_out_in(db, &mailing, due(&mailing), (DOMAIN, lease), Ranges::of(40))
        .await
        .unwrap();
    assert_eq!(ids.len(), recipients.len());
    let rows = deliveries(&app, mailing.id).await;
    let clients: BTreeSet<i32> = rows.iter().map(|d| d.client_id).collect();
    assert_eq!(clients, recipients);
    assert!(fanout::open_fan_outs(db, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_whole_fan_out_makes_every_range_sqlite() {
    a_whole_fan_out_makes_every_range(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_whole_fan_out_makes_every_range_postgres() {
    a_whole_fan_out_makes_every_range(Backend::Postgres).await;
}
