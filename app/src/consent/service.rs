//! The suppression list: who unsubscribed, bounced or complained, by owner and address.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::Recipient;
use crate::entities::client;
use crate::entities::suppression::{self, Reason};

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
/// (the first reason stays). Idempotent.
pub async fn suppress<C: ConnectionTrait>(
    db: &C,
    owner_id: i32,
    email: &str,
    reason: Reason,
    detail: Option<String>,
) -> Result<(), DbErr> {
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
        .await?;
    Ok(())
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
        suppress(db, who.owner_id, &now.email, Reason::Unsubscribed, None).await?;
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
    suppression::Entity::delete_many()
        .filter(suppression::Column::OwnerId.eq(who.owner_id))
        .filter(suppression::Column::Email.eq(now.email.to_lowercase()))
        .filter(suppression::Column::Reason.eq(Reason::Unsubscribed))
        .exec(db)
        .await?;
    standing(db, who).await
}
