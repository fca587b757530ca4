//! Account pages: register, verify, sign in/out, password reset and renewal, profile.

use minijinja::value::Serde;
use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use validator::Validate;

use super::api_tokens;
use super::forms::{
    ChangePasswordForm, EmailForm, LoginForm, NewPasswordForm, RegisterForm, normalize_email,
    optional, safe_next,
};
use super::service::{self, LoginError, NewAccount, Registration};
use super::session::{AuthUser, sign_in, sign_out};
use super::tokens::{Purpose, TokenError};
use super::{avatar, password, sender, throttle};
use crate::entities::user::{self, Role};
use crate::error::AppError;
use crate::state::AppState;
use crate::validation::{FieldErrors, SaveError};
use crate::web::Page;
use crate::web::client_ip::client_ip;
use crate::web::error::see_other;
use crate::web::flash::flash;
use crate::web::forms::MultipartForm;

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn form_page(template: &str, form: Value, errors: &FieldErrors) -> Page {
    Page::new(
        template,
        context! { form => form, errors => Value::from(Serde(errors)) },
    )
}

fn avatars_dir(state: &AppState) -> std::path::PathBuf {
    state.config.data_dir.join("avatars")
}

/// The form's avatar as a checked, resized PNG; a bad file is an error beside the field.
/// Call it after every other field is checked (`errors`): the file's header is always
/// checked, but the image is decoded only for a form that is otherwise fine, off the async
/// threads and one at a time.
async fn uploaded_avatar(form: &MultipartForm, errors: &mut FieldErrors) -> Option<Vec<u8>> {
    let upload = form.files.get("avatar")?;
    if let Err(e) = avatar::inspect(&upload.bytes) {
        errors.add("avatar", e.to_string());
        return None;
    }
    if !errors.is_empty() {
        return None;
    }
    let bytes = upload.bytes.clone();
    match avatar::run_image_work(move || avatar::process(&bytes)).await {
        Some(Ok(png)) => Some(png),
        Some(Err(e)) => {
            errors.add("avatar", e.to_string());
            None
        }
        None => {
            errors.add("avatar", "The image could not be processed.");
            None
        }
    }
}

/// What the forms with a time zone field need besides their own values: every zone's
/// name, for the field's list.
fn zone_names() -> Value {
    Value::from_iter(crate::timezone::names())
}

#[handler]
pub fn register_form() -> Page {
    form_page(
        "accounts/register.html",
        context! { zones => zone_names() },
        &FieldErrors::default(),
    )
}

#[handler]
pub async fn register(
    req: &Request,
    Data(state): Data<&AppState>,
    session: &Session,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let mut form = match MultipartForm::read(multipart, avatar::MAX_UPLOAD_BYTES).await {
        Ok(form) => form,
        Err((field, message)) => {
            let errors = FieldErrors::single(if field.is_empty() { "" } else { &field }, message);
            let echo = context! { zones => zone_names() };
            return Ok(form_page("accounts/register.html", echo, &errors)
                .status(UNPROCESSABLE)
                .into_response());
        }
    };
    let input = RegisterForm {
        email: normalize_email(&form.text("email")),
        password: form.text("password"),
        password_confirm: form.text("password_confirm"),
        phone: optional(&form.text("phone")),
    };
    let mut errors: FieldErrors = input.validate().err().map(Into::into).unwrap_or_default();
    let timezone = service::zone_input(&form.text("timezone"), &mut errors);
    let echo = context! {
        email => input.email.clone(),
        phone => input.phone.clone(),
        timezone => timezone.clone(),
        zones => zone_names(),
    };
    errors.merge(std::mem::take(&mut form.errors));
    service::check_new_password(
        &input.password,
        &input.password_confirm,
        &input.email,
        &mut errors,
    );
    let avatar_png = uploaded_avatar(&form, &mut errors).await;
    if !errors.is_empty() {
        return Ok(form_page("accounts/register.html", echo, &errors)
            .status(UNPROCESSABLE)
            .into_response());
    }
    let new_account = NewAccount {
        email: input.email.clone(),
        password: input.password,
        phone: input.phone,
        role: Role::User,
        is_verified: false,
        // The account keeps the language it was made in (its e-mails too).
        language: Some(crate::web::language::of(req)),
        timezone,
    };
    // A taken address gets the same answer: its owner is told by mail instead.
    if let Registration::Created(user) = service::register(state, new_account).await? {
        let user = match avatar_png {
            Some(png) => save_avatar(state, *user, &png).await?,
            None => *user,
        };
        service::send_verification(state, &user).await?;
    }
    flash(
        session,
        "success",
        crate::i18n::phrase("flash-account-registered", &[("address", &input.email)]),
    );
    Ok(see_other("/login"))
}

