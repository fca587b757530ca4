//! The admin's audit trail lives in `admin_log`: one row per object added, changed, deleted
//! or touched by an action, written in the transaction of the change.

use admin::{AuditEntry, AuditRecord, AuditSink, BoxFuture};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::admin_log;

/// Longest text each column keeps (the rest is cut, the row is still written).
const REPR_LEN: usize = 255;

pub struct AdminLogSink;

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn record(row: admin_log::Model) -> AuditRecord {
    AuditRecord {
        at: row.created_at,
        actor_email: row.actor_email,
        action: row.action,
        model: row.model,
        object_id: row.object_id,
        object_repr: row.object_repr,
        changes: AuditRecord::parse_changes(&row.changes),
    }
}

impl AuditSink for AdminLogSink {
    fn record<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        entry: AuditEntry,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            admin_log::ActiveModel {
                actor_id: Set(i32::try_from(entry.actor.id).ok()),
                actor_email: Set(cut(&entry.actor.email, 254)),
                action: Set(cut(&entry.action, 64)),
                model: Set(cut(&entry.model, 64)),
                object_id: Set(cut(&entry.object_id, 64)),
                object_repr: Set(cut(&entry.object_repr, REPR_LEN)),
                changes: Set(entry.changes_json().to_string()),
                created_at: Set(entry.at),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(())
        })
    }

    fn history<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        model: &'a str,
        object_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>> {
        Box::pin(async move {
            let rows = admin_log::Entity::find()
                .filter(admin_log::Column::Model.eq(model))
                .filter(admin_log::Column::ObjectId.eq(object_id))
                .order_by_desc(admin_log::Column::CreatedAt)
                .order_by_desc(admin_log::Column::Id)
                .all(db)
                .await?;
            Ok(rows.into_iter().map(record).collect())
        })
    }

    fn recent<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        models: &'a [String],
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, DbErr>> {
        Box::pin(async move {
            let rows = admin_log::Entity::find()
                .filter(admin_log::Column::Model.is_in(models.iter().cloned()))
                .order_by_desc(admin_log::Column::CreatedAt)
                .order_by_desc(admin_log::Column::Id)
                .limit(limit)
                .all(db)
                .await?;
            Ok(rows.into_iter().map(record).collect())
        })
    }
}
