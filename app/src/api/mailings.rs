//! `/api/v1/mailings`: the token owner's mailings, their attempts and reports, and "send
//! now", through `mailings::service` and `mailings::report`.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use sea_orm::EntityTrait;

use super::auth::TokenAuth;
use super::error::ApiResult;
use super::text::Text;
use super::{ApiTags, Created, Deleted, ListPage, SortDir, list_query, page_params};
use crate::delivery::schedule::shown_status;
use crate::entities::mailing::{self, MailingStatus};
use crate::entities::{attempt, message};
use crate::error::AppError;
use crate::mailings::{report, service};
use crate::state::AppState;
use crate::timezone::zone_or_utc;

/// How often a mailing sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Periodicity {
    Once,
    Daily,
    Weekly,
    Monthly,
}

impl From<mailing::Periodicity> for Periodicity {
    fn from(p: mailing::Periodicity) -> Self {
        match p {
            mailing::Periodicity::Once => Periodicity::Once,
            mailing::Periodicity::Daily => Periodicity::Daily,
            mailing::Periodicity::Weekly => Periodicity::Weekly,
            mailing::Periodicity::Monthly => Periodicity::Monthly,
        }
    }
}

impl Periodicity {
    fn as_str(self) -> &'static str {
        match self {
            Periodicity::Once => "once",
            Periodicity::Daily => "daily",
            Periodicity::Weekly => "weekly",
            Periodicity::Monthly => "monthly",
        }
    }
}

/// Where a mailing is: before its start, between start and end, after (or with nothing
/// left to send), or disabled — the same state the pages show, and the list's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Status {
    Created,
    Running,
    Finished,
    Disabled,
}

impl From<MailingStatus> for Status {
    fn from(s: MailingStatus) -> Self {
        match s {
            MailingStatus::Created => Status::Created,
            MailingStatus::Running => Status::Running,
            MailingStatus::Finished => Status::Finished,
        }
    }
}

/// The list's filter: a status by the clock, or the disabled ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum StatusFilter {
    Created,
    Running,
    Finished,
    Disabled,
}

impl StatusFilter {
    fn key(self) -> &'static str {
        match self {
            StatusFilter::Created => "created",
            StatusFilter::Running => "running",
            StatusFilter::Finished => "finished",
            StatusFilter::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename = "MailingSort", rename_all = "snake_case")]
pub enum MailingSort {
    Created,
    Name,
    Start,
    End,
}

impl MailingSort {
    fn key(self) -> &'static str {
        match self {
            MailingSort::Created => "created",
            MailingSort::Name => "name",
            MailingSort::Start => "start",
            MailingSort::End => "end",
        }
    }
}

