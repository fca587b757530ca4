//! The suppression list: who unsubscribed, bounced or complained, by owner and address;
//! and the feedback log of every such event, which the reports count.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::Recipient;
use crate::entities::feedback::{self, Kind};
use crate::entities::suppression::{self, Reason};
use crate::entities::{client, delivery, mailing};

/// One thing a recipient or their server said back about an address of `owner_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub owner_id: i32,
    pub email: String,
    pub kind: Kind,
    /// The delivery it answers, when known (a VERP bounce, a report naming it): one event
    /// per delivery and kind, however often it is reported.
    pub delivery_id: Option<i64>,
    /// The mailing whose e-mail it answers, when known (looked up from the delivery when
    /// only that is given).
    pub mailing_id: Option<i32>,
    /// What the server or report said, for the owner to read.
    pub detail: Option<String>,
}

/// Records `fb` in the feedback log and applies it to the suppression list: an
/// unsubscribe, a bounce or a complaint suppresses the address; a resubscribe lifts the
/// recipient's own unsubscribe; a soft bounce only counts (see [`soft_bounces`]).
/// Returns false when the event was on record already (the same delivery reported twice),
/// in which case nothing changes.
pub async fn record<C: ConnectionTrait>(db: &C, fb: Feedback) -> Result<bool, DbErr> {
    let email = fb.email.to_lowercase();
    let mut mailing_id = fb.mailing_id;
    if let (None, Some(id)) = (mailing_id, fb.delivery_id) {
        mailing_id = delivery::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.mailing_id);
    }
    let (mailing_id, message_id) = match mailing_id {
        Some(id) => match mailing::Entity::find_by_id(id)
            .filter(mailing::Column::OwnerId.eq(fb.owner_id))
            .one(db)
            .await?
        {
            Some(m) => (Some(m.id), Some(m.message_id)),
            None => (None, None),
        },
        None => (None, None),
    };
    let row = feedback::ActiveModel {
        owner_id: Set(fb.owner_id),
        email: Set(email.clone()),
        kind: Set(fb.kind),
        mailing_id: Set(mailing_id),
        message_id: Set(message_id),
        delivery_id: Set(fb.delivery_id),
        detail: Set(fb.detail.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let inserted = feedback::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([feedback::Column::DeliveryId, feedback::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let reason = match fb.kind {
        Kind::Unsubscribed => Some(Reason::Unsubscribed),
        Kind::Bounced => Some(Reason::Bounced),
        Kind::Complained => Some(Reason::Complained),
        Kind::SoftBounced => None,
        Kind::Resubscribed => {
            suppression::Entity::delete_many()
                .filter(suppression::Column::OwnerId.eq(fb.owner_id))
                .filter(suppression::Column::Email.eq(email.clone()))
                .filter(suppression::Column::Reason.eq(Reason::Unsubscribed))
                .exec(db)
                .await?;
            None
        }
    };
    if let Some(reason) = reason {
        suppress(db, fb.owner_id, &email, reason, fb.detail).await?;
    }
    Ok(true)
}

/// How many soft bounces `owner_id` has on record for `email`.
pub async fn soft_bounces<C: ConnectionTrait>(
    db: &C,
    owner_id: i32,
    email: &str,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    feedback::Entity::find()
        .filter(feedback::Column::OwnerId.eq(owner_id))
        .filter(feedback::Column::Email.eq(email.to_lowercase()))
        .filter(feedback::Column::Kind.eq(Kind::SoftBounced))
        .count(db)
        .await
}

/// Where a link's recipient stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub email: String,
    /// Why the address is suppressed, if it is.
    pub suppressed: Option<Reason>,
}

/// The client a link names and whether its address is suppressed; `None` when the client
/// is gone (deleted by its owner: nobody mails it any more).
pub async fn standing<C: ConnectionTrait>(
    db: &C,
    who: Recipient,
) -> Result<Option<Standing>, DbErr> {
    let Some(client) = client::Entity::find_by_id(who.client_id)
        .filter(client::Column::OwnerId.eq(who.owner_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let email = client.email.to_lowercase();
    let suppressed = suppression::Entity::find()
        .filter(suppression::Column::OwnerId.eq(who.owner_id))
        .filter(suppression::Column::Email.eq(email.clone()))
        .one(db)
        .await?
        .map(|s| s.reason);
    Ok(Some(Standing {
        email: client.email,
        suppressed,
    }))
}

/// Puts `email` on `owner_id`'s suppression list for `reason`, unless it is there already
/// (the first reason stays). Idempotent; true when it was added now.
pub async fn suppress<C: ConnectionTrait>(
    db: &C,
    owner_id: i32,
    email: &str,
    reason: Reason,
    detail: Option<String>,
) -> Result<bool, DbErr> {
    let row = suppression::ActiveModel {
        owner_id: Set(owner_id),
        email: Set(email.to_lowercase()),
        reason: Set(reason),
        detail: Set(detail),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    suppression::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([suppression::Column::Email, suppression::Column::OwnerId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|n| n > 0)
}

/// The recipient of a link unsubscribes. Returns where they stand now (`None`: the client
/// is gone, there is nothing to unsubscribe from).
pub async fn unsubscribe<C: ConnectionTrait>(
    db: &C,
    who: Recipient,
) -> Result<Option<Standing>, DbErr> {
    let Some(now) = standing(db, who).await? else {
        return Ok(None);
    };
    if now.suppressed.is_none() {
        record(db, by_recipient(who, &now.email, Kind::Unsubscribed)).await?;
    }
    standing(db, who).await
}

/// The recipient takes their unsubscribe back (only theirs: a bounce or a complaint stays,
/// and nobody else can lift an unsubscribe).
pub async fn resubscribe<C: ConnectionTrait>(
    db: &C,
    who: Recipient,
) -> Result<Option<Standing>, DbErr> {
    let Some(now) = standing(db, who).await? else {
        return Ok(None);
    };
    if now.suppressed == Some(Reason::Unsubscribed) {
        record(db, by_recipient(who, &now.email, Kind::Resubscribed)).await?;
    }
    standing(db, who).await
}

/// What the recipient of a link did, for the feedback log.
fn by_recipient(who: Recipient, email: &str, kind: Kind) -> Feedback {
    Feedback {
        owner_id: who.owner_id,
        email: email.to_owned(),
        kind,
        delivery_id: None,
        mailing_id: who.mailing_id,
        detail: None,
    }
}

/// Where an address stands with an owner, as the client list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Mailed as usual.
    Active,
    /// The recipient unsubscribed; only they can undo it.
    Unsubscribed,
    /// The address bounced (it does not exist, or failed again and again).
    Bounced,
    /// The recipient marked a message as spam.
    Complained,
    /// On the owner's own suppression list, or on the instance's.
    Listed,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Active,
        State::Unsubscribed,
        State::Bounced,
        State::Complained,
        State::Listed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Listed => "listed",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Unsubscribed => "Unsubscribed",
            Self::Bounced => "Bounced",
            Self::Complained => "Complained",
            Self::Listed => "Suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    fn reason(self) -> Option<Reason> {
        match self {
            Self::Active => None,
            Self::Unsubscribed => Some(Reason::Unsubscribed),
            Self::Bounced => Some(Reason::Bounced),
            Self::Complained => Some(Reason::Complained),
            Self::Listed => Some(Reason::Listed),
        }
    }
}

impl From<Reason> for State {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Unsubscribed => Self::Unsubscribed,
            Reason::Bounced => Self::Bounced,
            Reason::Complained => Self::Complained,
            Reason::Listed => Self::Listed,
        }
    }
}

/// An address's state and since when (None for active addresses).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddressState {
    pub state: State,
    pub since: Option<chrono::DateTime<Utc>>,
    /// Suppressed by the instance's list (kept by the managers), not the owner's.
    pub global: bool,
}

impl AddressState {
    pub const ACTIVE: AddressState = AddressState {
        state: State::Active,
        since: None,
        global: false,
    };
}

/// Where each of `emails` stands with `owner_id`, keyed by the lower-cased address: the
/// owner's list decides first, then the instance's; an address on neither is active.
pub async fn states<C: ConnectionTrait>(
    db: &C,
    owner_id: i32,
    emails: &[&str],
) -> Result<std::collections::HashMap<String, AddressState>, DbErr> {
    use crate::entities::global_suppression;
    let lower: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    let mut found: std::collections::HashMap<String, AddressState> = lower
        .iter()
        .map(|e| (e.clone(), AddressState::ACTIVE))
        .collect();
    for chunk in lower.chunks(500) {
        for g in global_suppression::Entity::find()
            .filter(global_suppression::Column::Email.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            found.insert(
                g.email,
                AddressState {
                    state: State::Listed,
                    since: Some(g.created_at),
                    global: true,
                },
            );
        }
        for s in suppression::Entity::find()
            .filter(suppression::Column::OwnerId.eq(owner_id))
            .filter(suppression::Column::Email.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            found.insert(
                s.email,
                AddressState {
                    state: s.reason.into(),
                    since: Some(s.created_at),
                    global: false,
                },
            );
        }
    }
    Ok(found)
}

/// The condition "the address of `clients` (the table or its alias) is on its owner's
/// suppression list" — for `reason` only, when given.
pub fn listed_by_owner(clients: &Alias, reason: Option<Reason>) -> SimpleExpr {
    let s = Alias::new("consent_s");
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(suppression::Entity, s.clone())
        .and_where(
            Expr::col((s.clone(), suppression::Column::Email)).eq(Func::lower(Expr::col((
                clients.clone(),
                client::Column::Email,
            )))),
        )
        .and_where(
            Expr::col((s.clone(), suppression::Column::OwnerId))
                .equals((clients.clone(), client::Column::OwnerId)),
        );
    if let Some(reason) = reason {
        q.and_where(Expr::col((s, suppression::Column::Reason)).eq(reason.as_str()));
    }
    Expr::exists(q.to_owned())
}

/// The condition "the address of `clients` (the table or its alias) is on the instance's
/// global list".
pub fn listed_globally(clients: &Alias) -> SimpleExpr {
    use crate::entities::global_suppression;
    let g = Alias::new("consent_g");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(global_suppression::Entity, g.clone())
            .and_where(
                Expr::col((g, global_suppression::Column::Email)).eq(Func::lower(Expr::col((
                    clients.clone(),
                    client::Column::Email,
                )))),
            )
            .to_owned(),
    )
}

/// The condition on the `clients` table: the client's address is in `state`, as
/// [`states`] decides it.
pub fn in_state(state: State) -> SimpleExpr {
    let clients = Alias::new("clients");
    let own = listed_by_owner(&clients, None);
    let global = listed_globally(&clients);
    match state {
        State::Active => own.not().and(global.not()),
        State::Listed => listed_by_owner(&clients, Some(Reason::Listed)).or(own.not().and(global)),
        other => listed_by_owner(&clients, other.reason()),
    }
}
