//! Message rules and queries. Every finder takes the owner and filters by it in the
//! query, so another user's message is a 404 by construction, not by a later check.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::template::{self, Sender, TemplateError};
use crate::entities::{client, mailing, message};
use crate::error::AppError;
use crate::paging::{ListQuery, PER_PAGE, Paginated, paginate_sized};
use crate::validation::{FieldErrors, SaveError};

#[derive(Debug, Clone, Default, Deserialize, Validate, Serialize)]
pub struct MessageInput {
    #[serde(default)]
    #[validate(
        length(
            min = 1,
            max = 255,
            message = "Enter a subject (up to 255 characters)."
        ),
        custom(
            function = "crate::validation::one_line",
            message = "Keep the subject on one line."
        )
    )]
    pub subject: String,
    #[serde(default)]
    #[validate(length(
        min = 1,
        max = 100_000,
        message = "Write the message (up to 100,000 characters)."
    ))]
    pub body: String,
}

impl MessageInput {
    /// Subject trimmed; body with the browser's CRLF line ends made LF and blank lines around
    /// it dropped (so a body of only spaces counts as empty; a textarea would eat a leading
    /// newline anyway).
    pub fn normalized(self) -> Self {
        let body = self.body.replace("\r\n", "\n");
        Self {
            subject: self.subject.trim().to_owned(),
            body: body.trim_start_matches('\n').trim_end().to_owned(),
        }
    }
}

impl From<message::Model> for MessageInput {
    fn from(m: message::Model) -> Self {
        Self {
            subject: m.subject,
            body: m.body,
        }
    }
}

pub fn owned(owner: i32) -> Select<message::Entity> {
    message::Entity::find().filter(message::Column::OwnerId.eq(owner))
}

/// What a list's search looks in.
const SEARCHED: [message::Column; 2] = [message::Column::Subject, message::Column::Body];

/// Does `query` leave any message out (a search)?
pub fn filters(query: &ListQuery) -> bool {
    query.search_condition(&SEARCHED).is_some()
}

/// Applies the search (subject or body, case-insensitive) of a list query.
pub fn search(select: Select<message::Entity>, query: &ListQuery) -> Select<message::Entity> {
    match query.search_condition(&SEARCHED) {
        Some(condition) => select.filter(condition),
        None => select,
    }
}

/// Sort keys the list offers: `subject`, `created`, `updated` (the default: newest edits first).
pub fn sorted(select: Select<message::Entity>, query: &ListQuery) -> Select<message::Entity> {
    let (column, default_order) = match query.sort.as_str() {
        "subject" => (message::Column::Subject, Order::Asc),
        "created" => (message::Column::CreatedAt, Order::Asc),
        "updated" => (message::Column::UpdatedAt, Order::Asc),
        _ => (message::Column::UpdatedAt, Order::Desc),
    };
    let order = match query.dir.as_str() {
        "desc" => Order::Desc,
        "asc" => Order::Asc,
        _ => default_order,
    };
    select
        .order_by(column, order)
        .order_by(message::Column::Id, Order::Asc)
}

/// One row of the list: the message and how many of the owner's mailings send it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    #[serde(flatten)]
    pub message: message::Model,
    pub mailings: i64,
}

