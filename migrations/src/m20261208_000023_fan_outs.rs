use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000004_mailings::Mailings;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000023_fan_outs"
    }
}

/// An occurrence whose deliveries are still being made, range after range of client ids:
/// a million-recipient occurrence is not one statement (and one transaction) of a million
/// rows, its first e-mails leave while the rest are made, and the rows are made about as
/// fast as they are sent. The row goes when the last range is in.
#[derive(DeriveIden)]
pub enum FanOuts {
    Table,
    MailingId,
    OccurrenceAt,
    /// The clients with an id up to this one have their delivery.
    DoneThrough,
    /// Where the last range made began (after this id): how far its sending got tells
    /// when to make the next one.
    LastFrom,
    /// Ranges made so far.
    Ranges,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FanOuts::Table)
                    .col(integer(FanOuts::MailingId))
                    .col(timestamp_with_time_zone(FanOuts::OccurrenceAt))
                    .col(integer(FanOuts::DoneThrough))
                    .col(integer(FanOuts::LastFrom))
                    .col(integer(FanOuts::Ranges))
                    .col(timestamp_with_time_zone(FanOuts::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(FanOuts::MailingId)
                            .col(FanOuts::OccurrenceAt),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_fan_outs_mailing")
                            .from(FanOuts::Table, FanOuts::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FanOuts::Table).to_owned())
            .await
    }
}
