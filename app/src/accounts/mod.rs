//! Accounts: registration with e-mail verification, sign-in, password reset, profile,
//! roles, and the sessions everything else relies on.

pub mod api_tokens;
pub mod avatar;
pub mod forms;
pub mod mails;
pub mod password;
pub mod routes;
pub mod service;
pub mod session;
pub mod throttle;
pub mod tokens;