pub async fn list(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Paginated<MessageRow>, AppError> {
    list_sized(db, owner, query, PER_PAGE).await
}

/// `list` with `per_page` rows a page (the JSON API's choice).
pub async fn list_sized(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
    per_page: u64,
) -> Result<Paginated<MessageRow>, AppError> {
    let select = sorted(search(owned(owner), query), query);
    let page = paginate_sized(db, select, query.page(), per_page).await?;
    let ids: Vec<i32> = page.items.iter().map(|m| m.id).collect();
    let counts = mailing_counts(db, owner, &ids).await?;
    Ok(Paginated {
        items: page
            .items
            .into_iter()
            .map(|message| MessageRow {
                mailings: counts.get(&message.id).copied().unwrap_or(0),
                message,
            })
            .collect(),
        page: page.page,
        pages: page.pages,
        total: page.total,
        per_page: page.per_page,
    })
}

/// Mailings per message for `ids`, in one grouped query.
async fn mailing_counts(
    db: &DatabaseConnection,
    owner: i32,
    ids: &[i32],
) -> Result<HashMap<i32, i64>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = mailing::Entity::find()
        .select_only()
        .column(mailing::Column::MessageId)
        .column_as(mailing::Column::Id.count(), "mailings")
        .filter(mailing::Column::OwnerId.eq(owner))
        .filter(mailing::Column::MessageId.is_in(ids.iter().copied()))
        .group_by(mailing::Column::MessageId)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn count(db: &DatabaseConnection, owner: i32) -> Result<u64, AppError> {
    Ok(owned(owner).count(db).await?)
}

pub async fn find_owned(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<message::Model, AppError> {
    owned(owner)
        .filter(message::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A mailing as the message pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct MailingUse {
    pub id: i32,
    pub name: String,
    pub status: &'static str,
    pub periodicity: &'static str,
    pub is_enabled: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
}

/// The owner's mailings that send message `id` (the caller has checked the message is theirs).
pub async fn mailings_using(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<Vec<MailingUse>, AppError> {
    Ok(mailing::Entity::find()
        .filter(mailing::Column::OwnerId.eq(owner))
        .filter(mailing::Column::MessageId.eq(id))
        .order_by(mailing::Column::StartAt, Order::Asc)
        .order_by(mailing::Column::Id, Order::Asc)
        .all(db)
        .await?
        .into_iter()
        .map(|m| MailingUse {
            id: m.id,
            name: m.name,
            status: m.status.label(),
            periodicity: m.periodicity.label(),
            is_enabled: m.is_enabled,
            start_at: m.start_at,
            end_at: m.end_at,
        })
        .collect())
}

/// How many of the owner's clients the preview offers to pick from.
const PREVIEW_CHOICES: u64 = 200;

/// A client the preview may be rendered for.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewChoice {
    pub id: i32,
    pub label: String,
}

impl PreviewChoice {
    fn of(c: &client::Model) -> Self {
        Self {
            id: c.id,
            label: format!("{} <{}>", c.full_name, c.email),
        }
    }
}

/// The message as one recipient gets it.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// The recipient as the `To:` header names them.
    pub to: String,
    /// The client it is rendered for; `None` for the sample recipient (no clients yet).
    pub client_id: Option<i32>,
    /// The owner's clients to pick from (the first ones, and the picked one).
    pub choices: Vec<PreviewChoice>,
    /// The rendered e-mail, or why the template fails for this client.
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub error: Option<String>,
}

/// `message` rendered for the owner's client `client_id` (404 when it is not theirs), or
/// for their first client, or for a sample recipient while they have none. The
/// unsubscribe link is a stand-in: a working one would unsubscribe the client.
pub async fn preview(
    db: &DatabaseConnection,
    owner: i32,
    message: &message::Model,
    client_id: Option<i32>,
    (sender, site): (&Sender, &str),
) -> Result<Preview, AppError> {
    let owned_clients = || client::Entity::find().filter(client::Column::OwnerId.eq(owner));
    let picked = match client_id {
        Some(id) => Some(
            owned_clients()
                .filter(client::Column::Id.eq(id))
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => {
            owned_clients()
                .order_by(client::Column::Id, Order::Asc)
                .one(db)
                .await?
        }
    };
    let mut choices: Vec<PreviewChoice> = owned_clients()
        .order_by(client::Column::FullName, Order::Asc)
        .order_by(client::Column::Id, Order::Asc)
        .limit(PREVIEW_CHOICES)
        .all(db)
        .await?
        .iter()
        .map(PreviewChoice::of)
        .collect();
    if let Some(c) = &picked
        && !choices.iter().any(|choice| choice.id == c.id)
    {
        choices.insert(0, PreviewChoice::of(c));
    }
    let recipient = match &picked {
        Some(c) => template::Recipient::of(c),
        None => template::Recipient {
            full_name: "Sample Recipient".into(),
            email: "recipient@example.com".into(),
            ..Default::default()
        },
    };
    let to = format!("{} <{}>", recipient.full_name, recipient.email);
    let context = template::Context {
        recipient,
        sender,
        unsubscribe_url: format!(
            "{}/unsubscribe/{}",
            site.trim_end_matches('/'),
            crate::consent::PREVIEW_TOKEN
        ),
        now: Utc::now(),
    };
    let (subject, text, html, error) =
        match template::render(&message.subject, &message.body, &context) {
            Ok(r) => (Some(r.subject), Some(r.text), Some(r.html), None),
            Err(e) => (None, None, None, Some(e.0.located())),
        };
    Ok(Preview {
        to,
        client_id: picked.map(|c| c.id),
        choices,
        subject,
        text,
        html,
        error,
    })
}

fn check(input: &MessageInput) -> Result<(), FieldErrors> {
    let mut errors: FieldErrors = input.validate().err().map(Into::into).unwrap_or_default();
    errors.refuse_nul(&[("subject", &input.subject), ("body", &input.body)]);
    // The templates are read only when the text itself is fine (not too long, no NUL).
    if errors.is_empty() {
        for e in template_errors(input) {
            errors.add(e.field.name(), e.located());
        }
    }
    errors.into_result()
}

/// The mistakes in the templates of `input` (normalized), with where they are: a syntax
/// error, an unknown variable, another tool's placeholder, a loop that runs too long.
pub fn template_errors(input: &MessageInput) -> Vec<TemplateError> {
    template::validate(&input.subject, &input.body)
        .err()
        .unwrap_or_default()
}

/// Validation only (for inline feedback while typing).
pub fn validate(input: &MessageInput) -> FieldErrors {
    check(input).err().unwrap_or_default()
}

pub async fn create(
    db: &DatabaseConnection,
    owner: i32,
    input: MessageInput,
) -> Result<message::Model, SaveError> {
    let input = input.normalized();
    check(&input).map_err(SaveError::Invalid)?;
    let now = Utc::now();
    Ok(message::ActiveModel {
        owner_id: Set(owner),
        subject: Set(input.subject),
        body: Set(input.body),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn update(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
    input: MessageInput,
) -> Result<message::Model, SaveError> {
    let existing = find_owned(db, owner, id).await.map_err(SaveError::App)?;
    let input = input.normalized();
    check(&input).map_err(SaveError::Invalid)?;
    let mut active: message::ActiveModel = existing.into();
    active.subject = Set(input.subject);
    active.body = Set(input.body);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

/// Why a message cannot go: the mailings that send it (empty when it may be deleted).
pub fn in_use_explanation(uses: &[MailingUse]) -> Option<String> {
    if uses.is_empty() {
        return None;
    }
    let list = uses
        .iter()
        .map(|m| format!("“{}”", m.name))
        .collect::<Vec<_>>()
        .join(", ");
    Some(crate::i18n::phrase(
        "messages-in-use",
        &[("count", &uses.len()), ("names", &list)],
    ))
}

/// Deletes the message unless a mailing sends it (409 with the explanation instead).
pub async fn delete(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<message::Model, AppError> {
    let existing = find_owned(db, owner, id).await?;
    let uses = mailings_using(db, owner, id).await?;
    if let Some(why) = in_use_explanation(&uses) {
        return Err(AppError::Conflict(why));
    }
    match existing.clone().delete(db).await {
        Ok(_) => Ok(existing),
        // A mailing created between the check and the delete: the foreign key refuses.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
            Err(AppError::Conflict(
                "This message is used by a mailing, so it cannot be deleted.".into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
