//! The registry: every registered model, who may do what, and the admin's pages.

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::{ActiveModelBehavior, ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::{Value as Json, json};

use crate::audit::AuditSink;
use crate::erased::{AnyAdmin, Ctx};
use crate::model::ModelAdmin;
use crate::params::{FormInput, Selection};
use crate::perm::Perm;
use crate::view::{Outcome, View};
use crate::{Actor, AdminError, AdminState, phrase};

/// The built-in bulk action that deletes the selected objects (needs `Perm::Delete`).
pub const DELETE_SELECTED: &str = "delete_selected";
/// How many objects a bulk-action confirmation names (the rest are counted).
const CONFIRM_SHOWN: u64 = 100;
/// How many entries "recent actions" shows.
const RECENT: u64 = 10;

/// An action the actor may run, as asked: on what, confirmed or not, and where it goes.
struct Asked<'a> {
    action: &'a str,
    label: String,
    selection: Selection,
    confirmed: bool,
    /// Where to come back to (the list, or the object's page).
    back: String,
    /// Where the confirmation page posts.
    post_url: String,
}

/// All the model admins of a site.
pub struct Registry<S> {
    base: String,
    title: String,
    models: Vec<Box<dyn AnyAdmin<S>>>,
    superusers: BTreeSet<String>,
    audit: Arc<dyn AuditSink>,
}

