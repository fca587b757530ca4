use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_users::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_clients"
    }
}

#[derive(DeriveIden)]
pub enum Clients {
    Table,
    Id,
    OwnerId,
    Email,
    FullName,
    Comment,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(pk_auto(Clients::Id))
                    .col(integer(Clients::OwnerId))
                    .col(string_len(Clients::Email, 254))
                    .col(string_len(Clients::FullName, 200))
                    .col(text(Clients::Comment).default(""))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_clients_owner")
                            .from(Clients::Table, Clients::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One address once per owner; the index also serves every owner-scoped lookup.
        manager
            .create_index(
                Index::create()
                    .name("uq_clients_owner_email")
                    .table(Clients::Table)
                    .col(Clients::OwnerId)
                    .col(Clients::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(crate::index(Clients::Table, &["owner_id", "full_name"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}
