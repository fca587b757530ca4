//! `ModelAdmin`: the typed options of one entity's admin, keyed by the entity's columns.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PaginatorTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Value,
};

use crate::field::{Choice, Upload, value_text};
use crate::perm::{Grants, Perm};
use crate::{Actor, BoxFuture};

/// Why a custom action failed; its text is shown to the user.
pub type ActionError = Box<dyn std::error::Error + Send + Sync>;

type ActionFn<E, S> = Arc<
    dyn for<'a> Fn(
            &'a S,
            &'a Actor,
            Vec<<E as EntityTrait>::Model>,
        ) -> BoxFuture<'a, Result<String, ActionError>>
        + Send
        + Sync,
>;
type ComputedFn<E> = Arc<dyn Fn(&<E as EntityTrait>::Model) -> String + Send + Sync>;
type CleanFn<E> = Arc<
    dyn Fn(
            &mut <E as EntityTrait>::ActiveModel,
            &SaveContext,
        ) -> Result<(), Vec<(Option<<E as EntityTrait>::Column>, String)>>
        + Send
        + Sync,
>;
type ChangeHook<S> = Arc<dyn for<'a> Fn(&'a S, &'a ChangeEvent) -> BoxFuture<'a, ()> + Send + Sync>;
type ShownFn<E> = Arc<dyn Fn(&Actor, &<E as EntityTrait>::Model) -> bool + Send + Sync>;
type ContextFn<E, S> = Arc<
    dyn for<'a> Fn(
            &'a S,
            &'a <E as EntityTrait>::Model,
        ) -> BoxFuture<'a, Result<serde_json::Value, ActionError>>
        + Send
        + Sync,
>;

/// Titled groups of form fields.
pub(crate) type Fieldsets<C> = Vec<(Option<String>, Vec<C>)>;

/// What a save hook knows about the save.
#[derive(Debug, Clone)]
pub struct SaveContext {
    pub is_new: bool,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// Told to the application after a change was committed (to invalidate caches, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    pub model: String,
    /// `add`, `change`, `delete` or `action:<name>`.
    pub action: String,
    pub ids: Vec<String>,
}

/// A custom bulk action.
pub(crate) struct Action<E: EntityTrait, S> {
    pub name: String,
    pub label: String,
    pub run: ActionFn<E, S>,
}

/// A custom action offered as a button on an object's page, while `shown` says so.
pub(crate) struct ObjectAction<E: EntityTrait> {
    pub name: String,
    pub label: String,
    pub shown: ShownFn<E>,
}

/// A column shown in the list that is computed from the row.
pub(crate) struct Computed<E: EntityTrait> {
    pub label: String,
    pub compute: ComputedFn<E>,
}

type ChoicesFn = Arc<
    dyn for<'a> Fn(&'a DatabaseConnection) -> BoxFuture<'a, Result<Vec<Choice>, DbErr>>
        + Send
        + Sync,
>;
type LabelsFn = Arc<
    dyn for<'a> Fn(
            &'a DatabaseConnection,
            Vec<Value>,
        ) -> BoxFuture<'a, Result<HashMap<String, String>, DbErr>>
        + Send
        + Sync,
>;
type SearchFn = Arc<dyn Fn(&[String]) -> Option<SelectStatement> + Send + Sync>;

/// A column that points at another entity: a select of its rows (or the id typed in, for
/// big tables), shown by its label column, searchable through that label.
#[derive(Clone)]
pub struct ForeignKey {
    pub(crate) raw_id: bool,
    pub(crate) choices: ChoicesFn,
    pub(crate) labels: LabelsFn,
    pub(crate) search: SearchFn,
}

/// Most rows a foreign-key select offers.
const MAX_CHOICES: u64 = 1000;

fn primary_column<T: EntityTrait>() -> Option<T::Column> {
    T::PrimaryKey::iter().next().map(|k| k.into_column())
}

