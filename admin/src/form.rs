//! The add and change forms (Django's `changeform_view`, with the fieldsets of
//! `helpers.py`): the fields as the template shows them, what was typed parsed and checked
//! beside each field, and the save with its audit entry in one transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, EntityTrait, IdenStatic, IntoActiveModel, Iterable,
    ModelTrait, SqlErr, TransactionTrait, Value,
};
use serde::Serialize;

use crate::erased::{Ctx, Saved};
use crate::field::{self, Choice, FieldKind, value_text};
use crate::model::ModelAdmin;
use crate::object::ObjectRef;
use crate::params::FormInput;
use crate::{AdminError, AdminState, SaveContext, phrase};

/// One field as the template shows it: widget, value (as typed, stored or initial), and
/// the errors beside it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FieldData {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub input_type: &'static str,
    pub value: String,
    pub checked: bool,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub readonly: bool,
    /// The value as people read it (readonly fields, the label of a foreign key).
    pub display: String,
    pub image_url: Option<String>,
    pub errors: Vec<String>,
    pub help: Option<String>,
    /// A link after the help text.
    pub help_link: Option<HelpLink>,
    pub maxlength: Option<u32>,
    pub nullable: bool,
}

/// A link after a field's help text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HelpLink {
    pub text: String,
    pub url: String,
}

/// A titled group of fields.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fieldset {
    pub title: Option<String>,
    pub fields: Vec<FieldData>,
}

/// The whole form: the object it is about (none on the add form) and its fieldsets.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FormData {
    pub object: Option<ObjectRef>,
    pub fieldsets: Vec<Fieldset>,
    /// Errors about the form as a whole.
    pub errors: Vec<String>,
    pub multipart: bool,
    pub has_errors: bool,
}

impl<E, S> ModelAdmin<E, S>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    S: AdminState,
{
    /// The columns of the form, grouped: the fieldsets given, or every column but the key
    /// and the secret ones.
    fn form_layout(&self) -> Result<crate::model::Fieldsets<E::Column>, AdminError> {
        if !self.fieldsets.is_empty() {
            return Ok(self.fieldsets.clone());
        }
        let pk = self.pk()?;
        let columns = E::Column::iter()
            .filter(|c| c.as_str() != pk.as_str() && !self.secret.contains(c.as_str()))
            .collect();
        Ok(vec![(None, columns)])
    }

    /// Shown, never taken from the form: declared read-only, of a type the admin cannot
    /// edit, or an image the application does not store.
    fn is_readonly(&self, column: E::Column) -> bool {
        self.readonly.iter().any(|c| c.as_str() == column.as_str())
            || self.info(column).kind == FieldKind::Other
            || self
                .images
                .get(column.as_str())
                .is_some_and(|image| image.store.is_none())
    }

    /// Columns the form takes values for.
    pub(crate) fn editable(&self) -> Result<Vec<E::Column>, AdminError> {
        let pk = self.pk()?;
        Ok(self
            .form_layout()?
            .into_iter()
            .flat_map(|(_, columns)| columns)
            .filter(|c| !self.is_readonly(*c) && c.as_str() != pk.as_str())
            .collect())
    }

