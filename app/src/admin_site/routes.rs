//! HTTP glue of the admin: who is asking, what they sent, and how the admin's answer is
//! rendered. Every admin response is `Cache-Control: no-store`; every POST has passed the
//! site's CSRF guard before it gets here.

use std::sync::Arc;

use admin::{Actor, AdminError, FormInput, Outcome, Perm, Upload, View};
use poem::error::ResponseError;
use poem::http::{HeaderValue, StatusCode, header};
use poem::session::Session;
use poem::web::{Data, Multipart, Path};
use poem::{Body, Endpoint, FromRequest, IntoResponse, Request, RequestBody, Response, handler};

use super::registry;
use crate::accounts::session::AuthUser;
use crate::entities::user;
use crate::error::AppError;
use crate::i18n::phrase;
use crate::state::AppState;
use crate::timezone;
use crate::web::Page;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::forms::MultipartForm;

/// Largest upload an admin form takes (post images).
const MAX_UPLOAD_BYTES: usize = crate::accounts::avatar::MAX_UPLOAD_BYTES;

/// Admin pages are never stored by browsers or proxies — errors included.
pub async fn no_store<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let mut response = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => match e.downcast_ref::<AppError>() {
            Some(app_error) => app_error.as_response(),
            None => e.into_response(),
        },
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(super) fn actor(user: &user::Model) -> Actor {
    Actor {
        id: i64::from(user.id),
        email: user.email.clone(),
        role: user.role.as_str().to_owned(),
        zone: zone(&user.timezone),
    }
}

/// The zone named `name` (UTC when it names none) for the admin's date filters, with
/// timezone.rs's rule for local times that do not exist or exist twice.
fn zone(name: &str) -> admin::Zone {
    let tz = timezone::zone_or_utc(name);
    admin::Zone::new(
        tz.name(),
        move |local| timezone::to_utc(local, tz),
        move |at| timezone::to_local(at, tz),
    )
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn app_error(e: AdminError) -> AppError {
    match e {
        AdminError::NotFound => AppError::NotFound,
        AdminError::Forbidden => AppError::Forbidden,
        AdminError::BadRequest(m) => AppError::BadRequest(m),
        AdminError::Conflict(m) => AppError::Conflict(m),
        AdminError::Db(e) => e.into(),
        // The site's own code behind an admin page: its error, as it is.
        AdminError::Hook(e) => match e.downcast::<AppError>() {
            Ok(e) => *e,
            Err(e) => AppError::Unexpected(anyhow::anyhow!(e)),
        },
    }
}

fn render(view: View) -> Response {
    let status = StatusCode::from_u16(view.status).unwrap_or(StatusCode::OK);
    Page::new(
        view.template,
        minijinja::Value::from(minijinja::value::Serde(&view.context)),
    )
    .status(status)
    .fragment("admin-list", "changelist")
    .into_response()
}

fn answer(session: &Session, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Render(view) => render(view),
        Outcome::Redirect { to, message, kind } => {
            flash(session, kind, message);
            see_other(&to)
        }
    }
}

/// The submitted form: urlencoded, or multipart when it carries a file.
async fn read_form(req: &Request, body: Body) -> Result<FormInput, AppError> {
    let multipart = req
        .content_type()
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = body
            .into_bytes()
            .await
            .map_err(|e| AppError::BadRequest(phrase("site-form-unreadable", &[("detail", &e)])))?;
        return Ok(FormInput::from_pairs(
            form_urlencoded::parse(&bytes).into_owned().collect(),
        ));
    }
    let mut body = RequestBody::new(body);
    let parts = Multipart::from_request(req, &mut body)
        .await
        .map_err(|e| AppError::BadRequest(phrase("site-form-unreadable", &[("detail", &e)])))?;
    let form = MultipartForm::read(parts, MAX_UPLOAD_BYTES)
        .await
        .map_err(|(_, message)| AppError::BadRequest(message))?;
    if let Some(message) = form.errors.0.values().flatten().next() {
        return Err(AppError::BadRequest(message.clone()));
    }
    let mut input = FormInput::from_pairs(form.fields.into_iter().collect());
    input.files = form
        .files
        .into_iter()
        .map(|(name, file)| {
            let upload = Upload {
                file_name: file.file_name,
                bytes: file.bytes,
            };
            (name, upload)
        })
        .collect();
    Ok(input)
}

/// The GET pages of one object.
#[derive(Clone, Copy)]
enum ObjectPage {
    Change,
    Delete,
    History,
}

async fn object_page(
    state: &AppState,
    user: &user::Model,
    model: &str,
    id: &str,
    page: ObjectPage,
) -> Result<Response, AppError> {
    let (admin, actor) = (registry(), actor(user));
    let view = match page {
        ObjectPage::Change => admin.change_form(state, &actor, model, id).await,
        ObjectPage::Delete => admin.delete_form(state, &actor, model, id).await,
        ObjectPage::History => admin.history(state, &actor, model, id).await,
    };
    Ok(render(view.map_err(app_error)?))
}

