//! Rules on input that every way in applies the same (pages, API, CSV import, admin), and
//! that the delivery engine checks again on rows stored before a rule existed. Services
//! use these; `web/` and `api/` only render the errors.

use validator::ValidationError;

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
