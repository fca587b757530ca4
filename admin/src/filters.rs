//! The filters beside the change list (Django's `filters.py`): which options a column's
//! filter offers (yes / no, its choices, the rows a foreign key may point at, date ranges)
//! and the condition a chosen option adds to the list's query.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ColumnType, Condition, EntityTrait, Value};
use serde::Serialize;

use crate::field::{self, FieldKind};
use crate::model::ModelAdmin;
use crate::object::ColumnInfo;
use crate::params::ListParams;
use crate::{AdminError, AdminState};

/// One option of a filter: its label, the list's query string with it chosen, and whether
/// it is the chosen one.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FilterOption {
    pub label: String,
    pub query: String,
    pub selected: bool,
}

/// One filter beside the list: its title, its query parameter (the column's name) and its
/// options.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FilterData {
    pub title: String,
    pub param: String,
    pub options: Vec<FilterOption>,
}

/// The time ranges of a date filter.
const DATE_RANGES: [(&str, &str); 4] = [
    ("today", "Today"),
    ("7d", "Past 7 days"),
    ("month", "This month"),
    ("year", "This year"),
];

impl<E: EntityTrait, S: AdminState> ModelAdmin<E, S> {
    /// A date-time bound for `column` of the right value type (a date is the day of `zone`).
    fn date_bound(info: &ColumnInfo, at: chrono::DateTime<Utc>, zone: &crate::Zone) -> Value {
        match info.column_type {
            ColumnType::Date => Value::ChronoDate(Some(zone.to_local(at).date())),
            ColumnType::DateTime | ColumnType::Timestamp => {
                Value::ChronoDateTime(Some(at.naive_utc()))
            }
            _ => Value::ChronoDateTimeUtc(Some(at)),
        }
    }

    /// The range a date filter's value names, from its first midnight to tomorrow's (so
    /// that "today" and the longer ranges take in all of today), the days counted in the
    /// viewer's `zone`.
    fn date_range(
        range: &str,
        zone: &crate::Zone,
    ) -> Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
        let midnight = |d: NaiveDate| -> Option<chrono::DateTime<Utc>> {
            Some(zone.to_utc(d.and_hms_opt(0, 0, 0)?))
        };
        let today = zone.to_local(Utc::now()).date();
        let tomorrow = midnight(today.succ_opt()?)?;
        let start = match range {
            "today" => midnight(today)?,
            "7d" => midnight(today - Duration::days(7))?,
            "month" => midnight(today.with_day(1)?)?,
            "year" => midnight(NaiveDate::from_ymd_opt(today.year(), 1, 1)?)?,
            _ => return None,
        };
        Some((start, tomorrow))
    }

    /// The condition of one filter's chosen value; None (the filter is left out) for a value
    /// the filter does not offer, so a stale or hand-edited link lists everything rather than
    /// failing.
    pub(crate) fn filter_condition(
        &self,
        column: E::Column,
        value: &str,
        zone: &crate::Zone,
    ) -> Option<Condition> {
        let info = self.info(column);
        let c = Condition::all();
        Some(match info.kind {
            FieldKind::Bool => match value {
                "1" => c.add(column.eq(true)),
                "0" => c.add(column.eq(false)),
                _ => return None,
            },
            FieldKind::DateTime | FieldKind::Date => match value {
                "none" => c.add(column.is_null()),
                "some" => c.add(column.is_not_null()),
                range => {
                    let (start, end) = Self::date_range(range, zone)?;
                    c.add(column.gte(Self::date_bound(&info, start, zone)))
                        .add(column.lt(Self::date_bound(&info, end, zone)))
                }
            },
            FieldKind::ForeignKey | FieldKind::Integer => {
                let key = field::parse_key(&info.column_type, value)?;
                c.add(column.eq(key))
            }
            _ => {
                if let Some(choices) = self.choices.get(info.name)
                    && !choices.iter().any(|ch| ch.value == value)
                {
                    return None;
                }
                c.add(column.eq(value))
            }
        })
    }

    /// The filters beside the list, each with "All" and its options, the chosen one marked;
    /// every option's link keeps the rest of the query and goes back to page 1.
    pub(crate) async fn filters(
        &self,
        st: &S,
        params: &ListParams,
    ) -> Result<Vec<FilterData>, AdminError> {
        let mut out = Vec::new();
        for column in &self.list_filter {
            let info = self.info(*column);
            let choices: Vec<(String, String)> = match info.kind {
                FieldKind::Bool => vec![("1".into(), "Yes".into()), ("0".into(), "No".into())],
                FieldKind::DateTime | FieldKind::Date => {
                    let mut list: Vec<(String, String)> = DATE_RANGES
                        .iter()
                        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
                        .collect();
                    if info.nullable {
                        list.push(("none".into(), "No date".into()));
                        list.push(("some".into(), "Has date".into()));
                    }
                    list
                }
                FieldKind::ForeignKey => match self.foreign_keys.get(info.name) {
                    Some(fk) => (fk.choices)(st.db())
                        .await?
                        .into_iter()
                        .map(|c| (c.value, c.label))
                        .collect(),
                    None => Vec::new(),
                },
                _ => self
                    .choices
                    .get(info.name)
                    .map(|list| {
                        list.iter()
                            .map(|c| (c.value.clone(), c.label.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            let current = params.filters.get(info.name);
            let mut options = vec![FilterOption {
                label: "All".into(),
                query: params.query_with(&[(info.name, None), ("p", None)]),
                selected: current.is_none(),
            }];
            options.extend(choices.into_iter().map(|(value, label)| FilterOption {
                selected: current == Some(&value),
                query: params.query_with(&[(info.name, Some(&value)), ("p", None)]),
                label,
            }));
            out.push(FilterData {
                title: self.label_of(*column),
                param: info.name.to_owned(),
                options,
            });
        }
        Ok(out)
    }
}
