//! Rules on input that every way in applies the same (pages, API, CSV import, admin), and
//! that the delivery engine checks again on rows stored before a rule existed; and what a
//! failed check yields (`FieldErrors`, `SaveError`). Services use these; `web/` and `api/`
//! only render the errors (a form again with 422, or the API's `validation` error).

use std::collections::BTreeMap;

use serde::Serialize;
use validator::ValidationError;

use crate::error::AppError;

/// What a field that becomes an e-mail header must not hold.
pub const LINE_BREAK: &str =
    "Keep this on one line: line breaks cannot go in the header of an e-mail.";

/// Whether `value` breaks the line. A CR or LF would end an e-mail header (lettre cannot
/// write one into a display name, and a raw one would let the text add headers of its own).
pub fn breaks_line(value: &str) -> bool {
    value.contains(['\r', '\n'])
}

/// `#[validate(custom(function = "crate::validation::one_line"))]` for text that goes into
/// an e-mail header: a client's name, a message's subject.
pub fn one_line(value: &str) -> Result<(), ValidationError> {
    if breaks_line(value) {
        return Err(ValidationError::new("one_line").with_message(LINE_BREAK.into()));
    }
    Ok(())
}

/// The years a date or a time may have, on every way in (forms, API, admin, report
/// ranges): four digits, as `date` and `datetime-local` inputs show them and as SQLite's
/// text timestamps sort, and well inside what PostgreSQL stores (from 4713 BC). The same
/// value is refused on both backends.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// What a date outside [`YEARS`] gets.
pub const YEAR_OUT_OF_RANGE: &str = "Enter a date between the years 1 and 9999.";

/// Whether `date` lies in [`YEARS`].
pub fn year_in_range(date: &impl chrono::Datelike) -> bool {
    YEARS.contains(&date.year())
}

/// A date or time as typed, checked: `Err(missing)` when it did not parse,
/// `Err(`[`YEAR_OUT_OF_RANGE`]`)` when it lies outside [`YEARS`].
pub fn date_in_range<D: chrono::Datelike>(
    parsed: Option<D>,
    missing: &'static str,
) -> Result<D, &'static str> {
    match parsed {
        None => Err(missing),
        Some(date) if !year_in_range(&date) => Err(YEAR_OUT_OF_RANGE),
        Some(date) => Ok(date),
    }
}

/// Messages per field name; `""` holds errors about the form as a whole.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Adds every message of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// An error on each of `fields` (name, value) whose value holds a NUL character, which
    /// no text needs and PostgreSQL cannot store.
    pub fn refuse_nul(&mut self, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            if value.contains('\0') {
                self.add(name, "This text contains a NUL character.");
            }
        }
    }

    /// `Ok(())` when there is nothing to report.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<validator::ValidationErrors> for FieldErrors {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = FieldErrors::default();
        for (field, list) in errors.field_errors() {
            for error in list {
                let message = error
                    .message
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| {
                        crate::i18n::phrase("site-value-not-valid", &[("code", &error.code)])
                    });
                out.add(field.as_ref(), message);
            }
        }
        out
    }
}

/// Why saving a form did not happen: the input (shown back with 422), or the system.
pub enum SaveError {
    Invalid(FieldErrors),
    App(AppError),
}

impl From<sea_orm::DbErr> for SaveError {
    fn from(e: sea_orm::DbErr) -> Self {
        SaveError::App(e.into())
    }
}
