//! Mailer: a self-hosted e-mail mailing service. This crate is the domain and the web
//! surface; `mailer-worker` runs its jobs and `admin` renders the back office.

pub mod accounts;
pub mod admin_site;
pub mod api;
pub mod blog;
pub mod bounces;
pub mod cache;
pub mod clients;
pub mod config;
pub mod consent;
pub mod db;
pub mod delivery;
pub mod dkim;
pub mod entities;
pub mod error;
pub mod health;
pub mod home;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod mailings;
pub mod markdown;
pub mod messages;
pub mod monitoring;
pub mod paging;
pub mod reports;
pub mod server;
pub mod shutdown;
pub mod spreadsheet;
pub mod state;
pub mod telemetry;
pub mod templates;
pub mod timezone;
pub mod validation;
pub mod web;

pub use config::Config;
pub use state::AppState;
