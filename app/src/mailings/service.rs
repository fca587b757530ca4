//! Mailing rules and queries. Every finder takes the owner and filters by it in the
//! query, so another user's mailing is a 404 by construction, not by a later check.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, ModelTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set,
    TransactionTrait,
};
use serde::Serialize;

use crate::clients::tags;
use crate::delivery::schedule::{shown_status, status_at};
use crate::entities::mailing::{self, MailingStatus, Periodicity};
use crate::entities::{client, mailing_client, mailing_tag, message, tag};
use crate::error::AppError;
use crate::i18n::phrase;
use crate::paging::{ListQuery, PER_PAGE, Paginated, paginate_sized};
use crate::state::AppState;
use crate::validation::FieldErrors;
use crate::validation::date_in_range;

/// `datetime-local` inputs carry no zone: they are the owner's wall-clock time in their
/// zone (`users.timezone`), and the form names it. A time typed inside a DST gap or fold
/// follows `timezone::to_utc` (the end of the gap; the earlier of the two).
pub use crate::timezone::local_input;

/// The form as typed (strings, so a bad value can be shown back).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MailingInput {
    pub name: String,
    pub message_id: String,
    pub client_ids: Vec<i32>,
    /// Tags picked in the form.
    pub tag_ids: Vec<i32>,
    /// Tags named in the API.
    pub tag_names: Vec<String>,
    pub start_at: String,
    pub end_at: String,
    pub periodicity: String,
}

impl MailingInput {
    /// Reads an urlencoded body, where `client_ids` repeats.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut input = MailingInput::default();
        for (key, value) in pairs {
            match key.as_str() {
                "name" => input.name = value,
                "message_id" => input.message_id = value,
                "client_ids" => {
                    if let Ok(id) = value.parse() {
                        input.client_ids.push(id);
                    }
                }
                "tag_ids" => {
                    if let Ok(id) = value.parse() {
                        input.tag_ids.push(id);
                    }
                }
                "start_at" => input.start_at = value,
                "end_at" => input.end_at = value,
                "periodicity" => input.periodicity = value,
                _ => {}
            }
        }
        input
    }

    /// The form of a saved mailing, its times in the owner's zone `tz`.
    pub fn from_model(m: &mailing::Model, client_ids: Vec<i32>, tag_ids: Vec<i32>, tz: Tz) -> Self {
        Self {
            name: m.name.clone(),
            message_id: m.message_id.to_string(),
            client_ids,
            tag_ids,
            tag_names: Vec::new(),
            start_at: local_input(m.start_at, tz),
            end_at: local_input(m.end_at, tz),
            periodicity: m.periodicity.as_str().to_owned(),
        }
    }
}

/// A checked form: everything parsed and owned by the user.
pub struct ValidMailing {
    pub name: String,
    pub message_id: i32,
    pub client_ids: BTreeSet<i32>,
    pub tag_ids: BTreeSet<i32>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub periodicity: Periodicity,
}

/// A time with an offset (the API's RFC 3339) is that instant; a form's local time is
/// the owner's wall-clock time in `tz`.
fn parse_time(value: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let value = value.trim();
    // An instant with its offset (the API's), years outside 0000–9999 included, so that
    // those get the out-of-range message rather than "not a date".
    if let Ok(t) = DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%:z"))
    {
        return Some(t.with_timezone(&Utc));
    }
    crate::timezone::parse_local(value).map(|t| crate::timezone::to_utc(t, tz))
}

