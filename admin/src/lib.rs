//! A generic, Django-style admin over sea-orm entities. It names no entity of its own: an
//! application builds a [`ModelAdmin`] per entity (typed options keyed by the entity's
//! `Column`s), registers them in a [`Registry`] together with an [`AuditSink`], and calls the
//! registry from its own HTTP handlers. Each call checks the actor's permissions (deny by
//! default, per role × model × action), does the work, writes audit rows in the same
//! transaction as the change (a custom action commits its own writes; its rows follow in
//! a transaction of their own), and returns a [`View`] (template name + JSON context) or a
//! redirect for the application to render with its own templates.
//!
//! URL vocabulary (relative to the registry's base, e.g. `/admin`): `/`, `/<model>/`,
//! `/<model>/add/`, `/<model>/<id>/change/`, `/<model>/<id>/delete/`, `/<model>/<id>/history/`;
//! list query parameters `q` (search), `o` (ordering, `-` for descending), `p` (page) and
//! one parameter per filter, named after its column.
//!
//! The files follow Django's admin, one idea each: `registry.rs` (`sites.py`: the models,
//! the permission checks, each page's context), `model.rs` (`options.py`: a model's
//! declared options and hooks), `changelist.rs` with `filters.rs` and `search.rs`
//! (`views/main.py`, `filters.py`), `form.rs` (the add and change forms and the save),
//! `delete.rs`, `actions.rs` (`actions.py`), `audit.rs` (the trail, `LogEntry`);
//! `object.rs` is what they share about one object, `object_tools.rs` what an object's
//! page offers besides its form, `field.rs` the widgets and parsing by
//! column type, `params.rs` what a request says, `perm.rs` who may do what, `view.rs` what
//! comes back, `erased.rs` the entity-free trait the registry calls them through.

mod actions;
mod audit;
mod changelist;
mod delete;
mod erased;
mod field;
mod filters;
mod form;
mod model;
mod object;
mod object_tools;
mod params;
mod perm;
mod registry;
mod search;
mod text;
mod view;
mod zone;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;

pub use audit::{AuditEntry, AuditRecord, AuditSink, Change};
pub use field::{Choice, FieldKind, Upload};
pub use model::{
    ActionError, ChangeEvent, ForeignKey, ImageField, ModelAdmin, Related, SaveContext,
};
pub use params::FormInput;
pub use perm::Perm;
pub use registry::Registry;
pub use search::{like_any, like_patterns};
pub use text::{inner_phrase, phrase, split_phrase};
pub use view::{Outcome, View};
pub use zone::Zone;

/// A boxed, sendable future: what the type-erased parts of the admin return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the admin needs from the application's state: the database. Actions and hooks get
/// the whole state, so they can reach anything else the application keeps there.
pub trait AdminState: Send + Sync + 'static {
    fn db(&self) -> &sea_orm::DatabaseConnection;
}

/// Who is acting: recorded in the audit trail; `role` selects the permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    pub email: String,
    pub role: String,
    /// Their time zone: the date filters count days in it.
    pub zone: Zone,
}

/// Why an admin request failed (input problems are not errors: they come back as a form
/// with messages beside the fields).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// The application's own code (a page's extra context) failed.
    #[error("{0}")]
    Hook(ActionError),
}