/// A mailing: a message sent to some of your clients once or on a period, between start
/// and end (UTC).
#[derive(Debug, Clone, Object)]
#[oai(rename = "Mailing", skip_serializing_if_is_none)]
pub struct MailingOut {
    pub id: i32,
    /// What you call it.
    pub name: String,
    pub message_id: i32,
    /// The message's subject.
    pub subject: String,
    /// The clients picked by hand.
    pub client_ids: Vec<i32>,
    /// The tags it targets, by name: every client carrying one at each occurrence.
    pub tags: Vec<String>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub periodicity: Periodicity,
    pub status: Status,
    /// A disabled mailing sends nothing new.
    pub is_enabled: bool,
    /// When the next occurrence is due, if any remains.
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn mailing_out(state: &AppState, m: mailing::Model) -> ApiResult<MailingOut> {
    let subject = message::Entity::find_by_id(m.message_id)
        .one(&state.db)
        .await?
        .map(|msg| msg.subject)
        .unwrap_or_default();
    out(state, m, subject).await
}

async fn out(state: &AppState, m: mailing::Model, subject: String) -> ApiResult<MailingOut> {
    let client_ids = service::client_ids(&state.db, m.id).await?;
    let tags = service::tags_of(&state.db, m.id)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    Ok(MailingOut {
        id: m.id,
        name: m.name.clone(),
        message_id: m.message_id,
        subject,
        client_ids,
        tags,
        status: if m.is_enabled {
            shown_status(&m, Utc::now()).into()
        } else {
            Status::Disabled
        },
        start_at: m.start_at,
        end_at: m.end_at,
        periodicity: m.periodicity.into(),
        is_enabled: m.is_enabled,
        next_run_at: m.next_run_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// A mailing to create or replace. The message, the clients and the tags must be yours,
/// at least one client or tag, both times in the years 1 to 9999 and the end after the
/// start (times are kept to the second), or 422 with the messages per field. A mailing
/// created inside [start, end) sends at once.
#[derive(Debug, Clone, Object)]
#[oai(rename = "MailingInput")]
pub struct MailingIn {
    /// What you call it: required, one line, up to 200 characters (surrounding spaces
    /// are dropped). Missing, null or blank, it is a 422 like any broken rule.
    #[oai(deserialize_with = "super::text::absent_as_empty")]
    pub name: Text,
    pub message_id: i32,
    /// Clients picked by hand.
    #[oai(default)]
    pub client_ids: Vec<i32>,
    /// Names of your tags: every client carrying one of them when an occurrence goes out
    /// (a client both picked and tagged gets it once).
    #[oai(default)]
    pub tags: Vec<Text>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub periodicity: Periodicity,
    /// On update only: enable or disable the mailing (left as it is when absent; a new
    /// mailing is always enabled).
    pub is_enabled: Option<bool>,
}

impl MailingIn {
    /// The form-shaped input the service validates.
    fn form(&self) -> service::MailingInput {
        // Instants with their offset: the API speaks UTC, whatever the owner's zone.
        let instant = |t: &DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        service::MailingInput {
            name: self.name.0.clone(),
            message_id: self.message_id.to_string(),
            client_ids: self.client_ids.clone(),
            tag_ids: Vec::new(),
            tag_names: self.tags.iter().map(|t| t.0.clone()).collect(),
            start_at: instant(&self.start_at),
            end_at: instant(&self.end_at),
            periodicity: self.periodicity.as_str().to_owned(),
        }
    }
}

/// One try to deliver to one client.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Attempt", skip_serializing_if_is_none)]
pub struct AttemptOut {
    pub id: i64,
    /// Absent when the client has since been deleted (the address stays in `recipient`).
    pub client_id: Option<i32>,
    pub recipient: String,
    /// The planned time of the occurrence this attempt belongs to.
    pub occurrence_at: DateTime<Utc>,
    pub attempted_at: DateTime<Utc>,
    pub success: bool,
    /// The SMTP reply code, when the server answered.
    pub smtp_code: Option<i32>,
    /// The server's reply, or the error.
    pub response: Option<String>,
}

impl From<attempt::Model> for AttemptOut {
    fn from(a: attempt::Model) -> Self {
        Self {
            id: a.id,
            client_id: a.client_id,
            recipient: a.recipient,
            occurrence_at: a.occurrence_at,
            attempted_at: a.attempted_at,
            success: a.status == attempt::AttemptStatus::Success,
            smtp_code: a.smtp_code,
            response: a.response,
        }
    }
}

/// Deliveries of the mailing by state.
#[derive(Debug, Clone, Object)]
pub struct Progress {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    /// Stopped before they went out (the mailing disabled): sent once it is enabled again.
    pub cancelled: u64,
    /// Not sent: the address is suppressed (unsubscribed, bounced, complained).
    pub skipped: u64,
    pub total: u64,
    /// Share settled (sent or failed), 0–100.
    pub percent: u64,
}

/// The attempt log summed up (the last attempt's fields absent before the first).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Summary {
    pub attempts: u64,
    pub successes: u64,
    pub failures: u64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_reply: Option<String>,
}

/// Attempts to one recipient.
#[derive(Debug, Clone, Object)]
pub struct RecipientRow {
    pub recipient: String,
    pub successes: u64,
    pub failures: u64,
    pub last_attempt_at: DateTime<Utc>,
    /// `success` or `failure`.
    pub last_status: String,
    pub last_reply: String,
}

impl From<report::ClientRow> for RecipientRow {
    fn from(r: report::ClientRow) -> Self {
        Self {
            recipient: r.recipient,
            successes: r.successes,
            failures: r.failures,
            last_attempt_at: r.last_attempt_at,
            last_status: r.last_status,
            last_reply: crate::i18n::english(&r.last_reply),
        }
    }
}

/// Attempts on one day of the account's time zone (`timezone`).
#[derive(Debug, Clone, Object)]
pub struct Day {
    pub day: NaiveDate,
    pub successes: u64,
    pub failures: u64,
}

/// What a mailing did: progress of its deliveries, the attempts summed up, one page of
/// recipients, and attempts per day.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Report")]
pub struct ReportOut {
    pub progress: Progress,
    pub summary: Summary,
    pub recipients: ListPage<RecipientRow>,
    pub days: Vec<Day>,
}

/// "Send now" was accepted: the worker sends this occurrence to every client.
#[derive(Debug, Clone, Object)]
pub struct SendQueued {
    pub mailing_id: i32,
    pub occurrence_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Queued for the worker.
    #[oai(status = 202)]
    Accepted(Json<SendQueued>),
}

pub struct MailingsApi;

#[OpenApi(prefix_path = "/mailings", tag = "ApiTags::Mailings")]
impl MailingsApi {
    /// List your mailings
    ///
    /// Newest first unless told otherwise; `status` filters by the clock (or the disabled
    /// ones); `q` searches the names (case-insensitive).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/", method = "get", operation_id = "list_mailings")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        /// Page number from 1; a page past the end returns the last one.
        #[oai(
            default = "page_params::first",
            validator(minimum(value = "1"), maximum(value = "1000000"))
        )]
        page: Query<u64>,
        /// Rows per page, 1–100.
        #[oai(
            default = "page_params::per_page",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        per_page: Query<u64>,
        /// Part of the name to look for.
        q: Query<Option<String>>,
        status: Query<Option<StatusFilter>>,
        sort: Query<Option<MailingSort>>,
        dir: Query<Option<SortDir>>,
    ) -> ApiResult<Json<ListPage<MailingOut>>> {
        let query = list_query(
            page.0,
            q.0,
            sort.0.map(MailingSort::key),
            dir.0,
            status.0.map(StatusFilter::key),
        );
        let found = service::list_sized(&state.db, auth.0.id, &query, per_page.0).await?;
        let mut items = Vec::with_capacity(found.items.len());
        for row in found.items {
            items.push(out(&state, row.mailing, row.subject).await?);
        }
        Ok(Json(ListPage {
            items,
            page: found.page,
            per_page: found.per_page,
            total: found.total,
            pages: found.pages,
        }))
    }

