//! Account rules: who may register, sign in, reset a password; what each step changes.

use std::net::IpAddr;

use chrono::Utc;
use minijinja::context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};

use super::throttle::{self, Gate};
use super::tokens::{self, Purpose, TokenError};
use super::{mails, password};
use crate::entities::user::{self, Role};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::validation::{FieldErrors, SaveError};

/// How long e-mailed links stay valid.
pub const LINK_TTL: chrono::Duration = chrono::Duration::hours(1);

pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    // No account has a NUL in its address, and PostgreSQL refuses one in a query ("invalid
    // byte sequence"): such an address finds nobody, on every backend.
    if email.contains('\0') {
        return Ok(None);
    }
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

/// Checks the password policy and the confirmation; errors go next to the fields.
pub fn check_new_password(password: &str, confirm: &str, email: &str, errors: &mut FieldErrors) {
    if let Err(problem) = password::check_policy(password, email) {
        errors.add("password", problem.to_string());
    } else if password != confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
}

/// A time zone field as typed (a form's or the API's): its canonical IANA name, or the
/// error beside the field (the typed text is returned to show back). Empty is UTC, for a
/// browser that did not fill it in.
pub fn zone_input(typed: &str, errors: &mut FieldErrors) -> String {
    if typed.trim().is_empty() {
        return crate::timezone::DEFAULT.to_owned();
    }
    crate::timezone::check(typed).unwrap_or_else(|message| {
        errors.add("timezone", message);
        typed.trim().to_owned()
    })
}

/// Sets the user's time zone (checked as [`zone_input`], except that empty is refused).
pub async fn set_timezone(
    db: &DatabaseConnection,
    user: user::Model,
    typed: &str,
) -> Result<user::Model, SaveError> {
    let timezone = crate::timezone::check(typed)
        .map_err(|message| SaveError::Invalid(FieldErrors::single("timezone", message)))?;
    let mut active: user::ActiveModel = user.into();
    active.timezone = Set(timezone);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub phone: Option<String>,
    pub role: Role,
    pub is_verified: bool,
    /// The language of the site and the account's e-mails; none: as the browser asks.
    pub language: Option<Lang>,
    /// A checked IANA zone name (`crate::timezone::parse`).
    pub timezone: String,
}

/// Inserts the user; the e-mail must be normalised and the password already checked.
pub async fn create_user(
    db: &DatabaseConnection,
    account: NewAccount,
) -> anyhow::Result<user::Model> {
    let hash = hash_password(&account.password).await?;
    Ok(insert_user(db, account, hash).await?)
}

/// Hashes off the async threads: argon2 is tens of milliseconds of CPU.
async fn hash_password(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password)).await?
}

async fn insert_user(
    db: &DatabaseConnection,
    account: NewAccount,
    hash: String,
) -> Result<user::Model, sea_orm::DbErr> {
    let now = Utc::now();
    user::ActiveModel {
        email: Set(account.email),
        password_hash: Set(hash),
        phone: Set(account.phone),
        avatar: Set(None),
        role: Set(account.role),
        is_verified: Set(account.is_verified),
        is_active: Set(true),
        sessions_valid_after: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_login: Set(None),
        sender_name: Set(String::new()),
        reply_to: Set(None),
        postal_address: Set(String::new()),
        language: Set(account.language.map(|l| l.code().to_owned())),
        timezone: Set(account.timezone),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// What a registration did. The visitor is told the same either way: whether an address
/// has an account is for its owner to know.
pub enum Registration {
    /// A new account, still to confirm.
    Created(Box<user::Model>),
    /// The address has an account; its owner is told by mail.
    Taken,
}

/// Makes the account, unless the address has one already: then its owner is told by mail
/// (an account mail, limited like the others). The password is hashed either way, so a
/// taken address answers no faster than a new one.
pub async fn register(state: &AppState, account: NewAccount) -> anyhow::Result<Registration> {
    let hash = hash_password(&account.password).await?;
    if let Some(owner) = find_by_email(&state.db, &account.email).await? {
        notify_owner(state, &owner).await?;
        return Ok(Registration::Taken);
    }
    let email = account.email.clone();
    match insert_user(&state.db, account, hash).await {
        Ok(user) => Ok(Registration::Created(Box::new(user))),
        // A registration of the same address at the same moment won.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            if let Some(owner) = find_by_email(&state.db, &email).await? {
                notify_owner(state, &owner).await?;
            }
            Ok(Registration::Taken)
        }
        Err(e) => Err(e.into()),
    }
}

