//! Test support for Mailer's integration suite (`tests/tests/it`): the app harness, the real
//! services, a fake SMTP server, and HTML helpers.

pub mod app;
pub mod dovecot;
pub mod html;
pub mod instances;
pub mod queue;
pub mod services;
pub mod smtp;
pub mod users;

pub use app::{Backend, TestApp, spawn_app, spawn_app_with};
