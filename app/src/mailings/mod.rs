//! Mailings: which message goes to which clients, when and how often. Every query is
//! scoped to the owner.

pub mod report;
pub mod routes;
pub mod service;