/// "Someone tried to register with your address": how to get in if it was the owner, with
/// a confirmation link when the account is not confirmed yet.
async fn notify_owner(state: &AppState, owner: &user::Model) -> anyhow::Result<()> {
    if !throttle::may_mail(state, &owner.email).await {
        return Ok(());
    }
    let site = state.config.public_url();
    let ctx = context! {
        login_link => format!("{site}/login"),
        reset_link => format!("{site}/password/reset"),
        verify_link => (!owner.is_verified).then(|| verification_link(state, owner)),
    };
    let subject = "Someone tried to register with your address";
    mails::enqueue(state, owner, "registration_attempt", subject, ctx).await
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}{path}/{token}", state.config.public_url())
}

/// Mails the link that confirms the address.
pub async fn send_verification(state: &AppState, user: &user::Model) -> anyhow::Result<()> {
    let ctx = context! { link => verification_link(state, user) };
    mails::enqueue(state, user, "verify", "Confirm your e-mail address", ctx).await
}

fn verification_link(state: &AppState, user: &user::Model) -> String {
    let token = tokens::sign(
        &state.secret_key,
        Purpose::Verify,
        user.id,
        &verify_fingerprint(user),
        Utc::now() + LINK_TTL,
    );
    link(state, "/verify", &token)
}

/// Mails a new confirmation link when the address belongs to an active, unconfirmed
/// account that had no account mail lately; says nothing either way.
pub async fn resend_verification(state: &AppState, email: &str) -> anyhow::Result<()> {
    if let Some(user) = find_by_email(&state.db, email).await?
        && !user.is_verified
        && user.is_active
        && throttle::may_mail(state, &user.email).await
    {
        send_verification(state, &user).await?;
    }
    Ok(())
}

fn verify_fingerprint(user: &user::Model) -> String {
    tokens::fingerprint(&format!("{}|{}", user.email, user.is_verified))
}

fn password_fingerprint(user: &user::Model) -> String {
    tokens::fingerprint(&user.password_hash)
}

