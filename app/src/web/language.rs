//! Which language a request's page is in (`crate::i18n::choose`): the signed-in viewer's
//! setting (the `language` the accounts' session middleware puts in the page context), else
//! the switcher's cookie, else `Accept-Language`. The choice goes into the page context as
//! `lang` (what `<html lang>` and every text of the templates read) and into the request's
//! extensions for handlers that write text outside a template (e-mails).

use std::sync::Arc;

use poem::http::header;
use poem::{Endpoint, Request};

use super::page::{PageContext, VIEWER};
use crate::i18n::{self, Lang};

/// The language of a visitor without an account: the cookie, else the browser's.
pub fn anonymous(req: &Request) -> Lang {
    i18n::choose(
        None,
        super::cookie(req, i18n::COOKIE).and_then(Lang::parse),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The request's language, as [`choose_language`] set it (English before it ran).
pub fn of(req: &Request) -> Lang {
    req.extensions().get::<Lang>().copied().unwrap_or_default()
}

/// Sets the request's language; runs after the viewer is known.
pub async fn choose_language<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<E::Output> {
    let mut page = req
        .extensions()
        .get::<PageContext>()
        .cloned()
        .unwrap_or_default();
    let account = page
        .0
        .get(VIEWER)
        .and_then(|viewer| viewer.get_attr("language").ok())
        .and_then(|language| language.as_str().and_then(Lang::parse));
    let lang = match account {
        Some(lang) => lang,
        None => anonymous(&req),
    };
    page.0.insert("lang", minijinja::Value::from(lang.code()));
    req.extensions_mut().insert(page);
    req.extensions_mut().insert(lang);
    ep.call(req).await
}
