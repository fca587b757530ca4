//! The change list (Django's `ChangeList` in `views/main.py`): the rows the search and
//! filters match, in the order asked for, one page of them with their cells, the column
//! heads that sort, and the links to the neighbouring pages.

use std::collections::HashMap;

use sea_orm::{
    EntityTrait, IdenStatic, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Value,
};
use serde::Serialize;

use crate::field::value_text;
use crate::filters::FilterData;
use crate::model::ModelAdmin;
use crate::params::ListParams;
use crate::{AdminError, AdminState};

/// A column head of the list.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ColumnHead {
    pub label: String,
    pub sortable: bool,
    /// `asc`, `desc`, or empty.
    pub sorted: &'static str,
    /// Query string that sorts by this column (flipping the direction when it is sorted).
    pub sort_query: String,
}

/// One value of a row, as the list shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Cell {
    pub text: String,
    /// `text`, `bool`, `date`, `null` or `image`.
    pub kind: &'static str,
    pub flag: bool,
    pub url: Option<String>,
}

/// One object of the list: its key and name (for the link and the checkbox) and its cells.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub id: String,
    pub repr: String,
    pub cells: Vec<Cell>,
}

/// One page of the change list, as the template gets it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ListData {
    pub columns: Vec<ColumnHead>,
    pub rows: Vec<Row>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub per_page: u64,
    pub filters: Vec<FilterData>,
    pub searchable: bool,
    pub search_help: String,
    pub q: String,
    /// Query string of the list as shown (search, filters, order, page).
    pub query: String,
    /// Query strings of the previous and next page.
    pub prev_query: Option<String>,
    pub next_query: Option<String>,
    /// The filters and order as hidden-field pairs (the search form keeps them).
    pub keep: Vec<(String, String)>,
}

// Counting rows (sea-orm's `PaginatorTrait`) asks for `Sync` models.
impl<E: EntityTrait<Model: Sync>, S: AdminState> ModelAdmin<E, S> {
    /// The rows the list's search and filters match.
    pub(crate) fn matching(&self, params: &ListParams) -> Select<E> {
        let mut select = E::find();
        if let Some(search) = self.search_condition(&params.q) {
            select = select.filter(search);
        }
        for column in &self.list_filter {
            if let Some(value) = params.filters.get(column.as_str())
                && let Some(condition) = self.filter_condition(*column, value, &params.zone)
            {
                select = select.filter(condition);
            }
        }
        select
    }

