//! CSV import of clients: parse (UTF-8, `;` or `,`, with or without a header row), preview
//! with an error per bad row and the duplicates counted, then insert in batches. With a
//! header row, a `tags` column (names separated by `,` or `;`) sets tags, and every other
//! column becomes an attribute named after its header (`Plan Type` → `plan_type`); a
//! header that cannot be a name is reported and its column skipped.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::attributes::{self, Attributes};
use super::service::{self, AttributesIn, ClientInput, TagsIn};
use super::tags;
use crate::entities::client;
use crate::i18n::phrase;
use crate::spreadsheet;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;

/// Largest file accepted, and how many rows the preview shows.
pub const MAX_BYTES: usize = spreadsheet::MAX_IMPORT_BYTES;
pub const PREVIEW_ROWS: usize = 50;
const BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Line number in the file, for messages.
    pub line: u64,
    pub email: String,
    pub full_name: String,
    pub comment: String,
    /// From the columns beyond the known ones; empty cells are left out.
    pub attributes: Attributes,
    pub tags: Vec<String>,
    /// What is wrong with the row: one message per problem, each written out in the
    /// reader's language by the page (`|tr`).
    pub error: Option<Vec<String>>,
    /// The line as it is in the file, for a row with an error.
    pub text: String,
    /// Already in the address book, or earlier in the same file.
    pub duplicate: bool,
}

/// A column of the file that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedColumn {
    pub header: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    pub rows: Vec<Row>,
    pub total: usize,
    pub valid: usize,
    pub invalid: usize,
    pub duplicates: usize,
    pub had_header: bool,
    pub delimiter: String,
    /// The attribute names the extra columns fill, in file order.
    pub attribute_columns: Vec<String>,
    /// Whether a column sets tags.
    pub has_tags: bool,
    pub skipped_columns: Vec<SkippedColumn>,
}

impl Preview {
    /// The first rows, and every bad one among the rest (up to a limit), for the page.
    pub fn sample(&self) -> Vec<&Row> {
        let mut shown: Vec<&Row> = self.rows.iter().take(PREVIEW_ROWS).collect();
        shown.extend(
            self.rows
                .iter()
                .skip(PREVIEW_ROWS)
                .filter(|r| r.error.is_some())
                .take(PREVIEW_ROWS),
        );
        shown
    }
}

pub use crate::spreadsheet::ImportError;

#[derive(Clone, Default)]
struct Columns {
    email: usize,
    name: Option<usize>,
    comment: Option<usize>,
    tags: Option<usize>,
    /// (column, attribute name).
    extra: Vec<(usize, String)>,
    skipped: Vec<SkippedColumn>,
}

/// Columns of our own export that the import does not read back (the service sets them).
const DERIVED: [&str; 2] = ["state", "since"];