/// Checks the input of `owner`, whose zone is `tz` (the form's times are local to it).
pub async fn validate(
    db: &DatabaseConnection,
    owner: i32,
    input: &MailingInput,
    tz: Tz,
) -> Result<ValidMailing, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = check_name(&input.name)
        .map_err(|m| errors.add("name", m))
        .ok();
    let message_id = match input.message_id.parse::<i32>() {
        Ok(id) => match message::Entity::find()
            .filter(message::Column::OwnerId.eq(owner))
            .filter(message::Column::Id.eq(id))
            .count(db)
            .await
        {
            Ok(1) => Some(id),
            Ok(_) => {
                errors.add("message_id", "Choose one of your messages.");
                None
            }
            Err(e) => {
                errors.add(
                    "",
                    phrase("mailings-could-not-check-message", &[("detail", &e)]),
                );
                None
            }
        },
        Err(_) => {
            errors.add("message_id", "Choose the message to send.");
            None
        }
    };
    let client_ids: BTreeSet<i32> = input.client_ids.iter().copied().collect();
    let tag_ids = match owned_tags(db, owner, input).await {
        Ok(ids) => ids,
        Err(messages) => {
            messages.into_iter().for_each(|m| errors.add("tags", m));
            BTreeSet::new()
        }
    };
    if client_ids.is_empty() && tag_ids.is_empty() {
        if !errors.0.contains_key("tags") {
            errors.add("client_ids", "Choose at least one client or tag.");
        }
    } else if !client_ids.is_empty() {
        // In chunks: one `IN (…)` of every id could pass the database's limit on bound
        // parameters (32,766 on SQLite, 65,535 on PostgreSQL).
        let ids: Vec<i32> = client_ids.iter().copied().collect();
        let mut owned = 0;
        for chunk in ids.chunks(1000) {
            owned += client::Entity::find()
                .filter(client::Column::OwnerId.eq(owner))
                .filter(client::Column::Id.is_in(chunk.iter().copied()))
                .count(db)
                .await
                .unwrap_or(0);
        }
        if owned != client_ids.len() as u64 {
            errors.add(
                "client_ids",
                "Some of the chosen clients are not in your address book.",
            );
        }
    }
    let start_at = date_in_range(
        parse_time(&input.start_at, tz),
        "Enter the start as a date and time.",
    )
    .map_err(|m| errors.add("start_at", m))
    .ok();
    let end_at = date_in_range(
        parse_time(&input.end_at, tz),
        "Enter the end as a date and time.",
    )
    .map_err(|m| errors.add("end_at", m))
    .ok();
    if let (Some(start), Some(end)) = (start_at, end_at)
        && end <= start
    {
        errors.add("end_at", "The end must be after the start.");
    }
    let periodicity = Periodicity::ALL
        .into_iter()
        .find(|p| p.as_str() == input.periodicity);
    if periodicity.is_none() {
        errors.add("periodicity", "Choose how often to send.");
    }
    errors.into_result()?;
    match (name, message_id, start_at, end_at, periodicity) {
        (Some(name), Some(message_id), Some(start_at), Some(end_at), Some(periodicity)) => {
            Ok(ValidMailing {
                name,
                message_id,
                client_ids,
                tag_ids,
                start_at,
                end_at,
                periodicity,
            })
        }
        _ => Err(FieldErrors::single("", "The form is incomplete.")),
    }
}

/// A mailing's name as typed, trimmed: required, one line, at most `NAME_MAX` characters
/// (the form, the API and the admin apply this same rule).
pub fn check_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() {
        return Err("Give the mailing a name.".to_owned());
    }
    if name.chars().count() > mailing::NAME_MAX {
        return Err(format!(
            "Keep the name to {} characters.",
            mailing::NAME_MAX
        ));
    }
    if name.contains('\0') || crate::validation::breaks_line(name) {
        return Err("Keep the name on one line.".to_owned());
    }
    Ok(name.to_owned())
}

