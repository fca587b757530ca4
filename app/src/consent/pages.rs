//! The owner's suppression-list pages: the list (search, filter by reason, pages), add an
//! address, import and export CSV, and take off what the owner may (see `list`).

use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{IntoResponse, Response, handler};

use super::list::{self, EntryInput};
use crate::accounts::session::AuthUser;
use crate::error::AppError;
use crate::paging::{ListQuery, PER_PAGE};
use crate::state::AppState;
use crate::validation::{FieldErrors, SaveError};
use crate::web::Page;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::forms::MultipartForm;

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The list page, with the add form (empty, or as sent with its errors).
async fn list_page(
    state: &AppState,
    owner: i32,
    query: &ListQuery,
    form: &EntryInput,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let page = list::list(&state.db, owner, query, PER_PAGE).await?;
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|s| {
            context! {
                entry => Value::from(Serde(s)),
                removable => list::removable(s),
                reason_label => s.reason.label(),
            }
        })
        .collect();
    Ok(Page::new(
        "consent/list.html",
        context! {
            page => Value::from(Serde(&page)),
            rows => rows,
            query => Value::from(Serde(query)),
            form => Value::from(Serde(form)),
            errors => Value::from(Serde(errors)),
        },
    )
    .fragment("suppression-rows", "rows"))
}

#[handler]
pub async fn show_list(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Page, AppError> {
    list_page(
        state,
        user.id,
        &query,
        &EntryInput::default(),
        &FieldErrors::default(),
    )
    .await
}

#[handler]
pub async fn add_entry(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Form(input): Form<EntryInput>,
) -> Result<Response, AppError> {
    match list::add(&state.db, user.id, &input).await {
        Ok(entry) => {
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-suppression-added", &[("address", &entry.email)]),
            );
            Ok(see_other("/suppressions"))
        }
        Err(SaveError::Invalid(errors)) => {
            Ok(
                list_page(state, user.id, &ListQuery::default(), &input, &errors)
                    .await?
                    .status(UNPROCESSABLE)
                    .into_response(),
            )
        }
        Err(SaveError::App(e)) => Err(e),
    }
}

#[handler]
pub async fn confirm_remove(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let entry = list::find_owned(&state.db, user.id, id).await?;
    Ok(Page::new(
        "consent/confirm_remove.html",
        context! {
            entry => Value::from(Serde(&entry)),
            removable => list::removable(&entry),
            reason_label => entry.reason.label(),
        },
    ))
}

#[handler]
pub async fn remove_entry(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    match list::remove(&state.db, user.id, id).await {
        Ok(entry) => {
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-suppression-removed", &[("address", &entry.email)]),
            );
            Ok(see_other("/suppressions"))
        }
        Err(AppError::Conflict(message)) => {
            flash(session, "error", message);
            Ok(see_other("/suppressions"))
        }
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn export_list(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let csv = list::export_csv(&state.db, user.id, &query).await?;
    Ok(crate::web::csv_download("suppressions.csv", csv))
}

fn import_page(errors: &FieldErrors, result: Option<&list::Imported>) -> Page {
    Page::new(
        "consent/import.html",
        context! {
            errors => Value::from(Serde(errors)),
            result => result.map(|r| Value::from(Serde(r))),
        },
    )
}

#[handler]
pub fn import_form(AuthUser(_user): AuthUser) -> Page {
    import_page(&FieldErrors::default(), None)
}

#[handler]
pub async fn import_file(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let refuse = |message: String| {
        Ok(import_page(&FieldErrors::single("file", message), None)
            .status(UNPROCESSABLE)
            .into_response())
    };
    let form = match MultipartForm::read(multipart, crate::spreadsheet::MAX_IMPORT_BYTES).await {
        Ok(form) => form,
        Err((_, message)) => return refuse(message),
    };
    if let Some(message) = form.errors.0.get("file").and_then(|m| m.first()) {
        return refuse(message.clone());
    }
    let Some(upload) = form.files.get("file") else {
        return refuse("Choose a CSV file.".into());
    };
    match list::import(&state.db, user.id, &upload.bytes).await {
        Ok(done) => Ok(import_page(&FieldErrors::default(), Some(&done)).into_response()),
        Err(e) => refuse(e.to_string()),
    }
}
