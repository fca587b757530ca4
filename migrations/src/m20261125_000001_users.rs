use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_users"
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Phone,
    Avatar,
    Role,
    IsVerified,
    IsActive,
    SessionsValidAfter,
    CreatedAt,
    UpdatedAt,
    LastLogin,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    // Stored lower-cased: the login is case-insensitive and unique.
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(string_len_null(Users::Phone, 32))
                    .col(string_len_null(Users::Avatar, 255))
                    // user | manager | content_manager | superuser
                    .col(string_len(Users::Role, 24).default("user"))
                    .col(boolean(Users::IsVerified).default(false))
                    // false = blocked by a manager
                    .col(boolean(Users::IsActive).default(true))
                    // Sessions issued before this instant are dead (blocking, password change).
                    .col(timestamp_with_time_zone_null(Users::SessionsValidAfter))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLogin))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index(Users::Table, &["role"])).await?;
        manager
            .create_index(index(Users::Table, &["created_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
