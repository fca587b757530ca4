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