/// Follows a verification link.
pub async fn verify_email(state: &AppState, token: &str) -> Result<user::Model, TokenError> {
    let claims = tokens::verify(&state.secret_key, Purpose::Verify, token)?;
    let user = user::Entity::find_by_id(claims.user_id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .ok_or(TokenError::BadSignature)?;
    if user.is_verified || claims.fingerprint != verify_fingerprint(&user) {
        return Err(TokenError::Used);
    }
    let mut active: user::ActiveModel = user.into();
    active.is_verified = Set(true);
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await.map_err(|e| {
        tracing::error!(error = %e, "cannot mark the user verified");
        TokenError::Malformed
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error(
        "Too many failed sign-ins for this address from your network. Try again in {}, or reset your password.",
        throttle::wait_text(*.wait)
    )]
    Throttled { wait: std::time::Duration },
    #[error("The e-mail or the password is wrong.")]
    Invalid,
    #[error("Confirm your e-mail address first: follow the link we mailed you.")]
    Unverified,
    #[error("This account is blocked. Contact the service's managers.")]
    Blocked,
}

/// Checks the credentials. Unknown e-mails cost the same time as wrong passwords; repeated
/// failures are refused or slowed down as [`throttle`] explains.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password_attempt: &str,
    client: Option<IpAddr>,
) -> Result<user::Model, LoginError> {
    let throttle = throttle::SignIn::new(email, client);
    match throttle.admit(state).await {
        Gate::Open => {}
        Gate::Slow(wait) => tokio::time::sleep(wait).await,
        Gate::Refused => {
            let wait = state.config.throttle.window();
            return Err(LoginError::Throttled { wait });
        }
    }
    let user = find_by_email(&state.db, email).await.ok().flatten();
    let attempt = password_attempt.to_owned();
    let matches = match &user {
        Some(u) => {
            let hash = u.password_hash.clone();
            tokio::task::spawn_blocking(move || password::verify(&attempt, &hash))
                .await
                .unwrap_or(false)
        }
        None => {
            let _ = tokio::task::spawn_blocking(move || password::verify_dummy(&attempt)).await;
            false
        }
    };
    let Some(user) = user.filter(|_| matches) else {
        return Err(LoginError::Invalid);
    };
    throttle.succeeded(state).await;
    if !user.is_active {
        return Err(LoginError::Blocked);
    }
    if !user.is_verified {
        return Err(LoginError::Unverified);
    }
    let mut active: user::ActiveModel = user.clone().into();
    active.last_login = Set(Some(Utc::now()));
    Ok(active.update(&state.db).await.unwrap_or(user))
}

/// Mails a password link (reset, or "mail me a new password") when the address belongs to
/// an account and had no account mail lately; says nothing either way. The link dies when
/// the password changes.
async fn mail_password_link(
    state: &AppState,
    email: &str,
    purpose: Purpose,
    template: &str,
    subject: &str,
) -> anyhow::Result<()> {
    let Some(user) = find_by_email(&state.db, email).await? else {
        return Ok(());
    };
    if !throttle::may_mail(state, &user.email).await {
        return Ok(());
    }
    let token = tokens::sign(
        &state.secret_key,
        purpose,
        user.id,
        &password_fingerprint(&user),
        Utc::now() + LINK_TTL,
    );
    let path = match purpose {
        Purpose::NewPassword => "/password/new",
        _ => "/password/reset",
    };
    let ctx = context! { link => link(state, path, &token) };
    mails::enqueue(state, &user, template, subject, ctx).await
}

pub async fn request_password_reset(state: &AppState, email: &str) -> anyhow::Result<()> {
    mail_password_link(
        state,
        email,
        Purpose::ResetPassword,
        "reset_password",
        "Reset your password",
    )
    .await
}

/// The account a reset or new-password link is for, if the link is still good.
pub async fn user_for_password_token(
    state: &AppState,
    purpose: Purpose,
    token: &str,
) -> Result<user::Model, TokenError> {
    let claims = tokens::verify(&state.secret_key, purpose, token)?;
    let user = user::Entity::find_by_id(claims.user_id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .ok_or(TokenError::BadSignature)?;
    if claims.fingerprint != password_fingerprint(&user) {
        return Err(TokenError::Used);
    }
    Ok(user)
}

/// Sets a new password and ends every session of the account.
pub async fn set_password(
    db: &DatabaseConnection,
    user: user::Model,
    new_password: &str,
) -> anyhow::Result<user::Model> {
    let hash = hash_password(new_password).await?;
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.sessions_valid_after = Set(Some(now));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Mails a link that, when followed, replaces the password with a generated one.
pub async fn request_new_password(state: &AppState, email: &str) -> anyhow::Result<()> {
    mail_password_link(
        state,
        email,
        Purpose::NewPassword,
        "new_password_confirm",
        "Confirm: a new password for Mailer",
    )
    .await
}

/// Generates a strong password for the account of a confirmed link and mails it.
pub async fn issue_new_password(state: &AppState, user: user::Model) -> anyhow::Result<()> {
    // A generated password could, very rarely, contain the e-mail's local part.
    let generated = std::iter::repeat_with(password::generate)
        .find(|p| password::check_policy(p, &user.email).is_ok())
        .unwrap_or_else(password::generate);
    let user = set_password(&state.db, user, &generated).await?;
    let ctx =
        context! { password => generated, link => format!("{}/login", state.config.public_url()) };
    mails::enqueue(
        state,
        &user,
        "new_password",
        "Your new Mailer password",
        ctx,
    )
    .await
}

/// Makes (or promotes) a superuser: verified, active, with this password.
pub async fn create_superuser(
    db: &DatabaseConnection,
    email: &str,
    new_password: &str,
) -> anyhow::Result<user::Model> {
    create_staff(db, email, new_password, Role::Superuser).await
}

/// Makes (or re-roles) a staff account from the command line: verified, active, with this
/// password and role (a manager or content manager needs no superuser to exist first).
pub async fn create_staff(
    db: &DatabaseConnection,
    email: &str,
    new_password: &str,
    role: Role,
) -> anyhow::Result<user::Model> {
    let email = super::forms::normalize_email(email);
    if let Err(problem) = password::check_policy(new_password, &email) {
        anyhow::bail!("password: {problem}");
    }
    match find_by_email(db, &email).await? {
        Some(existing) => {
            let user = set_password(db, existing, new_password).await?;
            let mut active: user::ActiveModel = user.into();
            active.role = Set(role);
            active.is_verified = Set(true);
            active.is_active = Set(true);
            Ok(active.update(db).await?)
        }
        None => {
            create_user(
                db,
                NewAccount {
                    email,
                    password: new_password.to_owned(),
                    phone: None,
                    role,
                    is_verified: true,
                    language: None,
                    timezone: crate::timezone::DEFAULT.to_owned(),
                },
            )
            .await
        }
    }
}

/// Blocks or unblocks an account; blocking ends its sessions at once.
pub async fn set_active(
    db: &DatabaseConnection,
    user: user::Model,
    active_flag: bool,
) -> anyhow::Result<user::Model> {
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.is_active = Set(active_flag);
    if !active_flag {
        active.sessions_valid_after = Set(Some(now));
    }
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}
