use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_users::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000014_suppressions"
    }
}

/// Addresses an owner may no longer mail: the recipient unsubscribed, the address bounced,
/// or its owner complained. Kept by address (lower case), so it outlives deleting and
/// importing the client again.
#[derive(DeriveIden)]
pub enum Suppressions {
    Table,
    Id,
    OwnerId,
    Email,
    Reason,
    Detail,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Suppressions::Table)
                    .col(pk_auto(Suppressions::Id))
                    .col(integer(Suppressions::OwnerId))
                    .col(string_len(Suppressions::Email, 254))
                    .col(string_len(Suppressions::Reason, 16))
                    .col(text_null(Suppressions::Detail))
                    .col(timestamp_with_time_zone(Suppressions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_suppressions_owner")
                            .from(Suppressions::Table, Suppressions::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One entry per address and owner; also what the claim looks up, by address.
        manager
            .create_index(
                Index::create()
                    .name("uq_suppressions_email_owner")
                    .table(Suppressions::Table)
                    .col(Suppressions::Email)
                    .col(Suppressions::OwnerId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Suppressions::Table).to_owned())
            .await
    }
}