impl ForeignKey {
    /// Points at `T`, whose rows are shown by `label`.
    pub fn to<T>(label: T::Column) -> Self
    where
        T: EntityTrait,
        T::Model: Sync,
    {
        let choices: ChoicesFn = Arc::new(move |db| {
            Box::pin(async move {
                let Some(pk) = primary_column::<T>() else {
                    return Ok(Vec::new());
                };
                let rows = T::find()
                    .order_by_asc(label)
                    .limit(MAX_CHOICES)
                    .all(db)
                    .await?;
                Ok(rows
                    .iter()
                    .map(|m| {
                        Choice::new(
                            value_text(&m.get(pk)).unwrap_or_default(),
                            value_text(&m.get(label)).unwrap_or_default(),
                        )
                    })
                    .collect())
            })
        });
        let labels: LabelsFn = Arc::new(move |db, keys| {
            Box::pin(async move {
                let Some(pk) = primary_column::<T>() else {
                    return Ok(HashMap::new());
                };
                if keys.is_empty() {
                    return Ok(HashMap::new());
                }
                let rows = T::find().filter(pk.is_in(keys)).all(db).await?;
                Ok(rows
                    .iter()
                    .map(|m| {
                        (
                            value_text(&m.get(pk)).unwrap_or_default(),
                            value_text(&m.get(label)).unwrap_or_default(),
                        )
                    })
                    .collect())
            })
        });
        let search: SearchFn = Arc::new(move |patterns| {
            let pk = primary_column::<T>()?;
            let condition = crate::search::like_any(&[label], patterns)?;
            Some(
                T::find()
                    .select_only()
                    .column(pk)
                    .filter(condition)
                    .into_query(),
            )
        });
        Self {
            raw_id: false,
            choices,
            labels,
            search,
        }
    }

    /// Typed as an id (with the current label beside it) instead of a select: for tables
    /// too big to list.
    pub fn raw_id(mut self) -> Self {
        self.raw_id = true;
        self
    }
}

type StoreFn<S> =
    Arc<dyn for<'a> Fn(&'a S, Upload) -> BoxFuture<'a, Result<String, String>> + Send + Sync>;
type UrlFn = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// An image column: the application stores uploads (returning the value to keep, or a
/// message for the user) and says where a stored value is served.
pub struct ImageField<S> {
    /// None: shown, never uploaded here.
    pub(crate) store: Option<StoreFn<S>>,
    pub(crate) url: UrlFn,
}

impl<S> Clone for ImageField<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            url: self.url.clone(),
        }
    }
}

impl<S> ImageField<S> {
    pub fn new<F, U>(store: F, url: U) -> Self
    where
        F: for<'a> Fn(&'a S, Upload) -> BoxFuture<'a, Result<String, String>>
            + Send
            + Sync
            + 'static,
        U: Fn(&str) -> String + Send + Sync + 'static,
    {
        Self {
            store: Some(Arc::new(store)),
            url: Arc::new(url),
        }
    }

    /// An image that is shown (list thumbnail, form preview) but not uploaded here.
    pub fn read_only<U>(url: U) -> Self
    where
        U: Fn(&str) -> String + Send + Sync + 'static,
    {
        Self {
            store: None,
            url: Arc::new(url),
        }
    }
}

type RelatedFn = Arc<
    dyn for<'a> Fn(
            &'a DatabaseConnection,
            Value,
        ) -> BoxFuture<'a, Result<(u64, Vec<String>), DbErr>>
        + Send
        + Sync,
>;

/// Rows of another entity that point at an object: deleted with it (cascade: the database's
/// `ON DELETE CASCADE` deletes them, the admin does not) or keeping it from being deleted
/// (protect). The delete confirmation lists them.
#[derive(Clone)]
pub struct Related {
    pub(crate) label: String,
    pub(crate) protect: bool,
    pub(crate) lookup: RelatedFn,
}

/// How many related rows a confirmation page names.
pub(crate) const RELATED_SHOWN: u64 = 10;

impl Related {
    /// `T` rows whose `fk` is the object are deleted with it (the foreign key must say
    /// `ON DELETE CASCADE`); they are shown by `show`.
    pub fn cascade<T>(label: &str, fk: T::Column, show: T::Column) -> Self
    where
        T: EntityTrait,
        T::Model: Sync,
    {
        Self::build::<T>(label, fk, show, false)
    }

