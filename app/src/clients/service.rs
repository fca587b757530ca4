//! Client rules and queries. Every finder takes the owner and starts from `owned(owner)`,
//! so another user's client is a 404 by construction, not by a check someone may forget.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, Select, Set,
};
use serde::Deserialize;
use validator::Validate;

use crate::consent::service::{self as consent, AddressState};
use crate::entities::client;
use crate::error::AppError;
use crate::paging::{ListQuery, PER_PAGE, Paginated, paginate_sized};
use crate::spreadsheet::CsvTable;
use crate::validation::{FieldErrors, SaveError};

#[derive(Debug, Clone, Default, Deserialize, Validate, serde::Serialize)]
pub struct ClientInput {
    #[serde(default)]
    #[validate(
        email(message = "Enter a valid e-mail address."),
        length(max = 254, message = "That address is too long.")
    )]
    pub email: String,
    #[serde(default)]
    #[validate(
        length(
            min = 1,
            max = 200,
            message = "Enter the full name (up to 200 characters)."
        ),
        custom(
            function = "crate::validation::one_line",
            message = "Keep the name on one line: it goes in the To header of every e-mail."
        )
    )]
    pub full_name: String,
    #[serde(default)]
    #[validate(length(max = 2000, message = "Keep the comment under 2,000 characters."))]
    pub comment: String,
}

impl ClientInput {
    /// Trimmed, with the address lower-cased (addresses are unique per owner regardless of case).
    pub fn normalized(self) -> Self {
        Self {
            email: self.email.trim().to_lowercase(),
            full_name: self.full_name.trim().to_owned(),
            comment: self.comment.trim().to_owned(),
        }
    }
}

pub fn owned(owner: i32) -> Select<client::Entity> {
    client::Entity::find().filter(client::Column::OwnerId.eq(owner))
}

/// Applies the search (e-mail or name, case-insensitive) of a list query.
pub fn search(select: Select<client::Entity>, query: &ListQuery) -> Select<client::Entity> {
    match query.search_condition(&[client::Column::Email, client::Column::FullName]) {
        Some(condition) => select.filter(condition),
        None => select,
    }
}

/// Sort keys the list offers: `email`, `name`, `created`.
pub fn sorted(select: Select<client::Entity>, query: &ListQuery) -> Select<client::Entity> {
    let order = if query.descending() {
        Order::Desc
    } else {
        Order::Asc
    };
    let column = match query.sort.as_str() {
        "email" => client::Column::Email,
        "created" => client::Column::CreatedAt,
        _ => client::Column::FullName,
    };
    select
        .order_by(column, order)
        .order_by(client::Column::Id, Order::Asc)
}

/// A client as lists show it: with where its address stands (active, unsubscribed,
/// bounced, complained or suppressed, and since when).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub client: client::Model,
    #[serde(flatten)]
    pub state: AddressState,
}

/// Applies the list's state filter (`status`: `active`, `unsubscribed`, `bounced`,
/// `complained`, `listed`; anything else shows every client).
pub fn in_state(select: Select<client::Entity>, query: &ListQuery) -> Select<client::Entity> {
    match consent::State::parse(&query.status) {
        Some(state) => select.filter(consent::in_state(state)),
        None => select,
    }
}