async fn save_avatar(
    state: &AppState,
    user: user::Model,
    png: &[u8],
) -> Result<user::Model, AppError> {
    use sea_orm::{ActiveModelTrait, Set};
    let dir = avatars_dir(state);
    let name = avatar::store(&dir, user.id, png)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let old = user.avatar.clone();
    let mut active: user::ActiveModel = user.into();
    active.avatar = Set(Some(name));
    active.updated_at = Set(chrono::Utc::now());
    let user = active.update(&state.db).await?;
    if let Some(old) = old {
        remove_avatar_file(&dir, &old).await;
    }
    Ok(user)
}

/// An old avatar left on disk is only wasted space: log it and go on.
async fn remove_avatar_file(dir: &std::path::Path, name: &str) {
    if let Err(e) = avatar::remove(dir, name).await {
        tracing::warn!(file = name, error = %e, "cannot remove an old avatar");
    }
}

fn link_error(error: TokenError) -> Page {
    Page::new(
        "accounts/link_error.html",
        context! { message => error.to_string() },
    )
    .status(StatusCode::BAD_REQUEST)
}

#[handler]
pub async fn verify_email(
    Data(state): Data<&AppState>,
    session: &Session,
    Path(token): Path<String>,
) -> Response {
    match service::verify_email(state, &token).await {
        Ok(user) => {
            flash(
                session,
                "success",
                crate::i18n::phrase("flash-account-confirmed", &[("address", &user.email)]),
            );
            see_other("/login")
        }
        Err(e) => link_error(e).into_response(),
    }
}

#[handler]
pub async fn resend_verification(
    Data(state): Data<&AppState>,
    session: &Session,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    service::resend_verification(state, &normalize_email(&form.email)).await?;
    flash(
        session,
        "success",
        "If that address has an unconfirmed account, a new link is on its way.",
    );
    Ok(see_other("/login"))
}

#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[handler]
pub fn login_form(Query(query): Query<NextQuery>) -> Page {
    form_page(
        "accounts/login.html",
        context! { next => query.next },
        &FieldErrors::default(),
    )
}

#[handler]
pub async fn login(
    Data(state): Data<&AppState>,
    session: &Session,
    req: &Request,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let email = normalize_email(&form.email);
    let client = client_ip(req, &state.config.proxies);
    match service::authenticate(state, &email, &form.password, client).await {
        Ok(user) => {
            sign_in(session, &user);
            Ok(see_other(&safe_next(form.next.as_deref())))
        }
        Err(error) => {
            let status = match error {
                LoginError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => UNPROCESSABLE,
            };
            let echo = context! { email => email, next => form.next, unverified => error == LoginError::Unverified };
            let message = match &error {
                LoginError::Throttled { wait } => {
                    let (count, unit) = super::throttle::wait_parts(*wait);
                    crate::i18n::phrase(
                        "accounts-sign-in-throttled",
                        &[("count", &count), ("unit", &unit)],
                    )
                }
                other => other.to_string(),
            };
            Ok(form_page(
                "accounts/login.html",
                echo,
                &FieldErrors::single("", message),
            )
            .status(status)
            .into_response())
        }
    }
}

#[handler]
pub fn logout(session: &Session) -> Response {
    sign_out(session);
    flash(session, "success", "You have signed out.");
    see_other("/")
}

/// The answer to both "forgot password" forms: the same whether or not the address exists.
const SENT_IF_EXISTS: &str = "If an account exists for that address, we have sent it an e-mail with a link. It is valid for one hour.";