/// POST of the add (`id` None) or change form.
async fn save(
    req: &Request,
    body: Body,
    session: &Session,
    state: &AppState,
    user: &user::Model,
    model: &str,
    id: Option<&str>,
) -> Result<Response, AppError> {
    let actor = actor(user);
    let perm = if id.is_some() {
        Perm::Change
    } else {
        Perm::Add
    };
    // Permission first: a forbidden upload is never read, let alone stored.
    registry()
        .require(&actor, model, &perm)
        .map_err(app_error)?;
    let mut input = read_form(req, body).await?;
    let fields = registry().date_time_fields(model).map_err(app_error)?;
    in_utc(&mut input, &fields, timezone::zone_or_utc(&user.timezone));
    let outcome = registry()
        .save(state, &actor, model, id, &input)
        .await
        .map_err(app_error)?;
    Ok(answer(session, outcome))
}

/// The date-time `fields` of `input`, typed in the viewer's zone `tz`, as the UTC times the
/// admin reads (`timezone`'s rule for a time in a gap or a fold). A value that is no time
/// stays as typed, for the admin to refuse; the form shows the UTC values back in the
/// viewer's zone (`|local_input`).
fn in_utc(input: &mut FormInput, fields: &[&str], tz: chrono_tz::Tz) {
    for name in fields {
        let Some(typed) = input.fields.get_mut(*name) else {
            continue;
        };
        // Years outside 1–9999 stay as typed: the admin refuses them.
        let Some(local) = timezone::parse_local(typed).filter(crate::validation::year_in_range)
        else {
            continue;
        };
        let utc = timezone::to_utc(local, tz)
            .format(timezone::INPUT_FORMAT)
            .to_string();
        for (_, value) in input.all.iter_mut().filter(|(n, _)| n == name) {
            value.clone_from(&utc);
        }
        *typed = utc;
    }
}

#[handler]
pub fn admin_root() -> Response {
    see_other("/admin/")
}

#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, AppError> {
    let view = registry()
        .index(state, &actor(&user))
        .await
        .map_err(app_error)?;
    Ok(render(view))
}

#[handler]
pub async fn changelist(
    req: &Request,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(model): Path<String>,
) -> Result<Response, AppError> {
    let view = registry()
        .changelist(state, &actor(&user), &model, &query_pairs(req))
        .await
        .map_err(app_error)?;
    Ok(render(view))
}

#[handler]
pub async fn changelist_action(
    req: &Request,
    body: Body,
    session: &Session,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(model): Path<String>,
) -> Result<Response, AppError> {
    let input = read_form(req, body).await?;
    let outcome = registry()
        .changelist_action(state, &actor(&user), &model, &query_pairs(req), &input)
        .await
        .map_err(app_error)?;
    Ok(answer(session, outcome))
}

#[handler]
pub async fn add_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(model): Path<String>,
) -> Result<Response, AppError> {
    let view = registry()
        .add_form(state, &actor(&user), &model)
        .await
        .map_err(app_error)?;
    Ok(render(view))
}

#[handler]
pub async fn add(
    req: &Request,
    body: Body,
    session: &Session,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path(model): Path<String>,
) -> Result<Response, AppError> {
    save(req, body, session, state, &user, &model, None).await
}

#[handler]
pub async fn change_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    object_page(state, &user, &model, &id, ObjectPage::Change).await
}

#[handler]
pub async fn change(
    req: &Request,
    body: Body,
    session: &Session,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    save(req, body, session, state, &user, &model, Some(&id)).await
}

#[handler]
pub async fn delete_form(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    object_page(state, &user, &model, &id, ObjectPage::Delete).await
}

#[handler]
pub async fn delete(
    session: &Session,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let outcome = registry()
        .delete(state, &actor(&user), &model, &id)
        .await
        .map_err(app_error)?;
    Ok(answer(session, outcome))
}

/// POST `/admin/<model>/<id>/action/`: an object action from the object's page.
#[handler]
pub async fn object_action(
    req: &Request,
    body: Body,
    session: &Session,
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let actor = actor(&user);
    // Permission first: a refused request is not read further.
    registry()
        .require(&actor, &model, &Perm::View)
        .map_err(app_error)?;
    let input = read_form(req, body).await?;
    let outcome = registry()
        .object_action(state, &actor, &model, &id, &input)
        .await
        .map_err(app_error)?;
    Ok(answer(session, outcome))
}

#[handler]
pub async fn history(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Path((model, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    object_page(state, &user, &model, &id, ObjectPage::History).await
}

/// A page of this site's own in the admin's layout, for an actor who may view `model`.
pub(super) fn own_page(
    actor: &Actor,
    model: &str,
    template: &'static str,
    context: serde_json::Value,
) -> Result<Response, AppError> {
    let view = registry()
        .page(actor, model, &Perm::View, template, context)
        .map_err(app_error)?;
    Ok(render(view))
}

/// `/admin/posts/markdown/`: the short Markdown hint the post form links to.
#[handler]
pub async fn markdown_help(AuthUser(user): AuthUser) -> Result<Response, AppError> {
    own_page(
        &actor(&user),
        "posts",
        "admin/posts/markdown.html",
        serde_json::json!({}),
    )
}
