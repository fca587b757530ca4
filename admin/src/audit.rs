//! The audit trail. The admin writes one entry per object it adds, changes, deletes or runs
//! an action on, inside the transaction of the change (a custom action commits its own
//! writes, so its entries follow in a transaction of their own); the application decides
//! where the entries live by implementing [`AuditSink`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    Value,
};
use serde::Serialize;

use crate::erased::Ctx;
use crate::field;
use crate::model::ModelAdmin;
use crate::object::ObjectRef;
use crate::{Actor, BoxFuture, ChangeEvent};

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
    /// Records one entry inside `txn`: the transaction of the change it describes (for a
    /// custom action, the one that follows it).
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

/// How the admin writes the trail: an entry names the object and, for a change, the fields
/// whose values differ before and after.
impl<E: EntityTrait, S> ModelAdmin<E, S> {
    /// Field changes between two versions of a row (all columns but ignored ones).
    pub(crate) fn diff(&self, before: &E::Model, after: &E::Model) -> BTreeMap<String, Change> {
        let mut changes = BTreeMap::new();
        for column in E::Column::iter() {
            let name = column.as_str();
            if self.audit_ignore.contains(name) {
                continue;
            }
            let (old, new) = (before.get(column), after.get(column));
            if field::same(&old, &new) {
                continue;
            }
            changes.insert(name.to_owned(), self.change(name, &old, &new));
        }
        changes
    }

    /// One field's old and new value; a secret one only says whether it was set.
    pub(crate) fn change(&self, name: &str, old: &Value, new: &Value) -> Change {
        if self.secret.contains(name) {
            let mask = |v: &Value| {
                if field::is_null(v) {
                    serde_json::Value::Null
                } else {
                    "••••".into()
                }
            };
            return Change {
                old: mask(old),
                new: mask(new),
            };
        }
        Change {
            old: field::value_json(old),
            new: field::value_json(new),
        }
    }

    /// The entry that records `action` on `object` by the acting user.
    pub(crate) fn entry(
        &self,
        ctx: &Ctx<'_>,
        action: &str,
        object: &ObjectRef,
        changes: BTreeMap<String, Change>,
    ) -> AuditEntry {
        AuditEntry {
            actor: ctx.actor.clone(),
            action: action.to_owned(),
            model: self.name.clone(),
            object_id: object.id.clone(),
            object_repr: object.repr.clone(),
            changes,
            at: Utc::now(),
        }
    }

    /// Tells the application's `on_change` hook. Called after the commit, so that what the
    /// hook does (empty a cache) cannot be undone by a reader that still sees the old rows.
    pub(crate) async fn notify(&self, st: &S, action: &str, ids: Vec<String>) {
        if let Some(hook) = &self.on_change {
            let event = ChangeEvent {
                model: self.name.clone(),
                action: action.to_owned(),
                ids,
            };
            hook(st, &event).await;
        }
    }
}
