//! Accounts: registration with e-mail verification, sign-in, password reset, profile,
//! roles, and the sessions everything else relies on.

pub mod api_tokens;
pub mod avatar;
pub mod forms;
pub mod language;
pub mod mails;
pub mod password;
pub mod routes;
pub mod sender;
pub mod service;
pub mod session;
pub mod throttle;
pub mod tokens;

use crate::web::Site;

/// The account pages: registration, verification, sign-in and out, password reset and
/// change, the profile and its API tokens.
pub fn routes(site: Site) -> Site {
    site.form("/register", routes::register_form, routes::register)
        .page("/verify/:token", routes::verify_email)
        .action("/verify/resend", routes::resend_verification)
        .form("/login", routes::login_form, routes::login)
        .action("/logout", routes::logout)
        .form(
            "/password/reset",
            routes::reset_request_form,
            routes::reset_request,
        )
        .form("/password/reset/:token", routes::reset_form, routes::reset)
        .form(
            "/password/new",
            routes::new_password_request_form,
            routes::new_password_request,
        )
        .form(
            "/password/new/:token",
            routes::new_password_confirm_form,
            routes::new_password_confirm,
        )
        .page("/language/:code", language::switch)
        .action("/account/language", language::save)
        .page("/account", routes::account)
        .action("/account/tokens", routes::create_api_token)
        .action("/account/tokens/:id/revoke", routes::revoke_api_token)
        .form(
            "/account/edit",
            routes::profile_form,
            routes::update_profile,
        )
        .form(
            "/account/sender",
            routes::sender_form,
            routes::update_sender,
        )
        .page("/account/reply-to/:token", routes::confirm_reply_to)
        .form(
            "/account/password",
            routes::change_password_form,
            routes::change_password,
        )
}