#[handler]
pub fn reset_request_form() -> Page {
    form_page(
        "accounts/password_request.html",
        context! { mode => "reset" },
        &FieldErrors::default(),
    )
}

#[handler]
pub fn new_password_request_form() -> Page {
    form_page(
        "accounts/password_request.html",
        context! { mode => "new" },
        &FieldErrors::default(),
    )
}

async fn password_request(
    state: &AppState,
    session: &Session,
    form: EmailForm,
    mode: &str,
) -> Result<Response, AppError> {
    if let Err(errors) = form.validate() {
        let echo = context! { mode => mode, email => form.email };
        return Ok(
            form_page("accounts/password_request.html", echo, &errors.into())
                .status(UNPROCESSABLE)
                .into_response(),
        );
    }
    let email = normalize_email(&form.email);
    if mode == "reset" {
        service::request_password_reset(state, &email).await?;
    } else {
        service::request_new_password(state, &email).await?;
    }
    flash(session, "success", SENT_IF_EXISTS);
    Ok(see_other("/login"))
}

#[handler]
pub async fn reset_request(
    Data(state): Data<&AppState>,
    session: &Session,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    password_request(state, session, form, "reset").await
}

#[handler]
pub async fn new_password_request(
    Data(state): Data<&AppState>,
    session: &Session,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    password_request(state, session, form, "new").await
}

#[handler]
pub async fn reset_form(Data(state): Data<&AppState>, Path(token): Path<String>) -> Page {
    match service::user_for_password_token(state, Purpose::ResetPassword, &token).await {
        Ok(user) => form_page(
            "accounts/password_reset.html",
            context! { email => user.email },
            &FieldErrors::default(),
        ),
        Err(e) => link_error(e),
    }
}

/// A new password set from this client ends the refusal its failed sign-ins earned.
async fn reopen_sign_in(state: &AppState, req: &Request, email: &str) {
    let client = client_ip(req, &state.config.proxies);
    throttle::SignIn::new(email, client).clear(state).await;
}

#[handler]
pub async fn reset(
    Data(state): Data<&AppState>,
    session: &Session,
    req: &Request,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    let user = match service::user_for_password_token(state, Purpose::ResetPassword, &token).await {
        Ok(user) => user,
        Err(e) => return Ok(link_error(e).into_response()),
    };
    let mut errors = FieldErrors::default();
    service::check_new_password(
        &form.password,
        &form.password_confirm,
        &user.email,
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(form_page(
            "accounts/password_reset.html",
            context! { email => user.email },
            &errors,
        )
        .status(UNPROCESSABLE)
        .into_response());
    }
    let user = service::set_password(&state.db, user, &form.password).await?;
    reopen_sign_in(state, req, &user.email).await;
    sign_out(session);
    flash(
        session,
        "success",
        "Your password is changed. Sign in with the new one.",
    );
    Ok(see_other("/login"))
}

#[handler]
pub async fn new_password_confirm_form(
    Data(state): Data<&AppState>,
    Path(token): Path<String>,
) -> Page {
    match service::user_for_password_token(state, Purpose::NewPassword, &token).await {
        Ok(user) => Page::new(
            "accounts/password_new_confirm.html",
            context! { email => user.email },
        ),
        Err(e) => link_error(e),
    }
}

#[handler]
pub async fn new_password_confirm(
    Data(state): Data<&AppState>,
    session: &Session,
    req: &Request,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let user = match service::user_for_password_token(state, Purpose::NewPassword, &token).await {
        Ok(user) => user,
        Err(e) => return Ok(link_error(e).into_response()),
    };
    reopen_sign_in(state, req, &user.email).await;
    service::issue_new_password(state, user).await?;
    sign_out(session);
    flash(
        session,
        "success",
        "We have mailed you a new password. Sign in with it, then change it on your account page.",
    );
    Ok(see_other("/login"))
}

#[handler]
pub async fn account(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
) -> Result<Page, AppError> {
    account_page(state, &user, None, &FieldErrors::default()).await
}

