//! Deleting (Django's `delete_view` and `get_deleted_objects`): the confirmation that lists
//! what would go with an object or keeps it, and the delete of one object or a selection.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, ModelTrait, QueryFilter, SqlErr, TransactionTrait};
use serde::Serialize;

use crate::erased::Ctx;
use crate::model::ModelAdmin;
use crate::object::ObjectRef;
use crate::params::Selection;
use crate::{AdminError, AdminState, phrase};

/// Rows of one related kind that point at the object: how many, the first few by name,
/// and whether they keep it from being deleted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RelatedGroup {
    pub label: String,
    pub count: u64,
    pub shown: Vec<String>,
    pub protect: bool,
}

/// The delete confirmation: the object, what goes with it, and whether anything blocks it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeletePreview {
    pub object: ObjectRef,
    pub related: Vec<RelatedGroup>,
    pub blocked: bool,
}

impl<E: EntityTrait<Model: Sync>, S: AdminState> ModelAdmin<E, S> {
    /// What deleting `model` would take with it (cascading rows) and what keeps it
    /// (protecting rows): shown on the confirmation page, checked again by the delete.
    pub(crate) async fn preview(
        &self,
        st: &S,
        model: &E::Model,
    ) -> Result<DeletePreview, AdminError> {
        let key = model.get(self.pk()?);
        let mut related = Vec::new();
        for rel in &self.related {
            let (count, shown) = (rel.lookup)(st.db(), key.clone()).await?;
            if count > 0 {
                related.push(RelatedGroup {
                    label: rel.label.clone(),
                    count,
                    shown,
                    protect: rel.protect,
                });
            }
        }
        Ok(DeletePreview {
            object: self.object_ref(model)?,
            blocked: related.iter().any(|r| r.protect),
            related,
        })
    }

    /// Deletes the selected objects in one transaction with their audit entries: all or
    /// none. Every object is checked for protecting rows first, and a foreign-key violation
    /// the check could not see (a row added meanwhile) is the same refusal, not a 500.
    pub(crate) async fn delete_impl(
        &self,
        st: &S,
        ctx: Ctx<'_>,
        selection: &Selection,
    ) -> Result<Vec<ObjectRef>, AdminError> {
        let models = self.selected_models(st, selection).await?;
        if models.is_empty() {
            return Err(AdminError::NotFound);
        }
        for model in &models {
            let preview = self.preview(st, model).await?;
            if preview.blocked {
                return Err(AdminError::Conflict(phrase(
                    "admin-delete-protected",
                    &[("name", &preview.object.repr)],
                )));
            }
        }
        let pk = self.pk()?;
        let txn = st.db().begin().await?;
        let mut deleted = Vec::new();
        for model in models {
            let object = self.object_ref(&model)?;
            let result = E::delete_many()
                .filter(pk.eq(model.get(pk)))
                .exec(&txn)
                .await;
            if let Err(e) = result {
                return Err(match e.sql_err() {
                    Some(SqlErr::ForeignKeyConstraintViolation(_)) => AdminError::Conflict(phrase(
                        "admin-delete-protected",
                        &[("name", &object.repr)],
                    )),
                    _ => e.into(),
                });
            }
            ctx.audit
                .record(&txn, self.entry(&ctx, "delete", &object, BTreeMap::new()))
                .await?;
            deleted.push(object);
        }
        txn.commit().await?;
        self.notify(st, "delete", deleted.iter().map(|o| o.id.clone()).collect())
            .await;
        Ok(deleted)
    }
}
