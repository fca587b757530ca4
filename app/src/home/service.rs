//! The home page's numbers, counted over every user's mailings.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::blog::service::{self as blog, Summary};
use crate::delivery::fanout;
use crate::entities::mailing::MailingStatus;
use crate::entities::{client, mailing};

/// Published posts drawn per computation; each view shows three of them.
const POST_POOL: u64 = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub mailings: u64,
    /// Enabled, inside [start, end) now, and not done yet: the mailings shown "running".
    pub active_mailings: u64,
    /// Different e-mail addresses among the clients of all mailings.
    pub unique_clients: u64,
    /// Random published posts to pick the shown ones from.
    pub posts: Vec<Summary>,
}

pub async fn home_data<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<HomeData, DbErr> {
    let mailings = mailing::Entity::find().count(db).await?;
    let active_mailings = mailing::Entity::find()
        .filter(mailing::Column::IsEnabled.eq(true))
        .filter(mailing::Column::StartAt.lte(now))
        .filter(mailing::Column::EndAt.gt(now))
        // Nothing left to send (the scheduler's tick said so, and cleared this cache).
        .filter(mailing::Column::Status.ne(MailingStatus::Finished))
        .count(db)
        .await?;
    // Picked by hand, or carrying a tag some mailing targets.
    let picked = fanout::picked_clients();
    let tagged = fanout::tagged_clients();
    // Addresses are stored lower-cased, so equal addresses are equal strings.
    let unique_clients = client::Entity::find()
        .select_only()
        .column_as(Expr::cust(r#"COUNT(DISTINCT "clients"."email")"#), "n")
        .filter(
            Condition::any()
                .add(client::Column::Id.in_subquery(picked))
                .add(client::Column::Id.in_subquery(tagged)),
        )
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    Ok(HomeData {
        mailings,
        active_mailings,
        unique_clients: u64::try_from(unique_clients).unwrap_or(0),
        posts: blog::random(db, POST_POOL, now).await?,
    })
}

/// The next moment the data changes by the clock alone: an enabled mailing starts or
/// ends, or a scheduled post appears.
pub async fn next_change<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let mut next = blog::next_publication(db, now).await?;
    for column in [mailing::Column::StartAt, mailing::Column::EndAt] {
        let t = mailing::Entity::find()
            .select_only()
            .column(column)
            .filter(mailing::Column::IsEnabled.eq(true))
            .filter(column.gt(now))
            .order_by_asc(column)
            .into_tuple::<DateTime<Utc>>()
            .one(db)
            .await?;
        next = match (next, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(next)
}
