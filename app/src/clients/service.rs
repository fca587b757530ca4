//! Client rules and queries. Every finder takes the owner and starts from `owned(owner)`,
//! so another user's client is a 404 by construction, not by a check someone may forget.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, Select, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::attributes::{self, Attributes};
use super::tags;
use crate::consent::service::{self as consent, AddressState};
use crate::entities::client;
use crate::error::AppError;
use crate::i18n::phrase;
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
    /// Absent: left as they are (none for a new client).
    #[serde(default)]
    pub attributes: Option<AttributesIn>,
    /// Absent: left as they are (none for a new client).
    #[serde(default)]
    pub tags: Option<TagsIn>,
}

/// Attributes as they came: the form's `key: value` lines, or the API's object. Shown
/// back in a form as lines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum AttributesIn {
    Lines(String),
    Map(Attributes),
}

impl From<String> for AttributesIn {
    fn from(s: String) -> Self {
        Self::Lines(s)
    }
}

impl From<AttributesIn> for String {
    fn from(a: AttributesIn) -> Self {
        match a {
            AttributesIn::Lines(s) => s,
            AttributesIn::Map(m) => attributes::to_lines(&m),
        }
    }
}

impl AttributesIn {
    fn resolve(&self) -> Result<Attributes, Vec<String>> {
        match self {
            Self::Lines(text) => attributes::parse_lines(text),
            Self::Map(map) => attributes::check_map(map),
        }
    }
}

/// Tags as they came: the form's comma-separated text, or the API's array. Shown back in
/// a form as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum TagsIn {
    Text(String),
    List(Vec<String>),
}

impl From<String> for TagsIn {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<TagsIn> for String {
    fn from(t: TagsIn) -> Self {
        match t {
            TagsIn::Text(s) => s,
            TagsIn::List(names) => names.join(", "),
        }
    }
}

impl TagsIn {
    fn resolve(&self) -> Result<Vec<String>, Vec<String>> {
        match self {
            Self::Text(text) => tags::parse_list(text),
            Self::List(names) => tags::check_names(names),
        }
    }
}

impl ClientInput {
    /// Trimmed, with the address lower-cased (addresses are unique per owner regardless of case).
    pub fn normalized(self) -> Self {
        Self {
            email: self.email.trim().to_lowercase(),
            full_name: self.full_name.trim().to_owned(),
            comment: self.comment.trim().to_owned(),
            ..self
        }
    }

