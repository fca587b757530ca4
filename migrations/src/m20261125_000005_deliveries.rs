use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000002_clients::Clients;
use crate::m20261125_000004_mailings::Mailings;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000005_deliveries"
    }
}

/// One row per (mailing, client, occurrence): the unit of work of the delivery engine.
#[derive(DeriveIden)]
pub enum Deliveries {
    Table,
    Id,
    MailingId,
    ClientId,
    OccurrenceAt,
    Status,
    Tries,
    ClaimedUntil,
    NextTryAt,
    MessageIdHeader,
    LastError,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(integer(Deliveries::MailingId))
                    .col(integer(Deliveries::ClientId))
                    // The planned time of the occurrence this delivery belongs to.
                    .col(timestamp_with_time_zone(Deliveries::OccurrenceAt))
                    // pending | sent | failed
                    .col(string_len(Deliveries::Status, 16).default("pending"))
                    .col(integer(Deliveries::Tries).default(0))
                    // A worker holds the row until this instant (lease against double sends).
                    .col(timestamp_with_time_zone_null(Deliveries::ClaimedUntil))
                    .col(timestamp_with_time_zone_null(Deliveries::NextTryAt))
                    // Deterministic Message-ID, the same on every try.
                    .col(string_len(Deliveries::MessageIdHeader, 255))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone_null(Deliveries::SentAt))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_mailing")
                            .from(Deliveries::Table, Deliveries::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_client")
                            .from(Deliveries::Table, Deliveries::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_deliveries_mailing_client_occurrence")
                    .table(Deliveries::Table)
                    .col(Deliveries::MailingId)
                    .col(Deliveries::ClientId)
                    .col(Deliveries::OccurrenceAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for columns in [&["status", "next_try_at"][..], &["client_id"]] {
            manager
                .create_index(index(Deliveries::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Deliveries::Table).to_owned())
            .await
    }
}
