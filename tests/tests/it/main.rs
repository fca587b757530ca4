//! The one integration test binary of Mailer. Each module is a suite; suites that need
//! PostgreSQL/Redis run against the real servers (see `mailer_tests::services`).

mod accounts;
mod admin;
mod api;
mod blog;
mod cli;
mod clients;
mod csrf;
mod delivery;
mod entities;
mod home;
mod mailings;
mod messages;
mod migrations;
mod outage;
mod ownership;
mod reports;
mod send_cli;
mod transport;
mod web;
mod worker;
