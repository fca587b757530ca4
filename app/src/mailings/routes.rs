//! Mailing pages: list filtered by status, form with message and client pickers, detail,
//! enable / disable, delete with confirmation.

use chrono::Utc;
use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Response, handler};

use super::report;
use super::service::{self, MailingInput};
use crate::accounts::session::AuthUser;
use crate::delivery::schedule::shown_status;
use crate::entities::mailing::Periodicity;
use crate::entities::{mailing, message};
use crate::error::AppError;
use crate::paging::ListQuery;
use crate::state::AppState;
use crate::validation::FieldErrors;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::{Page, language};

#[handler]
pub async fn list_mailings(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Page, AppError> {
    let page = service::list(&state.db, user.id, &query).await?;
    // Rows on the page are the user's mailings: ask only when the filters left none.
    let any = page.total > 0 || service::owned(user.id).one(&state.db).await?.is_some();
    Ok(Page::new(
        "mailings/list.html",
        context! { page => Value::from(Serde(&page)), query => Value::from(Serde(&query)), any => any },
    )
    .fragment("mailing-rows", "rows"))
}

async fn form_page(
    state: &AppState,
    owner: &crate::entities::user::Model,
    saved: Option<&mailing::Model>,
    input: &MailingInput,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let (messages, clients, tags) = service::choices(&state.db, owner.id).await?;
    let periodicities: Vec<(&str, &str)> = Periodicity::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect();
    Ok(Page::new(
        "mailings/form.html",
        context! {
            mailing_id => saved.map(|m| m.id),
            saved_name => saved.map(|m| m.name.clone()),
            form => Value::from(Serde(input)),
            errors => Value::from(Serde(errors)),
            messages => Value::from(Serde(&messages)),
            clients => Value::from(Serde(&clients)),
            tags => Value::from(Serde(&tags)),
            periodicities => Value::from(Serde(&periodicities)),
            now => Utc::now().to_rfc3339(),
            timezone => owner.timezone.clone(),
        },
    ))
}

#[handler]
pub async fn new_mailing_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
) -> Result<Page, AppError> {
    let now = Utc::now();
    let tz = zone(&user);
    let input = MailingInput {
        start_at: service::local_input(now, tz),
        end_at: service::local_input(now + chrono::Duration::days(30), tz),
        periodicity: "once".into(),
        ..MailingInput::default()
    };
    form_page(state, &user, None, &input, &FieldErrors::default()).await
}

/// The user's time zone: their forms' times are local to it.
fn zone(user: &crate::entities::user::Model) -> chrono_tz::Tz {
    crate::timezone::zone_or_utc(&user.timezone)
}

fn parse_body(body: &str) -> MailingInput {
    MailingInput::from_pairs(
        form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
    )
}