/// A header row names its columns; common spellings (and Russian ones) are understood.
/// The other columns become attributes, or are skipped with the reason.
fn header_columns(record: &csv::StringRecord) -> Option<Columns> {
    let names: Vec<String> = record.iter().map(|c| c.trim().to_lowercase()).collect();
    let mut columns = known_columns(&names)?;
    let known: HashSet<usize> = [
        Some(columns.email),
        columns.name,
        columns.comment,
        columns.tags,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut taken: HashMap<String, String> = HashMap::new();
    for (i, header) in record.iter().enumerate() {
        let header = spreadsheet::unescape(header.trim()).to_owned();
        if known.contains(&i) || header.is_empty() {
            continue;
        }
        let skip = |reason: String| SkippedColumn {
            header: header.clone(),
            reason,
        };
        if DERIVED.contains(&header.to_lowercase().as_str()) {
            columns
                .skipped
                .push(skip("set by the service, not imported".into()));
            continue;
        }
        let Some(key) = attributes::key_from_header(&header) else {
            columns.skipped.push(skip(
                "not usable as an attribute name: use letters a–z, digits and _, \
                 starting with a letter"
                    .into(),
            ));
            continue;
        };
        if let Some(first) = taken.get(&key) {
            columns.skipped.push(skip(phrase(
                "clients-import-skip-same-name",
                &[("name", &key), ("column", first)],
            )));
        } else if attributes::RESERVED.contains(&key.as_str()) {
            columns.skipped.push(skip(phrase(
                "clients-import-skip-reserved",
                &[("name", &key)],
            )));
        } else if columns.extra.len() >= attributes::MAX_KEYS {
            columns.skipped.push(skip(phrase(
                "clients-import-skip-too-many",
                &[("count", &attributes::MAX_KEYS)],
            )));
        } else {
            taken.insert(key.clone(), header.clone());
            columns.extra.push((i, key));
        }
    }
    Some(columns)
}

/// The columns the import knows by name (`None` without an e-mail column: no header).
fn known_columns(names: &[String]) -> Option<Columns> {
    let find = |options: &[&str]| names.iter().position(|n| options.contains(&n.as_str()));
    let email = find(&[
        "email",
        "e-mail",
        "e_mail",
        "mail",
        "почта",
        "электронная почта",
        "адрес",
    ])?;
    Some(Columns {
        email,
        name: find(&["full_name", "full name", "name", "fullname", "фио", "имя"]),
        comment: find(&[
            "comment",
            "comments",
            "note",
            "notes",
            "комментарий",
            "примечание",
        ]),
        tags: find(&["tags", "tag", "теги", "метки"]),
        ..Columns::default()
    })
}

/// What a row may hold without a header: the e-mail and the name, and a comment.
const PLAIN_CELLS: std::ops::RangeInclusive<usize> = 2..=3;

/// The form's fields in the order a row's problems are told, with their labels.
const FIELDS: [(&str, &str); 6] = [
    ("email", "E-mail"),
    ("full_name", "Full name"),
    ("comment", "Comment"),
    ("attributes", "Attributes"),
    ("tags", "Tags"),
    ("", ""),
];

/// Parses the file and marks every row: invalid, duplicate, or to import. Every line of
/// the file that is not blank is a row of the preview: one the reader cannot make sense of
/// (a quote never closed, more or fewer cells than the others) is an error row showing
/// its text, and a quote never closed spoils only its own line.
pub async fn preview(
    db: &DatabaseConnection,
    owner: i32,
    bytes: &[u8],
) -> Result<Preview, ImportError> {
    let (text, delimiter) = spreadsheet::upload_text(bytes)?;

    let existing: HashSet<String> = client::Entity::find()
        .select_only()
        .column(client::Column::Email)
        .filter(client::Column::OwnerId.eq(owner))
        .into_tuple::<String>()
        .all(db)
        .await
        .map_err(|e| ImportError::Csv(e.to_string()))?
        .into_iter()
        .collect();

    let mut preview = Preview {
        delimiter: (delimiter as char).to_string(),
        ..Preview::default()
    };
    let mut columns = Columns {
        email: 0,
        name: Some(1),
        comment: Some(2),
        ..Columns::default()
    };
    // Cells a row must have: as many as the header's, or `PLAIN_CELLS` without one.
    let mut header_cells: Option<usize> = None;
    let mut seen = HashSet::new();
    let mut first = true;
    // Where reading (re)starts: after a line with a quote never closed, on the next line.
    let (mut offset, mut lines_before) = (0usize, 0u64);
    'file: while offset < text.len() {
        let part = &text[offset..];
        let mut reader = spreadsheet::csv_reader(part, delimiter);
        let mut record = csv::StringRecord::new();
        // Line breaks in `part` before `counted`.
        let (mut counted, mut newlines) = (0usize, 0u64);
        loop {
            let more = reader
                .read_record(&mut record)
                .map_err(|e| ImportError::Csv(e.to_string()))?;
            if !more {
                break 'file;
            }
            // The record's text, from its first character (blank lines before it, which
            // the reader skips, left out) to its end; its line counted here, as the
            // reader's own count comes out short after a blank line.
            let end = (reader.position().byte() as usize).min(part.len());
            let mut start = record.position().map_or(0, |p| p.byte() as usize).min(end);
            while part
                .get(start..end)
                .is_some_and(|t| t.starts_with(['\r', '\n']))
            {
                start += 1;
            }
            newlines += part.as_bytes()[counted.min(start)..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted = counted.max(start);
            let raw = part
                .get(start..end)
                .unwrap_or_default()
                .trim_end_matches(['\r', '\n']);
            let line = lines_before + 1 + newlines;
            // A quote that opens a cell and is not closed takes the lines after it into
            // that cell: up to the end of the file, or to the next quote, which leaves a
            // record of the wrong shape. Its own line is the error; reading goes on after it.
            let swallowed = spreadsheet::ends_in_quote(raw, delimiter)
                || (raw.contains('\n') && shape_problem(header_cells, record.len()).is_some());
            if swallowed {
                let own = raw.split('\n').next().unwrap_or_default();
                preview.push_error(
                    line,
                    own,
                    "A quote (\") opens a cell and is never closed: check this line.",
                );
                first = false;
                offset += start + own.len() + 1;
                lines_before = line;
                continue 'file;
            }
            if first {
                first = false;
                if let Some(header) = header_columns(&record) {
                    preview.attribute_columns =
                        header.extra.iter().map(|(_, k)| k.clone()).collect();
                    preview.has_tags = header.tags.is_some();
                    preview.skipped_columns = header.skipped.clone();
                    columns = header;
                    header_cells = Some(record.len());
                    preview.had_header = true;
                    continue;
                }
            }
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if let Some(problem) = shape_problem(header_cells, record.len()) {
                preview.push_error(line, raw, &problem);
                continue;
            }
            let row = read_row(&record, &columns, line, raw);
            let duplicate = row.error.is_none()
                && (existing.contains(&row.email) || !seen.insert(row.email.clone()));
            preview.push(Row { duplicate, ..row });
        }
    }
    if preview.total == 0 {
        return Err(ImportError::Empty);
    }
    Ok(preview)
}

/// Why a record of `cells` cells is not a row: more or fewer than the header's, or
/// without a header, other than `PLAIN_CELLS`.
fn shape_problem(header_cells: Option<usize>, cells: usize) -> Option<String> {
    match header_cells {
        Some(n) if cells != n => Some(phrase(
            "clients-import-cells",
            &[("count", &cells), ("header", &n)],
        )),
        None if !PLAIN_CELLS.contains(&cells) => Some(phrase(
            "clients-import-cells-no-header",
            &[("count", &cells)],
        )),
        _ => None,
    }
}

impl Preview {
    fn push(&mut self, row: Row) {
        self.total += 1;
        match (&row.error, row.duplicate) {
            (Some(_), _) => self.invalid += 1,
            (None, true) => self.duplicates += 1,
            (None, false) => self.valid += 1,
        }
        self.rows.push(row);
    }

    /// A line that could not be read as a client: shown with its text.
    fn push_error(&mut self, line: u64, text: &str, problem: &str) {
        self.push(Row {
            line,
            email: String::new(),
            full_name: String::new(),
            comment: String::new(),
            attributes: Attributes::new(),
            tags: Vec::new(),
            error: Some(vec![problem.to_owned()]),
            text: text.chars().take(300).collect(),
            duplicate: false,
        });
    }
}

/// One row as a client, checked by the client form's own rules.
fn read_row(record: &csv::StringRecord, columns: &Columns, line: u64, raw: &str) -> Row {
    // An export's cells come back as they were (without the quote that kept a
    // spreadsheet from reading them as formulas).
    let cell = |i: Option<usize>| {
        spreadsheet::unescape(i.and_then(|i| record.get(i)).unwrap_or_default().trim()).to_owned()
    };
    let mut attributes = Attributes::new();
    for (i, key) in &columns.extra {
        let value = cell(Some(*i));
        if !value.is_empty() {
            attributes.insert(key.clone(), value);
        }
    }
    let input = ClientInput {
        email: cell(Some(columns.email)),
        full_name: cell(columns.name),
        comment: cell(columns.comment),
        attributes: Some(AttributesIn::Map(attributes.clone())),
        tags: columns.tags.map(|i| TagsIn::Text(cell(Some(i)))),
    };
    // Trimmed like the form's (`ClientInput::normalized`), but before an export's quote
    // is taken off: a cell that starts with a tab or a space keeps it.
    let input = ClientInput {
        email: input.email.to_lowercase(),
        ..input
    };
    let problems = service::field_problems(&input);
    let error = (!problems.is_empty()).then(|| {
        FIELDS
            .iter()
            .filter_map(|(field, label)| {
                let messages = problems.0.get(*field)?;
                Some(messages.iter().map(move |problem| {
                    if label.is_empty() {
                        problem.clone()
                    } else {
                        phrase(
                            "clients-import-field-problem",
                            &[("field", label), ("problem", problem)],
                        )
                    }
                }))
            })
            .flatten()
            .collect::<Vec<_>>()
    });
    let tags = match (&error, &input.tags) {
        (None, Some(TagsIn::Text(text))) => tags::parse_list(text).unwrap_or_default(),
        _ => Vec::new(),
    };
    Row {
        line,
        text: if error.is_some() {
            raw.chars().take(300).collect()
        } else {
            String::new()
        },
        email: input.email,
        full_name: input.full_name,
        comment: input.comment,
        attributes,
        tags,
        error,
        duplicate: false,
    }
}

/// Inserts the valid, new rows of a preview in batches, with their tags (made when new);
/// returns how many were added. Addresses added meanwhile by another request are
/// skipped by the unique index.
pub async fn commit(
    db: &DatabaseConnection,
    owner: i32,
    preview: &Preview,
) -> Result<u64, sea_orm::DbErr> {
    let now = Utc::now();
    let new_rows = || {
        preview
            .rows
            .iter()
            .filter(|r| r.error.is_none() && !r.duplicate)
    };
    let rows: Vec<client::ActiveModel> = new_rows()
        .map(|r| client::ActiveModel {
            owner_id: Set(owner),
            email: Set(r.email.clone()),
            full_name: Set(r.full_name.clone()),
            comment: Set(r.comment.clone()),
            attributes: Set(attributes::to_json(&r.attributes)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let inserted = crate::db::insert_new(
        db,
        rows,
        [client::Column::OwnerId, client::Column::Email],
        BATCH,
    )
    .await?;
    let tagged: Vec<&Row> = new_rows().filter(|r| !r.tags.is_empty()).collect();
    if tagged.is_empty() {
        return Ok(inserted);
    }
    let names: Vec<String> = tagged
        .iter()
        .flat_map(|r| r.tags.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tag_ids: HashMap<String, i32> = tags::ensure(db, owner, &names)
        .await?
        .into_iter()
        .map(|t| (t.name, t.id))
        .collect();
    let mut client_ids: HashMap<String, i32> = HashMap::new();
    for chunk in tagged.chunks(BATCH) {
        let found: Vec<(i32, String)> = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .column(client::Column::Email)
            .filter(client::Column::OwnerId.eq(owner))
            .filter(client::Column::Email.is_in(chunk.iter().map(|r| r.email.clone())))
            .into_tuple()
            .all(db)
            .await?;
        client_ids.extend(found.into_iter().map(|(id, email)| (email, id)));
    }
    let mut pairs: Vec<(i32, i32)> = Vec::new();
    for row in &tagged {
        if let Some(client_id) = client_ids.get(&row.email) {
            pairs.extend(
                row.tags
                    .iter()
                    .filter_map(|n| tag_ids.get(n).map(|t| (*client_id, *t))),
            );
        }
    }
    tags::link(db, &pairs).await?;
    Ok(inserted)
}
