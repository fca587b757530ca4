//! The language switcher on every page. A visitor without an account picks a language
//! with a link (`GET /language/ru?next=/blog`) that sets the `lang` cookie only: the cached
//! public pages carry no CSRF token, and a cookie of taste changes nothing stored. A
//! signed-in user's switcher is a form (`POST /account/language`, CSRF-checked) that saves
//! the choice on the account (pages and account e-mails follow it on every device) and
//! sets the cookie too, so the site stays in it after signing out.

use poem::http::header;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, handler};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde::Deserialize;

use super::session::AuthUser;
use crate::entities::user;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use crate::web::error::see_other;
use crate::web::redirect::local_path;

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    /// A language's code, or empty for "as my browser asks".
    #[serde(default)]
    language: String,
    next: Option<String>,
}

/// A year, in seconds.
const COOKIE_AGE: u32 = 365 * 24 * 3600;

fn back_to(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_owned())
}

/// Sends the visitor back with the `lang` cookie set to `lang` (removed for `None`).
fn with_cookie(mut response: Response, lang: Option<Lang>, secure: bool) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = match lang {
        Some(lang) => format!(
            "{}={}; Path=/; Max-Age={COOKIE_AGE}; SameSite=Lax{secure}",
            i18n::COOKIE,
            lang.code()
        ),
        None => format!("{}=; Path=/; Max-Age=0; SameSite=Lax{secure}", i18n::COOKIE),
    };
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /language/:code`: the anonymous switcher.
#[handler]
pub fn switch(
    Data(state): Data<&AppState>,
    Path(code): Path<String>,
    Query(query): Query<Next>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code)
        .filter(|lang| lang.code() == code)
        .ok_or(AppError::NotFound)?;
    let back = back_to(query.next.as_deref());
    Ok(with_cookie(
        see_other(&back),
        Some(lang),
        state.config.secure_cookies,
    ))
}

/// `POST /account/language`: the signed-in switcher, and the account page's setting.
#[handler]
pub async fn save(
    Data(state): Data<&AppState>,
    AuthUser(user): AuthUser,
    Form(form): Form<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = match form.language.as_str() {
        "" => None,
        code => Some(
            Lang::parse(code)
                .filter(|lang| lang.code() == code)
                .ok_or_else(|| AppError::BadRequest("Choose English or Russian.".into()))?,
        ),
    };
    let mut active: user::ActiveModel = (*user).clone().into();
    active.language = Set(lang.map(|l| l.code().to_owned()));
    active.updated_at = Set(chrono::Utc::now());
    active.update(&state.db).await?;
    let back = back_to(form.next.as_deref());
    Ok(with_cookie(
        see_other(&back),
        lang,
        state.config.secure_cookies,
    ))
}
