use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;
use crate::m20261125_000002_clients::Clients;
use crate::m20261125_000003_messages::Messages;
use crate::m20261125_000004_mailings::Mailings;
use crate::m20261125_000005_deliveries::Deliveries;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000006_attempts"
    }
}

/// The delivery log: one row per try. Owner, message and recipient are copied in so that
/// reports stay cheap (no joins over millions of rows) and survive a deleted client.
#[derive(DeriveIden)]
pub enum Attempts {
    Table,
    Id,
    OwnerId,
    MailingId,
    MessageId,
    ClientId,
    DeliveryId,
    Recipient,
    OccurrenceAt,
    AttemptedAt,
    Status,
    SmtpCode,
    Response,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attempts::Table)
                    .col(big_pk_auto(Attempts::Id))
                    .col(integer(Attempts::OwnerId))
                    .col(integer(Attempts::MailingId))
                    .col(integer_null(Attempts::MessageId))
                    .col(integer_null(Attempts::ClientId))
                    .col(big_integer_null(Attempts::DeliveryId))
                    .col(string_len(Attempts::Recipient, 254))
                    .col(timestamp_with_time_zone(Attempts::OccurrenceAt))
                    .col(timestamp_with_time_zone(Attempts::AttemptedAt))
                    // success | failure
                    .col(string_len(Attempts::Status, 16))
                    .col(integer_null(Attempts::SmtpCode))
                    // The server's reply, or the error when there was none.
                    .col(text_null(Attempts::Response))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempts_owner")
                            .from(Attempts::Table, Attempts::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempts_mailing")
                            .from(Attempts::Table, Attempts::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempts_message")
                            .from(Attempts::Table, Attempts::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempts_client")
                            .from(Attempts::Table, Attempts::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attempts_delivery")
                            .from(Attempts::Table, Attempts::DeliveryId)
                            .to(Deliveries::Table, Deliveries::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for columns in [
            // Reports: one user's attempts over a date range, per mailing / per message.
            &["owner_id", "attempted_at"][..],
            &["mailing_id", "attempted_at"],
            &["message_id", "attempted_at"],
            &["delivery_id"],
            &["client_id"],
        ] {
            manager
                .create_index(index(Attempts::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Attempts::Table).to_owned())
            .await
    }
}
