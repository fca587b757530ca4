//! A mailing seen by staff in the admin: its recipients (folded on its page, the whole list
//! a page at a time) and its report, read only. Whoever may view mailings in the admin
//! (managers, superusers) may see these of every mailing; anyone else gets the admin's 403.

use admin::{ActionError, Perm};
use poem::web::{Data, Path, Query};
use poem::{Response, handler};
use sea_orm::EntityTrait;
use serde_json::{Value as Json, json};

use super::registry;
use super::routes::{actor, app_error, own_page};
use crate::accounts::session::AuthUser;
use crate::entities::mailing;
use crate::error::AppError;
use crate::mailings::{report as reports, service as mailings};
use crate::paging::PER_PAGE;
use crate::state::AppState;

/// The admin's name of the mailings model.
const MODEL: &str = "mailings";
/// Recipients named on a mailing's admin page; the rest are "and N more".
pub(crate) const RECIPIENTS_SHOWN: u64 = 20;

fn recipients_url(id: i32) -> String {
    format!("/admin/{MODEL}/{id}/recipients/")
}

fn report_url(id: i32) -> String {
    format!("/admin/{MODEL}/{id}/report/")
}

/// What a mailing's admin page adds to its fields: the first recipients, how many more,
/// and the links to all of them and to the report.
pub(crate) async fn change_context(
    state: &AppState,
    m: &mailing::Model,
) -> Result<Json, ActionError> {
    let first = mailings::recipients(&state.db, m.id, 1, RECIPIENTS_SHOWN).await?;
    Ok(json!({
        "recipients": first.items,
        "recipients_total": first.total,
        "recipients_more": first.total.saturating_sub(first.items.len() as u64),
        "recipients_url": recipients_url(m.id),
        "report_url": report_url(m.id),
    }))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

/// The mailing, for an actor who may view mailings in the admin (403 before any lookup
/// otherwise; 404 for no such mailing).
async fn viewable(
    state: &AppState,
    actor: &admin::Actor,
    id: i32,
) -> Result<mailing::Model, AppError> {
    registry()
        .require(actor, MODEL, &Perm::View)
        .map_err(app_error)?;
    mailing::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)
}

fn mailing_json(m: &mailing::Model) -> Json {
    json!({
        "id": m.id,
        "repr": m.name,
        "change_url": registry().object_url(MODEL, &m.id.to_string(), "change"),
        "recipients_url": recipients_url(m.id),
        "report_url": report_url(m.id),
    })
}

/// `/admin/mailings/<id>/recipients/`: every recipient, a page at a time.
#[handler]
pub async fn recipients_page(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    // Parsed here: a malformed id is the admin's 404 page, not poem's plain-text 400.
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = actor(&user);
    let m = viewable(state, &actor, id).await?;
    let page = mailings::recipients(&state.db, id, query.page.unwrap_or(1), PER_PAGE).await?;
    own_page(
        &actor,
        MODEL,
        "admin/mailings/recipients.html",
        json!({ "mailing": mailing_json(&m), "page": page }),
    )
}

/// `/admin/mailings/<id>/report/`: the owner's report of the mailing (the same numbers,
/// from the same code), read only.
#[handler]
pub async fn report_page(
    req: &poem::Request,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    // Parsed here: a malformed id is the admin's 404 page, not poem's plain-text 400.
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = actor(&user);
    let m = viewable(state, &actor, id).await?;
    let progress = reports::progress(&state.db, id).await?;
    // Days in the reader's zone, as every time the admin shows.
    let tz = crate::timezone::zone_or_utc(&user.timezone);
    let report = reports::report(&state.db, &state.cache, id, query.page.unwrap_or(1), tz).await?;
    let (catalog, lang) = (state.templates.catalog(), crate::web::language::of(req));
    let chart = report.chart_svg(&|id, values| catalog.say(lang, id, values));
    own_page(
        &actor,
        MODEL,
        "admin/mailings/report.html",
        json!({
            "mailing": mailing_json(&m),
            "progress": progress,
            "report": report,
            "chart": chart,
        }),
    )
}