/// The account page with its API tokens; `new_token` (name, token) is shown once.
async fn account_page(
    state: &AppState,
    user: &user::Model,
    new_token: Option<(String, String)>,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let tokens = api_tokens::list(&state.db, user.id).await?;
    Ok(Page::new(
        "accounts/account.html",
        context! {
            account => Value::from(Serde(user)),
            role_label => user.role.label(),
            tokens => Value::from(Serde(&tokens)),
            new_token => new_token.as_ref().map(|(_, token)| token.clone()),
            new_token_name => new_token.map(|(name, _)| name),
            errors => Value::from(Serde(errors)),
            dkim => state.dkim.as_ref().map(|s| Value::from(Serde(s.info()))),
            sender_from => state
                .config
                .sender()
                .map(|instance| sender::from_mailbox(user, &instance).to_string())
                .unwrap_or_default(),
        },
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Makes an API token and shows it on the page this once (never through the session:
/// the token is kept nowhere but in this response).
#[handler]
pub async fn create_api_token(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let (page, status) = match api_tokens::create(&state.db, user.id, &form.name).await {
        Ok((row, token)) => (
            account_page(
                state,
                &user,
                Some((row.name, token)),
                &FieldErrors::default(),
            )
            .await?,
            StatusCode::CREATED,
        ),
        Err(SaveError::Invalid(errors)) => (
            account_page(state, &user, None, &errors).await?,
            UNPROCESSABLE,
        ),
        Err(SaveError::App(e)) => return Err(e),
    };
    let mut response = page.status(status).into_response();
    response.headers_mut().insert(
        poem::http::header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[handler]
pub async fn revoke_api_token(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
    let name = api_tokens::revoke(&state.db, user.id, id).await?;
    flash(
        session,
        "success",
        crate::i18n::phrase("flash-token-revoked", &[("name", &name)]),
    );
    Ok(see_other("/account#api-tokens"))
}

#[handler]
pub fn profile_form(AuthUser(user): AuthUser) -> Page {
    form_page(
        "accounts/profile.html",
        context! {
            phone => user.phone.clone(),
            avatar => user.avatar.clone(),
            timezone => user.timezone.clone(),
            zones => zone_names(),
        },
        &FieldErrors::default(),
    )
}

#[handler]
pub async fn update_profile(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    multipart: Multipart,
) -> Result<Response, AppError> {
    use sea_orm::{ActiveModelTrait, Set};
    let echo_base = context! { avatar => user.avatar.clone(), zones => zone_names() };
    let mut form = match MultipartForm::read(multipart, avatar::MAX_UPLOAD_BYTES).await {
        Ok(form) => form,
        Err((field, message)) => {
            return Ok(form_page(
                "accounts/profile.html",
                echo_base,
                &FieldErrors::single(&field, message),
            )
            .status(UNPROCESSABLE)
            .into_response());
        }
    };
    let phone = optional(&form.text("phone"));
    let mut errors = FieldErrors::default();
    errors.merge(std::mem::take(&mut form.errors));
    if let Some(p) = &phone
        && let Err(e) = super::forms::valid_phone(p)
    {
        errors.add(
            "phone",
            e.message.map(|m| m.to_string()).unwrap_or_default(),
        );
    }
    let timezone = service::zone_input(&form.text("timezone"), &mut errors);
    let avatar_png = uploaded_avatar(&form, &mut errors).await;
    if !errors.is_empty() {
        let echo = context! { phone => phone, timezone => timezone, ..echo_base };
        return Ok(form_page("accounts/profile.html", echo, &errors)
            .status(UNPROCESSABLE)
            .into_response());
    }
    let remove = form.fields.contains_key("remove_avatar");
    let old_avatar = user.avatar.clone();
    let mut active: user::ActiveModel = (*user).clone().into();
    active.phone = Set(phone);
    active.timezone = Set(timezone);
    if remove && avatar_png.is_none() {
        active.avatar = Set(None);
    }
    active.updated_at = Set(chrono::Utc::now());
    let updated = active.update(&state.db).await?;
    if let Some(png) = avatar_png {
        save_avatar(state, updated, &png).await?;
    } else if remove && let Some(old) = old_avatar {
        remove_avatar_file(&avatars_dir(state), &old).await;
    }
    flash(session, "success", "Your profile is saved.");
    Ok(see_other("/account"))
}

#[handler]
pub fn change_password_form(AuthUser(_user): AuthUser) -> Page {
    form_page(
        "accounts/change_password.html",
        context! {},
        &FieldErrors::default(),
    )
}

#[handler]
pub async fn change_password(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let (attempt, hash) = (form.old_password.clone(), user.password_hash.clone());
    let old_ok = tokio::task::spawn_blocking(move || password::verify(&attempt, &hash))
        .await
        .unwrap_or(false);
    if !old_ok {
        errors.add("old_password", "This is not your current password.");
    }
    service::check_new_password(
        &form.password,
        &form.password_confirm,
        &user.email,
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(
            form_page("accounts/change_password.html", context! {}, &errors)
                .status(UNPROCESSABLE)
                .into_response(),
        );
    }
    let user = service::set_password(&state.db, (*user).clone(), &form.password).await?;
    // Other sessions end; this one goes on under a new id.
    sign_in(session, &user);
    flash(
        session,
        "success",
        "Your password is changed. Other devices have been signed out.",
    );
    Ok(see_other("/account"))
}

#[handler]
pub async fn serve_avatar(
    Data(state): Data<&AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    if !avatar::is_valid_name(&name) {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(avatars_dir(state).join(&name))
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(Response::builder()
        .content_type("image/png")
        .header(
            poem::http::header::CACHE_CONTROL,
            "public, max-age=31536000, immutable",
        )
        .body(bytes))
}

fn sender_page(user: &user::Model, form: &sender::SenderForm, errors: &FieldErrors) -> Page {
    Page::new(
        "accounts/sender.html",
        context! {
            form => Value::from(Serde(form)),
            errors => Value::from(Serde(errors)),
            confirmed_reply_to => user.reply_to.clone(),
        },
    )
}

#[handler]
pub fn sender_form(AuthUser(user): AuthUser) -> Page {
    let form = sender::SenderForm {
        sender_name: user.sender_name.clone(),
        reply_to: user.reply_to.clone().unwrap_or_default(),
        postal_address: user.postal_address.clone(),
    };
    sender_page(&user, &form, &FieldErrors::default())
}

/// Saves the sender identity; a new reply-to address waits for its link.
#[handler]
pub async fn update_sender(
    Data(state): Data<&AppState>,
    session: &Session,
    AuthUser(user): AuthUser,
    Form(form): Form<sender::SenderForm>,
) -> Result<Response, AppError> {
    let checked = match sender::check(&form) {
        Ok(checked) => checked,
        Err(errors) => {
            return Ok(sender_page(&user, &form, &errors)
                .status(UNPROCESSABLE)
                .into_response());
        }
    };
    let (_, change) = sender::save(state, &user, checked).await?;
    let message = match change {
        sender::ReplyTo::Unchanged => "Your sender details are saved.".to_owned(),
        sender::ReplyTo::Cleared => "Saved. Replies now go to the From address.".to_owned(),
        sender::ReplyTo::Pending {
            address,
            mailed: true,
        } => crate::i18n::phrase("flash-sender-link-sent", &[("address", &address)]),
        sender::ReplyTo::Pending {
            address,
            mailed: false,
        } => crate::i18n::phrase("flash-sender-link-pending", &[("address", &address)]),
    };
    flash(session, "success", message);
    Ok(see_other("/account#sender"))
}

/// Follows the link mailed to a new reply-to address; works without signing in (the
/// address may be a colleague's or a shared mailbox).
#[handler]
pub async fn confirm_reply_to(Data(state): Data<&AppState>, Path(token): Path<String>) -> Page {
    match sender::confirm(state, &token).await {
        Ok(user) => Page::new(
            "accounts/reply_to_confirmed.html",
            context! { address => user.reply_to, account => user.email },
        ),
        Err(e) => link_error(e),
    }
}