#[handler]
pub async fn create_mailing(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    body: String,
) -> Result<Response, AppError> {
    let input = parse_body(&body);
    match service::validate(&state.db, user.id, &input, zone(&user)).await {
        Ok(valid) => {
            let mailing = service::create(state, user.id, valid).await?;
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-mailing-created", &[("mailing", &mailing.name)]),
            );
            Ok(see_other(&format!("/mailings/{}", mailing.id)))
        }
        Err(errors) => Ok(form_page(state, &user, None, &input, &errors)
            .await?
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    page: Option<u64>,
}

#[handler]
pub async fn show_mailing(
    req: &poem::Request,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Query(query): Query<ReportQuery>,
) -> Result<Page, AppError> {
    use sea_orm::EntityTrait;
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    let message = message::Entity::find_by_id(mailing.message_id)
        .one(&state.db)
        .await?;
    let clients = service::recipients(&state.db, id, 1, service::NAMED_CLIENTS).await?;
    let tags = service::tags_of(&state.db, id).await?;
    let recipients = crate::delivery::fanout::recipient_count(&state.db, id).await?;
    let progress = report::progress(&state.db, id).await?;
    let tz = crate::timezone::zone_or_utc(&user.timezone);
    let report = report::report(&state.db, &state.cache, id, query.page.unwrap_or(1), tz).await?;
    let (catalog, lang) = (state.templates.catalog(), language::of(req));
    let chart = report.chart_svg(&|id, values| catalog.say(lang, id, values));
    Ok(Page::new(
        "mailings/detail.html",
        context! {
            mailing => Value::from(Serde(&mailing)),
            status => shown_status(&mailing, Utc::now()).as_str(),
            periodicity => mailing.periodicity.label(),
            message => Value::from(Serde(&message)),
            clients => Value::from(Serde(&clients.items)),
            clients_total => clients.total,
            tags => Value::from(Serde(&tags)),
            recipients => recipients,
            awaiting => awaiting_fan_out(&mailing),
            progress => Value::from(Serde(&progress)),
            report => Value::from(Serde(&report)),
            chart => Value::from_safe_string(chart),
        },
    )
    .fragment("report-clients", "report_clients"))
}

/// The live progress box: polled by htmx every two seconds while deliveries are pending.
#[handler]
pub async fn mailing_progress(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    let progress = report::progress(&state.db, id).await?;
    Ok(Page::new(
        "mailings/detail.html",
        context! {
            awaiting => awaiting_fan_out(&mailing),
            polled => true,
            mailing => Value::from(Serde(&mailing)),
            progress => Value::from(Serde(&progress)),
        },
    )
    .block("progress"))
}

/// A send is due but the worker has not made its deliveries yet (the page was opened right
/// after the mailing was created): the progress box keeps polling until they appear.
fn awaiting_fan_out(mailing: &mailing::Model) -> bool {
    mailing.is_enabled && mailing.next_run_at.is_some_and(|at| at <= Utc::now())
}

/// "Send now": one extra occurrence at this instant, to every client, through the worker.
#[handler]
pub async fn send_mailing_now(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    body: String,
) -> Result<Response, AppError> {
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    let again = form_urlencoded::parse(body.as_bytes()).any(|(k, v)| k == "again" && v == "yes");
    match service::send_now(state, &mailing, again).await? {
        service::SendNow::Queued(_) => {
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-mailing-sending", &[("mailing", &mailing.name)]),
            );
        }
        service::SendNow::AlreadySending => {
            flash(
                session,
                "info",
                crate::i18n::phrase("flash-mailing-still-sending", &[("mailing", &mailing.name)]),
            );
        }
        service::SendNow::WouldRepeat(recipients) => {
            return Ok(Page::new(
                "mailings/confirm_send.html",
                context! {
                    mailing => Value::from(Serde(&mailing)),
                    recipients => recipients,
                },
            )
            .into_response());
        }
    }
    Ok(see_other(&format!("/mailings/{id}")))
}

#[handler]
pub async fn export_attempts(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    service::find_owned(&state.db, user.id, id).await?;
    let csv = report::attempts_csv(&state.db, id).await?;
    Ok(crate::web::csv_download(
        &format!("mailing-{id}-attempts.csv"),
        csv,
    ))
}

#[handler]
pub async fn edit_mailing_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    let input = MailingInput::from_model(
        &mailing,
        service::client_ids(&state.db, id).await?,
        service::tag_ids(&state.db, id).await?,
        zone(&user),
    );
    form_page(
        state,
        &user,
        Some(&mailing),
        &input,
        &FieldErrors::default(),
    )
    .await
}

#[handler]
pub async fn update_mailing(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    body: String,
) -> Result<Response, AppError> {
    let existing = service::find_owned(&state.db, user.id, id).await?;
    let input = parse_body(&body);
    match service::validate(&state.db, user.id, &input, zone(&user)).await {
        Ok(valid) => {
            let mailing = service::update(state, existing, valid).await?;
            service::send_if_due(state, &mailing).await?;
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-mailing-saved", &[("mailing", &mailing.name)]),
            );
            Ok(see_other(&format!("/mailings/{id}")))
        }
        Err(errors) => Ok(form_page(state, &user, Some(&existing), &input, &errors)
            .await?
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
    }
}

#[handler]
pub async fn toggle_mailing(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    let existing = service::find_owned(&state.db, user.id, id).await?;
    let enabled = !existing.is_enabled;
    let mailing = service::set_enabled(state, existing, enabled).await?;
    service::send_if_due(state, &mailing).await?;
    let text = if enabled {
        crate::i18n::phrase("flash-mailing-enabled", &[("mailing", &mailing.name)])
    } else {
        crate::i18n::phrase("flash-mailing-disabled", &[("mailing", &mailing.name)])
    };
    flash(session, "success", text);
    Ok(see_other(&format!("/mailings/{id}")))
}

#[handler]
pub async fn confirm_delete_mailing(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    Ok(Page::new(
        "mailings/confirm_delete.html",
        context! { mailing => Value::from(Serde(&mailing)) },
    ))
}

#[handler]
pub async fn delete_mailing(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    let mailing = service::find_owned(&state.db, user.id, id).await?;
    let name = mailing.name.clone();
    service::delete(state, mailing).await?;
    flash(
        session,
        "success",
        crate::i18n::phrase("flash-mailing-deleted", &[("mailing", &name)]),
    );
    Ok(see_other("/mailings"))
}
