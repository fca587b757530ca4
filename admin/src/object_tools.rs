//! What an object's page offers besides its form (Django's "object tools" and the extra
//! context of `change_view`): the custom actions shown as buttons for this object, and
//! what the application adds to the page.

use sea_orm::EntityTrait;
use serde::Serialize;
use serde_json::Value as Json;

use crate::erased::ActionMeta;
use crate::model::ModelAdmin;
use crate::{Actor, AdminError, AdminState};

/// The buttons of one object's page (before permissions) and the application's context.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ObjectTools {
    pub actions: Vec<ActionMeta>,
    pub extra: Json,
}

impl<E: EntityTrait<Model: Sync>, S: AdminState> ModelAdmin<E, S> {
    pub(crate) async fn object_tools_impl(
        &self,
        st: &S,
        actor: &Actor,
        id: &str,
    ) -> Result<ObjectTools, AdminError> {
        if self.object_actions.is_empty() && self.change_context.is_none() {
            return Ok(ObjectTools::default());
        }
        let model = self.find(st, id).await?;
        let actions = self
            .object_actions
            .iter()
            .filter(|a| (a.shown)(actor, &model))
            .map(|a| ActionMeta {
                name: a.name.clone(),
                label: a.label.clone(),
            })
            .collect();
        let extra = match &self.change_context {
            Some(context) => context(st, &model).await.map_err(AdminError::Hook)?,
            None => Json::Null,
        };
        Ok(ObjectTools { actions, extra })
    }
}
