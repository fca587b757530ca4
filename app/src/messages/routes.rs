//! Message pages. The list answers htmx searches and page turns with its rows only; forms
//! re-render with 422 and the errors beside the fields, and validate inline as you type.
//! After a create or an edit the user lands on the preview of what recipients will see.

use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Response, handler};

use serde::Deserialize;

use super::service::{self, MessageInput};
use super::template::escape_html;
use crate::accounts::sender::Identity;
use crate::accounts::session::AuthUser;
use crate::error::AppError;
use crate::paging::ListQuery;
use crate::state::AppState;
use crate::validation::{FieldErrors, SaveError};
use crate::web::Page;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::forms::FormMode;

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

#[handler]
pub async fn list_messages(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Page, AppError> {
    let page = service::list(&state.db, user.id, &query).await?;
    // Without a search the page counted every message already.
    let total = if service::filters(&query) {
        service::count(&state.db, user.id).await?
    } else {
        page.total
    };
    Ok(Page::new(
        "messages/list.html",
        context! { page => Value::from(Serde(&page)), query => Value::from(Serde(&query)), total_messages => total },
    )
    .fragment("message-rows", "rows"))
}

fn form_page(message_id: Option<i32>, input: &MessageInput, errors: &FieldErrors) -> Page {
    Page::new(
        "messages/form.html",
        context! { message_id => message_id, form => Value::from(Serde(input)), errors => Value::from(Serde(errors)) },
    )
    .fragment("message-form", "form")
}

#[handler]
pub fn new_message_form(AuthUser(_user): AuthUser) -> Page {
    form_page(None, &MessageInput::default(), &FieldErrors::default())
}

async fn save(
    state: &AppState,
    session: &Session,
    owner: i32,
    id: Option<i32>,
    mode: FormMode,
    input: MessageInput,
) -> Result<Response, AppError> {
    if mode.only_validate() {
        let errors = service::validate(&input.clone().normalized());
        return Ok(form_page(id, &input, &errors).into_response());
    }
    let result = match id {
        None => service::create(&state.db, owner, input.clone()).await,
        Some(id) => service::update(&state.db, owner, id, input.clone()).await,
    };
    match result {
        Ok(message) => {
            let id_text = if id.is_some() {
                "flash-message-saved"
            } else {
                "flash-message-added"
            };
            flash(
                session,
                "success",
                crate::i18n::phrase(id_text, &[("subject", &message.subject)]),
            );
            Ok(see_other(&format!("/messages/{}", message.id)))
        }
        Err(SaveError::Invalid(errors)) => Ok(form_page(id, &input, &errors)
            .status(UNPROCESSABLE)
            .into_response()),
        Err(SaveError::App(e)) => Err(e),
    }
}

#[handler]
pub async fn create_message(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Query(mode): Query<FormMode>,
    Form(input): Form<MessageInput>,
) -> Result<Response, AppError> {
    save(state, session, user.id, None, mode, input).await
}

/// Which client the preview is rendered for (`?client=ID`; the first client by default).
#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    pub client: Option<i32>,
}

/// The preview for `owner`'s message, and who it comes from (their sender identity).
async fn preview_of(
    state: &AppState,
    owner: &crate::entities::user::Model,
    message: &crate::entities::message::Model,
    client: Option<i32>,
) -> Result<(service::Preview, Identity), AppError> {
    let identity = Identity::of(
        owner,
        (&state.config.sender()?, state.config.mail_postal.as_deref()),
        state.templates.feet(),
    );
    let preview = service::preview(
        &state.db,
        owner.id,
        message,
        client,
        (&identity.sender, &state.config.public_url()),
    )
    .await?;
    Ok((preview, identity))
}

