//! CSV import of clients: parse (UTF-8, `;` or `,`, with or without a header row), preview
//! with an error per bad row and the duplicates counted, then insert in batches. With a
//! header row, a `tags` column (names separated by `,` or `;`) sets tags, and every other
//! column becomes an attribute named after its header (`Plan Type` → `plan_type`); a
//! header that cannot be a name is reported and its column skipped.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;
use validator::ValidateEmail;

use super::attributes::{self, Attributes};
use super::tags;
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
    /// From the columns beyond the known ones; empty cells are left out.
    pub attributes: Attributes,
    pub tags: Vec<String>,
    pub error: Option<String>,
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
            columns.skipped.push(skip(format!(
                "the same attribute name ({key}) as the column “{first}”"
            )));
        } else if attributes::RESERVED.contains(&key.as_str()) {
            columns
                .skipped
                .push(skip(format!("“{key}” is one of the client's own fields")));
        } else if columns.extra.len() >= attributes::MAX_KEYS {
            columns.skipped.push(skip(format!(
                "more than {} attribute columns",
                attributes::MAX_KEYS
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
        ..Columns::default()
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
            preview.attribute_columns = header.extra.iter().map(|(_, k)| k.clone()).collect();
            preview.has_tags = header.tags.is_some();
            preview.skipped_columns = header.skipped.clone();
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
        let mut attributes = Attributes::new();
        let mut problem = None;
        for (i, key) in &columns.extra {
            let value = cell(Some(*i));
            if value.is_empty() {
                continue;
            }
            problem = problem.or_else(|| attributes::value_problem(key, &value));
            attributes.insert(key.clone(), value);
        }
        let tags = match tags::parse_list(&cell(columns.tags)) {
            Ok(names) => names,
            Err(problems) => {
                problem = problem.or_else(|| problems.into_iter().next());
                Vec::new()
            }
        };
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
            problem.map(|p| sentence(&p))
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
            attributes,
            tags,
            error,
            duplicate,
        });
    }
    if preview.total == 0 {
        return Err(ImportError::Empty);
    }
    Ok(preview)
}

/// A problem as a sentence: capitalised, with a full stop.
fn sentence(problem: &str) -> String {
    let mut chars = problem.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
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
            full_name: Set(if r.full_name.is_empty() {
                r.email.split('@').next().unwrap_or_default().to_owned()
            } else {
                r.full_name.clone()
            }),
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