    /// `T` rows whose `fk` is the object keep it from being deleted.
    pub fn protect<T>(label: &str, fk: T::Column, show: T::Column) -> Self
    where
        T: EntityTrait,
        T::Model: Sync,
    {
        Self::build::<T>(label, fk, show, true)
    }

    fn build<T>(label: &str, fk: T::Column, show: T::Column, protect: bool) -> Self
    where
        T: EntityTrait,
        T::Model: Sync,
    {
        let lookup: RelatedFn = Arc::new(move |db, key| {
            Box::pin(async move {
                let select = T::find().filter(fk.eq(key));
                let count = select.clone().count(db).await?;
                let shown = select
                    .order_by_asc(show)
                    .limit(RELATED_SHOWN)
                    .all(db)
                    .await?
                    .iter()
                    .map(|m| value_text(&m.get(show)).unwrap_or_default())
                    .collect();
                Ok((count, shown))
            })
        });
        Self {
            label: label.to_owned(),
            protect,
            lookup,
        }
    }
}

/// The admin of one entity `E`, for an application whose state is `S`.
pub struct ModelAdmin<E: EntityTrait, S> {
    pub(crate) name: String,
    pub(crate) singular: String,
    pub(crate) plural: String,
    pub(crate) list_display: Vec<E::Column>,
    pub(crate) computed: Vec<Computed<E>>,
    pub(crate) search_fields: Vec<E::Column>,
    pub(crate) list_filter: Vec<E::Column>,
    pub(crate) ordering: Vec<(E::Column, bool)>,
    pub(crate) per_page: u64,
    pub(crate) readonly: Vec<E::Column>,
    pub(crate) fieldsets: Fieldsets<E::Column>,
    pub(crate) labels: BTreeMap<&'static str, String>,
    pub(crate) help: BTreeMap<&'static str, String>,
    /// Column → (text, address) of a link after its help text.
    pub(crate) help_links: BTreeMap<&'static str, (String, String)>,
    /// Column → how its readonly field shows the object (instead of the stored value).
    pub(crate) shown: BTreeMap<&'static str, ComputedFn<E>>,
    pub(crate) blank: BTreeSet<&'static str>,
    pub(crate) long_text: BTreeSet<&'static str>,
    pub(crate) secret: BTreeSet<&'static str>,
    pub(crate) audit_ignore: BTreeSet<&'static str>,
    pub(crate) choices: BTreeMap<&'static str, Vec<Choice>>,
    pub(crate) initial: BTreeMap<&'static str, String>,
    pub(crate) foreign_keys: BTreeMap<&'static str, ForeignKey>,
    pub(crate) images: BTreeMap<&'static str, ImageField<S>>,
    pub(crate) related: Vec<Related>,
    pub(crate) actions: Vec<Action<E, S>>,
    pub(crate) object_actions: Vec<ObjectAction<E>>,
    pub(crate) change_template: Option<&'static str>,
    pub(crate) change_context: Option<ContextFn<E, S>>,
    pub(crate) clean: Option<CleanFn<E>>,
    pub(crate) on_change: Option<ChangeHook<S>>,
    pub(crate) repr: Option<ComputedFn<E>>,
    pub(crate) grants: Grants,
}

impl<E: EntityTrait, S> ModelAdmin<E, S> {
    /// `name` is the URL part (`/admin/<name>/`); the labels are for people.
    pub fn new(name: &str, singular: &str, plural: &str) -> Self {
        Self {
            name: name.to_owned(),
            singular: singular.to_owned(),
            plural: plural.to_owned(),
            list_display: Vec::new(),
            computed: Vec::new(),
            search_fields: Vec::new(),
            list_filter: Vec::new(),
            ordering: Vec::new(),
            per_page: 25,
            readonly: Vec::new(),
            fieldsets: Vec::new(),
            labels: BTreeMap::new(),
            help: BTreeMap::new(),
            help_links: BTreeMap::new(),
            shown: BTreeMap::new(),
            blank: BTreeSet::new(),
            long_text: BTreeSet::new(),
            secret: BTreeSet::new(),
            audit_ignore: BTreeSet::new(),
            choices: BTreeMap::new(),
            initial: BTreeMap::new(),
            foreign_keys: BTreeMap::new(),
            images: BTreeMap::new(),
            related: Vec::new(),
            actions: Vec::new(),
            object_actions: Vec::new(),
            change_template: None,
            change_context: None,
            clean: None,
            on_change: None,
            repr: None,
            grants: Grants::default(),
        }
    }

