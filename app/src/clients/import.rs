//! CSV import of clients: parse (UTF-8, `;` or `,`, with or without a header row), preview
//! with an error per bad row and the duplicates counted, then insert in batches.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;
use validator::ValidateEmail;

use crate::entities::client;
use crate::spreadsheet;
use crate::validation::breaks_line;

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
    pub error: Option<String>,
    /// Already in the address book, or earlier in the same file.
    pub duplicate: bool,
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

#[derive(Clone, Copy)]
struct Columns {
    email: usize,
    name: Option<usize>,
    comment: Option<usize>,
}

/// A header row names its columns; common spellings (and Russian ones) are understood.
fn header_columns(record: &csv::StringRecord) -> Option<Columns> {
    let names: Vec<String> = record.iter().map(|c| c.trim().to_lowercase()).collect();
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
    })
}

/// Parses the file and marks every row: invalid, duplicate, or to import.
pub async fn preview(
    db: &DatabaseConnection,
    owner: i32,
    bytes: &[u8],
) -> Result<Preview, ImportError> {
    let (mut reader, delimiter) = spreadsheet::read_upload(bytes)?;

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
    };
    let mut seen = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Csv(e.to_string()))?;
        let line = record
            .position()
            .map(|p| p.line())
            .unwrap_or(index as u64 + 1);
        if index == 0
            && let Some(header) = header_columns(&record)
        {
            columns = header;
            preview.had_header = true;
            continue;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // An export's cells come back as they were (without the quote that kept a
        // spreadsheet from reading them as formulas).
        let cell = |i: Option<usize>| {
            spreadsheet::unescape(i.and_then(|i| record.get(i)).unwrap_or_default().trim())
                .to_owned()
        };
        let email = cell(Some(columns.email)).to_lowercase();
        let full_name = cell(columns.name);
        let comment = cell(columns.comment);
        let error = if [&email, &full_name, &comment]
            .iter()
            .any(|c| c.contains('\0'))
        {
            // No text needs it, and PostgreSQL cannot store it.
            Some("The row contains a NUL character.".to_owned())
        } else if email.is_empty() {
            Some("No e-mail address.".to_owned())
        } else if !email.validate_email() || email.len() > 254 {
            Some(format!("\"{email}\" is not a valid e-mail address."))
        } else if full_name.chars().count() > 200 {
            Some("The name is longer than 200 characters.".to_owned())
        } else if breaks_line(&full_name) {
            Some("The name has a line break: keep it on one line.".to_owned())
        } else {
            None
        };
        let duplicate =
            error.is_none() && (existing.contains(&email) || !seen.insert(email.clone()));
        preview.total += 1;
        match (&error, duplicate) {
            (Some(_), _) => preview.invalid += 1,
            (None, true) => preview.duplicates += 1,
            (None, false) => preview.valid += 1,
        }
        preview.rows.push(Row {
            line,
            email,
            full_name,
            comment,
            error,
            duplicate,
        });
    }
    if preview.total == 0 {
        return Err(ImportError::Empty);
    }
    Ok(preview)
}

/// Inserts the valid, new rows of a preview in batches; returns how many were added.
/// Addresses added meanwhile by another request are skipped by the unique index.
pub async fn commit(
    db: &DatabaseConnection,
    owner: i32,
    preview: &Preview,
) -> Result<u64, sea_orm::DbErr> {
    let now = Utc::now();
    let rows: Vec<client::ActiveModel> = preview
        .rows
        .iter()
        .filter(|r| r.error.is_none() && !r.duplicate)
        .map(|r| client::ActiveModel {
            owner_id: Set(owner),
            email: Set(r.email.clone()),
            full_name: Set(if r.full_name.is_empty() {
                r.email.split('@').next().unwrap_or_default().to_owned()
            } else {
                r.full_name.clone()
            }),
            comment: Set(r.comment.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    crate::db::insert_new(
        db,
        rows,
        [client::Column::OwnerId, client::Column::Email],
        BATCH,
    )
    .await
}