    /// The form of `current` (none: the add form), showing what was `submitted` instead of
    /// the stored values and each of `errors` beside its field (the rest above the form).
    pub(crate) async fn form_impl(
        &self,
        st: &S,
        current: Option<&E::Model>,
        submitted: Option<&FormInput>,
        mut errors: BTreeMap<String, Vec<String>>,
        view_only: bool,
    ) -> Result<FormData, AdminError> {
        let db = st.db();
        let layout = self.form_layout()?;
        let all: Vec<E::Column> = layout.iter().flat_map(|(_, c)| c.clone()).collect();
        let fk_labels = match current {
            Some(model) => {
                self.fk_labels(st, std::slice::from_ref(model), &all)
                    .await?
            }
            None => HashMap::new(),
        };
        let mut multipart = false;
        let mut fieldsets = Vec::new();
        for (title, columns) in layout {
            let mut fields = Vec::new();
            for column in columns {
                let info = self.info(column);
                let readonly = view_only || self.is_readonly(column);
                let stored = current.map(|m| m.get(column));
                let stored_text = stored.as_ref().and_then(value_text);
                let typed = if readonly || info.kind == FieldKind::Image {
                    None
                } else {
                    submitted.map(|s| s.get(info.name).unwrap_or("").to_owned())
                };
                let value = match (&typed, &stored) {
                    (Some(typed), _) => typed.clone(),
                    (None, Some(v)) => field::input_text(v),
                    (None, None) => self.initial.get(info.name).cloned().unwrap_or_default(),
                };
                let checked = match (&typed, &stored) {
                    (None, Some(Value::Bool(Some(b)))) => *b,
                    (None, Some(_)) => false,
                    // Typed, or the initial value of an add form.
                    _ => matches!(value.as_str(), "on" | "1" | "true" | "yes"),
                };
                let choices = match info.kind {
                    FieldKind::Select => self.choices.get(info.name).cloned().unwrap_or_default(),
                    FieldKind::ForeignKey if !readonly => match self.foreign_keys.get(info.name) {
                        Some(fk) if !fk.raw_id => (fk.choices)(db).await?,
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                let shown = match (readonly, current, self.shown.get(info.name)) {
                    (true, Some(model), Some(show)) => Some(show(model)),
                    _ => None,
                };
                let display = match (shown, &stored_text) {
                    (Some(shown), _) => shown,
                    (None, None) => "—".to_owned(),
                    (None, Some(_)) if self.secret.contains(info.name) => "••••".to_owned(),
                    (None, Some(text)) => fk_labels
                        .get(info.name)
                        .and_then(|l| l.get(text))
                        .cloned()
                        .or_else(|| self.choice_label(info.name, text))
                        .unwrap_or_else(|| match stored.as_ref() {
                            Some(Value::Bool(Some(b))) => if *b { "Yes" } else { "No" }.into(),
                            // RFC 3339: the page writes it in the viewer's zone.
                            Some(Value::ChronoDateTimeUtc(Some(at))) => at.to_rfc3339(),
                            Some(v) => value_text(v).unwrap_or_default(),
                            None => text.clone(),
                        }),
                };
                let image_url = match (self.images.get(info.name), &stored_text) {
                    (Some(image), Some(text)) => Some((image.url)(text)),
                    _ => None,
                };
                if info.kind == FieldKind::Image && !readonly {
                    multipart = true;
                }
                fields.push(FieldData {
                    name: info.name.to_owned(),
                    label: self.label_of(column),
                    kind: info.kind,
                    input_type: info.kind.input_type(),
                    value,
                    checked,
                    choices,
                    required: !(info.nullable
                        || self.blank.contains(info.name)
                        || info.kind == FieldKind::Bool
                        // A stored image stays when no new file is sent.
                        || (info.kind == FieldKind::Image && current.is_some())),
                    readonly,
                    display,
                    image_url,
                    errors: errors.remove(info.name).unwrap_or_default(),
                    help: self.help.get(info.name).cloned(),
                    help_link: self.help_links.get(info.name).map(|(text, url)| HelpLink {
                        text: text.clone(),
                        url: url.clone(),
                    }),
                    maxlength: field::max_length(&info.column_type),
                    nullable: info.nullable,
                });
            }
            fieldsets.push(Fieldset { title, fields });
        }
        // Whatever is left was not about a field on the form.
        let rest: Vec<String> = errors.into_values().flatten().collect();
        let has_errors = !rest.is_empty()
            || fieldsets
                .iter()
                .any(|f| f.fields.iter().any(|x| !x.errors.is_empty()));
        Ok(FormData {
            object: current.map(|m| self.object_ref(m)).transpose()?,
            fieldsets,
            errors: rest,
            multipart,
            has_errors,
        })
    }

    /// The field a unique-constraint message is about, if it names one of the form's.
    fn unique_field(&self, message: &str) -> Option<&'static str> {
        self.editable()
            .ok()?
            .into_iter()
            .map(|c| c.as_str())
            .find(|name| message.contains(name))
    }

    /// Adds (`id` none) or changes an object. Every field is parsed and checked before
    /// anything is written, so the form comes back with all its errors at once; then the
    /// model's clean hook, the uploads, and the write with its audit entry in one
    /// transaction. A unique or foreign-key violation the database reports is a form error
    /// too (the database decides, so two saves racing cannot both pass a check).
    pub(crate) async fn save_impl(
        &self,
        st: &S,
        ctx: Ctx<'_>,
        id: Option<&str>,
        input: &FormInput,
    ) -> Result<Saved, AdminError> {
        let db = st.db();
        let before = match id {
            Some(id) => Some(self.find(st, id).await?),
            None => None,
        };
        let mut active: E::ActiveModel = match &before {
            Some(model) => model.clone().into_active_model(),
            None => <E::ActiveModel as ActiveModelTrait>::default(),
        };
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        fn add(errors: &mut BTreeMap<String, Vec<String>>, name: &str, message: String) {
            errors.entry(name.to_owned()).or_default().push(message);
        }
        let editable = self.editable()?;
        let mut uploads = Vec::new();
        for column in &editable {
            let info = self.info(*column);
            if info.kind == FieldKind::Image {
                if let Some(upload) = input.files.get(info.name) {
                    uploads.push((*column, upload.clone()));
                } else if input.get(&format!("{}-clear", info.name)).is_some() && info.nullable {
                    let _ = active.try_set(*column, Value::String(None));
                } else if before.is_none() && !info.nullable {
                    add(&mut errors, info.name, "Choose an image.".into());
                }
                continue;
            }
            let raw = input.get(info.name).unwrap_or("");
            if info.kind == FieldKind::Select
                && !raw.is_empty()
                && self.choice_label(info.name, raw).is_none()
            {
                add(&mut errors, info.name, "Select one of the choices.".into());
                continue;
            }
            let blank = self.blank.contains(info.name);
            match field::parse(info.kind, &info.column_type, raw, info.nullable, blank) {
                Err(message) => add(&mut errors, info.name, message),
                Ok(candidates) => {
                    if let (Some(model), Some(first)) = (&before, candidates.first())
                        && field::same(&model.get(*column), first)
                    {
                        continue;
                    }
                    if let (Some(fk), Some(key)) =
                        (self.foreign_keys.get(info.name), candidates.first())
                        && !field::is_null(key)
                        && (fk.labels)(db, vec![key.clone()]).await?.is_empty()
                    {
                        add(
                            &mut errors,
                            info.name,
                            phrase("admin-no-object", &[("id", &raw)]),
                        );
                        continue;
                    }
                    if !candidates
                        .into_iter()
                        .any(|v| active.try_set(*column, v).is_ok())
                    {
                        add(
                            &mut errors,
                            info.name,
                            "This value cannot be stored here.".into(),
                        );
                    }
                }
            }
        }
        if errors.is_empty()
            && let Some(clean) = &self.clean
        {
            let save = SaveContext {
                is_new: before.is_none(),
                actor: ctx.actor.clone(),
                now: Utc::now(),
            };
            if let Err(problems) = clean(&mut active, &save) {
                for (column, message) in problems {
                    add(&mut errors, column.map_or("", |c| c.as_str()), message);
                }
            }
        }
        if errors.is_empty() {
            for (column, upload) in uploads {
                let Some(store) = self
                    .images
                    .get(column.as_str())
                    .and_then(|image| image.store.clone())
                else {
                    continue;
                };
                match store(st, upload).await {
                    Ok(stored) => {
                        let _ = active.try_set(column, Value::String(Some(stored)));
                    }
                    Err(message) => add(&mut errors, column.as_str(), message),
                }
            }
        }
        if !errors.is_empty() {
            let form = self
                .form_impl(st, before.as_ref(), Some(input), errors, false)
                .await?;
            return Ok(Err(form));
        }
        let txn = db.begin().await?;
        let saved = match &before {
            Some(_) => active.update(&txn).await,
            None => active.insert(&txn).await,
        };
        let saved = match saved {
            Ok(saved) => saved,
            Err(e) => {
                let (field, message) = match e.sql_err() {
                    Some(SqlErr::UniqueConstraintViolation(message)) => (
                        self.unique_field(&message).unwrap_or(""),
                        phrase("admin-unique", &[("model", &self.singular.to_lowercase())]),
                    ),
                    // Something it points at went away meanwhile.
                    Some(SqlErr::ForeignKeyConstraintViolation(_)) => (
                        "",
                        "An object this one points at does not exist.".to_owned(),
                    ),
                    _ => return Err(e.into()),
                };
                // Give the connection back before the form reads choices again.
                txn.rollback().await?;
                let errors = BTreeMap::from([(field.to_owned(), vec![message])]);
                let form = self
                    .form_impl(st, before.as_ref(), Some(input), errors, false)
                    .await?;
                return Ok(Err(form));
            }
        };
        let object = self.object_ref(&saved)?;
        let (action, changes) = match &before {
            Some(model) => ("change", self.diff(model, &saved)),
            None => (
                "add",
                editable
                    .iter()
                    .filter(|c| !self.audit_ignore.contains(c.as_str()))
                    .map(|c| {
                        let value = saved.get(*c);
                        let change = self.change(c.as_str(), &Value::String(None), &value);
                        (c.as_str().to_owned(), change)
                    })
                    .collect(),
            ),
        };
        ctx.audit
            .record(&txn, self.entry(&ctx, action, &object, changes))
            .await?;
        txn.commit().await?;
        self.notify(st, action, vec![object.id.clone()]).await;
        Ok(Ok(object))
    }
}
