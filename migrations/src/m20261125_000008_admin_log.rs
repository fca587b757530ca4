use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000008_admin_log"
    }
}

/// The admin audit trail: who did what to which object, and which fields changed.
#[derive(DeriveIden)]
pub enum AdminLog {
    Table,
    Id,
    ActorId,
    ActorEmail,
    Action,
    Model,
    ObjectId,
    ObjectRepr,
    Changes,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdminLog::Table)
                    .col(big_pk_auto(AdminLog::Id))
                    .col(integer_null(AdminLog::ActorId))
                    // Kept as text so the trail outlives a deleted account.
                    .col(string_len(AdminLog::ActorEmail, 254))
                    // add | change | delete | action:<name>
                    .col(string_len(AdminLog::Action, 64))
                    .col(string_len(AdminLog::Model, 64))
                    .col(string_len(AdminLog::ObjectId, 64))
                    .col(string_len(AdminLog::ObjectRepr, 255))
                    // JSON: {"field": [old, new], ...}
                    .col(text(AdminLog::Changes).default("{}"))
                    .col(timestamp_with_time_zone(AdminLog::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_admin_log_actor")
                            .from(AdminLog::Table, AdminLog::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for columns in [&["model", "object_id"][..], &["created_at"], &["actor_id"]] {
            manager
                .create_index(index(AdminLog::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdminLog::Table).to_owned())
            .await
    }
}