impl<S: AdminState> Registry<S> {
    /// `base` is where the admin is mounted (`/admin`); `audit` keeps the trail.
    pub fn new(base: &str, title: &str, audit: impl AuditSink + 'static) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            title: title.to_owned(),
            models: Vec::new(),
            superusers: BTreeSet::new(),
            audit: Arc::new(audit),
        }
    }

    pub fn register<E>(mut self, admin: ModelAdmin<E, S>) -> Self
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel> + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send + Sync,
    {
        self.models.push(Box::new(admin));
        self
    }

    /// A role that has every permission on every model (except ones a model disables).
    pub fn superuser_role(mut self, role: &str) -> Self {
        self.superusers.insert(role.to_owned());
        self
    }

    /// Names of the registered models, in order.
    pub fn model_names(&self) -> Vec<String> {
        self.models
            .iter()
            .map(|m| m.meta().name.to_owned())
            .collect()
    }

    fn model(&self, name: &str) -> Result<&dyn AnyAdmin<S>, AdminError> {
        self.models
            .iter()
            .find(|m| m.meta().name == name)
            .map(|m| m.as_ref())
            .ok_or(AdminError::NotFound)
    }

    /// May `role` do `perm` on `model`? Unknown models and roles may do nothing.
    pub fn can(&self, role: &str, model: &str, perm: &Perm) -> bool {
        let superuser = self.superusers.contains(role);
        self.model(model).is_ok_and(|m| {
            let meta = m.meta();
            let exists = match perm {
                Perm::Action(name) => meta.actions.iter().any(|a| &a.name == name),
                _ => true,
            };
            exists && meta.grants.allows(role, perm, superuser)
        })
    }

    /// Seeing a model's objects: the view permission, or the change permission.
    fn can_view(&self, actor: &Actor, model: &str) -> bool {
        self.can(&actor.role, model, &Perm::View) || self.can(&actor.role, model, &Perm::Change)
    }

    /// The names of the date-time fields of `model`'s form. The admin reads and shows them
    /// in UTC (`YYYY-MM-DDTHH:MM[:SS]`); an application that shows times in the viewer's
    /// zone converts these inputs to UTC before [`save`](Self::save).
    pub fn date_time_fields(&self, model: &str) -> Result<Vec<&'static str>, AdminError> {
        Ok(self.model(model)?.date_time_fields())
    }

    /// `Ok` when `actor` may do `perm` on `model`; NotFound for an unknown model, Forbidden
    /// otherwise (`Perm::View` is also granted by `Perm::Change`).
    pub fn require(&self, actor: &Actor, model: &str, perm: &Perm) -> Result<(), AdminError> {
        // An unknown model is a 404 for everyone, not a hint through 403.
        self.model(model)?;
        let allowed = match perm {
            Perm::View => self.can_view(actor, model),
            other => self.can(&actor.role, model, other),
        };
        if allowed {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    fn list_url(&self, model: &str) -> String {
        format!("{}/{model}/", self.base)
    }

    /// `/admin/<model>/<id>/<page>/`.
    pub fn object_url(&self, model: &str, id: &str, page: &str) -> String {
        let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        format!("{}/{model}/{id}/{page}/", self.base)
    }

    fn visible(&self, actor: &Actor) -> Vec<Json> {
        self.models
            .iter()
            .map(|m| m.meta())
            .filter(|meta| self.can_view(actor, meta.name))
            .map(|meta| {
                json!({
                    "name": meta.name,
                    "singular": meta.singular,
                    "plural": meta.plural,
                    "url": self.list_url(meta.name),
                    "add_url": format!("{}add/", self.list_url(meta.name)),
                    "can_add": self.can(&actor.role, meta.name, &Perm::Add),
                })
            })
            .collect()
    }

    /// The context every admin page has: the admin's title, base URL and visible models.
    fn context(&self, actor: &Actor, model: Option<&str>, extra: Json) -> Json {
        let mut ctx = json!({
            "admin": {
                "base": format!("{}/", self.base),
                "title": self.title,
                "models": self.visible(actor),
            },
        });
        if let Some(name) = model
            && let Ok(m) = self.model(name)
        {
            let meta = m.meta();
            ctx["model"] = json!({
                "name": meta.name,
                "singular": meta.singular,
                "plural": meta.plural,
                "url": self.list_url(meta.name),
                "add_url": format!("{}add/", self.list_url(meta.name)),
                "can_add": self.can(&actor.role, meta.name, &Perm::Add),
                "can_change": self.can(&actor.role, meta.name, &Perm::Change),
                "can_delete": self.can(&actor.role, meta.name, &Perm::Delete),
            });
        }
        if let (Json::Object(ctx), Json::Object(extra)) = (&mut ctx, extra) {
            ctx.extend(extra);
        }
        ctx
    }

    /// `/admin/`: the models the actor may see, and the latest actions on them.
    pub async fn index(&self, st: &S, actor: &Actor) -> Result<View, AdminError> {
        let visible: Vec<String> = self
            .models
            .iter()
            .map(|m| m.meta().name.to_owned())
            .filter(|name| self.can_view(actor, name))
            .collect();
        if visible.is_empty() {
            return Err(AdminError::Forbidden);
        }
        let recent = self.audit.recent(st.db(), &visible, RECENT).await?;
        let recent: Vec<Json> = recent
            .into_iter()
            .map(|r| {
                let url = (r.action != "delete")
                    .then(|| self.object_url(&r.model, &r.object_id, "change"));
                let model = self
                    .model(&r.model)
                    .map(|m| m.meta().singular.to_owned())
                    .unwrap_or_default();
                json!({ "record": r, "url": url, "model_label": model })
            })
            .collect();
        Ok(View::new(
            "admin/index.html",
            self.context(actor, None, json!({ "recent": recent })),
        ))
    }

    /// `/admin/<model>/`: the change list.
    pub async fn changelist(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        query: &[(String, String)],
    ) -> Result<View, AdminError> {
        self.require(actor, model, &Perm::View)?;
        let m = self.model(model)?;
        let list = m.list(st, m.list_params(query, &actor.zone)).await?;
        let actions = self.allowed_actions(actor, model)?;
        Ok(View::new(
            "admin/changelist.html",
            self.context(
                actor,
                Some(model),
                json!({ "list": list, "actions": actions }),
            ),
        ))
    }

    fn allowed_actions(&self, actor: &Actor, model: &str) -> Result<Vec<Json>, AdminError> {
        let m = self.model(model)?;
        let mut actions: Vec<Json> = m
            .meta()
            .actions
            .into_iter()
            .filter(|a| self.can(&actor.role, model, &Perm::action(&a.name)))
            .map(|a| json!({ "name": a.name, "label": a.label }))
            .collect();
        if self.can(&actor.role, model, &Perm::Delete) {
            actions.push(json!({
                "name": DELETE_SELECTED,
                "label": phrase(
                    "admin-delete-selected",
                    &[("what", &m.meta().plural.to_lowercase())],
                ),
            }));
        }
        Ok(actions)
    }

    /// The actor may run `action` on `model`: Forbidden for one of its actions they were not
    /// granted, BadRequest for an action the model does not have.
    fn require_action(&self, actor: &Actor, model: &str, action: &str) -> Result<(), AdminError> {
        let m = self.model(model)?;
        let perm = if action == DELETE_SELECTED {
            Perm::Delete
        } else {
            Perm::action(action)
        };
        if self.can(&actor.role, model, &perm) {
            return Ok(());
        }
        let known = action == DELETE_SELECTED || m.meta().actions.iter().any(|a| a.name == action);
        Err(if known {
            AdminError::Forbidden
        } else {
            AdminError::BadRequest(phrase("admin-no-action", &[("name", &action)]))
        })
    }

    /// POST to `/admin/<model>/`: a bulk action. Without `confirm=yes` it answers the
    /// confirmation page listing the objects; with it, it runs the action.
    pub async fn changelist_action(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        query: &[(String, String)],
        input: &FormInput,
    ) -> Result<Outcome, AdminError> {
        self.require(actor, model, &Perm::View)?;
        let m = self.model(model)?;
        let params = m.list_params(query, &actor.zone);
        let back = format!("{}{}", self.list_url(model), params.query_with(&[]));
        let Some(action) = input.get("action").filter(|a| !a.is_empty()) else {
            return Ok(Outcome::Redirect {
                to: back,
                message: "Choose an action.".into(),
                kind: "error",
            });
        };
        self.require_action(actor, model, action)?;
        let selection = if input.get("select_across") == Some("1") {
            Selection::Across(params.clone())
        } else {
            let ids = input.values("_selected");
            if ids.is_empty() {
                return Ok(Outcome::Redirect {
                    to: back,
                    message: "Select at least one object for the action.".into(),
                    kind: "error",
                });
            }
            Selection::Ids(ids)
        };
        let label = self
            .allowed_actions(actor, model)?
            .into_iter()
            .find(|a| a["name"] == action)
            .map(|a| a["label"].as_str().unwrap_or(action).to_owned())
            .unwrap_or_else(|| action.to_owned());
        let post_url = back.clone();
        self.confirm_or_run(
            st,
            actor,
            model,
            Asked {
                action,
                label,
                selection,
                confirmed: input.get("confirm") == Some("yes"),
                back,
                post_url,
            },
        )
        .await
    }

    /// POST `/admin/<model>/<id>/action/`: one of the model's object actions (`action`) on
    /// this object — the bulk action itself, for one object: asked first, then run, then
    /// back to the object's page.
    pub async fn object_action(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: &str,
        input: &FormInput,
    ) -> Result<Outcome, AdminError> {
        self.require(actor, model, &Perm::View)?;
        let m = self.model(model)?;
        let action = input.get("action").unwrap_or("");
        let Some(offered) = m
            .meta()
            .object_actions
            .into_iter()
            .find(|a| a.name == action)
        else {
            return Err(AdminError::BadRequest(phrase(
                "admin-no-action",
                &[("name", &action)],
            )));
        };
        self.require_action(actor, model, action)?;
        let selection = Selection::Ids(vec![id.to_owned()]);
        if m.select(st, &selection, 1).await?.0 == 0 {
            return Err(AdminError::NotFound);
        }
        self.confirm_or_run(
            st,
            actor,
            model,
            Asked {
                action,
                label: offered.label,
                selection,
                confirmed: input.get("confirm") == Some("yes"),
                back: self.object_url(model, id, "change"),
                post_url: self.object_url(model, id, "action"),
            },
        )
        .await
    }

    /// The confirmation page of an allowed action, or, once confirmed, the action run and
    /// a redirect back with its message.
    async fn confirm_or_run(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        asked: Asked<'_>,
    ) -> Result<Outcome, AdminError> {
        let m = self.model(model)?;
        let Asked {
            action,
            label,
            selection,
            confirmed,
            back,
            post_url,
        } = asked;
        if !confirmed {
            let (total, shown) = m.select(st, &selection, CONFIRM_SHOWN).await?;
            if total == 0 {
                return Ok(Outcome::Redirect {
                    to: back,
                    message: "None of the selected objects exist any more.".into(),
                    kind: "error",
                });
            }
            let selected = match &selection {
                Selection::Ids(ids) => ids.clone(),
                Selection::Across(_) => Vec::new(),
            };
            let ctx = json!({
                "action": { "name": action, "label": label },
                "objects": shown,
                "total": total,
                "more": total.saturating_sub(shown.len() as u64),
                "selected": selected,
                "select_across": matches!(selection, Selection::Across(_)),
                "post_url": post_url,
                "back": back,
                "is_delete": action == DELETE_SELECTED,
            });
            return Ok(Outcome::Render(View::new(
                "admin/action_confirm.html",
                self.context(actor, Some(model), ctx),
            )));
        }
        let ctx = Ctx {
            actor,
            audit: self.audit.as_ref(),
        };
        let result = if action == DELETE_SELECTED {
            m.delete(st, ctx, &selection).await.map(|deleted| {
                let meta = m.meta();
                phrase(
                    "admin-deleted-selected",
                    &[
                        ("count", &deleted.len()),
                        ("model", &meta.singular.to_lowercase()),
                        ("models", &meta.plural.to_lowercase()),
                    ],
                )
            })
        } else {
            m.run_action(st, ctx, action, &selection).await
        };
        Ok(match result {
            Ok(message) => Outcome::Redirect {
                to: back,
                message,
                kind: "success",
            },
            Err(AdminError::Conflict(message) | AdminError::BadRequest(message)) => {
                Outcome::Redirect {
                    to: back,
                    message,
                    kind: "error",
                }
            }
            Err(e) => return Err(e),
        })
    }

    /// A page of the application's own inside the admin (a report, a related list): the
    /// admin's layout context around `extra`, for an actor who may do `perm` on `model`
    /// (Django's `admin_view` and `each_context`).
    pub fn page(
        &self,
        actor: &Actor,
        model: &str,
        perm: &Perm,
        template: &'static str,
        extra: Json,
    ) -> Result<View, AdminError> {
        self.require(actor, model, perm)?;
        Ok(View::new(template, self.context(actor, Some(model), extra)))
    }

    /// The add or change form; an object's page also gets the object actions the actor
    /// may run on it and the model's extra context, in the model's template.
    async fn form_view(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        form: crate::form::FormData,
        mode: &str,
    ) -> Result<View, AdminError> {
        let m = self.model(model)?;
        let object = form.object.clone();
        let urls = object.as_ref().map(|o| {
            json!({
                "change": self.object_url(model, &o.id, "change"),
                "delete": self.object_url(model, &o.id, "delete"),
                "history": self.object_url(model, &o.id, "history"),
            })
        });
        let action_url = match &object {
            Some(o) => self.object_url(model, &o.id, "change"),
            None => format!("{}add/", self.list_url(model)),
        };
        let (object_actions, extra) = match &object {
            Some(o) => {
                let tools = m.object_tools(st, actor, &o.id).await?;
                let actions: Vec<Json> = tools
                    .actions
                    .into_iter()
                    .filter(|a| self.can(&actor.role, model, &Perm::action(&a.name)))
                    .map(|a| {
                        json!({
                            "name": a.name,
                            "label": a.label,
                            "url": self.object_url(model, &o.id, "action"),
                        })
                    })
                    .collect();
                (actions, tools.extra)
            }
            None => (Vec::new(), Json::Null),
        };
        let status = if form.has_errors { 422 } else { 200 };
        let template = m.meta().change_template.unwrap_or("admin/change_form.html");
        Ok(View::new(
            template,
            self.context(
                actor,
                Some(model),
                json!({
                    "form": form,
                    "mode": mode,
                    "urls": urls,
                    "action_url": action_url,
                    "object_actions": object_actions,
                    "extra": extra,
                }),
            ),
        )
        .status(status))
    }

    /// GET `/admin/<model>/add/`.
    pub async fn add_form(&self, st: &S, actor: &Actor, model: &str) -> Result<View, AdminError> {
        self.require(actor, model, &Perm::Add)?;
        let form = self.model(model)?.form(st, None, false).await?;
        self.form_view(st, actor, model, form, "add").await
    }

    /// GET `/admin/<model>/<id>/change/`: the form, or the object read-only for a role that
    /// may only view.
    pub async fn change_form(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: &str,
    ) -> Result<View, AdminError> {
        self.require(actor, model, &Perm::View)?;
        let can_change = self.can(&actor.role, model, &Perm::Change);
        let form = self.model(model)?.form(st, Some(id), !can_change).await?;
        let mode = if can_change { "change" } else { "view" };
        self.form_view(st, actor, model, form, mode).await
    }

    /// POST to the add (`id` = None) or change form.
    pub async fn save(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: Option<&str>,
        input: &FormInput,
    ) -> Result<Outcome, AdminError> {
        let perm = if id.is_some() {
            Perm::Change
        } else {
            Perm::Add
        };
        self.require(actor, model, &perm)?;
        let m = self.model(model)?;
        let ctx = Ctx {
            actor,
            audit: self.audit.as_ref(),
        };
        match m.save(st, ctx, id, input).await? {
            Ok(object) => {
                let id_text = if id.is_some() {
                    "admin-changed"
                } else {
                    "admin-added"
                };
                let to = if input.get("_continue").is_some() {
                    self.object_url(model, &object.id, "change")
                } else if input.get("_addanother").is_some() {
                    format!("{}add/", self.list_url(model))
                } else {
                    self.list_url(model)
                };
                Ok(Outcome::Redirect {
                    to,
                    message: phrase(
                        id_text,
                        &[
                            ("model", &m.meta().singular.to_lowercase()),
                            ("name", &object.repr),
                        ],
                    ),
                    kind: "success",
                })
            }
            Err(form) => {
                let mode = if id.is_some() { "change" } else { "add" };
                Ok(Outcome::Render(
                    self.form_view(st, actor, model, form, mode).await?,
                ))
            }
        }
    }

    /// GET `/admin/<model>/<id>/delete/`: what would go with the object, or what keeps it.
    pub async fn delete_form(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: &str,
    ) -> Result<View, AdminError> {
        self.require(actor, model, &Perm::Delete)?;
        let preview = self.model(model)?.delete_preview(st, id).await?;
        let status = if preview.blocked { 409 } else { 200 };
        let change_url = self.object_url(model, id, "change");
        Ok(View::new(
            "admin/delete_confirm.html",
            self.context(
                actor,
                Some(model),
                json!({ "preview": preview, "change_url": change_url }),
            ),
        )
        .status(status))
    }

    /// POST `/admin/<model>/<id>/delete/`.
    pub async fn delete(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: &str,
    ) -> Result<Outcome, AdminError> {
        self.require(actor, model, &Perm::Delete)?;
        let m = self.model(model)?;
        let ctx = Ctx {
            actor,
            audit: self.audit.as_ref(),
        };
        let deleted = m
            .delete(st, ctx, &Selection::Ids(vec![id.to_owned()]))
            .await?;
        let repr = deleted.first().map(|o| o.repr.clone()).unwrap_or_default();
        Ok(Outcome::Redirect {
            to: self.list_url(model),
            message: phrase(
                "admin-object-deleted",
                &[
                    ("model", &m.meta().singular.to_lowercase()),
                    ("name", &repr),
                ],
            ),
            kind: "success",
        })
    }

    /// GET `/admin/<model>/<id>/history/`: who did what to the object, newest first.
    pub async fn history(
        &self,
        st: &S,
        actor: &Actor,
        model: &str,
        id: &str,
    ) -> Result<View, AdminError> {
        self.require(actor, model, &Perm::View)?;
        let records = self.audit.history(st.db(), model, id).await?;
        // The object may be gone: its history stays readable.
        let object = match self
            .model(model)?
            .select(st, &Selection::Ids(vec![id.to_owned()]), 1)
            .await?
        {
            (_, mut found) if !found.is_empty() => Some(found.remove(0)),
            _ => None,
        };
        if object.is_none() && records.is_empty() {
            return Err(AdminError::NotFound);
        }
        let repr = object
            .as_ref()
            .map(|o| o.repr.clone())
            .or_else(|| records.first().map(|r| r.object_repr.clone()))
            .unwrap_or_default();
        // The trail stores column names; people read the fields' labels.
        let admin = self.model(model)?;
        let labels: std::collections::BTreeMap<&str, String> = records
            .iter()
            .flat_map(|r| r.changes.keys())
            .filter_map(|name| Some((name.as_str(), admin.field_label(name)?)))
            .collect();
        Ok(View::new(
            "admin/history.html",
            self.context(
                actor,
                Some(model),
                json!({
                    "object": { "id": id, "repr": repr, "exists": object.is_some() },
                    "change_url": self.object_url(model, id, "change"),
                    "records": records,
                    "labels": labels,
                }),
            ),
        ))
    }
}
