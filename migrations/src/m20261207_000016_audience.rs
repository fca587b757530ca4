use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;
use crate::m20261125_000002_clients::Clients;
use crate::m20261125_000004_mailings::Mailings;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000016_audience"
    }
}

/// Who a mailing reaches beyond the clients picked by hand: each client's own attributes
/// (a JSON object of string to string, `{}` when none, usable in templates), an owner's
/// tags, the tags each client carries, and the tags a mailing targets — resolved again at
/// every occurrence, so a client tagged today is in tomorrow's send.
#[derive(DeriveIden)]
pub enum Tags {
    Table,
    Id,
    OwnerId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum ClientTags {
    Table,
    ClientId,
    TagId,
}

#[derive(DeriveIden)]
pub enum MailingTags {
    Table,
    MailingId,
    TagId,
}

#[derive(DeriveIden)]
enum ClientAttributes {
    Attributes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(text(ClientAttributes::Attributes).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(pk_auto(Tags::Id))
                    .col(integer(Tags::OwnerId))
                    .col(string_len(Tags::Name, 50))
                    .col(timestamp_with_time_zone(Tags::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tags_owner")
                            .from(Tags::Table, Tags::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_tags_owner_name")
                    .table(Tags::Table)
                    .col(Tags::OwnerId)
                    .col(Tags::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Primary key (client, tag) answers "the tags of these clients"; the fan-out and
        // the `?tag=` filter go from a tag to its clients: (tag_id, client_id).
        manager
            .create_table(
                Table::create()
                    .table(ClientTags::Table)
                    .col(integer(ClientTags::ClientId))
                    .col(integer(ClientTags::TagId))
                    .primary_key(
                        Index::create()
                            .col(ClientTags::ClientId)
                            .col(ClientTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_tags_client")
                            .from(ClientTags::Table, ClientTags::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_tags_tag")
                            .from(ClientTags::Table, ClientTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(ClientTags::Table, &["tag_id", "client_id"]))
            .await?;
        // Primary key (mailing, tag) is the fan-out's lookup; (tag_id) serves the cascade.
        manager
            .create_table(
                Table::create()
                    .table(MailingTags::Table)
                    .col(integer(MailingTags::MailingId))
                    .col(integer(MailingTags::TagId))
                    .primary_key(
                        Index::create()
                            .col(MailingTags::MailingId)
                            .col(MailingTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailing_tags_mailing")
                            .from(MailingTags::Table, MailingTags::MailingId)
                            .to(Mailings::Table, Mailings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mailing_tags_tag")
                            .from(MailingTags::Table, MailingTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(MailingTags::Table, &["tag_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MailingTags::Table.into_iden(),
            ClientTags::Table.into_iden(),
            Tags::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(ClientAttributes::Attributes)
                    .to_owned(),
            )
            .await
    }
}