    /// The form of an existing client.
    pub fn of(client: &client::Model, tags: Vec<String>) -> Self {
        Self {
            email: client.email.clone(),
            full_name: client.full_name.clone(),
            comment: client.comment.clone(),
            attributes: Some(AttributesIn::Map(attributes::attributes(client))),
            tags: Some(TagsIn::List(tags)),
        }
    }
}

/// The attributes and tags of a checked input (`None`: leave them as they are).
struct Audience {
    attributes: Option<Attributes>,
    tags: Option<Vec<String>>,
}

pub fn owned(owner: i32) -> Select<client::Entity> {
    client::Entity::find().filter(client::Column::OwnerId.eq(owner))
}

/// What a list's search looks in.
const SEARCHED: [client::Column; 2] = [client::Column::Email, client::Column::FullName];

/// Applies the search (e-mail or name, case-insensitive) of a list query.
pub fn search(select: Select<client::Entity>, query: &ListQuery) -> Select<client::Entity> {
    match query.search_condition(&SEARCHED) {
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
    /// Its tag names, sorted.
    pub tags: Vec<String>,
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
    let page = paginate_sized(db, listing(owner, query), query.page(), per_page).await?;
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

/// `clients` of `owner` with their addresses' states and their tags.
pub async fn with_states(
    db: &DatabaseConnection,
    owner: i32,
    clients: Vec<client::Model>,
) -> Result<Vec<Listed>, AppError> {
    let emails: Vec<&str> = clients.iter().map(|c| c.email.as_str()).collect();
    let states = consent::states(db, owner, &emails).await?;
    let ids: Vec<i32> = clients.iter().map(|c| c.id).collect();
    let mut tags = tags::of_clients(db, &ids).await?;
    Ok(clients
        .into_iter()
        .map(|client| {
            let state = states
                .get(&client.email.to_lowercase())
                .cloned()
                .unwrap_or(AddressState::ACTIVE);
            let tags = tags.remove(&client.id).unwrap_or_default();
            Listed {
                client,
                state,
                tags,
            }
        })
        .collect())
}

/// Applies the list's tag filter (`tag`: a tag name; empty shows every client).
pub fn tagged(
    select: Select<client::Entity>,
    owner: i32,
    query: &ListQuery,
) -> Select<client::Entity> {
    if query.tag.trim().is_empty() {
        select
    } else {
        select.filter(tags::carrying(owner, &query.tag))
    }
}

/// Does `query` leave any client out (a search, a state or a tag)?
pub fn filters(query: &ListQuery) -> bool {
    query.search_condition(&SEARCHED).is_some()
        || consent::State::parse(&query.status).is_some()
        || !query.tag.trim().is_empty()
}

/// The list's rows before paging: search, state and tag filters, sort.
fn listing(owner: i32, query: &ListQuery) -> Select<client::Entity> {
    sorted(
        tagged(in_state(search(owned(owner), query), query), owner, query),
        query,
    )
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

/// The form's rules on one client that need no database (the address's uniqueness
/// aside): what `check` starts from, and what the CSV import applies to every row.
pub fn field_problems(input: &ClientInput) -> FieldErrors {
    let mut audience = Audience {
        attributes: None,
        tags: None,
    };
    own_fields(input, &mut audience)
}

fn own_fields(input: &ClientInput, audience: &mut Audience) -> FieldErrors {
    let mut errors: FieldErrors = input.validate().err().map(Into::into).unwrap_or_default();
    match input.attributes.as_ref().map(AttributesIn::resolve) {
        Some(Ok(map)) => audience.attributes = Some(map),
        Some(Err(problems)) => problems
            .into_iter()
            .for_each(|p| errors.add("attributes", p)),
        None => {}
    }
    match input.tags.as_ref().map(TagsIn::resolve) {
        Some(Ok(names)) => audience.tags = Some(names),
        Some(Err(problems)) => problems.into_iter().for_each(|p| errors.add("tags", p)),
        None => {}
    }
    errors.refuse_nul(&[
        ("email", &input.email),
        ("full_name", &input.full_name),
        ("comment", &input.comment),
    ]);
    errors
}

async fn check(
    db: &DatabaseConnection,
    owner: i32,
    input: &ClientInput,
    except: Option<i32>,
) -> Result<Audience, FieldErrors> {
    let mut audience = Audience {
        attributes: None,
        tags: None,
    };
    let mut errors = own_fields(input, &mut audience);
    if !errors.0.contains_key("email") {
        let mut same = owned(owner).filter(client::Column::Email.eq(input.email.clone()));
        if let Some(id) = except {
            same = same.filter(client::Column::Id.ne(id));
        }
        match same.count(db).await {
            Ok(0) => {}
            Ok(_) => errors.add("email", "You already have a client with this address."),
            Err(e) => errors.add(
                "",
                phrase("clients-could-not-check-address", &[("detail", &e)]),
            ),
        }
    }
    errors.into_result().map(|()| audience)
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
    let audience = check(db, owner, &input, None)
        .await
        .map_err(SaveError::Invalid)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let client = client::ActiveModel {
        owner_id: Set(owner),
        email: Set(input.email),
        full_name: Set(input.full_name),
        comment: Set(input.comment),
        attributes: Set(attributes::to_json(
            &audience.attributes.clone().unwrap_or_default(),
        )),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    save_tags(&txn, owner, client.id, &audience).await?;
    txn.commit().await?;
    Ok(client)
}

/// Gives the client the input's tags (made when new), when the input has any say.
async fn save_tags<C: sea_orm::ConnectionTrait>(
    db: &C,
    owner: i32,
    client_id: i32,
    audience: &Audience,
) -> Result<(), sea_orm::DbErr> {
    if let Some(names) = &audience.tags {
        let ids: Vec<i32> = tags::ensure(db, owner, names)
            .await?
            .iter()
            .map(|t| t.id)
            .collect();
        tags::set_for_client(db, client_id, &ids).await?;
    }
    Ok(())
}

pub async fn update(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
    input: ClientInput,
) -> Result<client::Model, SaveError> {
    let existing = find_owned(db, owner, id).await.map_err(SaveError::App)?;
    let input = input.normalized();
    let audience = check(db, owner, &input, Some(id))
        .await
        .map_err(SaveError::Invalid)?;
    let txn = db.begin().await?;
    let mut active: client::ActiveModel = existing.into();
    active.email = Set(input.email);
    active.full_name = Set(input.full_name);
    active.comment = Set(input.comment);
    if let Some(map) = &audience.attributes {
        active.attributes = Set(attributes::to_json(map));
    }
    active.updated_at = Set(Utc::now());
    let client = active.update(&txn).await?;
    save_tags(&txn, owner, id, &audience).await?;
    txn.commit().await?;
    Ok(client)
}

/// The tag names of one client.
pub async fn tag_names(db: &DatabaseConnection, client_id: i32) -> Result<Vec<String>, AppError> {
    Ok(tags::of_clients(db, &[client_id])
        .await?
        .remove(&client_id)
        .unwrap_or_default())
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

/// The owner's clients as CSV (`email,full_name,comment,state,since`; then `tags` when
/// any of them has a tag, and one column per attribute name any of them has), honouring
/// the list's search and filters. The import reads it back: tags and attributes
/// included, state and since skipped.
pub async fn export_csv(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Vec<u8>, AppError> {
    let rows = listing(owner, query).all(db).await?;
    let rows = with_states(db, owner, rows).await?;
    let attrs: Vec<Attributes> = rows
        .iter()
        .map(|l| attributes::attributes(&l.client))
        .collect();
    let keys: std::collections::BTreeSet<&str> = attrs
        .iter()
        .flat_map(|a| a.keys().map(String::as_str))
        .collect();
    let any_tags = rows.iter().any(|l| !l.tags.is_empty());
    let mut header = vec!["email", "full_name", "comment", "state", "since"];
    if any_tags {
        header.push("tags");
    }
    header.extend(keys.iter().copied());
    let mut table = CsvTable::new(&header)?;
    for (listed, attrs) in rows.iter().zip(&attrs) {
        let Listed {
            client: c,
            state,
            tags,
        } = listed;
        let since = state
            .since
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let mut cells = vec![
            c.email.clone(),
            c.full_name.clone(),
            c.comment.clone(),
            state.state.as_str().to_owned(),
            since,
        ];
        if any_tags {
            cells.push(tags.join(", "));
        }
        cells.extend(
            keys.iter()
                .map(|k| attrs.get(*k).cloned().unwrap_or_default()),
        );
        table.row(cells)?;
    }
    Ok(table.into_bytes()?)
}
