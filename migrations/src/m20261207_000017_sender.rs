use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000017_sender"
    }
}

/// Who a user's mailings come from: the display name beside the instance's From address,
/// the confirmed address replies go to, and the postal line at the foot of each e-mail.
#[derive(DeriveIden)]
enum Users {
    Table,
    SenderName,
    ReplyTo,
    PostalAddress,
}

/// One column per statement: SQLite's ALTER TABLE adds one at a time.
fn columns() -> [ColumnDef; 3] {
    [
        string_len(Users::SenderName, 100).default("").to_owned(),
        string_len_null(Users::ReplyTo, 254),
        string_len(Users::PostalAddress, 300).default("").to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::SenderName, Users::ReplyTo, Users::PostalAddress] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
