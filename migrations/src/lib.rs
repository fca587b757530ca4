//! Schema migrations for Mailer. Schema only: no data, no application types.
//!
//! Every table is created with its foreign keys inside `CREATE TABLE` (SQLite cannot add
//! them later) and every `down` drops exactly what its `up` made, so the whole chain can be
//! rolled back and re-applied on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_users;
mod m20261125_000002_clients;
mod m20261125_000003_messages;
mod m20261125_000004_mailings;
mod m20261125_000005_deliveries;
mod m20261125_000006_attempts;
mod m20261125_000007_posts;
mod m20261125_000008_admin_log;
mod m20261125_000009_api_tokens;
mod m20261125_000010_report_indexes;
mod m20261206_000011_delivery_write_path;
mod m20261206_000012_attempt_log_references;
mod m20261206_000013_attempt_log_indexes;
mod m20261207_000014_suppressions;
mod m20261207_000015_feedback;
mod m20261207_000016_audience;
mod m20261207_000017_sender;
mod m20261207_000018_tz26_user_timezone;
mod m20261207_000019_user_language;
mod m20261207_000020_mailing_name;
mod m20261208_000021_report_slots;
mod m20261208_000022_attempt_reasons;
mod m20261208_000023_fan_outs;

pub use m20261206_000013_attempt_log_indexes::ATTEMPT_FAILURES;
pub use m20261208_000021_report_slots::SLOT_SECONDS;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_users::Migration),
            Box::new(m20261125_000002_clients::Migration),
            Box::new(m20261125_000003_messages::Migration),
            Box::new(m20261125_000004_mailings::Migration),
            Box::new(m20261125_000005_deliveries::Migration),
            Box::new(m20261125_000006_attempts::Migration),
            Box::new(m20261125_000007_posts::Migration),
            Box::new(m20261125_000008_admin_log::Migration),
            Box::new(m20261125_000009_api_tokens::Migration),
            Box::new(m20261125_000010_report_indexes::Migration),
            Box::new(m20261206_000011_delivery_write_path::Migration),
            Box::new(m20261206_000012_attempt_log_references::Migration),
            Box::new(m20261206_000013_attempt_log_indexes::Migration),
            Box::new(m20261207_000014_suppressions::Migration),
            Box::new(m20261207_000015_feedback::Migration),
            Box::new(m20261207_000016_audience::Migration),
            Box::new(m20261207_000017_sender::Migration),
            Box::new(m20261207_000018_tz26_user_timezone::Migration),
            Box::new(m20261207_000019_user_language::Migration),
            Box::new(m20261207_000020_mailing_name::Migration),
            Box::new(m20261208_000021_report_slots::Migration),
            Box::new(m20261208_000022_attempt_reasons::Migration),
            Box::new(m20261208_000023_fan_outs::Migration),
        ]
    }
}

/// The tables after every migration, in creation order; tests compare them with the live
/// schema. (`report_days`, made tenth, gave way to `report_slots`.)
pub const TABLES: &[&str] = &[
    "users",
    "clients",
    "messages",
    "mailings",
    "mailing_clients",
    "deliveries",
    "attempts",
    "posts",
    "admin_log",
    "api_tokens",
    "suppressions",
    "feedback",
    "global_suppressions",
    "tags",
    "client_tags",
    "mailing_tags",
    "report_slots",
    "fan_outs",
];

/// `CREATE INDEX` for `columns` of `table`, named `idx_<table>_<col>_<col>`.
pub(crate) fn index(table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let table = table.into_iden();
    let mut stmt = Index::create();
    stmt.name(format!("idx_{}_{}", table, columns.join("_")))
        .table(table);
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    stmt.to_owned()
}
