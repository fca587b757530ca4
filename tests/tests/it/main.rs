//! The one integration test binary of Mailer. Each module is a suite; suites that need
//! PostgreSQL/Redis run against the real servers (see `mailer_tests::services`).

mod abuse;
mod accounts;
mod admin;
mod api;
mod audience;
mod blog;
mod bounces;
mod cli;
mod clients;
mod consent;
mod csrf;
mod delivery;
mod dkim;
mod entities;
mod fuzz_pages;
mod home;
mod limits;
mod mailings;
mod messages;
mod metrics;
mod migrations;
mod outage;
mod outages;
mod ownership;
mod poison;
mod reports;
mod send_cli;
mod sender;
mod stop;
mod suppressions;
mod templates;
mod test_send;
mod transport;
mod web;
mod worker;