    /// Create a mailing
    #[oai(path = "/", method = "post", operation_id = "create_mailing")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<MailingIn>,
    ) -> ApiResult<Created<MailingOut>> {
        let valid = service::validate(
            &state.db,
            auth.0.id,
            &body.form(),
            zone_or_utc(&auth.0.timezone),
        )
        .await?;
        let mailing = service::create(&state, auth.0.id, valid).await?;
        let location = format!("/api/v1/mailings/{}", mailing.id);
        Ok(Created::Created(
            Json(mailing_out(&state, mailing).await?),
            location,
        ))
    }

    /// Get one of your mailings
    #[oai(path = "/:id", method = "get", operation_id = "get_mailing")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Json<MailingOut>> {
        let mailing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        Ok(Json(mailing_out(&state, mailing).await?))
    }

    /// Replace one of your mailings
    ///
    /// Sends at once when the change makes an occurrence due.
    #[oai(path = "/:id", method = "put", operation_id = "update_mailing")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        body: Json<MailingIn>,
    ) -> ApiResult<Json<MailingOut>> {
        let existing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        let valid = service::validate(
            &state.db,
            auth.0.id,
            &body.form(),
            zone_or_utc(&auth.0.timezone),
        )
        .await?;
        let mut mailing = service::update(&state, existing, valid).await?;
        if let Some(enabled) = body.is_enabled
            && enabled != mailing.is_enabled
        {
            mailing = service::set_enabled(&state, mailing, enabled).await?;
        }
        service::send_if_due(&state, &mailing).await?;
        Ok(Json(mailing_out(&state, mailing).await?))
    }

    /// Delete one of your mailings
    ///
    /// Its deliveries and attempts go with it.
    #[oai(path = "/:id", method = "delete", operation_id = "delete_mailing")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
    ) -> ApiResult<Deleted> {
        let mailing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        service::delete(&state, mailing).await?;
        Ok(Deleted::Deleted)
    }

    /// Send now
    ///
    /// One extra occurrence (this second), to every client, through the worker. 409 while
    /// the mailing is disabled, while a send of it is still going (nothing more is
    /// queued), and when recipients already got it unless `again=true` says to send it to
    /// them a second time.
    #[oai(path = "/:id/send", method = "post", operation_id = "send_mailing_now")]
    async fn send_now(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        /// Send even though recipients already got this mailing.
        again: Query<Option<bool>>,
    ) -> ApiResult<Accepted> {
        let mailing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        match service::send_now(&state, &mailing, again.0.unwrap_or(false)).await? {
            service::SendNow::Queued(occurrence_at) => Ok(Accepted::Accepted(Json(SendQueued {
                mailing_id: mailing.id,
                occurrence_at,
            }))),
            service::SendNow::AlreadySending => Err(AppError::Conflict(format!(
                "“{}” is still being sent: nothing more was queued.",
                mailing.name
            ))
            .into()),
            service::SendNow::WouldRepeat(n) => Err(AppError::Conflict(format!(
                "{n} recipient(s) already got “{}”; send with again=true to send it \
                 to them a second time.",
                mailing.name
            ))
            .into()),
        }
    }

    /// Attempts of a mailing
    ///
    /// Newest first.
    #[oai(
        path = "/:id/attempts",
        method = "get",
        operation_id = "list_mailing_attempts"
    )]
    async fn attempts(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        /// Page number from 1; a page past the end returns the last one.
        #[oai(
            default = "page_params::first",
            validator(minimum(value = "1"), maximum(value = "1000000"))
        )]
        page: Query<u64>,
        /// Rows per page, 1–100.
        #[oai(
            default = "page_params::per_page",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        per_page: Query<u64>,
    ) -> ApiResult<Json<ListPage<AttemptOut>>> {
        let mailing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        let found = report::attempts_page(&state.db, mailing.id, page.0, per_page.0).await?;
        Ok(Json(ListPage::from_page(found)))
    }

    /// Report of a mailing
    ///
    /// `page` pages the recipients table (20 a page).
    #[oai(
        path = "/:id/report",
        method = "get",
        operation_id = "get_mailing_report"
    )]
    async fn report(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        /// Page of the recipients table, from 1.
        #[oai(
            default = "page_params::first",
            validator(minimum(value = "1"), maximum(value = "1000000"))
        )]
        page: Query<u64>,
    ) -> ApiResult<Json<ReportOut>> {
        let mailing = service::find_owned(&state.db, auth.0.id, id.0).await?;
        let progress = report::progress(&state.db, mailing.id).await?;
        let tz = zone_or_utc(&auth.0.timezone);
        let full = report::report(&state.db, &state.cache, mailing.id, page.0, tz).await?;
        Ok(Json(ReportOut {
            progress: Progress {
                pending: progress.pending,
                sent: progress.sent,
                failed: progress.failed,
                cancelled: progress.cancelled,
                skipped: progress.skipped,
                total: progress.total,
                percent: progress.percent,
            },
            summary: Summary {
                attempts: full.summary.attempts,
                successes: full.summary.successes,
                failures: full.summary.failures,
                last_attempt_at: full.summary.last_attempt_at,
                last_reply: full.summary.last_reply.as_deref().map(crate::i18n::english),
            },
            recipients: ListPage::from_page(full.clients),
            days: full
                .days
                .into_iter()
                .map(|d| Day {
                    day: d.day,
                    successes: d.successes,
                    failures: d.failures,
                })
                .collect(),
        }))
    }
}
