//! One delivery: claim the row with a lease, send, log the attempt, and mark the row sent
//! only after the server accepted it. A crash between the server's 250 and the mark is the
//! one window in which a client could get the same occurrence twice.

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, header::ContentType};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::Outbound;
use super::gate::Admission;
use super::transport::SendError;
use crate::entities::attempt::{self, AttemptStatus};
use crate::entities::delivery::{self, DeliveryStatus};
use crate::entities::{client, mailing, message};

/// How many tries a delivery gets, and how long a worker holds a claimed one.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tries: i32,
    /// Longer than a job may run (the job timeout cancels it before), so a lease that
    /// runs out means its holder is gone and another worker may take the row.
    pub lease: chrono::Duration,
}

impl Limits {
    pub fn from_config(config: &crate::config::WorkerConfig) -> Self {
        let timeout = i64::try_from(config.job_timeout_secs).unwrap_or(i64::MAX / 2);
        Self {
            max_tries: config.max_tries(),
            lease: chrono::Duration::seconds(timeout.saturating_add(5)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryTask {
    /// Create the deliveries of a mailing's due occurrence (just created, or enabled).
    FanOut { mailing_id: i32 },
    /// "Send now": an extra occurrence at this instant, to every client of the mailing.
    SendNow {
        mailing_id: i32,
        occurrence: DateTime<Utc>,
    },
    /// Send one delivery (a retry).
    Deliver { delivery_id: i64 },
    /// Send a batch of deliveries: a fan-out of 20,000 clients is 400 jobs, not 20,000
    /// (fewer queue round trips, and apalis-redis cannot promote more than ~8,000 due jobs
    /// at once: its fetch script unpacks them all onto Lua's stack).
    DeliverMany { delivery_ids: Vec<i64> },
}

#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Nothing to do: done already, or another worker holds it.
    Skipped,
    /// A transient failure; try again later (the row is free again). `tries` so far.
    Retry {
        error: SendError,
        tries: i32,
    },
    /// Failed for good (5xx, or out of tries).
    Failed(String),
    /// The SMTP server keeps failing and sending is paused: come back after this long.
    /// The row was not touched.
    Paused(std::time::Duration),
}

/// Takes the row if it is pending and nobody holds it; counts the try.
async fn claim(
    db: &DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool, sea_orm::DbErr> {
    let result = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(Some(now + lease)),
        )
        .col_expr(
            delivery::Column::Tries,
            sea_orm::sea_query::ExprTrait::add(Expr::col(delivery::Column::Tries), 1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The e-mail as bytes, with the delivery's Message-ID.
fn render(
    from: &Mailbox,
    to: &client::Model,
    message: &message::Model,
    message_id: &str,
) -> anyhow::Result<Vec<u8>> {
    let to = Mailbox::new(Some(to.full_name.clone()), to.email.parse()?);
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())?;
    Ok(email.formatted())
}

pub async fn deliver(
    db: &DatabaseConnection,
    outbound: &Outbound,
    from: &Mailbox,
    delivery_id: i64,
    limits: Limits,
) -> Result<Outcome, sea_orm::DbErr> {
    // Ask first: a paused delivery is neither claimed nor charged a try.
    let permit = match outbound.admit().await {
        Admission::Go(permit) => permit,
        Admission::Paused(wait) => return Ok(Outcome::Paused(wait)),
    };
    let now = Utc::now();
    if !claim(db, delivery_id, now, limits.lease).await? {
        return Ok(Outcome::Skipped);
    }
    // Two joined reads rather than four: at thousands of deliveries a second, round trips
    // are most of the cost.
    let Some((row, Some(client))) = delivery::Entity::find_by_id(delivery_id)
        .find_also_related(client::Entity)
        .one(db)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    let Some((mailing, message)) = mailing::Entity::find_by_id(row.mailing_id)
        .find_also_related(message::Entity)
        .one(db)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    let result = match &message {
        Some(message) => match render(from, &client, message, &row.message_id_header) {
            Ok(bytes) => match client.email.parse::<lettre::Address>() {
                Ok(to) => {
                    let result = outbound.send(from.email.clone(), to, bytes).await;
                    permit.record(&result);
                    result
                }
                Err(e) => Err(SendError::Permanent {
                    code: 0,
                    text: format!("bad address {}: {e}", client.email),
                }),
            },
            Err(e) => Err(SendError::Permanent {
                code: 0,
                text: format!("cannot build the e-mail: {e}"),
            }),
        },
        None => Err(SendError::Permanent {
            code: 0,
            text: "the message was deleted".into(),
        }),
    };
    let attempted_at = Utc::now();
    let (status, code, response) = match &result {
        Ok(reply) => (
            AttemptStatus::Success,
            Some(i32::from(reply.code)),
            reply.text.clone(),
        ),
        Err(e) => (
            AttemptStatus::Failure,
            e.code().map(i32::from),
            e.text().to_owned(),
        ),
    };
    // The attempt and the row's new state commit together.
    let txn = db.begin().await?;
    attempt::ActiveModel {
        owner_id: Set(mailing.owner_id),
        mailing_id: Set(mailing.id),
        message_id: Set(message.as_ref().map(|m| m.id)),
        client_id: Set(Some(client.id)),
        delivery_id: Set(Some(row.id)),
        recipient: Set(client.email.clone()),
        occurrence_at: Set(row.occurrence_at),
        attempted_at: Set(attempted_at),
        status: Set(status),
        smtp_code: Set(code),
        response: Set(Some(response.clone())),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let mut active: delivery::ActiveModel = row.clone().into();
    active.claimed_until = Set(None);
    active.updated_at = Set(attempted_at);
    let outcome = match result {
        Ok(_) => {
            active.status = Set(DeliveryStatus::Sent);
            active.sent_at = Set(Some(attempted_at));
            active.last_error = Set(None);
            Outcome::Sent
        }
        Err(e) if e.is_permanent() || row.tries >= limits.max_tries => {
            active.status = Set(DeliveryStatus::Failed);
            active.last_error = Set(Some(response.clone()));
            Outcome::Failed(response)
        }
        Err(e) => {
            active.last_error = Set(Some(response));
            active.next_try_at = Set(Some(attempted_at + retry_delay(row.tries)));
            Outcome::Retry {
                error: e,
                tries: row.tries,
            }
        }
    };
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// When the sweeper may pick a delivery up again if its job is lost: 2^tries seconds,
/// at most ten minutes (the job's own retry layer usually comes sooner).
fn retry_delay(tries: i32) -> chrono::Duration {
    chrono::Duration::seconds(2_i64.saturating_pow(tries.clamp(0, 10) as u32).min(600))
}
