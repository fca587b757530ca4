use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000020_mailing_name"
    }
}

/// A mailing's name, what the pages, the API and the admin call it instead of "#7".
/// Mailings made before it are named "Mailing #<id>".
#[derive(DeriveIden)]
enum Mailings {
    Table,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Mailings::Table)
                    .add_column(string_len(Mailings::Name, 200).default(""))
                    .to_owned(),
            )
            .await?;
        // The same SQL on both backends (`||` joins text; the id is cast to it).
        manager
            .get_connection()
            .execute_unprepared("UPDATE mailings SET name = 'Mailing #' || CAST(id AS TEXT)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Mailings::Table)
                    .drop_column(Mailings::Name)
                    .to_owned(),
            )
            .await
    }
}
