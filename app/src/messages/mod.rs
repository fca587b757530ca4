//! Messages: the subject and body a mailing sends. Every query is scoped to the owner.

pub mod routes;
pub mod service;
