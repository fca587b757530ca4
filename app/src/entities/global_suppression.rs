//! `global_suppressions`: addresses no user of this instance may mail, kept by managers.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use super::suppression::Reason;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "global_suppressions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower case; unique.
    #[sea_orm(column_type = "String(StringLen::N(254))", unique)]
    pub email: String,
    pub reason: Reason,
    #[sea_orm(column_type = "Text")]
    pub detail: Option<String>,
    /// The manager who added it (None once their account is gone).
    pub added_by: Option<i32>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
