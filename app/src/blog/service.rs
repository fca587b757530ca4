//! What the public sees of the blog: published posts whose publication time has come.
//! Drafts (`is_published = false`) and scheduled posts (`published_at` in the future) are
//! invisible to every finder here.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use crate::entities::post;
use crate::markdown;

/// Posts per page of the blog list.
pub const PER_PAGE: u64 = 10;
/// Characters of a post's text shown in lists and cards.
const EXCERPT_CHARS: usize = 220;

/// Posts visible at `now`.
pub fn published(now: DateTime<Utc>) -> Select<post::Entity> {
    post::Entity::find()
        .filter(post::Column::IsPublished.eq(true))
        .filter(post::Column::PublishedAt.lte(now))
}

/// A post in a list or on a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: i32,
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub image: Option<String>,
    pub published_at: DateTime<Utc>,
    /// "25 Nov 2026" (pages write `published_at|date`, in the viewer's zone and language).
    pub published_on: String,
}

impl Summary {
    fn of(post: &post::Model) -> Self {
        Self {
            id: post.id,
            title: post.title.clone(),
            slug: post.slug.clone(),
            excerpt: markdown::excerpt(&post.body, EXCERPT_CHARS),
            image: post.image.as_deref().and_then(image_name),
            published_at: published_at(post),
            published_on: day(published_at(post)),
        }
    }
}

fn published_at(post: &post::Model) -> DateTime<Utc> {
    post.published_at.unwrap_or(post.created_at)
}

fn day(at: DateTime<Utc>) -> String {
    crate::timezone::format_date(at.date_naive(), crate::i18n::Lang::En)
}

/// A post page's content; `view_count` is the database's (views not yet flushed come on top).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: i32,
    pub title: String,
    pub slug: String,
    pub body_html: String,
    pub image: Option<String>,
    pub published_at: DateTime<Utc>,
    pub published_on: String,
    pub view_count: i64,
}

/// One page of the list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub items: Vec<Summary>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

/// Page `page` of the published posts, or `None` past the last page (page 1 always exists).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    page: u64,
    now: DateTime<Utc>,
) -> Result<Option<ListPage>, DbErr> {
    let total = published(now).count(db).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    if page == 0 || page > pages {
        return Ok(None);
    }
    let posts = published(now)
        .order_by_desc(post::Column::PublishedAt)
        .order_by_desc(post::Column::Id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    Ok(Some(ListPage {
        items: posts.iter().map(Summary::of).collect(),
        page,
        pages,
        total,
    }))
}

/// The published post at `slug`, rendered.
pub async fn article<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    now: DateTime<Utc>,
) -> Result<Option<Article>, DbErr> {
    let post = published(now)
        .filter(post::Column::Slug.eq(slug))
        .one(db)
        .await?;
    Ok(post.map(|p| Article {
        id: p.id,
        title: p.title.clone(),
        slug: p.slug.clone(),
        body_html: markdown::to_html(&p.body),
        image: p.image.as_deref().and_then(image_name),
        published_at: published_at(&p),
        published_on: day(published_at(&p)),
        view_count: p.view_count,
    }))
}

/// Up to `n` published posts in random order.
pub async fn random<C: ConnectionTrait>(
    db: &C,
    n: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Summary>, DbErr> {
    let posts = published(now)
        .order_by_asc(Expr::cust("RANDOM()"))
        .limit(n)
        .all(db)
        .await?;
    Ok(posts.iter().map(Summary::of).collect())
}

/// When the next scheduled post appears: cached pages must not outlive that moment.
pub async fn next_publication<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    post::Entity::find()
        .select_only()
        .column(post::Column::PublishedAt)
        .filter(post::Column::IsPublished.eq(true))
        .filter(post::Column::PublishedAt.gt(now))
        .order_by_asc(post::Column::PublishedAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await
        .map(Option::flatten)
}

/// The file name of a post image (`posts.image` holds `name` or `posts/name`), when it is
/// one the admin stored and `/media/posts/` serves.
pub fn image_name(stored: &str) -> Option<String> {
    let name = stored.rsplit('/').next().unwrap_or(stored);
    crate::admin_site::images::is_valid_name(name).then(|| name.to_owned())
}
