//! Clients: a user's recipients — list with search, sort and pages, forms, CSV import and
//! export. Every query is scoped to the owner.

pub mod import;
pub mod routes;
pub mod service;
