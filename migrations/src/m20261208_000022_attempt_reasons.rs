use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000022_attempt_reasons"
    }
}

/// An attempt's reason when the words are ours, not an SMTP server's ("gave up: 3 tries
/// ended without a result", "cannot connect to …"): the catalog's id and its values as
/// JSON, which pages write out in the reader's language. `response` keeps the English (the
/// API, and the rows written before this, which pages show as they are).
#[derive(DeriveIden)]
enum Attempts {
    Table,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .add_column(text_null(Attempts::Reason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .drop_column(Attempts::Reason)
                    .to_owned(),
            )
            .await
    }
}
