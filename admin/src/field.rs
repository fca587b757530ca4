//! Form fields derived from column types: which widget a column gets, how a submitted
//! string becomes a database value, and how a value is shown.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::sea_query::StringLen;
use sea_orm::{ColumnType, Value};
use serde::Serialize;

use crate::phrase;

/// The widget of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Bool,
    Integer,
    Decimal,
    DateTime,
    Date,
    /// One of fixed choices (an enum column).
    Select,
    /// Another object, picked from a list or typed as its id.
    ForeignKey,
    Image,
    /// Anything else: shown, never edited.
    Other,
}

impl FieldKind {
    /// The kind a column type gets before any override.
    pub fn of(column_type: &ColumnType) -> Self {
        match column_type {
            ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Uuid => FieldKind::Text,
            ColumnType::Text => FieldKind::LongText,
            ColumnType::Boolean => FieldKind::Bool,
            ColumnType::TinyInteger
            | ColumnType::SmallInteger
            | ColumnType::Integer
            | ColumnType::BigInteger
            | ColumnType::TinyUnsigned
            | ColumnType::SmallUnsigned
            | ColumnType::Unsigned
            | ColumnType::BigUnsigned => FieldKind::Integer,
            ColumnType::Float
            | ColumnType::Double
            | ColumnType::Decimal(_)
            | ColumnType::Money(_) => FieldKind::Decimal,
            ColumnType::DateTime | ColumnType::Timestamp | ColumnType::TimestampWithTimeZone => {
                FieldKind::DateTime
            }
            ColumnType::Date => FieldKind::Date,
            ColumnType::Enum { .. } => FieldKind::Select,
            _ => FieldKind::Other,
        }
    }

    /// The `type` of the `<input>` (or the element) the template renders.
    pub fn input_type(self) -> &'static str {
        match self {
            FieldKind::Text | FieldKind::Other => "text",
            FieldKind::LongText => "textarea",
            FieldKind::Bool => "checkbox",
            FieldKind::Integer | FieldKind::Decimal => "number",
            FieldKind::DateTime => "datetime-local",
            FieldKind::Date => "date",
            FieldKind::Select | FieldKind::ForeignKey => "select",
            FieldKind::Image => "file",
        }
    }
}

/// Most characters a string column holds, if it says.
pub fn max_length(column_type: &ColumnType) -> Option<u32> {
    match column_type {
        ColumnType::String(StringLen::N(n)) => Some(*n),
        ColumnType::Char(n) => *n,
        _ => None,
    }
}

/// One option of a select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// The value as text: what a list cell shows and what an input holds (`None` for NULL).
pub fn value_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Bool(v) => v.map(|b| if b { "true" } else { "false" }.to_owned())?,
        Value::TinyInt(v) => v.as_ref()?.to_string(),
        Value::SmallInt(v) => v.as_ref()?.to_string(),
        Value::Int(v) => v.as_ref()?.to_string(),
        Value::BigInt(v) => v.as_ref()?.to_string(),
        Value::TinyUnsigned(v) => v.as_ref()?.to_string(),
        Value::SmallUnsigned(v) => v.as_ref()?.to_string(),
        Value::Unsigned(v) => v.as_ref()?.to_string(),
        Value::BigUnsigned(v) => v.as_ref()?.to_string(),
        Value::Float(v) => v.as_ref()?.to_string(),
        Value::Double(v) => v.as_ref()?.to_string(),
        Value::String(v) => v.clone()?,
        Value::Char(v) => v.as_ref()?.to_string(),
        Value::ChronoDate(v) => v.as_ref()?.format("%Y-%m-%d").to_string(),
        Value::ChronoDateTime(v) => v.as_ref()?.format("%Y-%m-%d %H:%M").to_string(),
        Value::ChronoDateTimeUtc(v) => v.as_ref()?.format("%Y-%m-%d %H:%M").to_string(),
        Value::ChronoDateTimeLocal(v) => v.as_ref()?.format("%Y-%m-%d %H:%M").to_string(),
        Value::ChronoDateTimeWithTimeZone(v) => {
            v.as_ref()?.format("%Y-%m-%d %H:%M %:z").to_string()
        }
        Value::Json(v) => v.as_ref()?.to_string(),
        other => format!("{other:?}"),
    })
}

/// The value as an `<input>` holds it (datetime-local wants `YYYY-MM-DDTHH:MM`).
pub fn input_text(value: &Value) -> String {
    match value {
        Value::ChronoDateTime(Some(v)) => v.format("%Y-%m-%dT%H:%M").to_string(),
        Value::ChronoDateTimeUtc(Some(v)) => v.format("%Y-%m-%dT%H:%M").to_string(),
        Value::ChronoDateTimeWithTimeZone(Some(v)) => v.format("%Y-%m-%dT%H:%M").to_string(),
        other => value_text(other).unwrap_or_default(),
    }
}

