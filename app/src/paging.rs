//! Lists in pages: the query every list understands (`q`, `sort`, `dir`, `page`, `status`,
//! and `tag` where the rows have tags)
//! and one page of results with what a pager needs. Services page with these; the site's
//! list pages and the JSON API render them each their own way.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};
use serde::{Deserialize, Serialize};

pub const PER_PAGE: u64 = 20;
/// The most rows one page may hold (the JSON API lets a client choose up to this).
pub const MAX_PER_PAGE: u64 = 100;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
    pub status: String,
    /// A tag name (the clients list); empty for none.
    #[serde(default)]
    pub tag: String,
}

impl ListQuery {
    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }

    /// A condition: any of `columns` contains the search, case-insensitively (None when the
    /// search is empty). The admin's search helper, so the site's lists and the admin match
    /// the same rows.
    pub fn search_condition<C>(&self, columns: &[C]) -> Option<sea_orm::Condition>
    where
        C: sea_orm::ColumnTrait,
    {
        admin::like_any(columns, &admin::like_patterns(&self.q))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub per_page: u64,
}

/// Runs `select` for one page (a page past the end shows the last one).
pub async fn paginate<E, C>(
    db: &C,
    select: Select<E>,
    page: u64,
) -> Result<Paginated<E::Model>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    paginate_sized(db, select, page, PER_PAGE).await
}

/// `paginate` with `per_page` rows a page (clamped to 1..=`MAX_PER_PAGE`).
///
/// The rows come first: a page that is not full is the last one, so its offset and rows
/// give the total, and the count (a pass over every matching row) is left out — a
/// search that finds a few rows, or the last page, reads the matches once, not twice.
pub async fn paginate_sized<E, C>(
    db: &C,
    select: Select<E>,
    page: u64,
    per_page: u64,
) -> Result<Paginated<E::Model>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let page = page.max(1);
    let items = rows(db, select.clone(), page, per_page).await?;
    let len = items.len() as u64;
    if len > 0 && len < per_page || len == 0 && page == 1 {
        let total = (page - 1) * per_page + len;
        return Ok(Paginated {
            items,
            page,
            pages: page,
            total,
            per_page,
        });
    }
    let total = select.clone().count(db).await?;
    let pages = total.div_ceil(per_page).max(1);
    // Past the end: the last page.
    let (page, items) = if page > pages {
        (pages, rows(db, select, pages, per_page).await?)
    } else {
        (page, items)
    };
    Ok(Paginated {
        items,
        page,
        pages,
        total,
        per_page,
    })
}

async fn rows<E, C>(
    db: &C,
    select: Select<E>,
    page: u64,
    per_page: u64,
) -> Result<Vec<E::Model>, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    select
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await
}