pub async fn list(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Paginated<Listed>, AppError> {
    list_sized(db, owner, query, PER_PAGE).await
}

/// `list` with `per_page` rows a page (the JSON API's choice).
pub async fn list_sized(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
    per_page: u64,
) -> Result<Paginated<Listed>, AppError> {
    let select = sorted(in_state(search(owned(owner), query), query), query);
    let page = paginate_sized(db, select, query.page(), per_page).await?;
    with_states(db, owner, page.items)
        .await
        .map(|items| Paginated {
            items,
            page: page.page,
            pages: page.pages,
            total: page.total,
            per_page: page.per_page,
        })
}

/// `clients` of `owner` with their addresses' states.
pub async fn with_states(
    db: &DatabaseConnection,
    owner: i32,
    clients: Vec<client::Model>,
) -> Result<Vec<Listed>, AppError> {
    let emails: Vec<&str> = clients.iter().map(|c| c.email.as_str()).collect();
    let states = consent::states(db, owner, &emails).await?;
    Ok(clients
        .into_iter()
        .map(|client| {
            let state = states
                .get(&client.email.to_lowercase())
                .cloned()
                .unwrap_or(AddressState::ACTIVE);
            Listed { client, state }
        })
        .collect())
}

/// One client of `owner` with its address's state.
pub async fn find_listed(db: &DatabaseConnection, owner: i32, id: i32) -> Result<Listed, AppError> {
    let client = find_owned(db, owner, id).await?;
    listed(db, client).await
}

/// `client` with its address's state.
pub async fn listed(db: &DatabaseConnection, client: client::Model) -> Result<Listed, AppError> {
    let owner = client.owner_id;
    let mut found = with_states(db, owner, vec![client]).await?;
    found.pop().ok_or(AppError::NotFound)
}

pub async fn count(db: &DatabaseConnection, owner: i32) -> Result<u64, AppError> {
    Ok(owned(owner).count(db).await?)
}

pub async fn find_owned(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<client::Model, AppError> {
    owned(owner)
        .filter(client::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

async fn check(
    db: &DatabaseConnection,
    owner: i32,
    input: &ClientInput,
    except: Option<i32>,
) -> Result<(), FieldErrors> {
    let mut errors: FieldErrors = input.validate().err().map(Into::into).unwrap_or_default();
    errors.refuse_nul(&[
        ("email", &input.email),
        ("full_name", &input.full_name),
        ("comment", &input.comment),
    ]);
    if !errors.0.contains_key("email") {
        let mut same = owned(owner).filter(client::Column::Email.eq(input.email.clone()));
        if let Some(id) = except {
            same = same.filter(client::Column::Id.ne(id));
        }
        match same.count(db).await {
            Ok(0) => {}
            Ok(_) => errors.add("email", "You already have a client with this address."),
            Err(e) => errors.add("", format!("Could not check the address: {e}")),
        }
    }
    errors.into_result()
}

/// Validation only (for inline feedback while typing).
pub async fn validate(
    db: &DatabaseConnection,
    owner: i32,
    input: &ClientInput,
    except: Option<i32>,
) -> FieldErrors {
    check(db, owner, input, except)
        .await
        .err()
        .unwrap_or_default()
}

pub async fn create(
    db: &DatabaseConnection,
    owner: i32,
    input: ClientInput,
) -> Result<client::Model, SaveError> {
    let input = input.normalized();
    check(db, owner, &input, None)
        .await
        .map_err(SaveError::Invalid)?;
    let now = Utc::now();
    Ok(client::ActiveModel {
        owner_id: Set(owner),
        email: Set(input.email),
        full_name: Set(input.full_name),
        comment: Set(input.comment),
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
    input: ClientInput,
) -> Result<client::Model, SaveError> {
    let existing = find_owned(db, owner, id).await.map_err(SaveError::App)?;
    let input = input.normalized();
    check(db, owner, &input, Some(id))
        .await
        .map_err(SaveError::Invalid)?;
    let mut active: client::ActiveModel = existing.into();
    active.email = Set(input.email);
    active.full_name = Set(input.full_name);
    active.comment = Set(input.comment);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

pub async fn delete(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<client::Model, AppError> {
    let existing = find_owned(db, owner, id).await?;
    existing.clone().delete(db).await?;
    Ok(existing)
}

/// The owner's clients as CSV (`email,full_name,comment`), honouring the list's search.
pub async fn export_csv(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Vec<u8>, AppError> {
    let rows = sorted(in_state(search(owned(owner), query), query), query)
        .all(db)
        .await?;
    let rows = with_states(db, owner, rows).await?;
    let mut table = CsvTable::new(&["email", "full_name", "comment", "state", "since"])?;
    for Listed { client: c, state } in rows {
        let since = state
            .since
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        table.row([
            c.email.as_str(),
            &c.full_name,
            &c.comment,
            state.state.as_str(),
            &since,
        ])?;
    }
    Ok(table.into_bytes()?)
}