#[handler]
pub async fn show_message(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Query(query): Query<PreviewQuery>,
) -> Result<Page, AppError> {
    let message = service::find_owned(&state.db, user.id, id).await?;
    let mailings = service::mailings_using(&state.db, user.id, id).await?;
    let (preview, identity) = preview_of(state, &user, &message, query.client).await?;
    Ok(Page::new(
        "messages/show.html",
        context! {
            message => Value::from(Serde(&message)),
            mailings => Value::from(Serde(&mailings)),
            from => identity.from.to_string(),
            reply_to => identity.reply_to.map(|m| m.to_string()),
            preview => Value::from(Serde(&preview)),
            tests_per_window => super::test_send::TESTS_PER_WINDOW,
        },
    ))
}

/// The preview's HTML part on its own, for the sandboxed frame of the message page: the
/// e-mail's inline styles may apply here (and nothing else: no script, no request but
/// images), and only this site may frame it.
#[handler]
pub async fn show_message_html(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Query(query): Query<PreviewQuery>,
) -> Result<Response, AppError> {
    let message = service::find_owned(&state.db, user.id, id).await?;
    let (preview, _) = preview_of(state, &user, &message, query.client).await?;
    let html = preview.html.unwrap_or_else(|| {
        format!(
            "<!DOCTYPE html><p>{}</p>",
            escape_html(&preview.error.unwrap_or_default())
        )
    });
    Ok(Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
             frame-ancestors 'self'; sandbox",
        )
        .header("X-Frame-Options", "SAMEORIGIN")
        .header("Cache-Control", "no-store")
        .body(html))
}

#[handler]
pub async fn edit_message_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let message = service::find_owned(&state.db, user.id, id).await?;
    Ok(form_page(
        Some(id),
        &MessageInput::from(message),
        &FieldErrors::default(),
    ))
}

#[handler]
pub async fn update_message(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Query(mode): Query<FormMode>,
    Form(input): Form<MessageInput>,
) -> Result<Response, AppError> {
    service::find_owned(&state.db, user.id, id).await?;
    save(state, session, user.id, Some(id), mode, input).await
}

#[handler]
pub async fn confirm_delete_message(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Page, AppError> {
    let message = service::find_owned(&state.db, user.id, id).await?;
    let mailings = service::mailings_using(&state.db, user.id, id).await?;
    Ok(Page::new(
        "messages/confirm_delete.html",
        context! {
            message => Value::from(Serde(&message)),
            mailings => Value::from(Serde(&mailings)),
            blocked => service::in_use_explanation(&mailings),
        },
    ))
}

#[handler]
pub async fn delete_message(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    let message = service::delete(&state.db, user.id, id).await?;
    flash(
        session,
        "success",
        crate::i18n::phrase("flash-message-deleted", &[("subject", &message.subject)]),
    );
    Ok(see_other("/messages"))
}

/// What the "Send a test to me" button posts: the client the preview shows.
#[derive(Debug, Default, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    pub client: Option<i32>,
}

/// Sends the message, rendered for the previewed client, to the owner at once.
#[handler]
pub async fn send_test(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
    Form(form): Form<TestForm>,
) -> Result<Response, AppError> {
    use super::test_send::{self, TestSendError};
    let back = match form.client {
        Some(client) => format!("/messages/{id}?client={client}"),
        None => format!("/messages/{id}"),
    };
    match test_send::send(state, &user, id, form.client).await {
        Ok(to) => flash(
            session,
            "success",
            crate::i18n::phrase("flash-message-test-sent", &[("address", &to)]),
        ),
        Err(TestSendError::App(e)) => return Err(e),
        Err(TestSendError::Template(reason)) => flash(
            session,
            "error",
            crate::i18n::phrase("messages-test-cannot-render", &[("reason", &reason.phrase)]),
        ),
        Err(TestSendError::Mail(error)) => flash(
            session,
            "error",
            crate::i18n::phrase("messages-test-not-sent", &[("reason", &error.reason())]),
        ),
        Err(e) => flash(session, "error", e.to_string()),
    }
    Ok(see_other(&back))
}