    /// The order asked for by `o` (only a column the list shows: `o` comes from the URL), then
    /// the model's default ordering, then the key, newest first, so that rows that tie keep
    /// their place from one page to the next.
    fn ordered(&self, mut select: Select<E>, params: &ListParams) -> Result<Select<E>, AdminError> {
        let (descending, name) = match params.o.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, params.o.as_str()),
        };
        if let Some(column) = self.list_display.iter().find(|c| c.as_str() == name) {
            select = if descending {
                select.order_by_desc(*column)
            } else {
                select.order_by_asc(*column)
            };
        }
        for (column, descending) in &self.ordering {
            select = if *descending {
                select.order_by_desc(*column)
            } else {
                select.order_by_asc(*column)
            };
        }
        Ok(select.order_by_desc(self.pk()?))
    }

    /// How one value shows in the list: secrets masked, booleans as yes / no, images as a
    /// thumbnail, foreign keys and choices by their label.
    fn cell(
        &self,
        column: E::Column,
        model: &E::Model,
        fk_labels: &HashMap<&'static str, HashMap<String, String>>,
    ) -> Cell {
        let name = column.as_str();
        let value = model.get(column);
        let text = value_text(&value);
        let plain = |text: String| Cell {
            text,
            kind: "text",
            flag: false,
            url: None,
        };
        let Some(text) = text else {
            return Cell {
                text: "—".into(),
                kind: "null",
                flag: false,
                url: None,
            };
        };
        if self.secret.contains(name) {
            return plain("••••".into());
        }
        if let Value::Bool(Some(flag)) = value {
            return Cell {
                text: if flag { "Yes" } else { "No" }.into(),
                kind: "bool",
                flag,
                url: None,
            };
        }
        // An instant goes to the page as RFC 3339: the site's `datetime` filter writes it in
        // the viewer's zone.
        if let Value::ChronoDateTimeUtc(Some(at)) = &value {
            return Cell {
                text: at.to_rfc3339(),
                kind: "datetime",
                flag: false,
                url: None,
            };
        }
        if matches!(
            value,
            Value::ChronoDate(_)
                | Value::ChronoDateTime(_)
                | Value::ChronoDateTimeUtc(_)
                | Value::ChronoDateTimeWithTimeZone(_)
        ) {
            return Cell {
                text,
                kind: "date",
                flag: false,
                url: None,
            };
        }
        if let Some(image) = self.images.get(name) {
            return Cell {
                url: Some((image.url)(&text)),
                text,
                kind: "image",
                flag: false,
            };
        }
        if let Some(label) = fk_labels.get(name).and_then(|labels| labels.get(&text)) {
            return plain(label.clone());
        }
        plain(self.choice_label(name, &text).unwrap_or(text))
    }

    /// One page of the list (a page past the end shows the last one).
    pub(crate) async fn list_impl(
        &self,
        st: &S,
        params: ListParams,
    ) -> Result<ListData, AdminError> {
        let db = st.db();
        let select = self.matching(&params);
        let total = select.clone().count(db).await?;
        let pages = Ord::max(total.div_ceil(self.per_page), 1);
        let page = params.p.clamp(1, pages);
        let models = self
            .ordered(select, &params)?
            .offset((page - 1) * self.per_page)
            .limit(self.per_page)
            .all(db)
            .await?;
        let fk_labels = self.fk_labels(st, &models, &self.list_display).await?;
        let mut rows = Vec::with_capacity(models.len());
        for model in &models {
            let mut cells: Vec<Cell> = self
                .list_display
                .iter()
                .map(|c| self.cell(*c, model, &fk_labels))
                .collect();
            cells.extend(self.computed.iter().map(|c| Cell {
                text: (c.compute)(model),
                kind: "text",
                flag: false,
                url: None,
            }));
            let object = self.object_ref(model)?;
            rows.push(Row {
                id: object.id,
                repr: object.repr,
                cells,
            });
        }
        let sorted_name = params.o.trim_start_matches('-');
        let mut columns: Vec<ColumnHead> = self
            .list_display
            .iter()
            .map(|c| {
                let name = c.as_str();
                let sorted = if sorted_name != name {
                    ""
                } else if params.o.starts_with('-') {
                    "desc"
                } else {
                    "asc"
                };
                let next = if sorted == "asc" {
                    format!("-{name}")
                } else {
                    name.to_owned()
                };
                ColumnHead {
                    label: self.label_of(*c),
                    sortable: true,
                    sorted,
                    sort_query: params.query_with(&[("o", Some(&next)), ("p", None)]),
                }
            })
            .collect();
        columns.extend(self.computed.iter().map(|c| ColumnHead {
            label: c.label.clone(),
            sortable: false,
            sorted: "",
            sort_query: String::new(),
        }));
        let shown = ListParams {
            p: page,
            ..params.clone()
        };
        let page_query = |p: u64| shown.query_with(&[("p", Some(&p.to_string()))]);
        let mut keep: Vec<(String, String)> = params
            .filters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !params.o.is_empty() {
            keep.push(("o".into(), params.o.clone()));
        }
        Ok(ListData {
            columns,
            rows,
            total,
            page,
            pages,
            per_page: self.per_page,
            filters: self.filters(st, &params).await?,
            searchable: !self.search_fields.is_empty(),
            search_help: self
                .search_fields
                .iter()
                .map(|c| self.label_of(*c).to_lowercase())
                .collect::<Vec<_>>()
                .join(", "),
            q: params.q.clone(),
            query: shown.query_with(&[]),
            prev_query: (page > 1).then(|| page_query(page - 1)),
            next_query: (page < pages).then(|| page_query(page + 1)),
            keep,
        })
    }
}
