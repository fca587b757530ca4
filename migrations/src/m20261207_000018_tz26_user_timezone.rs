use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_tz26_user_timezone"
    }
}

/// Each user's IANA time zone (`Europe/Berlin`): times are stored in UTC and shown and
/// entered in it, and recurring mailings keep its local wall-clock time. Existing users
/// get `UTC`, what every page showed them so far.
#[derive(DeriveIden)]
enum Users {
    Table,
    Timezone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len(Users::Timezone, 64).default("UTC"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Timezone)
                    .to_owned(),
            )
            .await
    }
}
