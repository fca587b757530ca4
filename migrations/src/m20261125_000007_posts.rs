use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261125_000001_users::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000007_posts"
    }
}

#[derive(DeriveIden)]
pub enum Posts {
    Table,
    Id,
    AuthorId,
    Title,
    Slug,
    Body,
    Image,
    ViewCount,
    IsPublished,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(pk_auto(Posts::Id))
                    .col(integer_null(Posts::AuthorId))
                    .col(string_len(Posts::Title, 200))
                    .col(string_len_uniq(Posts::Slug, 200))
                    .col(text(Posts::Body))
                    .col(string_len_null(Posts::Image, 255))
                    .col(big_integer(Posts::ViewCount).default(0))
                    // Unpublished = draft; published with a future date = scheduled.
                    .col(boolean(Posts::IsPublished).default(false))
                    .col(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_author")
                            .from(Posts::Table, Posts::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for columns in [&["is_published", "published_at"][..], &["author_id"]] {
            manager.create_index(index(Posts::Table, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}
