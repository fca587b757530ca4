//! `/reports`, its CSV export, and `/dashboard`.

use chrono::Utc;
use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Response, handler};

use super::chart::chart_svg;
use super::range::{self, ReportQuery};
use super::service;
use crate::accounts::session::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::validation::FieldErrors;
use crate::web::{Page, language};

/// The query string that keeps the range and the view (for sort links, tabs and the CSV).
fn keep(query: &ReportQuery, range: Option<&range::DateRange>) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    match range {
        Some(r) => {
            pairs.append_pair("range", r.preset);
            if r.preset == "custom" {
                pairs.append_pair("from", &r.from.to_string());
                pairs.append_pair("to", &r.to.to_string());
            }
        }
        None => {
            pairs.append_pair("range", &query.range);
            pairs.append_pair("from", &query.from);
            pairs.append_pair("to", &query.to);
        }
    }
    pairs.finish()
}

#[handler]
pub async fn show_reports(
    req: &poem::Request,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ReportQuery>,
) -> Result<Page, AppError> {
    let tz = crate::timezone::zone_or_utc(&user.timezone);
    let view = if query.by_message() {
        "messages"
    } else {
        "mailings"
    };
    let range = match range::parse(&query, Utc::now(), tz) {
        Ok(range) => range,
        Err(errors) => return Ok(invalid_range(&query, view, &errors)),
    };
    let report = service::report(&state.db, user.id, range, &query).await?;
    let (catalog, lang) = (state.templates.catalog(), language::of(req));
    let chart = chart_svg(&report.days, &|id, values| catalog.say(lang, id, values));
    let keep = keep(&query, Some(&range));
    Ok(Page::new(
        "reports/index.html",
        context! {
            query => Value::from(Serde(&query)),
            view => view,
            range => Value::from(Serde(&range)),
            report => Value::from(Serde(&report)),
            chart => Value::from_safe_string(chart),
            keep => keep,
            errors => Value::from(Serde(&FieldErrors::default())),
        },
    )
    .fragment("report-rows", "rows"))
}

/// The page with the range form and its errors, and no figures (422).
fn invalid_range(query: &ReportQuery, view: &str, errors: &FieldErrors) -> Page {
    Page::new(
        "reports/index.html",
        context! {
            query => Value::from(Serde(query)),
            view => view,
            keep => keep(query, None),
            errors => Value::from(Serde(errors)),
        },
    )
    .status(StatusCode::UNPROCESSABLE_ENTITY)
}

/// `/reports/export.csv?<the page's query>`: the table on the page, as CSV.
#[handler]
pub async fn export_report(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let tz = crate::timezone::zone_or_utc(&user.timezone);
    let range = range::parse(&query, Utc::now(), tz).map_err(|errors| {
        AppError::BadRequest(
            errors
                .0
                .into_values()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    let report = service::report(&state.db, user.id, range, &query).await?;
    let body = service::csv(&report, query.by_message(), tz)?;
    let view = if query.by_message() {
        "messages"
    } else {
        "mailings"
    };
    Ok(crate::web::csv_download(
        &format!("report-{view}-{}-{}.csv", range.from, range.to),
        body,
    ))
}

/// The page a user opens every morning: mailings by status, what is sent next, what
/// failed lately, and the week in figures.
#[handler]
pub async fn dashboard(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
) -> Result<Page, AppError> {
    let now = Utc::now();
    let week_query = ReportQuery {
        range: "7d".into(),
        ..ReportQuery::default()
    };
    let tz = crate::timezone::zone_or_utc(&user.timezone);
    let week = range::parse(&week_query, now, tz)
        .map_err(|_| AppError::Unexpected(anyhow::anyhow!("the 7-day preset is always valid")))?;
    let db = &state.db;
    let (statuses, next, failures, report) = tokio::try_join!(
        service::status_counts(db, user.id, now),
        service::next_sends(db, user.id, 5),
        service::recent_failures(db, user.id, 8),
        service::report(db, user.id, week, &week_query),
    )?;
    let mailing_names =
        service::mailing_names(db, user.id, failures.iter().map(|a| a.mailing_id)).await?;
    let any_mailing = statuses
        .iter()
        .any(|(key, _, n)| *key != "disabled" && *n > 0);
    // A new user is led step by step: clients first, then a message, then the mailing.
    let (clients, messages) = if any_mailing {
        (1, 1)
    } else {
        tokio::try_join!(
            crate::clients::service::count(db, user.id),
            crate::messages::service::count(db, user.id),
        )?
    };
    Ok(Page::new(
        "dashboard/index.html",
        context! {
            statuses => Value::from(Serde(&statuses)),
            any_mailing => any_mailing,
            has_clients => clients > 0,
            has_messages => messages > 0,
            next => Value::from(Serde(&next)),
            failures => Value::from(Serde(&failures)),
            mailing_names => Value::from(Serde(&mailing_names)),
            week => Value::from(Serde(&report)),
        },
    ))
}
