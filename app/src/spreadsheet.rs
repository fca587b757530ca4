//! CSV meant for spreadsheets. Every export writes its cells through [`CsvTable`], which
//! keeps a spreadsheet from taking a cell for a formula (CSV injection): as OWASP advises,
//! a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
//! which spreadsheets read as "this is text" and do not show. The client import undoes
//! exactly that ([`unescape`]), so an export imported again gives the same values, however
//! often it goes round.

use std::borrow::Cow;

/// What starts a formula in Excel, LibreOffice or Google Sheets (OWASP's list).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` needs the `'`: it starts with a formula character, or with `'`s before
/// one (so that a value that really starts with `'=` keeps its quote on the way back).
fn needs_quote(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// The cell as an export writes it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The value of a cell an export wrote (or a spreadsheet saved with the same convention):
/// one leading `'` is dropped when [`escape`] would have added it.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// A CSV file being written, every cell through [`escape`].
pub struct CsvTable {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvTable {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> anyhow::Result<Self> {
        let mut table = Self {
            writer: csv::Writer::from_writer(Vec::new()),
        };
        table.row(header)?;
        Ok(table)
    }

    pub fn row<I>(&mut self, cells: I) -> anyhow::Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let escaped: Vec<String> = cells
            .into_iter()
            .map(|cell| escape(cell.as_ref()).into_owned())
            .collect();
        Ok(self.writer.write_record(&escaped)?)
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> anyhow::Result<Vec<u8>> {
        self.writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing the CSV: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_come_back_unchanged() {
        for (value, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("Ann", "Ann"),
            ("'t Hooft", "'t Hooft"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(escape(value), written, "{value:?}");
            assert_eq!(unescape(written), value, "{value:?}");
            assert_eq!(
                unescape(&escape(&escape(value))),
                escape(value),
                "{value:?}"
            );
        }
    }
}

/// Why an uploaded CSV file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is larger than 10 MB.")]
    TooLarge,
    #[error("The file is not UTF-8 text. In your spreadsheet choose \"CSV UTF-8\" when saving.")]
    NotUtf8,
    #[error("The file could not be read as CSV: {0}")]
    Csv(String),
}

/// Largest CSV file an import takes.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// An uploaded CSV file as records: UTF-8 (a BOM is dropped), `;` or `,` (whichever the
/// first line has more of), rows of any length, no header assumed.
pub fn read_upload(bytes: &[u8]) -> Result<(csv::Reader<&[u8]>, u8), ImportError> {
    let (text, delimiter) = upload_text(bytes)?;
    Ok((csv_reader(text, delimiter), delimiter))
}

/// The text of an uploaded CSV file (UTF-8, without its BOM) and its delimiter: `;` or
/// `,`, whichever the first line has more of.
pub fn upload_text(bytes: &[u8]) -> Result<(&str, u8), ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    Ok((text, delimiter))
}

/// Records of `text`: rows of any length, no header assumed.
pub fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// Whether `raw` (the text of one record) ends inside a quoted cell: a quote that opens a
/// cell and is never closed, so the reader took every line after it into that cell.
pub fn ends_in_quote(raw: &str, delimiter: u8) -> bool {
    let delimiter = delimiter as char;
    let mut quoted = false;
    let mut at_cell_start = true;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    quoted = false;
                }
            }
        } else if c == delimiter || c == '\n' || c == '\r' {
            at_cell_start = true;
        } else if c == '"' && at_cell_start {
            quoted = true;
            at_cell_start = false;
        } else {
            at_cell_start = false;
        }
    }
    quoted
}
