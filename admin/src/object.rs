//! One object and its columns: how they are keyed, found, named and labelled. Every page
//! (list, form, delete, history) and the audit trail go through these, so an object is
//! called the same everywhere (Django's `admin/utils.py` and `ModelAdmin.get_object`).

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable, ModelTrait, PrimaryKeyToColumn,
    QueryFilter, Value,
};
use serde::Serialize;

use crate::field::{self, FieldKind, value_text};
use crate::model::ModelAdmin;
use crate::{AdminError, AdminState};

/// One object as pages and the audit trail name it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ObjectRef {
    pub id: String,
    pub repr: String,
}

/// What a column is on pages: name, widget, nullability.
pub(crate) struct ColumnInfo {
    pub name: &'static str,
    pub kind: FieldKind,
    pub column_type: ColumnType,
    pub nullable: bool,
}

/// "snake_case_id" → "Snake case".
fn humanize(name: &str) -> String {
    let name = name.strip_suffix("_id").unwrap_or(name);
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl<E: EntityTrait, S: AdminState> ModelAdmin<E, S> {
    /// The primary key (the admin handles single-column keys: the first column of it).
    pub(crate) fn pk(&self) -> Result<E::Column, AdminError> {
        E::PrimaryKey::iter()
            .next()
            .map(|k| k.into_column())
            .ok_or_else(|| AdminError::BadRequest("this model has no primary key".into()))
    }

    /// What `column` is on pages: the model's overrides first (image, foreign key, choices,
    /// long text), then what its type suggests.
    pub(crate) fn info(&self, column: E::Column) -> ColumnInfo {
        let name = column.as_str();
        let def = column.def();
        let column_type = def.get_column_type().clone();
        let kind = if self.images.contains_key(name) {
            FieldKind::Image
        } else if self.foreign_keys.contains_key(name) {
            FieldKind::ForeignKey
        } else if self.choices.contains_key(name) {
            FieldKind::Select
        } else if self.long_text.contains(name) {
            FieldKind::LongText
        } else {
            FieldKind::of(&column_type)
        };
        ColumnInfo {
            name,
            kind,
            column_type,
            nullable: def.is_null(),
        }
    }

    /// The label people read: the one given, or the column name made readable.
    pub(crate) fn label_of(&self, column: E::Column) -> String {
        self.labels
            .get(column.as_str())
            .cloned()
            .unwrap_or_else(|| humanize(column.as_str()))
    }

    /// The primary key as it appears in URLs and forms.
    pub(crate) fn key_text(&self, model: &E::Model) -> Result<String, AdminError> {
        Ok(value_text(&model.get(self.pk()?)).unwrap_or_default())
    }

    /// How the object is named on pages and in the audit trail.
    pub(crate) fn repr_of(&self, model: &E::Model) -> String {
        match &self.repr {
            Some(repr) => repr(model),
            None => format!(
                "{} #{}",
                self.singular,
                self.key_text(model).unwrap_or_default()
            ),
        }
    }

    /// The object as pages and the audit trail refer to it: key and name.
    pub(crate) fn object_ref(&self, model: &E::Model) -> Result<ObjectRef, AdminError> {
        Ok(ObjectRef {
            id: self.key_text(model)?,
            repr: self.repr_of(model),
        })
    }

    /// The key typed in a URL as a database value; one of the wrong type is not found (a
    /// 404, not a database error).
    pub(crate) fn key_value(&self, id: &str) -> Result<Value, AdminError> {
        let pk = self.pk()?;
        field::parse_key(pk.def().get_column_type(), id).ok_or(AdminError::NotFound)
    }

    /// The object whose key `id` is, or NotFound.
    pub(crate) async fn find(&self, st: &S, id: &str) -> Result<E::Model, AdminError> {
        let pk = self.pk()?;
        let key = self.key_value(id)?;
        E::find()
            .filter(pk.eq(key))
            .one(st.db())
            .await?
            .ok_or(AdminError::NotFound)
    }

    /// Choice label of a value, for select columns.
    pub(crate) fn choice_label(&self, name: &str, text: &str) -> Option<String> {
        self.choices
            .get(name)?
            .iter()
            .find(|c| c.value == text)
            .map(|c| c.label.clone())
    }

    /// Labels of the rows the foreign-key `columns` of `models` point at, column → key → label:
    /// one query per column, not one per row.
    pub(crate) async fn fk_labels(
        &self,
        st: &S,
        models: &[E::Model],
        columns: &[E::Column],
    ) -> Result<HashMap<&'static str, HashMap<String, String>>, AdminError> {
        let mut out = HashMap::new();
        for column in columns {
            if let Some(fk) = self.foreign_keys.get(column.as_str()) {
                let keys: Vec<Value> = models
                    .iter()
                    .map(|m| m.get(*column))
                    .filter(|v| !field::is_null(v))
                    .collect();
                out.insert(column.as_str(), (fk.labels)(st.db(), keys).await?);
            }
        }
        Ok(out)
    }
}
