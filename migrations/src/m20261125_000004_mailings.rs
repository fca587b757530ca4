use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;
use crate::m20261125_000002_clients::Clients;
use crate::m20261125_000003_messages::Messages;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_mailings"
    }
}

#[derive(DeriveIden)]
pub enum Mailings {
    Table,
    Id,
    OwnerId,
    MessageId,
    StartAt,
    EndAt,
    Periodicity,
    Status,
    IsEnabled,
    NextRunAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum MailingClients {
    Table,
    MailingId,
    ClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mailings::Table)
                    .col(pk_auto(Mailings::Id))
                    .col(integer(Mailings::OwnerId))
                    .col(integer(Mailings::MessageId))
                    .col(timestamp_with_time_zone(Mailings::StartAt))
                    .col(timestamp_with_time_zone(Mailings::EndAt))
                    // once | daily | weekly | monthly
                    .col(string_len(Mailings::Periodicity, 16))
                    // created | running | finished
                    .col(string_len(Mailings::Status, 16).default("created"))
                    .col(boolean(Mailings::IsEnabled).default(true))
                    // The planned time of the next occurrence; NULL once nothing is left to send.
                    .col(timestamp_with_time_zone_null(Mailings::NextRunAt))
                    .col(timestamp_with_time_zone(Mailings::CreatedAt))
                    .col(timestamp_with_time_zone(Mailings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailings_owner")
                            .from(Mailings::Table, Mailings::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        // A message still used by a mailing cannot be deleted.
                        ForeignKey::create()
                            .name("fk_mailings_message")
                            .from(Mailings::Table, Mailings::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for columns in [
            &["owner_id", "status"][..],
            &["message_id"],
            &["status"],
            // The scheduler's due lookup: enabled mailings ordered by next run.
            &["is_enabled", "next_run_at"],
        ] {
            manager
                .create_index(index(Mailings::Table, columns))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MailingClients::Table)
                    .col(integer(MailingClients::MailingId))
                    .col(integer(MailingClients::ClientId))
                    .primary_key(
                        Index::create()
                            .col(MailingClients::MailingId)
                            .col(MailingClients::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailing_clients_mailing")
                            .from(MailingClients::Table, MailingClients::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailing_clients_client")
                            .from(MailingClients::Table, MailingClients::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(MailingClients::Table, &["client_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailingClients::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Mailings::Table).to_owned())
            .await
    }
}
