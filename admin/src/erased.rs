//! The type-erased face of a `ModelAdmin<E, S>`. The registry keeps the admins of many
//! entities in one list, so it calls them through [`AnyAdmin`], which names no entity; the
//! one implementation below only boxes the futures of the work, which lives in the files
//! named for it (the crate's opening comment lists them).

use std::collections::BTreeMap;

use sea_orm::{ActiveModelBehavior, ActiveModelTrait, EntityTrait, IdenStatic, IntoActiveModel};
use serde::Serialize;

use crate::audit::AuditSink;
use crate::changelist::ListData;
use crate::delete::DeletePreview;
use crate::field::FieldKind;
use crate::form::FormData;
use crate::model::ModelAdmin;
use crate::object::ObjectRef;
use crate::object_tools::ObjectTools;
use crate::params::{FormInput, ListParams, Selection};
use crate::perm::Grants;
use crate::{Actor, AdminError, AdminState, BoxFuture};

/// A custom action as the registry lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActionMeta {
    pub name: String,
    pub label: String,
}

/// The part of a model's admin the registry reads directly.
pub(crate) struct Meta<'a> {
    pub name: &'a str,
    pub singular: &'a str,
    pub plural: &'a str,
    pub grants: &'a Grants,
    pub actions: Vec<ActionMeta>,
    /// The custom actions also offered on an object's page, with their button labels.
    pub object_actions: Vec<ActionMeta>,
    /// The object's page template, when not the default one.
    pub change_template: Option<&'static str>,
}

/// Who acts, and where their actions are recorded.
pub(crate) struct Ctx<'a> {
    pub actor: &'a Actor,
    pub audit: &'a dyn AuditSink,
}

/// A save stores the object, or gives the form back with the errors beside its fields.
pub(crate) type Saved = Result<ObjectRef, FormData>;

/// What the registry asks of one model's admin, whatever its entity.
pub(crate) trait AnyAdmin<S>: Send + Sync {
    fn meta(&self) -> Meta<'_>;
    /// The label people read for the column named `name` (the audit trail stores names).
    fn field_label(&self, name: &str) -> Option<String>;
    /// The names of the date-time fields the form takes.
    fn date_time_fields(&self) -> Vec<&'static str>;
    fn list_params(&self, pairs: &[(String, String)], zone: &crate::Zone) -> ListParams;
    fn list<'a>(
        &'a self,
        st: &'a S,
        params: ListParams,
    ) -> BoxFuture<'a, Result<ListData, AdminError>>;
    /// The selected objects, at most `limit` of them, and how many there are.
    fn select<'a>(
        &'a self,
        st: &'a S,
        selection: &'a Selection,
        limit: u64,
    ) -> BoxFuture<'a, Result<(u64, Vec<ObjectRef>), AdminError>>;
    fn run_action<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        action: &'a str,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<String, AdminError>>;
    fn form<'a>(
        &'a self,
        st: &'a S,
        id: Option<&'a str>,
        view_only: bool,
    ) -> BoxFuture<'a, Result<FormData, AdminError>>;
    /// What the object's page shows `actor` besides the form (permissions not applied).
    fn object_tools<'a>(
        &'a self,
        st: &'a S,
        actor: &'a Actor,
        id: &'a str,
    ) -> BoxFuture<'a, Result<ObjectTools, AdminError>>;
    fn save<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        id: Option<&'a str>,
        input: &'a FormInput,
    ) -> BoxFuture<'a, Result<Saved, AdminError>>;
    fn delete_preview<'a>(
        &'a self,
        st: &'a S,
        id: &'a str,
    ) -> BoxFuture<'a, Result<DeletePreview, AdminError>>;
    /// Deletes the selected objects (all or none: a protected one refuses the lot).
    fn delete<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<Vec<ObjectRef>, AdminError>>;
}

impl<E, S> AnyAdmin<S> for ModelAdmin<E, S>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    S: AdminState,
{
    fn date_time_fields(&self) -> Vec<&'static str> {
        self.editable()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| self.info(*c).kind == FieldKind::DateTime)
            .map(|c| c.as_str())
            .collect()
    }

    fn field_label(&self, name: &str) -> Option<String> {
        use sea_orm::Iterable;
        E::Column::iter()
            .find(|c| c.as_str() == name)
            .map(|c| self.label_of(c))
    }

    fn meta(&self) -> Meta<'_> {
        Meta {
            name: &self.name,
            singular: &self.singular,
            plural: &self.plural,
            grants: &self.grants,
            actions: self
                .actions
                .iter()
                .map(|a| ActionMeta {
                    name: a.name.clone(),
                    label: a.label.clone(),
                })
                .collect(),
            object_actions: self
                .object_actions
                .iter()
                .map(|a| ActionMeta {
                    name: a.name.clone(),
                    label: a.label.clone(),
                })
                .collect(),
            change_template: self.change_template,
        }
    }

    fn list_params(&self, pairs: &[(String, String)], zone: &crate::Zone) -> ListParams {
        let names: Vec<&str> = self.list_filter.iter().map(|c| c.as_str()).collect();
        ListParams::from_pairs(pairs, &names, zone)
    }

    fn list<'a>(
        &'a self,
        st: &'a S,
        params: ListParams,
    ) -> BoxFuture<'a, Result<ListData, AdminError>> {
        Box::pin(self.list_impl(st, params))
    }

    fn select<'a>(
        &'a self,
        st: &'a S,
        selection: &'a Selection,
        limit: u64,
    ) -> BoxFuture<'a, Result<(u64, Vec<ObjectRef>), AdminError>> {
        Box::pin(async move {
            let models = self.selected_models(st, selection).await?;
            let shown = models
                .iter()
                .take(limit as usize)
                .map(|m| self.object_ref(m))
                .collect::<Result<_, _>>()?;
            Ok((models.len() as u64, shown))
        })
    }

    fn run_action<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        action: &'a str,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<String, AdminError>> {
        Box::pin(self.run_action_impl(st, ctx, action, selection))
    }

    fn form<'a>(
        &'a self,
        st: &'a S,
        id: Option<&'a str>,
        view_only: bool,
    ) -> BoxFuture<'a, Result<FormData, AdminError>> {
        Box::pin(async move {
            let current = match id {
                Some(id) => Some(self.find(st, id).await?),
                None => None,
            };
            self.form_impl(st, current.as_ref(), None, BTreeMap::new(), view_only)
                .await
        })
    }

    fn object_tools<'a>(
        &'a self,
        st: &'a S,
        actor: &'a Actor,
        id: &'a str,
    ) -> BoxFuture<'a, Result<ObjectTools, AdminError>> {
        Box::pin(self.object_tools_impl(st, actor, id))
    }

    fn save<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        id: Option<&'a str>,
        input: &'a FormInput,
    ) -> BoxFuture<'a, Result<Saved, AdminError>> {
        Box::pin(self.save_impl(st, ctx, id, input))
    }

    fn delete_preview<'a>(
        &'a self,
        st: &'a S,
        id: &'a str,
    ) -> BoxFuture<'a, Result<DeletePreview, AdminError>> {
        Box::pin(async move {
            let model = self.find(st, id).await?;
            self.preview(st, &model).await
        })
    }

    fn delete<'a>(
        &'a self,
        st: &'a S,
        ctx: Ctx<'a>,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<Vec<ObjectRef>, AdminError>> {
        Box::pin(self.delete_impl(st, ctx, selection))
    }
}
