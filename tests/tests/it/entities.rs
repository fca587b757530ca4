//! Every entity against the migrated schema: insert, read back, unique keys, foreign keys.

use chrono::{Duration, SubsecRound, Utc};
use mailer::entities::{
    admin_log, api_token, attempt, client, client_tag, delivery, mailing, mailing_client,
    mailing_tag, message, post, tag, user,
};
use mailer::entities::{
    attempt::AttemptStatus,
    delivery::DeliveryStatus,
    mailing::{MailingStatus, Periodicity},
    user::Role,
};
use migration::MigratorTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    EntityTrait, ModelTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};

/// An attempt's reason in our own words, as `i18n::stored` writes it.
const REASON: &str = r#"{"id":"delivery-reason-gave-up","values":{"count":"3"}}"#;

/// On an already-migrated, empty database: one row per table through the entities, read back
/// field by field; the unique keys and the foreign-key actions of the migrations.
pub async fn roundtrip_all(db: &DatabaseConnection) -> anyhow::Result<()> {
    // Microseconds: what PostgreSQL keeps (SQLite keeps whatever text sea-orm writes).
    let now = Utc::now().trunc_subsecs(6);
    let later = now + Duration::days(7);

    // users: every optional column filled except one, the enum a non-default variant.
    let u = user::ActiveModel {
        id: NotSet,
        email: Set("owner@example.com".into()),
        password_hash: Set("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        phone: Set(Some("+7 900 000-00-00".into())),
        avatar: Set(None),
        role: Set(Role::ContentManager),
        is_verified: Set(true),
        is_active: Set(false),
        sessions_valid_after: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        last_login: Set(None),
        sender_name: Set("Shop".into()),
        reply_to: Set(Some("help@example.com".into())),
        postal_address: Set(String::new()),
        language: Set(Some("ru".into())),
        timezone: Set("Europe/Berlin".into()),
    }
    .insert(db)
    .await?;
    let found = user::Entity::find_by_id(u.id).one(db).await?.expect("user");
    assert_eq!(
        found,
        user::Model {
            id: u.id,
            email: "owner@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            phone: Some("+7 900 000-00-00".into()),
            avatar: None,
            role: Role::ContentManager,
            is_verified: true,
            is_active: false,
            sessions_valid_after: Some(now),
            created_at: now,
            updated_at: now,
            last_login: None,
            sender_name: "Shop".into(),
            reply_to: Some("help@example.com".into()),
            postal_address: String::new(),
            language: Some("ru".into()),
            timezone: "Europe/Berlin".into(),
        }
    );
    assert_eq!(found, u, "insert() returns what find_by_id() reads");
    // `unique` on email generates find_by_email.
    assert_eq!(
        user::Entity::find_by_email("owner@example.com")
            .one(db)
            .await?,
        Some(u.clone())
    );
    // The hash never reaches a template or an API response.
    let json = serde_json::to_value(&u)?;
    assert!(json.get("password_hash").is_none(), "{json}");
    assert_eq!(json["role"], "content_manager");

    // clients
    let c = client::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        email: Set("client@example.com".into()),
        full_name: Set("Ivan Petrov".into()),
        comment: Set(String::new()),
        attributes: Set(r#"{"plan":"gold"}"#.into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        client::Entity::find_by_id(c.id).one(db).await?,
        Some(client::Model {
            id: c.id,
            owner_id: u.id,
            email: "client@example.com".into(),
            full_name: "Ivan Petrov".into(),
            comment: String::new(),
            attributes: r#"{"plan":"gold"}"#.into(),
            created_at: now,
            updated_at: now,
        })
    );
    // uq_clients_owner_email
    let duplicate = client::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        email: Set("client@example.com".into()),
        full_name: Set("Someone else".into()),
        comment: Set("dup".into()),
        attributes: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    assert!(
        duplicate.is_err(),
        "same (owner_id, email) twice: {duplicate:?}"
    );
    assert_eq!(
        client::Entity::find_by_owner_email((u.id, "client@example.com".to_owned()))
            .one(db)
            .await?
            .map(|c| c.id),
        Some(c.id)
    );

    // messages
    let m = message::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        subject: Set("Hello".into()),
        body: Set("Dear {{ full_name }},\n\nlong text…".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        message::Entity::find_by_id(m.id).one(db).await?,
        Some(message::Model {
            id: m.id,
            owner_id: u.id,
            subject: "Hello".into(),
            body: "Dear {{ full_name }},\n\nlong text…".into(),
            created_at: now,
            updated_at: now,
        })
    );

    // mailings
    let ml = mailing::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        name: Set("Weekly".into()),
        message_id: Set(m.id),
        start_at: Set(now),
        end_at: Set(later),
        periodicity: Set(Periodicity::Weekly),
        status: Set(MailingStatus::Running),
        is_enabled: Set(true),
        next_run_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        mailing::Entity::find_by_id(ml.id).one(db).await?,
        Some(mailing::Model {
            id: ml.id,
            owner_id: u.id,
            name: "Weekly".into(),
            message_id: m.id,
            start_at: now,
            end_at: later,
            periodicity: Periodicity::Weekly,
            status: MailingStatus::Running,
            is_enabled: true,
            next_run_at: None,
            created_at: now,
            updated_at: now,
        })
    );

    // mailing_clients (composite key)
    let mc = mailing_client::ActiveModel {
        mailing_id: Set(ml.id),
        client_id: Set(c.id),
    }
    .insert(db)
    .await?;
    assert_eq!(
        mailing_client::Entity::find_by_id((ml.id, c.id))
            .one(db)
            .await?,
        Some(mailing_client::Model {
            mailing_id: ml.id,
            client_id: c.id
        })
    );
    assert_eq!(mc.mailing_id, ml.id);

    // tags (unique per owner), client_tags and mailing_tags (composite keys).
    let t = tag::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        name: Set("customers".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let same_name = tag::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        name: Set("customers".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await;
    assert!(same_name.is_err(), "uq_tags_owner_name");
    client_tag::ActiveModel {
        client_id: Set(c.id),
        tag_id: Set(t.id),
    }
    .insert(db)
    .await?;
    mailing_tag::ActiveModel {
        mailing_id: Set(ml.id),
        tag_id: Set(t.id),
    }
    .insert(db)
    .await?;
    assert_eq!(
        client_tag::Entity::find_by_id((c.id, t.id)).one(db).await?,
        Some(client_tag::Model {
            client_id: c.id,
            tag_id: t.id
        })
    );
    assert_eq!(mailing_tag::Entity::find().count(db).await?, 1);

    // Relations: a user's mailings, a mailing's clients (many-to-many via mailing_clients).
    assert_eq!(
        u.find_related(mailing::Entity).all(db).await?,
        vec![ml.clone()]
    );
    assert_eq!(
        ml.find_related(client::Entity).all(db).await?,
        vec![c.clone()]
    );
    assert_eq!(
        c.find_related(mailing::Entity).all(db).await?,
        vec![ml.clone()]
    );
    let loaded = user::Entity::load()
        .filter(user::Column::Id.eq(u.id))
        .with(mailing::Entity)
        .one(db)
        .await?
        .expect("user with mailings");
    assert_eq!(loaded.mailings.len(), 1);
    assert_eq!(loaded.mailings[0].id, ml.id);

    // deliveries
    let d = delivery::ActiveModel {
        id: NotSet,
        mailing_id: Set(ml.id),
        client_id: Set(c.id),
        occurrence_at: Set(now),
        status: Set(DeliveryStatus::Failed),
        tries: Set(3),
        claimed_until: Set(Some(later)),
        next_try_at: Set(None),
        message_id_header: Set("<1.1.0@mailer.example>".into()),
        last_error: Set(Some("550 mailbox unavailable".into())),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        delivery::Entity::find_by_id(d.id).one(db).await?,
        Some(delivery::Model {
            id: d.id,
            mailing_id: ml.id,
            client_id: c.id,
            occurrence_at: now,
            status: DeliveryStatus::Failed,
            tries: 3,
            claimed_until: Some(later),
            next_try_at: None,
            message_id_header: "<1.1.0@mailer.example>".into(),
            last_error: Some("550 mailbox unavailable".into()),
            sent_at: None,
            created_at: now,
            updated_at: now,
        })
    );
    // uq_deliveries_mailing_client_occurrence
    let duplicate = delivery::ActiveModel {
        id: NotSet,
        mailing_id: Set(ml.id),
        client_id: Set(c.id),
        occurrence_at: Set(now),
        status: Set(DeliveryStatus::Pending),
        tries: Set(0),
        claimed_until: Set(None),
        next_try_at: Set(None),
        message_id_header: Set("<other@mailer.example>".into()),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    assert!(duplicate.is_err(), "same occurrence twice: {duplicate:?}");

    // attempts
    let a = attempt::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        mailing_id: Set(ml.id),
        message_id: Set(Some(m.id)),
        client_id: Set(Some(c.id)),
        delivery_id: Set(Some(d.id)),
        recipient: Set("client@example.com".into()),
        occurrence_at: Set(now),
        attempted_at: Set(later),
        status: Set(AttemptStatus::Failure),
        smtp_code: Set(Some(550)),
        response: Set(None),
        reason: Set(Some(REASON.into())),
    }
    .insert(db)
    .await?;
    assert_eq!(
        attempt::Entity::find_by_id(a.id).one(db).await?,
        Some(attempt::Model {
            id: a.id,
            owner_id: u.id,
            mailing_id: ml.id,
            message_id: Some(m.id),
            client_id: Some(c.id),
            delivery_id: Some(d.id),
            recipient: "client@example.com".into(),
            occurrence_at: now,
            attempted_at: later,
            status: AttemptStatus::Failure,
            smtp_code: Some(550),
            response: None,
            reason: Some(REASON.into()),
        })
    );

    // posts
    let p = post::ActiveModel {
        id: NotSet,
        author_id: Set(Some(u.id)),
        title: Set("Launch".into()),
        slug: Set("launch".into()),
        body: Set("We are live.".into()),
        image: Set(None),
        view_count: Set(5_000_000_000),
        is_published: Set(true),
        published_at: Set(Some(later)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        post::Entity::find_by_id(p.id).one(db).await?,
        Some(post::Model {
            id: p.id,
            author_id: Some(u.id),
            title: "Launch".into(),
            slug: "launch".into(),
            body: "We are live.".into(),
            image: None,
            view_count: 5_000_000_000,
            is_published: true,
            published_at: Some(later),
            created_at: now,
            updated_at: now,
        })
    );

    // admin_log
    let l = admin_log::ActiveModel {
        id: NotSet,
        actor_id: Set(Some(u.id)),
        actor_email: Set("owner@example.com".into()),
        action: Set("change".into()),
        model: Set("users".into()),
        object_id: Set(u.id.to_string()),
        object_repr: Set("owner@example.com".into()),
        changes: Set(r#"{"role":["user","content_manager"]}"#.into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        admin_log::Entity::find_by_id(l.id).one(db).await?,
        Some(admin_log::Model {
            id: l.id,
            actor_id: Some(u.id),
            actor_email: "owner@example.com".into(),
            action: "change".into(),
            model: "users".into(),
            object_id: u.id.to_string(),
            object_repr: "owner@example.com".into(),
            changes: r#"{"role":["user","content_manager"]}"#.into(),
            created_at: now,
        })
    );

    // api_tokens
    let t = api_token::ActiveModel {
        id: NotSet,
        user_id: Set(u.id),
        name: Set("CI".into()),
        prefix: Set("mlr_abcd".into()),
        token_hash: Set("0".repeat(64)),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    assert_eq!(
        api_token::Entity::find_by_id(t.id).one(db).await?,
        Some(api_token::Model {
            id: t.id,
            user_id: u.id,
            name: "CI".into(),
            prefix: "mlr_abcd".into(),
            token_hash: "0".repeat(64),
            created_at: now,
            last_used_at: None,
        })
    );

    // ON DELETE SET NULL: the log survives its delivery.
    delivery::Entity::delete_by_id(d.id).exec(db).await?;
    let a2 = attempt::Entity::find_by_id(a.id)
        .one(db)
        .await?
        .expect("attempt");
    assert_eq!(a2.delivery_id, None);
    assert_eq!(a2.client_id, Some(c.id));

    // A deleted client or message leaves the log with a NULL reference (on PostgreSQL a
    // trigger does it, see migration m20261206_000012).
    let c2 = client::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        email: Set("gone@example.com".into()),
        full_name: Set("Gone".into()),
        comment: Set(String::new()),
        attributes: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let m2 = message::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        subject: Set("Old".into()),
        body: Set("Sent before the mailing changed its message".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let a3 = attempt::ActiveModel {
        id: NotSet,
        owner_id: Set(u.id),
        mailing_id: Set(ml.id),
        message_id: Set(Some(m2.id)),
        client_id: Set(Some(c2.id)),
        delivery_id: Set(None),
        recipient: Set("gone@example.com".into()),
        occurrence_at: Set(now),
        attempted_at: Set(later),
        status: Set(AttemptStatus::Success),
        smtp_code: Set(Some(250)),
        response: Set(None),
        reason: Set(None),
    }
    .insert(db)
    .await?;
    client::Entity::delete_by_id(c2.id).exec(db).await?;
    message::Entity::delete_by_id(m2.id).exec(db).await?;
    let a3 = attempt::Entity::find_by_id(a3.id)
        .one(db)
        .await?
        .expect("the attempt outlives its client and message");
    assert_eq!((a3.client_id, a3.message_id), (None, None));
    assert_eq!(a3.recipient, "gone@example.com");

    // ON DELETE RESTRICT: a message used by a mailing stays.
    let restricted = message::Entity::delete_by_id(m.id).exec(db).await;
    assert!(
        restricted.is_err(),
        "message in use was deleted: {restricted:?}"
    );
    assert!(message::Entity::find_by_id(m.id).one(db).await?.is_some());

    // Deleting the mailing takes its junction rows and attempts with it.
    mailing::Entity::delete_by_id(ml.id).exec(db).await?;
    assert_eq!(mailing_client::Entity::find().count(db).await?, 0);
    assert_eq!(mailing_tag::Entity::find().count(db).await?, 0);
    assert_eq!(client_tag::Entity::find().count(db).await?, 1);
    assert_eq!(attempt::Entity::find().count(db).await?, 0);
    assert!(client::Entity::find_by_id(c.id).one(db).await?.is_some());

    // Deleting the user cascades to what they own and detaches what must outlive them.
    user::Entity::delete_by_id(u.id).exec(db).await?;
    assert_eq!(client::Entity::find().count(db).await?, 0);
    assert_eq!(message::Entity::find().count(db).await?, 0);
    assert_eq!(api_token::Entity::find().count(db).await?, 0);
    assert_eq!(tag::Entity::find().count(db).await?, 0);
    assert_eq!(client_tag::Entity::find().count(db).await?, 0);
    let p2 = post::Entity::find_by_id(p.id).one(db).await?.expect("post");
    assert_eq!(p2.author_id, None);
    let l2 = admin_log::Entity::find_by_id(l.id)
        .one(db)
        .await?
        .expect("log");
    assert_eq!(l2.actor_id, None);
    assert_eq!(l2.actor_email, "owner@example.com");

    Ok(())
}

#[tokio::test]
async fn entities_roundtrip_sqlite() -> anyhow::Result<()> {
    // One connection: each connection to `sqlite::memory:` is a database of its own, and
    // `PRAGMA foreign_keys` is per connection.
    let mut options = ConnectOptions::new("sqlite::memory:");
    options
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None::<std::time::Duration>)
        .max_lifetime(None::<std::time::Duration>)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    migration::Migrator::up(&db, None).await?;
    roundtrip_all(&db).await
}