/// The tags of the input (picked by id, or named), all the owner's: otherwise the messages
/// for the `tags` field.
async fn owned_tags(
    db: &DatabaseConnection,
    owner: i32,
    input: &MailingInput,
) -> Result<BTreeSet<i32>, Vec<String>> {
    let fail = |e: sea_orm::DbErr| vec![phrase("mailings-could-not-check-tags", &[("detail", &e)])];
    let mut ids: BTreeSet<i32> = input.tag_ids.iter().copied().collect();
    if !ids.is_empty() {
        let ids_vec: Vec<i32> = ids.iter().copied().collect();
        let mut owned = 0;
        for chunk in ids_vec.chunks(1000) {
            owned += tag::Entity::find()
                .filter(tag::Column::OwnerId.eq(owner))
                .filter(tag::Column::Id.is_in(chunk.iter().copied()))
                .count(db)
                .await
                .map_err(fail)?;
        }
        if owned != ids.len() as u64 {
            return Err(vec!["Some of the chosen tags are not yours.".to_owned()]);
        }
    }
    if !input.tag_names.is_empty() {
        let names = tags::check_names(&input.tag_names)?;
        let found = tags::named(db, owner, &names).await.map_err(fail)?;
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !found.iter().any(|t| &t.name == *n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let names = missing
                .iter()
                .map(|n| format!("“{n}”"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(vec![phrase(
                "mailings-no-such-tags",
                &[("count", &missing.len()), ("names", &names)],
            )]);
        }
        ids.extend(found.iter().map(|t| t.id));
    }
    Ok(ids)
}

pub fn owned(owner: i32) -> Select<mailing::Entity> {
    mailing::Entity::find().filter(mailing::Column::OwnerId.eq(owner))
}

pub async fn find_owned(
    db: &DatabaseConnection,
    owner: i32,
    id: i32,
) -> Result<mailing::Model, AppError> {
    owned(owner)
        .filter(mailing::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Status filter as each row shows it (`shown_status`): a disabled mailing is disabled and
/// nothing else, so the counts of the four add up to all mailings.
pub fn with_status(
    select: Select<mailing::Entity>,
    status: &str,
    now: DateTime<Utc>,
) -> Select<mailing::Entity> {
    let enabled = mailing::Column::IsEnabled.eq(true);
    let done = mailing::Column::Status.eq(MailingStatus::Finished);
    match status {
        "created" => select
            .filter(enabled)
            .filter(mailing::Column::StartAt.gt(now)),
        "running" => select
            .filter(enabled)
            .filter(mailing::Column::StartAt.lte(now))
            .filter(mailing::Column::EndAt.gt(now))
            .filter(mailing::Column::Status.ne(MailingStatus::Finished)),
        "finished" => select.filter(enabled).filter(
            Condition::any().add(mailing::Column::EndAt.lte(now)).add(
                Condition::all()
                    .add(done)
                    .add(mailing::Column::StartAt.lte(now)),
            ),
        ),
        "disabled" => select.filter(mailing::Column::IsEnabled.eq(false)),
        _ => select,
    }
}

/// A list row: the mailing with what the list shows about it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub mailing: mailing::Model,
    pub status: MailingStatus,
    pub subject: String,
    /// Clients picked by hand.
    pub clients: u64,
    /// Names of the tags it targets.
    pub tags: Vec<String>,
}

pub async fn list(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
) -> Result<Paginated<Row>, AppError> {
    list_sized(db, owner, query, PER_PAGE).await
}

/// `list` with `per_page` rows a page (the JSON API's choice).
pub async fn list_sized(
    db: &DatabaseConnection,
    owner: i32,
    query: &ListQuery,
    per_page: u64,
) -> Result<Paginated<Row>, AppError> {
    let now = Utc::now();
    let order = if query.descending() {
        Order::Desc
    } else {
        Order::Asc
    };
    let column = match query.sort.as_str() {
        "name" => mailing::Column::Name,
        "start" => mailing::Column::StartAt,
        "end" => mailing::Column::EndAt,
        _ => mailing::Column::CreatedAt,
    };
    let order = if query.sort.is_empty() {
        Order::Desc
    } else {
        order
    };
    let mut select = with_status(owned(owner), &query.status, now);
    if let Some(search) = query.search_condition(&[mailing::Column::Name]) {
        select = select.filter(search);
    }
    let select = select
        .order_by(column, order)
        .order_by(mailing::Column::Id, Order::Desc);
    let page = paginate_sized(db, select, query.page(), per_page).await?;
    let ids: Vec<i32> = page.items.iter().map(|m| m.id).collect();
    let subjects: HashMap<i32, String> = message::Entity::find()
        .filter(message::Column::Id.is_in(page.items.iter().map(|m| m.message_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.subject))
        .collect();
    let counts: HashMap<i32, i64> = mailing_client::Entity::find()
        .select_only()
        .column(mailing_client::Column::MailingId)
        .column_as(mailing_client::Column::ClientId.count(), "n")
        .filter(mailing_client::Column::MailingId.is_in(ids))
        .group_by(mailing_client::Column::MailingId)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut tags: HashMap<i32, Vec<String>> = HashMap::new();
    for (mailing_id, name) in mailing_tag::Entity::find()
        .select_only()
        .column(mailing_tag::Column::MailingId)
        .column(tag::Column::Name)
        .inner_join(tag::Entity)
        .filter(mailing_tag::Column::MailingId.is_in(page.items.iter().map(|m| m.id)))
        .order_by_asc(tag::Column::Name)
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
    {
        tags.entry(mailing_id).or_default().push(name);
    }
    let items = page
        .items
        .into_iter()
        .map(|m| Row {
            status: shown_status(&m, now),
            subject: subjects.get(&m.message_id).cloned().unwrap_or_default(),
            clients: counts.get(&m.id).copied().unwrap_or(0) as u64,
            tags: tags.remove(&m.id).unwrap_or_default(),
            mailing: m,
        })
        .collect();
    Ok(Paginated {
        items,
        page: page.page,
        pages: page.pages,
        total: page.total,
        per_page: page.per_page,
    })
}

pub async fn client_ids(db: &DatabaseConnection, mailing_id: i32) -> Result<Vec<i32>, AppError> {
    Ok(mailing_client::Entity::find()
        .select_only()
        .column(mailing_client::Column::ClientId)
        .filter(mailing_client::Column::MailingId.eq(mailing_id))
        .into_tuple::<i32>()
        .all(db)
        .await?)
}

/// The most clients picked by hand that a mailing's page names (the rest are counted):
/// a mailing to 50,000 clients must not put 50,000 names on its page.
pub const NAMED_CLIENTS: u64 = crate::paging::MAX_PER_PAGE;

/// One page of the mailing's recipients, by name. Not scoped to an owner: the caller
/// has found the mailing as its owner, or is staff allowed to see every mailing.
pub async fn recipients(
    db: &DatabaseConnection,
    mailing_id: i32,
    page: u64,
    per_page: u64,
) -> Result<Paginated<client::Model>, AppError> {
    let ids = mailing_client::Entity::find()
        .select_only()
        .column(mailing_client::Column::ClientId)
        .filter(mailing_client::Column::MailingId.eq(mailing_id))
        .into_query();
    let select = client::Entity::find()
        .filter(client::Column::Id.in_subquery(ids))
        .order_by_asc(client::Column::FullName)
        .order_by_asc(client::Column::Id);
    Ok(paginate_sized(db, select, page, per_page).await?)
}

/// The ids of the tags a mailing targets.
pub async fn tag_ids(db: &DatabaseConnection, mailing_id: i32) -> Result<Vec<i32>, AppError> {
    Ok(mailing_tag::Entity::find()
        .select_only()
        .column(mailing_tag::Column::TagId)
        .filter(mailing_tag::Column::MailingId.eq(mailing_id))
        .into_tuple::<i32>()
        .all(db)
        .await?)
}

/// The tags a mailing targets, by name.
pub async fn tags_of(
    db: &DatabaseConnection,
    mailing_id: i32,
) -> Result<Vec<tag::Model>, AppError> {
    Ok(tag::Entity::find()
        .inner_join(mailing_tag::Entity)
        .filter(mailing_tag::Column::MailingId.eq(mailing_id))
        .order_by_asc(tag::Column::Name)
        .all(db)
        .await?)
}

async fn replace_tags<C: sea_orm::ConnectionTrait>(
    db: &C,
    mailing_id: i32,
    ids: &BTreeSet<i32>,
) -> Result<(), sea_orm::DbErr> {
    mailing_tag::Entity::delete_many()
        .filter(mailing_tag::Column::MailingId.eq(mailing_id))
        .exec(db)
        .await?;
    let rows = ids.iter().map(|tag_id| mailing_tag::ActiveModel {
        mailing_id: Set(mailing_id),
        tag_id: Set(*tag_id),
    });
    let key = [mailing_tag::Column::MailingId, mailing_tag::Column::TagId];
    crate::db::insert_new(db, rows.collect(), key, 500).await?;
    Ok(())
}

async fn replace_clients<C: sea_orm::ConnectionTrait>(
    db: &C,
    mailing_id: i32,
    ids: &BTreeSet<i32>,
) -> Result<(), sea_orm::DbErr> {
    mailing_client::Entity::delete_many()
        .filter(mailing_client::Column::MailingId.eq(mailing_id))
        .exec(db)
        .await?;
    let rows = ids.iter().map(|client_id| mailing_client::ActiveModel {
        mailing_id: Set(mailing_id),
        client_id: Set(*client_id),
    });
    let key = [
        mailing_client::Column::MailingId,
        mailing_client::Column::ClientId,
    ];
    crate::db::insert_new(db, rows.collect(), key, 500).await?;
    Ok(())
}

/// Creates the mailing (the home page's counts change: its cache is cleared).
pub async fn create(
    state: &AppState,
    owner: i32,
    valid: ValidMailing,
) -> Result<mailing::Model, AppError> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let mut model = mailing::ActiveModel {
        owner_id: Set(owner),
        name: Set(valid.name),
        message_id: Set(valid.message_id),
        start_at: Set(valid.start_at),
        end_at: Set(valid.end_at),
        periodicity: Set(valid.periodicity),
        status: Set(MailingStatus::Created),
        is_enabled: Set(true),
        next_run_at: Set(Some(valid.start_at)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    replace_clients(&txn, model.id, &valid.client_ids).await?;
    replace_tags(&txn, model.id, &valid.tag_ids).await?;
    let status = status_at(&model, now);
    if status != model.status {
        let mut active: mailing::ActiveModel = model.into();
        active.status = Set(status);
        model = active.update(&txn).await?;
    }
    txn.commit().await?;
    crate::home::invalidate(state).await;
    Ok(model)
}

pub async fn update(
    state: &AppState,
    existing: mailing::Model,
    valid: ValidMailing,
) -> Result<mailing::Model, AppError> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let schedule_changed =
        existing.start_at != valid.start_at || existing.periodicity != valid.periodicity;
    let mut active: mailing::ActiveModel = existing.clone().into();
    active.name = Set(valid.name);
    active.message_id = Set(valid.message_id);
    active.start_at = Set(valid.start_at);
    active.end_at = Set(valid.end_at);
    active.periodicity = Set(valid.periodicity);
    if schedule_changed {
        active.next_run_at = Set(Some(valid.start_at));
    }
    let probe = mailing::Model {
        start_at: valid.start_at,
        end_at: valid.end_at,
        ..existing
    };
    active.status = Set(status_at(&probe, now));
    active.updated_at = Set(now);
    let model = active.update(&txn).await?;
    replace_clients(&txn, model.id, &valid.client_ids).await?;
    replace_tags(&txn, model.id, &valid.tag_ids).await?;
    txn.commit().await?;
    crate::home::invalidate(state).await;
    Ok(model)
}

/// Asks the worker to send the due occurrence now (rather than at its next tick) when the
/// mailing is enabled and inside [start, end). Returns whether it was due.
pub async fn send_if_due(state: &AppState, mailing: &mailing::Model) -> Result<bool, AppError> {
    let now = Utc::now();
    let due = mailing.is_enabled
        && mailing.start_at <= now
        && now < mailing.end_at
        && mailing.next_run_at.is_some_and(|t| t <= now);
    if due {
        state
            .queues
            .delivery
            .push(crate::jobs::DeliveryTask::FanOut {
                mailing_id: mailing.id,
            })
            .await?;
    }
    Ok(due)
}

/// What "Send now" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendNow {
    /// An extra occurrence at this second, to every client, queued for the worker.
    Queued(DateTime<Utc>),
    /// A send of this mailing is still going: nothing more was queued (a second click).
    AlreadySending,
    /// This many of its recipients already got it: sending again needs `again`.
    WouldRepeat(u64),
}

/// "Send now": one extra occurrence, to every client, through the worker. Refused while
/// the mailing is disabled; does nothing while a send of it is still going; asks first
/// (`again`) when recipients already got it. The occurrence is the current second, so a
/// double click makes one send even before the first one's deliveries exist.
pub async fn send_now(
    state: &crate::state::AppState,
    mailing: &mailing::Model,
    again: bool,
) -> Result<SendNow, AppError> {
    use crate::entities::delivery::DeliveryStatus;
    use sea_orm::{PaginatorTrait, QuerySelect};
    if !mailing.is_enabled {
        return Err(AppError::Conflict(format!(
            "“{}” is disabled; enable it before sending.",
            mailing.name
        )));
    }
    let of_mailing = || {
        crate::entities::delivery::Entity::find()
            .filter(crate::entities::delivery::Column::MailingId.eq(mailing.id))
    };
    let sending = of_mailing()
        .filter(crate::entities::delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(&state.db)
        .await?;
    // A fan-out under way has more deliveries to make, even at a moment none is pending.
    let fanning_out = !crate::delivery::fanout::open_fan_outs(&state.db, Some(mailing.id))
        .await?
        .is_empty();
    if sending > 0 || fanning_out {
        return Ok(SendNow::AlreadySending);
    }
    if !again {
        let got_it = of_mailing()
            .select_only()
            .column(crate::entities::delivery::Column::ClientId)
            .filter(crate::entities::delivery::Column::Status.eq(DeliveryStatus::Sent))
            .distinct()
            .count(&state.db)
            .await?;
        if got_it > 0 {
            return Ok(SendNow::WouldRepeat(got_it));
        }
    }
    let occurrence = Utc::now().with_nanosecond(0).unwrap_or_else(Utc::now);
    state
        .queues
        .delivery
        .push(crate::jobs::DeliveryTask::SendNow {
            mailing_id: mailing.id,
            occurrence,
        })
        .await?;
    Ok(SendNow::Queued(occurrence))
}

pub async fn set_enabled(
    state: &AppState,
    existing: mailing::Model,
    enabled: bool,
) -> Result<mailing::Model, AppError> {
    let resume = enabled && existing.next_run_at.is_none() && Utc::now() < existing.end_at;
    let start_at = existing.start_at;
    let mut active: mailing::ActiveModel = existing.into();
    active.is_enabled = Set(enabled);
    if resume {
        active.next_run_at = Set(Some(start_at));
    }
    active.updated_at = Set(Utc::now());
    let model = active.update(&state.db).await?;
    crate::home::invalidate(state).await;
    Ok(model)
}

pub async fn delete(state: &AppState, existing: mailing::Model) -> Result<(), AppError> {
    existing.delete(&state.db).await?;
    crate::home::invalidate(state).await;
    Ok(())
}

/// The owner's messages, clients and tags, for the form's pickers.
pub async fn choices(
    db: &DatabaseConnection,
    owner: i32,
) -> Result<(Vec<message::Model>, Vec<client::Model>, Vec<tag::Model>), AppError> {
    let messages = message::Entity::find()
        .filter(message::Column::OwnerId.eq(owner))
        .order_by_desc(message::Column::UpdatedAt)
        .all(db)
        .await?;
    let clients = client::Entity::find()
        .filter(client::Column::OwnerId.eq(owner))
        .order_by_asc(client::Column::FullName)
        .all(db)
        .await?;
    Ok((messages, clients, tags::owned(db, owner).await?))
}
