//! The owner's suppression list: addresses they may not mail, whatever client holds them.
//!
//! The owner sees every entry and can add addresses (one by one, by CSV, by the API). They
//! can take off only what they or a server put there — an address they listed, or one
//! that bounced (say, the mailbox exists again). An unsubscribe or a complaint is the
//! recipient's word: only the recipient can take it back, from the link in any e-mail,
//! so no owner can re-subscribe anyone, silently or not.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, Order, QueryFilter, QueryOrder,
    Select, Set,
};
use serde::{Deserialize, Serialize};
use validator::ValidateEmail;

use crate::entities::suppression::{self, Reason};
use crate::error::AppError;
use crate::paging::{ListQuery, Paginated, paginate_sized};
use crate::spreadsheet::{self, CsvTable, ImportError};
use crate::validation::{FieldErrors, SaveError};

/// The most characters of a note.
pub const MAX_NOTE: usize = 500;

/// An address to put on the list, with the owner's note.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EntryInput {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub note: String,
}

fn owned(owner: i32) -> Select<suppression::Entity> {
    suppression::Entity::find().filter(suppression::Column::OwnerId.eq(owner))
}

/// Search (address or note) and the reason filter (`status`: `unsubscribed`, `bounced`,
/// `complained`, `listed`), newest first unless sorted by `email`.
fn listed(owner: i32, query: &ListQuery) -> Select<suppression::Entity> {
    let mut select = owned(owner);
    if let Some(condition) =
        query.search_condition(&[suppression::Column::Email, suppression::Column::Detail])
    {
        select = select.filter(condition);
    }
    if let Some(reason) = reason(&query.status) {
        select = select.filter(suppression::Column::Reason.eq(reason));
    }
    let order = if query.descending() {
        Order::Desc
    } else {
        Order::Asc
    };
    match query.sort.as_str() {
        "email" => select.order_by(suppression::Column::Email, order),
        _ => select
            .order_by(suppression::Column::CreatedAt, Order::Desc)
            .order_by(suppression::Column::Id, Order::Desc),
    }
}

/// The reason a filter value names.
pub fn reason(value: &str) -> Option<Reason> {
    [
        Reason::Unsubscribed,
        Reason::Bounced,
        Reason::Complained,
        Reason::Listed,
    ]
    .into_iter()
    .find(|r| r.as_str() == value)
}

/// Whether the owner may take `entry` off their list (see the module's rule).
pub fn removable(entry: &suppression::Model) -> bool {
    matches!(entry.reason, Reason::Listed | Reason::Bounced)
}

pub async fn list(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
    per_page: u64,
) -> Result<Paginated<suppression::Model>, AppError> {
    Ok(paginate_sized(db, listed(owner, query), query.page(), per_page).await?)
}

