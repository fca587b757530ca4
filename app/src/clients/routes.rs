//! Client pages. Lists answer htmx searches and page turns with their rows only; forms
//! re-render with 422 and the errors beside the fields, and validate inline as you type.

use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

use super::import::{self, ImportError};
use super::service::{self, ClientInput};
use super::tags;
use crate::accounts::session::AuthUser;
use crate::error::AppError;
use crate::paging::ListQuery;
use crate::state::AppState;
use crate::validation::{FieldErrors, SaveError};
use crate::web::Page;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::forms::{FormMode, MultipartForm};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const IMPORT_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

#[handler]
pub async fn list_clients(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Page, AppError> {
    let page = service::list(&state.db, user.id, &query).await?;
    // Without a filter the page counted every client already.
    let total = if service::filters(&query) {
        service::count(&state.db, user.id).await?
    } else {
        page.total
    };
    let tags = tags::owned(&state.db, user.id).await?;
    Ok(Page::new(
        "clients/list.html",
        context! {
            page => Value::from(Serde(&page)),
            query => Value::from(Serde(&query)),
            total_clients => total,
            tags => Value::from(Serde(&tags)),
        },
    )
    .fragment("client-rows", "rows"))
}

fn form_page(client_id: Option<i32>, input: &ClientInput, errors: &FieldErrors) -> Page {
    Page::new(
        "clients/form.html",
        context! { client_id => client_id, form => Value::from(Serde(input)), errors => Value::from(Serde(errors)) },
    )
    .fragment("client-form", "form")
}

#[handler]
pub fn new_client_form(AuthUser(_user): AuthUser) -> Page {
    form_page(None, &ClientInput::default(), &FieldErrors::default())
}

async fn save(
    state: &AppState,
    session: &Session,
    owner: i32,
    id: Option<i32>,
    mode: FormMode,
    input: ClientInput,
) -> Result<Response, AppError> {
    if mode.only_validate() {
        let errors = service::validate(&state.db, owner, &input.clone().normalized(), id).await;
        return Ok(form_page(id, &input, &errors).into_response());
    }
    let result = match id {
        None => service::create(&state.db, owner, input.clone()).await,
        Some(id) => service::update(&state.db, owner, id, input.clone()).await,
    };
    match result {
        Ok(client) => {
            let id_text = if id.is_some() {
                "flash-client-saved"
            } else {
                "flash-client-added"
            };
            let who = format!("{} <{}>", client.full_name, client.email);
            flash(
                session,
                "success",
                crate::i18n::phrase(id_text, &[("client", &who)]),
            );
            Ok(see_other("/clients"))
        }
        Err(SaveError::Invalid(errors)) => Ok(form_page(id, &input, &errors)
            .status(UNPROCESSABLE)
            .into_response()),
        Err(SaveError::App(e)) => Err(e),
    }
}

#[handler]
pub async fn create_client(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Query(mode): Query<FormMode>,
    Form(input): Form<ClientInput>,
) -> Result<Response, AppError> {
    save(state, session, user.id, None, mode, input).await
}

#[handler]
pub async fn edit_client_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let client = service::find_owned(&state.db, user.id, id).await?;
    let input = ClientInput::of(&client, service::tag_names(&state.db, id).await?);
    Ok(form_page(Some(id), &input, &FieldErrors::default()))
}

#[handler]
pub async fn update_client(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Query(mode): Query<FormMode>,
    Form(input): Form<ClientInput>,
) -> Result<Response, AppError> {
    service::find_owned(&state.db, user.id, id).await?;
    save(state, session, user.id, Some(id), mode, input).await
}

#[handler]
pub async fn confirm_delete_client(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let client = service::find_owned(&state.db, user.id, id).await?;
    Ok(Page::new(
        "clients/confirm_delete.html",
        context! { client => Value::from(Serde(&client)) },
    ))
}

#[handler]
pub async fn delete_client(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    let client = service::delete(&state.db, user.id, id).await?;
    let who = format!("{} <{}>", client.full_name, client.email);
    flash(
        session,
        "success",
        crate::i18n::phrase("flash-client-deleted", &[("client", &who)]),
    );
    Ok(see_other("/clients"))
}

#[handler]
pub async fn export_clients(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let csv = service::export_csv(&state.db, user.id, &query).await?;
    Ok(crate::web::csv_download("clients.csv", csv))
}

#[handler]
pub fn import_form(AuthUser(_user): AuthUser) -> Page {
    Page::new(
        "clients/import.html",
        context! { errors => Value::from(Serde(FieldErrors::default())) },
    )
}

fn import_error(message: String) -> Response {
    Page::new(
        "clients/import.html",
        context! { errors => Value::from(Serde(FieldErrors::single("file", message))) },
    )
    .status(UNPROCESSABLE)
    .into_response()
}

fn import_key(owner: i32, id: &str) -> String {
    format!("import:{owner}:{id}")
}

/// Step 1: upload → preview with the verdict on every row.
#[handler]
pub async fn preview_import(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = match MultipartForm::read(multipart, import::MAX_BYTES).await {
        Ok(form) => form,
        Err((_, message)) => return Ok(import_error(message)),
    };
    if let Some(message) = form.errors.0.get("file").and_then(|m| m.first()) {
        return Ok(import_error(message.clone()));
    }
    let Some(upload) = form.files.get("file") else {
        return Ok(import_error("Choose a CSV file.".into()));
    };
    let preview = match import::preview(&state.db, user.id, &upload.bytes).await {
        Ok(p) => p,
        Err(e) => return Ok(import_error(e.to_string())),
    };
    // The checked file waits in the cache for the confirmation (the bytes are UTF-8 by now).
    let import_id = uuid::Uuid::new_v4().simple().to_string();
    let text = String::from_utf8_lossy(&upload.bytes);
    state
        .cache
        .set(&import_key(user.id, &import_id), &text, Some(IMPORT_TTL))
        .await?;
    Ok(Page::new(
        "clients/import_preview.html",
        context! {
            import_id => import_id,
            file_name => upload.file_name.clone(),
            preview => Value::from(Serde(&preview)),
            sample => Value::from(Serde(preview.sample())),
        },
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ConfirmImport {
    import_id: String,
}

/// Step 2: insert what the preview promised (re-checked against the address book now).
#[handler]
pub async fn confirm_import(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Form(form): Form<ConfirmImport>,
) -> Result<Response, AppError> {
    let key = import_key(user.id, &form.import_id);
    let Some(text) = state.cache.get(&key).await? else {
        return Ok(import_error(
            "That upload has expired. Choose the file again.".into(),
        ));
    };
    let preview = match import::preview(&state.db, user.id, text.as_bytes()).await {
        Ok(p) => p,
        Err(ImportError::Empty) => return Ok(import_error(ImportError::Empty.to_string())),
        Err(e) => return Ok(import_error(e.to_string())),
    };
    let inserted = import::commit(&state.db, user.id, &preview).await?;
    state.cache.delete(&key).await?;
    let skipped = preview.duplicates as u64 + (preview.valid as u64).saturating_sub(inserted);
    flash(
        session,
        "success",
        crate::i18n::phrase(
            "flash-clients-imported",
            &[
                ("inserted", &inserted),
                ("skipped", &skipped),
                ("invalid", &preview.invalid),
            ],
        ),
    );
    Ok(see_other("/clients"))
}