/// The value for the audit trail: JSON scalars, date-times as RFC 3339.
pub fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Bool(Some(b)) => serde_json::Value::Bool(*b),
        Value::TinyInt(Some(n)) => (*n).into(),
        Value::SmallInt(Some(n)) => (*n).into(),
        Value::Int(Some(n)) => (*n).into(),
        Value::BigInt(Some(n)) => (*n).into(),
        Value::Unsigned(Some(n)) => (*n).into(),
        Value::BigUnsigned(Some(n)) => (*n).into(),
        Value::ChronoDateTimeUtc(Some(v)) => v.to_rfc3339().into(),
        other => value_text(other).map_or(serde_json::Value::Null, Into::into),
    }
}

/// Whether the value is NULL.
pub fn is_null(value: &Value) -> bool {
    value_text(value).is_none()
}

/// Whether two values hold the same thing (variants may differ: `Int(1)` vs `BigInt(1)`).
pub fn same(a: &Value, b: &Value) -> bool {
    a == b || value_json(a) == value_json(b)
}

/// A parsed input: the candidate database values, tried in order against the column's
/// Rust type (the column type alone does not say `i32` from `i64`, or UTC from offset).
pub type Parsed = Vec<Value>;

/// Turns submitted text into candidate values for a column of `kind`, or a message for the
/// user. Empty text is NULL for a nullable column and "required" otherwise (text columns
/// that allow blanks keep the empty string).
pub fn parse(
    kind: FieldKind,
    column_type: &ColumnType,
    raw: &str,
    nullable: bool,
    blank: bool,
) -> Result<Parsed, String> {
    let text = raw.trim();
    if kind == FieldKind::Bool {
        let on = matches!(text, "on" | "1" | "true" | "yes");
        return Ok(vec![Value::Bool(Some(on))]);
    }
    if text.is_empty() {
        if matches!(kind, FieldKind::Text | FieldKind::LongText) && blank && !nullable {
            return Ok(vec![Value::String(Some(String::new()))]);
        }
        if nullable {
            return Ok(null_candidates(kind, column_type));
        }
        return Err("This field is required.".into());
    }
    match kind {
        FieldKind::Text | FieldKind::LongText | FieldKind::Select | FieldKind::Image => {
            // No text needs it, and PostgreSQL cannot store it in a text column.
            if raw.contains('\0') {
                return Err("This text contains a NUL character.".into());
            }
            let value = if kind == FieldKind::LongText {
                raw.replace("\r\n", "\n")
            } else {
                text.to_owned()
            };
            if let Some(max) = max_length(column_type)
                && value.chars().count() > max as usize
            {
                return Err(phrase("admin-at-most-characters", &[("count", &max)]));
            }
            Ok(vec![Value::String(Some(value))])
        }
        FieldKind::Integer | FieldKind::ForeignKey => integer(column_type, text),
        FieldKind::Decimal => {
            let n: f64 = text.parse().map_err(|_| "Enter a number.".to_owned())?;
            if !n.is_finite() {
                return Err("Enter a number.".into());
            }
            Ok(vec![Value::Double(Some(n)), Value::Float(Some(n as f32))])
        }
        FieldKind::DateTime => {
            let naive = parse_datetime(text)
                .ok_or_else(|| "Enter a date and time (YYYY-MM-DD HH:MM).".to_owned())?;
            let utc = naive.and_utc();
            Ok(vec![
                Value::ChronoDateTimeUtc(Some(utc)),
                Value::ChronoDateTime(Some(naive)),
                Value::ChronoDateTimeWithTimeZone(Some(utc.fixed_offset())),
            ])
        }
        FieldKind::Date => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| "Enter a date (YYYY-MM-DD).".to_owned())?;
            Ok(vec![Value::ChronoDate(Some(date))])
        }
        FieldKind::Bool | FieldKind::Other => Err("This field cannot be edited.".into()),
    }
}

fn integer(column_type: &ColumnType, text: &str) -> Result<Parsed, String> {
    let n: i64 = text
        .parse()
        .map_err(|_| "Enter a whole number.".to_owned())?;
    let out_of_range = || phrase("admin-out-of-range", &[("value", &n)]);
    Ok(match column_type {
        ColumnType::BigInteger => vec![Value::BigInt(Some(n))],
        ColumnType::SmallInteger => vec![Value::SmallInt(Some(
            i16::try_from(n).map_err(|_| out_of_range())?,
        ))],
        ColumnType::TinyInteger => vec![Value::TinyInt(Some(
            i8::try_from(n).map_err(|_| out_of_range())?,
        ))],
        // An INTEGER column holds 32 bits whatever its Rust type: a larger number bound as
        // a BIGINT is a database error on PostgreSQL ("incorrect binary data format").
        ColumnType::Integer => vec![
            Value::Int(Some(i32::try_from(n).map_err(|_| out_of_range())?)),
            Value::BigInt(Some(n)),
        ],
        _ => match i32::try_from(n) {
            Ok(small) => vec![Value::Int(Some(small)), Value::BigInt(Some(n))],
            Err(_) => vec![Value::BigInt(Some(n))],
        },
    })
}