pub async fn find_owned(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<suppression::Model, AppError> {
    owned(owner)
        .filter(suppression::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The checked, normalised input, or the errors per field.
fn check(input: &EntryInput) -> Result<(String, Option<String>), FieldErrors> {
    let email = input.email.trim().to_lowercase();
    let note = input.note.trim().to_owned();
    let mut errors = FieldErrors::default();
    errors.refuse_nul(&[("email", &email), ("note", &note)]);
    if email.is_empty() {
        errors.add("email", "Enter the e-mail address to suppress.");
    } else if !email.validate_email() || email.len() > 254 {
        errors.add("email", "Enter a valid e-mail address.");
    }
    if note.chars().count() > MAX_NOTE {
        errors.add("note", "Keep the note under 500 characters.");
    }
    errors.into_result()?;
    Ok((email, (!note.is_empty()).then_some(note)))
}

/// Puts an address on the owner's list. Already there (for whatever reason) is an error
/// beside the field, saying why it is there.
pub async fn add(
    db: &DatabaseConnection,
    owner: i32,
    input: &EntryInput,
) -> Result<suppression::Model, SaveError> {
    let (email, note) = check(input).map_err(SaveError::Invalid)?;
    let already = |there: Option<suppression::Model>| {
        SaveError::Invalid(FieldErrors::single(
            "email",
            match there {
                Some(there) => format!(
                    "{email} is on your list already ({}).",
                    there.reason.label().to_lowercase()
                ),
                None => format!("{email} is on your list already."),
            },
        ))
    };
    // One statement, so two requests for one address cannot both add it.
    let added = super::service::suppress(db, owner, &email, Reason::Listed, note).await?;
    let entry = owned(owner)
        .filter(suppression::Column::Email.eq(email.clone()))
        .one(db)
        .await?;
    match entry {
        Some(entry) if added => Ok(entry),
        there => Err(already(there)),
    }
}

/// Takes an entry off the owner's list, if they may (see [`removable`]); otherwise a
/// conflict that says who can.
pub async fn remove(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<suppression::Model, AppError> {
    let entry = find_owned(db, owner, id).await?;
    if !removable(&entry) {
        return Err(AppError::Conflict(format!(
            "{} {}: only the recipient can take that back, from the unsubscribe link in any \
             of your e-mails.",
            entry.email,
            match entry.reason {
                Reason::Complained => "marked your e-mail as spam",
                _ => "unsubscribed",
            }
        )));
    }
    entry.clone().delete(db).await?;
    Ok(entry)
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Imported {
    pub added: u64,
    /// On the list already (or twice in the file).
    pub already: u64,
    /// Rows that are not an address, with the line and why.
    pub invalid: Vec<(u64, String)>,
}

const BATCH: usize = 500;

/// Adds every address of a CSV file (first column, or the column headed e-mail; an
/// optional note column) to the owner's list. Bad rows are reported, not fatal.
pub async fn import(
    db: &DatabaseConnection,
    owner: i32,
    bytes: &[u8],
) -> Result<Imported, ImportError> {
    let (mut reader, _) = spreadsheet::read_upload(bytes)?;
    let mut done = Imported::default();
    let (mut email_col, mut note_col) = (0, Some(1));
    let mut rows: Vec<suppression::ActiveModel> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let now = Utc::now();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Csv(e.to_string()))?;
        let line = record
            .position()
            .map(|p| p.line())
            .unwrap_or(index as u64 + 1);
        let cell = |i: Option<usize>| {
            spreadsheet::unescape(i.and_then(|i| record.get(i)).unwrap_or_default().trim())
                .to_owned()
        };
        if index == 0 {
            let names: Vec<String> = record.iter().map(|c| c.trim().to_lowercase()).collect();
            let find = |options: &[&str]| names.iter().position(|n| options.contains(&n.as_str()));
            if let Some(e) = find(&["email", "e-mail", "mail", "address", "почта", "адрес"])
            {
                email_col = e;
                note_col = find(&["note", "detail", "comment", "reason", "комментарий"]);
                continue;
            }
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let input = EntryInput {
            email: cell(Some(email_col)),
            note: cell(note_col),
        };
        match check(&input) {
            Err(errors) => {
                let why = errors
                    .0
                    .values()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                done.invalid.push((line, why));
            }
            Ok((email, _)) if !seen.insert(email.clone()) => done.already += 1,
            Ok((email, note)) => rows.push(suppression::ActiveModel {
                owner_id: Set(owner),
                email: Set(email),
                reason: Set(Reason::Listed),
                detail: Set(note),
                created_at: Set(now),
                ..Default::default()
            }),
        }
    }
    let total = rows.len() as u64;
    done.added = crate::db::insert_new(
        db,
        rows,
        [suppression::Column::Email, suppression::Column::OwnerId],
        BATCH,
    )
    .await
    .map_err(|e| ImportError::Csv(format!("saving: {e}")))?;
    done.already += total - done.added;
    if done.added + done.already == 0 && done.invalid.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(done)
}

/// The owner's list (as filtered) as CSV: email, reason, note, since. Importing it again
/// adds nothing twice.
pub async fn export_csv(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Vec<u8>, AppError> {
    let rows = listed(owner, query).all(db).await?;
    let mut table = CsvTable::new(&["email", "reason", "note", "since"])?;
    for s in rows {
        table.row([
            s.email.as_str(),
            s.reason.as_str(),
            s.detail.as_deref().unwrap_or_default(),
            &s.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        ])?;
    }
    Ok(table.into_bytes()?)
}