    /// Columns of the change list, in order (the first links to the object).
    pub fn list_display(mut self, columns: &[E::Column]) -> Self {
        self.list_display = columns.to_vec();
        self
    }

    /// A computed column of the change list, after the columns.
    pub fn list_computed<F>(mut self, label: &str, compute: F) -> Self
    where
        F: Fn(&E::Model) -> String + Send + Sync + 'static,
    {
        self.computed.push(Computed {
            label: label.to_owned(),
            compute: Arc::new(compute),
        });
        self
    }

    /// Columns the search box looks in (text: contains, case-insensitive; integer: equals;
    /// foreign key: the label of the row it points at).
    pub fn search_fields(mut self, columns: &[E::Column]) -> Self {
        self.search_fields = columns.to_vec();
        self
    }

    /// Filters beside the list: booleans (yes / no), choices, foreign keys, dates.
    pub fn list_filter(mut self, columns: &[E::Column]) -> Self {
        self.list_filter = columns.to_vec();
        self
    }

    /// Default order of the list; `descending` per column.
    pub fn ordering(mut self, column: E::Column, descending: bool) -> Self {
        self.ordering.push((column, descending));
        self
    }

    pub fn list_per_page(mut self, n: u64) -> Self {
        self.per_page = n.max(1);
        self
    }

    /// Shown on the form, never taken from it.
    pub fn readonly_fields(mut self, columns: &[E::Column]) -> Self {
        self.readonly = columns.to_vec();
        self
    }

    /// The form's fields in order (one untitled fieldset).
    pub fn fields(mut self, columns: &[E::Column]) -> Self {
        self.fieldsets = vec![(None, columns.to_vec())];
        self
    }

    /// A titled group of the form's fields (call once per group).
    pub fn fieldset(mut self, title: &str, columns: &[E::Column]) -> Self {
        self.fieldsets
            .push((Some(title.to_owned()), columns.to_vec()));
        self
    }

    pub fn label(mut self, column: E::Column, label: &str) -> Self {
        self.labels.insert(column.as_str(), label.to_owned());
        self
    }

    pub fn help_text(mut self, column: E::Column, text: &str) -> Self {
        self.help.insert(column.as_str(), text.to_owned());
        self
    }

    /// A link after the field's help text (e.g. to a syntax hint).
    pub fn help_link(mut self, column: E::Column, text: &str, url: &str) -> Self {
        self.help_links
            .insert(column.as_str(), (text.to_owned(), url.to_owned()));
        self
    }

    /// What the column's readonly field shows of the object, instead of its stored value
    /// (e.g. the same words in the reader's language, as a phrase the page writes out).
    pub fn readonly_display<F>(mut self, column: E::Column, show: F) -> Self
    where
        F: Fn(&E::Model) -> String + Send + Sync + 'static,
    {
        self.shown.insert(column.as_str(), Arc::new(show));
        self
    }

    /// An empty string is a valid value of this (non-null) text column.
    pub fn allow_blank(mut self, column: E::Column) -> Self {
        self.blank.insert(column.as_str());
        self
    }

    /// A text area instead of a one-line input.
    pub fn long_text(mut self, column: E::Column) -> Self {
        self.long_text.insert(column.as_str());
        self
    }

    /// Never shown; the audit trail records only that it changed.
    pub fn secret(mut self, column: E::Column) -> Self {
        self.secret.insert(column.as_str());
        self
    }

    /// Left out of the audit trail's field changes (bookkeeping such as `updated_at`).
    pub fn audit_ignore(mut self, columns: &[E::Column]) -> Self {
        self.audit_ignore.extend(columns.iter().map(|c| c.as_str()));
        self
    }

