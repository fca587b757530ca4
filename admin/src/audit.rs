//! The audit trail. The admin writes one entry per object it adds, changes, deletes or runs
//! an action on, inside the transaction of the change; the application decides where the
//! entries live by implementing [`AuditSink`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde::Serialize;

use crate::{Actor, BoxFuture};

/// Old and new value of one field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}

/// What the admin asks the sink to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    /// `add`, `change`, `delete` or `action:<name>`.
    pub action: String,
    /// The model's URL name.
    pub model: String,
    pub object_id: String,
    pub object_repr: String,
    /// Field name → old and new value (values of secret fields are masked).
    pub changes: BTreeMap<String, Change>,
    pub at: DateTime<Utc>,
}

impl AuditEntry {
    /// `{"field": [old, new], ...}`: the changes as one JSON object.
    pub fn changes_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.changes
                .iter()
                .map(|(field, c)| (field.clone(), serde_json::json!([c.old, c.new])))
                .collect(),
        )
    }
}

/// One recorded entry, as the history pages show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor_email: String,
    pub action: String,
    pub model: String,
    pub object_id: String,
    pub object_repr: String,
    /// Field name → `[old, new]`.
    pub changes: BTreeMap<String, (serde_json::Value, serde_json::Value)>,
}

impl AuditRecord {
    /// Reads the `changes_json` form back; anything else counts as no field changes.
    pub fn parse_changes(json: &str) -> BTreeMap<String, (serde_json::Value, serde_json::Value)> {
        serde_json::from_str::<BTreeMap<String, (serde_json::Value, serde_json::Value)>>(json)
            .unwrap_or_default()
    }
}

/// Where audit entries go and come back from.
pub trait AuditSink: Send + Sync {
    /// Records one entry inside the transaction of the change it describes.
    fn record<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        entry: AuditEntry,
    ) -> BoxFuture<'a, Result<(), DbErr>>;

    /// Entries about one object, newest first.
    fn history<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        model: &'a str,
        object_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>>;

    /// The latest entries about any of `models`, newest first.
    fn recent<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        models: &'a [String],
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>>;
}
