use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000015_feedback"
    }
}

/// What recipients and their servers said back: unsubscribes (and their undo), bounces,
/// soft bounces and complaints, one row per event, naming the mailing and message that
/// caused it when known. Reports count these; `suppressions` holds where each address
/// stands now. `delivery_id` is not a foreign key (deliveries are many and short-lived):
/// a bounce that arrives twice for one delivery is one event (unique with `kind`).
#[derive(DeriveIden)]
pub enum Feedback {
    Table,
    Id,
    OwnerId,
    Email,
    Kind,
    MailingId,
    MessageId,
    DeliveryId,
    Detail,
    CreatedAt,
}

/// The instance's own list: addresses no user of this instance may mail, kept by the
/// managers in the admin.
#[derive(DeriveIden)]
pub enum GlobalSuppressions {
    Table,
    Id,
    Email,
    Reason,
    Detail,
    AddedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Mailings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(big_pk_auto(Feedback::Id))
                    .col(integer(Feedback::OwnerId))
                    .col(string_len(Feedback::Email, 254))
                    .col(string_len(Feedback::Kind, 16))
                    .col(integer_null(Feedback::MailingId))
                    .col(integer_null(Feedback::MessageId))
                    .col(big_integer_null(Feedback::DeliveryId))
                    .col(text_null(Feedback::Detail))
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_feedback_owner")
                            .from(Feedback::Table, Feedback::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_feedback_mailing")
                            .from(Feedback::Table, Feedback::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_feedback_message")
                            .from(Feedback::Table, Feedback::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for columns in [
            &["owner_id", "email"][..],
            &["mailing_id", "created_at"],
            &["message_id", "created_at"],
            &["owner_id", "created_at"],
        ] {
            manager
                .create_index(index(Feedback::Table, columns))
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("uq_feedback_delivery_kind")
                    .table(Feedback::Table)
                    .col(Feedback::DeliveryId)
                    .col(Feedback::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GlobalSuppressions::Table)
                    .col(pk_auto(GlobalSuppressions::Id))
                    .col(string_len_uniq(GlobalSuppressions::Email, 254))
                    .col(string_len(GlobalSuppressions::Reason, 16))
                    .col(text_null(GlobalSuppressions::Detail))
                    .col(integer_null(GlobalSuppressions::AddedBy))
                    .col(timestamp_with_time_zone(GlobalSuppressions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_global_suppressions_added_by")
                            .from(GlobalSuppressions::Table, GlobalSuppressions::AddedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GlobalSuppressions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Feedback::Table).to_owned())
            .await
    }
}
