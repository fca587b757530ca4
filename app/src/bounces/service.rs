//! Applying what bounce mail says: find the delivery it is about, record the bounce or
//! complaint in the feedback log (which suppresses the address), count soft bounces.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::parse::{self, Event, Notice, ParseError};
use super::{Addresses, Named};
use crate::consent::service::{self as consent, Feedback};
use crate::entities::feedback::Kind;
use crate::entities::{client, delivery, mailing};

/// What became of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A bounce or complaint about this delivery, recorded (`new`: for the first time; a
    /// report that arrives twice counts once).
    Recorded {
        delivery_id: i64,
        kind: Kind,
        email: String,
        new: bool,
    },
    /// A mail to a recipient's unsubscribe address: they are unsubscribed (or were).
    Unsubscribed { owner_id: i32, client_id: i32 },
    /// A report that asks nothing of us (delivered, relayed, not-spam), or an unsubscribe
    /// of a client since deleted.
    Nothing,
}

/// Why an inbound message could not be used: it is kept for a person to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("cannot parse: {0}")]
    Parse(#[from] ParseError),
    #[error("neither a bounce, a complaint nor an unsubscribe request")]
    NotAReport,
    #[error("a report, but of no delivery of ours (no valid VERP address or Message-ID)")]
    NoDelivery,
}

/// Parses `raw` and applies it. `Err` only for a database error (try the message again
/// later); what cannot be used is `Ok(Err(..))`.
pub async fn handle<C: ConnectionTrait>(
    db: &C,
    addresses: &Addresses,
    soft_limit: u32,
    raw: &[u8],
) -> Result<Result<Applied, Unusable>, DbErr> {
    let notice = match parse::parse(raw) {
        Ok(notice) => notice,
        Err(e) => return Ok(Err(e.into())),
    };
    apply(db, addresses, soft_limit, &notice).await
}

/// Applies a parsed notice (see [`handle`]).
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    addresses: &Addresses,
    soft_limit: u32,
    notice: &Notice,
) -> Result<Result<Applied, Unusable>, DbErr> {
    let named: Vec<Named> = notice
        .addresses
        .iter()
        .filter_map(|a| addresses.read(a))
        .collect();
    if !notice.is_report {
        let who = named.iter().find_map(|n| match n {
            Named::Unsubscribe(who) => Some(*who),
            Named::Delivery(_) => None,
        });
        return Ok(match who {
            Some(who) => Ok(match consent::unsubscribe(db, who).await? {
                Some(_) => Applied::Unsubscribed {
                    owner_id: who.owner_id,
                    client_id: who.client_id,
                },
                None => Applied::Nothing,
            }),
            None => Err(Unusable::NotAReport),
        });
    }
    let Some(row) = delivery_of(db, &named, &notice.message_ids).await? else {
        return Ok(if notice.events.is_empty() {
            Ok(Applied::Nothing)
        } else {
            Err(Unusable::NoDelivery)
        });
    };
    let Some(event) = strongest(&notice.events) else {
        return Ok(Ok(Applied::Nothing));
    };
    let Some(mailing) = mailing::Entity::find_by_id(row.mailing_id).one(db).await? else {
        return Ok(Err(Unusable::NoDelivery));
    };
    let email = match client::Entity::find_by_id(row.client_id).one(db).await? {
        Some(client) => client.email,
        None => match &event.recipient {
            Some(r) => r.clone(),
            None => return Ok(Err(Unusable::NoDelivery)),
        },
    };
    let fb = Feedback {
        owner_id: mailing.owner_id,
        email: email.clone(),
        kind: event.kind,
        delivery_id: Some(row.id),
        mailing_id: Some(mailing.id),
        detail: Some(event.detail.clone()),
    };
    let new = record_bounce(db, fb, soft_limit).await?;
    Ok(Ok(Applied::Recorded {
        delivery_id: row.id,
        kind: event.kind,
        email: email.to_lowercase(),
        new,
    }))
}

/// The delivery a notice is about: by its VERP address, else by the original Message-ID.
async fn delivery_of<C: ConnectionTrait>(
    db: &C,
    named: &[Named],
    message_ids: &[String],
) -> Result<Option<delivery::Model>, DbErr> {
    for n in named {
        if let Named::Delivery(id) = n
            && let Some(row) = delivery::Entity::find_by_id(*id).one(db).await?
        {
            return Ok(Some(row));
        }
    }
    if message_ids.is_empty() {
        return Ok(None);
    }
    let ids = message_ids
        .iter()
        .flat_map(|m| [format!("<{m}>"), m.clone()])
        .take(20);
    delivery::Entity::find()
        .filter(delivery::Column::MessageIdHeader.is_in(ids))
        .one(db)
        .await
}

/// The event that weighs most: a complaint, then a hard bounce, then a soft one.
fn strongest(events: &[Event]) -> Option<&Event> {
    let weight = |k: Kind| match k {
        Kind::Complained => 3,
        Kind::Bounced => 2,
        _ => 1,
    };
    events.iter().max_by_key(|e| weight(e.kind))
}

/// Records a bounce or complaint (see `consent::service::record`); a new soft bounce that
/// makes `soft_limit` for its address suppresses it as bounced, saying why. Returns
/// whether the event was new.
pub async fn record_bounce<C: ConnectionTrait>(
    db: &C,
    fb: Feedback,
    soft_limit: u32,
) -> Result<bool, DbErr> {
    let soft = fb.kind == Kind::SoftBounced;
    let hard = Feedback {
        kind: Kind::Bounced,
        ..fb.clone()
    };
    let new = consent::record(db, fb).await?;
    if new && soft {
        let count = consent::soft_bounces(db, hard.owner_id, &hard.email).await?;
        if count >= u64::from(soft_limit) {
            let why = format!(
                "{count} soft bounces (the limit is {soft_limit}); the last: {}",
                hard.detail.as_deref().unwrap_or("no detail")
            );
            consent::record(
                db,
                Feedback {
                    detail: Some(why),
                    ..hard
                },
            )
            .await?;
        }
    }
    Ok(new)
}