    /// A select of fixed `(value, label)` choices (enum columns).
    pub fn choices(mut self, column: E::Column, choices: &[(&str, &str)]) -> Self {
        self.choices.insert(
            column.as_str(),
            choices.iter().map(|(v, l)| Choice::new(*v, *l)).collect(),
        );
        self
    }

    /// The value a field starts with on the add form (`"on"` ticks a checkbox).
    pub fn initial(mut self, column: E::Column, value: &str) -> Self {
        self.initial.insert(column.as_str(), value.to_owned());
        self
    }

    pub fn foreign_key(mut self, column: E::Column, fk: ForeignKey) -> Self {
        self.foreign_keys.insert(column.as_str(), fk);
        self
    }

    pub fn image(mut self, column: E::Column, image: ImageField<S>) -> Self {
        self.images.insert(column.as_str(), image);
        self
    }

    /// Rows of other entities that go with an object, or keep it (delete confirmation).
    pub fn related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }

    /// A bulk action, allowed by `Perm::action(name)`; it gets the selected rows and returns
    /// the message for the user. Every action asks for confirmation first.
    pub fn action<F>(mut self, name: &str, label: &str, run: F) -> Self
    where
        F: for<'a> Fn(
                &'a S,
                &'a Actor,
                Vec<E::Model>,
            ) -> BoxFuture<'a, Result<String, ActionError>>
            + Send
            + Sync
            + 'static,
    {
        self.actions.push(Action {
            name: name.to_owned(),
            label: label.to_owned(),
            run: Arc::new(run),
        });
        self
    }

    /// Offers the bulk action `name` as a button labelled `label` on the page of each object
    /// for which `shown(actor, object)` holds (Block on an active user, Unblock on a blocked
    /// one). It is the same action: the same permission, confirmation, code and audit entry,
    /// for that one object, and it comes back to the object's page.
    pub fn object_action<F>(mut self, name: &str, label: &str, shown: F) -> Self
    where
        F: Fn(&Actor, &E::Model) -> bool + Send + Sync + 'static,
    {
        self.object_actions.push(ObjectAction {
            name: name.to_owned(),
            label: label.to_owned(),
            shown: Arc::new(shown),
        });
        self
    }

    /// The template of the object's page instead of `admin/change_form.html` (which it
    /// usually extends, filling the `object_extra` block with what `change_context` gives).
    pub fn change_form_template(mut self, template: &'static str) -> Self {
        self.change_template = Some(template);
        self
    }

    /// More for the object's page: computed from the object, put in the page's context as
    /// `extra` (links to related pages, a summary, …).
    pub fn change_context<F>(mut self, context: F) -> Self
    where
        F: for<'a> Fn(&'a S, &'a E::Model) -> BoxFuture<'a, Result<serde_json::Value, ActionError>>
            + Send
            + Sync
            + 'static,
    {
        self.change_context = Some(Arc::new(context));
        self
    }

    /// Checks and completes a row before it is saved (timestamps, normalisation, rules
    /// across fields); errors go beside the named field, or on the form for `None`.
    pub fn clean<F>(mut self, clean: F) -> Self
    where
        F: Fn(&mut E::ActiveModel, &SaveContext) -> Result<(), Vec<(Option<E::Column>, String)>>
            + Send
            + Sync
            + 'static,
    {
        self.clean = Some(Arc::new(clean));
        self
    }

    /// Called after every committed add, change, delete or action.
    pub fn on_change<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(&'a S, &'a ChangeEvent) -> BoxFuture<'a, ()> + Send + Sync + 'static,
    {
        self.on_change = Some(Arc::new(hook));
        self
    }

    /// How one object is named on pages and in the audit trail.
    pub fn repr<F>(mut self, repr: F) -> Self
    where
        F: Fn(&E::Model) -> String + Send + Sync + 'static,
    {
        self.repr = Some(Arc::new(repr));
        self
    }

    /// Grants `perms` on this model to `role`.
    pub fn permit(mut self, role: &str, perms: &[Perm]) -> Self {
        self.grants.grant(role, perms);
        self
    }

    /// Nobody may do `perm` here, superusers included (e.g. add rows made elsewhere).
    pub fn disable(mut self, perm: Perm) -> Self {
        self.grants.disable(perm);
        self
    }
}
