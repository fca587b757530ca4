//! Bulk actions on the change list (Django's `actions.py` and `ModelAdmin.response_action`):
//! which objects a selection means, and running a custom action with an audit entry per
//! object. "Delete selected" is the delete of `delete.rs`.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, Value,
};

use crate::erased::Ctx;
use crate::model::ModelAdmin;
use crate::params::Selection;
use crate::{AdminError, AdminState, phrase};

/// Most objects one bulk action handles ("select all" over more is refused).
const MAX_SELECTION: u64 = 10_000;

impl<E: EntityTrait<Model: Sync>, S: AdminState> ModelAdmin<E, S> {
    /// The objects a bulk action (or "delete selected") is for, by key; ids that are not
    /// keys of this model are skipped, as are objects gone meanwhile. More than
    /// [`MAX_SELECTION`] is refused before anything runs, rather than loading them all.
    pub(crate) async fn selected_models(
        &self,
        st: &S,
        selection: &Selection,
    ) -> Result<Vec<E::Model>, AdminError> {
        let pk = self.pk()?;
        let select = match selection {
            Selection::Ids(ids) => {
                let keys: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| self.key_value(id).ok())
                    .collect();
                E::find().filter(pk.is_in(keys))
            }
            Selection::Across(params) => self.matching(params),
        };
        let models = select
            .order_by_asc(pk)
            .limit(MAX_SELECTION + 1)
            .all(st.db())
            .await?;
        if models.len() as u64 > MAX_SELECTION {
            return Err(AdminError::BadRequest(phrase(
                "admin-too-many-selected",
                &[("count", &MAX_SELECTION)],
            )));
        }
        Ok(models)
    }

    /// Runs a custom action on the selection and records what it did: the action is the
    /// application's code and commits its own writes, so the admin reads the objects again
    /// afterwards and records, per object, the fields that differ (an object the action
    /// deleted gets an entry without changes).
    pub(crate) async fn run_action_impl(
        &self,
        st: &S,
        ctx: Ctx<'_>,
        name: &str,
        selection: &Selection,
    ) -> Result<String, AdminError> {
        let action = self
            .actions
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| AdminError::BadRequest(phrase("admin-no-action", &[("name", &name)])))?;
        let before = self.selected_models(st, selection).await?;
        if before.is_empty() {
            return Err(AdminError::BadRequest("No objects were selected.".into()));
        }
        let ids: Vec<String> = before
            .iter()
            .map(|m| self.key_text(m))
            .collect::<Result<_, _>>()?;
        let message = (action.run)(st, ctx.actor, before.clone())
            .await
            .map_err(|e| AdminError::Conflict(e.to_string()))?;
        let after = self
            .selected_models(st, &Selection::Ids(ids.clone()))
            .await?;
        let after: HashMap<String, &E::Model> = after
            .iter()
            .filter_map(|m| Some((self.key_text(m).ok()?, m)))
            .collect();
        let label = format!("action:{name}");
        let txn = st.db().begin().await?;
        for model in &before {
            let object = self.object_ref(model)?;
            let changes = after
                .get(&object.id)
                .map(|now| self.diff(model, now))
                .unwrap_or_default();
            ctx.audit
                .record(&txn, self.entry(&ctx, &label, &object, changes))
                .await?;
        }
        txn.commit().await?;
        self.notify(st, &label, ids).await;
        Ok(message)
    }
}
