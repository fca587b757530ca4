use poem::handler;

use crate::web::{AppError, Page};

#[handler]
pub async fn home() -> Result<Page, AppError> {
    Ok(Page::new("home/index.html", minijinja::context! {}))
}