fn null_candidates(kind: FieldKind, column_type: &ColumnType) -> Parsed {
    match kind {
        FieldKind::Integer | FieldKind::ForeignKey => match column_type {
            ColumnType::BigInteger => vec![Value::BigInt(None), Value::Int(None)],
            ColumnType::SmallInteger => vec![Value::SmallInt(None)],
            _ => vec![Value::Int(None), Value::BigInt(None)],
        },
        FieldKind::Decimal => vec![Value::Double(None), Value::Float(None)],
        FieldKind::DateTime => vec![
            Value::ChronoDateTimeUtc(None),
            Value::ChronoDateTime(None),
            Value::ChronoDateTimeWithTimeZone(None),
        ],
        FieldKind::Date => vec![Value::ChronoDate(None)],
        FieldKind::Bool => vec![Value::Bool(None)],
        _ => vec![Value::String(None)],
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (datetime-local), the same with a space, or RFC 3339.
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(text) {
        return Some(with_zone.with_timezone(&Utc).naive_utc());
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// The primary key as a database value, from its text in a URL.
pub fn parse_key(column_type: &ColumnType, text: &str) -> Option<Value> {
    match FieldKind::of(column_type) {
        FieldKind::Integer => integer(column_type, text).ok()?.into_iter().next(),
        _ => Some(Value::String(Some(text.to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_column_types() {
        assert_eq!(
            FieldKind::of(&ColumnType::String(StringLen::N(20))),
            FieldKind::Text
        );
        assert_eq!(FieldKind::of(&ColumnType::Text), FieldKind::LongText);
        assert_eq!(FieldKind::of(&ColumnType::Boolean), FieldKind::Bool);
        assert_eq!(FieldKind::of(&ColumnType::BigInteger), FieldKind::Integer);
        assert_eq!(
            FieldKind::of(&ColumnType::TimestampWithTimeZone),
            FieldKind::DateTime
        );
        assert_eq!(FieldKind::DateTime.input_type(), "datetime-local");
    }

    #[test]
    fn parses_or_explains() {
        let s20 = ColumnType::String(StringLen::N(5));
        assert_eq!(
            parse(FieldKind::Text, &s20, " abc ", false, false).unwrap(),
            vec![Value::String(Some("abc".into()))]
        );
        assert_eq!(
            parse(FieldKind::Text, &s20, "abcdef", false, false).unwrap_err(),
            phrase("admin-at-most-characters", &[("count", &5)])
        );
        assert_eq!(
            parse(FieldKind::Text, &s20, "  ", false, false).unwrap_err(),
            "This field is required."
        );
        assert_eq!(
            parse(FieldKind::LongText, &ColumnType::Text, "a\0b", false, false).unwrap_err(),
            "This text contains a NUL character."
        );
        assert_eq!(
            parse(FieldKind::Text, &s20, "", false, true).unwrap(),
            vec![Value::String(Some(String::new()))]
        );
        assert_eq!(
            parse(FieldKind::Text, &s20, "", true, false).unwrap(),
            vec![Value::String(None)]
        );
        let int = ColumnType::Integer;
        assert_eq!(
            parse(FieldKind::Integer, &int, "2147483648", false, false).unwrap_err(),
            phrase("admin-out-of-range", &[("value", &2147483648_i64)])
        );
        assert_eq!(
            parse(FieldKind::ForeignKey, &int, "-2147483649", false, false).unwrap_err(),
            phrase("admin-out-of-range", &[("value", &-2147483649_i64)])
        );
        assert_eq!(
            parse(FieldKind::Integer, &int, "x", false, false).unwrap_err(),
            "Enter a whole number."
        );
        assert_eq!(
            parse(FieldKind::Integer, &int, "42", false, false).unwrap()[0],
            Value::Int(Some(42))
        );
        assert_eq!(
            parse(
                FieldKind::Integer,
                &ColumnType::SmallInteger,
                "70000",
                false,
                false
            )
            .unwrap_err(),
            phrase("admin-out-of-range", &[("value", &70000_i64)])
        );
        assert_eq!(
            parse(FieldKind::Bool, &ColumnType::Boolean, "", false, false).unwrap(),
            vec![Value::Bool(Some(false))]
        );
        let dt = parse(
            FieldKind::DateTime,
            &ColumnType::TimestampWithTimeZone,
            "2026-11-25T10:30",
            false,
            false,
        )
        .unwrap();
        assert_eq!(input_text(&dt[0]), "2026-11-25T10:30");
        assert_eq!(value_text(&dt[0]).unwrap(), "2026-11-25 10:30");
        assert!(
            parse(
                FieldKind::DateTime,
                &ColumnType::TimestampWithTimeZone,
                "yesterday",
                false,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn compares_across_variants() {
        assert!(same(&Value::Int(Some(1)), &Value::BigInt(Some(1))));
        assert!(!same(&Value::Int(Some(1)), &Value::Int(None)));
        assert!(is_null(&Value::String(None)));
        assert_eq!(
            value_json(&Value::Bool(Some(true))),
            serde_json::json!(true)
        );
    }
}
