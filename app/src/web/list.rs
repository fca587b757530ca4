//! List pages: the query string every list understands (`q`, `sort`, `dir`, `page`) and
//! one page of results with what the pager needs.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};
use serde::{Deserialize, Serialize};

pub const PER_PAGE: u64 = 20;

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
}

impl ListQuery {
    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }

    /// `%term%` for a case-insensitive LIKE on a lower-cased column; `None` when empty.
    pub fn like_pattern(&self) -> Option<String> {
        let q = self.q.trim().to_lowercase();
        if q.is_empty() {
            return None;
        }
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        Some(format!("%{escaped}%"))
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
    let total = select.clone().count(db).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let items = select
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    Ok(Paginated {
        items,
        page,
        pages,
        total,
        per_page: PER_PAGE,
    })
}
