//! The back office at `/admin`, as this site registers it with the generic `admin` crate:
//! every model shown, who may do what with each, and the custom actions, all in this file;
//! `routes` holds the HTTP glue and `routes(site)` puts its pages in the site's table.

pub mod audit;
pub mod consent;
pub mod images;
pub mod mailing_pages;
pub mod routes;

use std::sync::LazyLock;

use admin::{
    ActionError, Actor, AdminState, ChangeEvent, ForeignKey, ImageField, ModelAdmin, Perm,
    Registry, Related, SaveContext,
};
use sea_orm::{ActiveValue, DatabaseConnection, Set};
use validator::ValidateEmail;

use crate::accounts::forms::{normalize_email, valid_phone};
use crate::accounts::service::set_active;
use crate::entities::user::Role;
use crate::entities::{admin_log, api_token, attempt, client, mailing, message, post, user};
use crate::mailings::service as mailings;
use crate::state::AppState;
use crate::validation::{LINE_BREAK, YEAR_OUT_OF_RANGE, breaks_line, year_in_range};
use crate::web::Site;

/// The admin's routes, in the site's route table (so the CSRF walk covers them).
pub fn routes(site: Site) -> Site {
    use poem::EndpointExt;
    site.page("/admin", routes::admin_root)
        .page("/admin/", routes::index.around(routes::no_store))
        .form(
            "/admin/:model/",
            routes::changelist.around(routes::no_store),
            routes::changelist_action.around(routes::no_store),
        )
        .form(
            "/admin/:model/add/",
            routes::add_form.around(routes::no_store),
            routes::add.around(routes::no_store),
        )
        .form(
            "/admin/:model/:id/change/",
            routes::change_form.around(routes::no_store),
            routes::change.around(routes::no_store),
        )
        .form(
            "/admin/:model/:id/delete/",
            routes::delete_form.around(routes::no_store),
            routes::delete.around(routes::no_store),
        )
        .page(
            "/admin/:model/:id/history/",
            routes::history.around(routes::no_store),
        )
        .action(
            "/admin/:model/:id/action/",
            routes::object_action.around(routes::no_store),
        )
        .page(
            "/admin/mailings/:id/recipients/",
            mailing_pages::recipients_page.around(routes::no_store),
        )
        .page(
            "/admin/mailings/:id/report/",
            mailing_pages::report_page.around(routes::no_store),
        )
        .page(
            MARKDOWN_HELP,
            routes::markdown_help.around(routes::no_store),
        )
}

/// The short Markdown syntax hint the post form links to.
const MARKDOWN_HELP: &str = "/admin/posts/markdown/";

impl AdminState for AppState {
    fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

pub(crate) const MANAGER: &str = "manager";
const CONTENT_MANAGER: &str = "content_manager";
const SUPERUSER: &str = "superuser";

/// A password hash no password matches: accounts made in the admin sign in after a reset.
const UNUSABLE_PASSWORD: &str = "!";

/// The models whose changes the log holds (its model filter).
const AUDITED: [(&str, &str); 8] = [
    ("users", "Users"),
    ("mailings", "Mailings"),
    ("attempts", "Attempts"),
    ("clients", "Clients"),
    ("messages", "Messages"),
    ("posts", "Posts"),
    ("suppressions", "Users' suppression lists"),
    ("global_suppressions", "Global suppression list"),
];

static REGISTRY: LazyLock<Registry<AppState>> = LazyLock::new(build);

/// The admin of this site.
pub fn registry() -> &'static Registry<AppState> {
    &REGISTRY
}

fn build() -> Registry<AppState> {
    Registry::new("/admin", "Mailer administration", audit::AdminLogSink)
        .superuser_role(SUPERUSER)
        .register(users())
        .register(mailings())
        .register(attempts())
        .register(clients())
        .register(consent::suppressions())
        .register(consent::global_suppressions())
        .register(messages())
        .register(posts())
        .register(audit_log())
}

/// The audit trail itself, read-only (superusers only: no role is granted it).
fn audit_log() -> ModelAdmin<admin_log::Entity, AppState> {
    use admin_log::Column as C;
    ModelAdmin::<admin_log::Entity, AppState>::new("log", "Log entry", "Log entries")
        .list_display(&[
            C::CreatedAt,
            C::ActorEmail,
            C::Action,
            C::Model,
            C::ObjectRepr,
        ])
        .list_computed("Changed fields", |row: &admin_log::Model| {
            admin::AuditRecord::parse_changes(&row.changes)
                .into_keys()
                .collect::<Vec<_>>()
                .join(", ")
        })
        .search_fields(&[C::ActorEmail, C::ObjectRepr, C::Action, C::ObjectId])
        .list_filter(&[C::Model, C::CreatedAt])
        .choices(C::Model, &AUDITED)
        .ordering(C::CreatedAt, true)
        .list_per_page(50)
        .label(C::ActorEmail, "User")
        .label(C::ObjectRepr, "Object")
        .label(C::CreatedAt, "When")
        .readonly_fields(&[
            C::CreatedAt,
            C::ActorEmail,
            C::Action,
            C::Model,
            C::ObjectId,
            C::ObjectRepr,
            C::Changes,
        ])
        .fields(&[
            C::CreatedAt,
            C::ActorEmail,
            C::Action,
            C::Model,
            C::ObjectId,
            C::ObjectRepr,
            C::Changes,
        ])
        // The row keeps keys (`add`, `users`); its name is a phrase that the pages write
        // out in the manager's language ("добавление · Пользователи · ann@example.com").
        .repr(|row: &admin_log::Model| {
            let models = AUDITED
                .iter()
                .find(|(key, _)| *key == row.model)
                .map_or(row.model.as_str(), |(_, label)| label);
            crate::i18n::phrase(
                "admin-log-entry",
                &[
                    ("what", &row.action),
                    ("models", &models),
                    ("object", &row.object_repr),
                ],
            )
        })
        .disable(Perm::Add)
        .disable(Perm::Change)
        .disable(Perm::Delete)
}

pub(crate) type Problems<C> = Vec<(Option<C>, String)>;

fn users() -> ModelAdmin<user::Entity, AppState> {
    use user::Column as C;
    let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    ModelAdmin::<user::Entity, AppState>::new("users", "User", "Users")
        .list_display(&[
            C::Email,
            C::Role,
            C::IsActive,
            C::IsVerified,
            C::CreatedAt,
            C::LastLogin,
        ])
        .search_fields(&[C::Email, C::Phone])
        .list_filter(&[C::Role, C::IsActive, C::IsVerified, C::CreatedAt])
        .ordering(C::CreatedAt, true)
        .fieldset("Account", &[C::Email, C::Phone, C::Avatar])
        .fieldset("Access", &[C::Role, C::IsActive, C::IsVerified])
        .fieldset("Dates", &[C::CreatedAt, C::UpdatedAt, C::LastLogin])
        .readonly_fields(&[C::CreatedAt, C::UpdatedAt, C::LastLogin])
        .label(C::Email, "E-mail")
        .label(C::IsActive, "Active")
        .label(C::IsVerified, "E-mail confirmed")
        .help_text(
            C::IsActive,
            "Untick to block: the user is signed out at once and cannot sign in.",
        )
        .help_text(
            C::Email,
            "Accounts added here sign in after choosing a password via “Forgot password”.",
        )
        .choices(C::Role, &roles)
        // Avatars are the user's own business: shown here, uploaded on the profile page.
        .image(
            C::Avatar,
            ImageField::read_only(|name| format!("/media/avatars/{name}")),
        )
        .initial(C::Role, Role::User.as_str())
        .initial(C::IsActive, "on")
        .initial(C::IsVerified, "on")
        .secret(C::PasswordHash)
        .audit_ignore(&[C::UpdatedAt])
        .repr(|u: &user::Model| u.email.clone())
        .clean(clean_user)
        .related(Related::cascade::<client::Entity>(
            "clients",
            client::Column::OwnerId,
            client::Column::Email,
        ))
        .related(Related::cascade::<message::Entity>(
            "messages",
            message::Column::OwnerId,
            message::Column::Subject,
        ))
        .related(Related::cascade::<mailing::Entity>(
            "mailings",
            mailing::Column::OwnerId,
            mailing::Column::Id,
        ))
        .related(Related::cascade::<api_token::Entity>(
            "API tokens",
            api_token::Column::UserId,
            api_token::Column::Name,
        ))
        .action("block", "Block selected users", |state, actor, users| {
            Box::pin(set_users_active(state, actor, users, false))
        })
        .action(
            "unblock",
            "Unblock selected users",
            |state, actor, users| Box::pin(set_users_active(state, actor, users, true)),
        )
        // The same actions as buttons on a user's page: the one that applies to them.
        .object_action("block", "Block", |actor, u| {
            u.is_active && may_block(actor, u).is_ok()
        })
        .object_action("unblock", "Unblock", |actor, u| {
            !u.is_active && may_block(actor, u).is_ok()
        })
        .permit(
            MANAGER,
            &[Perm::View, Perm::action("block"), Perm::action("unblock")],
        )
}

fn clean_user(u: &mut user::ActiveModel, ctx: &SaveContext) -> Result<(), Problems<user::Column>> {
    let mut problems = Vec::new();
    if let Some(email) = u.email.try_as_ref().cloned() {
        let normalized = normalize_email(&email);
        if !normalized.validate_email() {
            problems.push((
                Some(user::Column::Email),
                "Enter a valid e-mail address.".into(),
            ));
        }
        if normalized != email {
            u.email = Set(normalized);
        }
    }
    if let Some(Some(phone)) = u.phone.try_as_ref()
        && valid_phone(phone).is_err()
    {
        problems.push((
            Some(user::Column::Phone),
            "Enter a phone number: digits, spaces, + - ( ).".into(),
        ));
    }
    if ctx.is_new {
        u.password_hash = Set(UNUSABLE_PASSWORD.into());
        u.created_at = Set(ctx.now);
    }
    // Blocking through the form ends the sessions like the block action does.
    if u.is_active.is_set() && u.is_active.try_as_ref() == Some(&false) {
        u.sessions_valid_after = Set(Some(ctx.now));
    }
    u.updated_at = Set(ctx.now);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Why a user is left out of a block or unblock.
enum Skip {
    /// The actor's own account.
    Own,
    /// A superuser, and the actor is not one.
    Superuser,
}

/// Nobody blocks (or unblocks) themselves, and only a superuser a superuser; the reason
/// otherwise.
fn may_block(actor: &Actor, u: &user::Model) -> Result<(), Skip> {
    if i64::from(u.id) == actor.id {
        Err(Skip::Own)
    } else if u.role == Role::Superuser && actor.role != SUPERUSER {
        Err(Skip::Superuser)
    } else {
        Ok(())
    }
}

/// Blocks or unblocks; blocking signs the user out at once (`set_active`), and the claim
/// then stops their queued deliveries. Only the users `may_block` allows.
async fn set_users_active(
    state: &AppState,
    actor: &Actor,
    users: Vec<user::Model>,
    active: bool,
) -> Result<String, ActionError> {
    let mut done = 0;
    // Skipped: the actor's own account, and superusers (for a manager).
    let mut own = Vec::new();
    let mut superusers = Vec::new();
    for u in users {
        if let Err(why) = may_block(actor, &u) {
            match why {
                Skip::Own => own.push(u.email),
                Skip::Superuser => superusers.push(u.email),
            }
            continue;
        }
        set_active(&state.db, u, active).await?;
        done += 1;
    }
    let id = if active {
        "flash-admin-users-unblocked"
    } else {
        "flash-admin-users-blocked"
    };
    Ok(crate::i18n::phrase(
        id,
        &[
            ("count", &done),
            ("own", &own.len()),
            ("me", &own.join(", ")),
            ("supers", &superusers.len()),
            ("superusers", &superusers.join(", ")),
        ],
    ))
}

fn mailings() -> ModelAdmin<mailing::Entity, AppState> {
    use mailing::Column as C;
    let periodicities: Vec<(&str, &str)> = mailing::Periodicity::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect();
    let statuses: Vec<(&str, &str)> = mailing::MailingStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let all = [
        C::Name,
        C::OwnerId,
        C::MessageId,
        C::StartAt,
        C::EndAt,
        C::Periodicity,
        C::Status,
        C::IsEnabled,
        C::NextRunAt,
        C::CreatedAt,
        C::UpdatedAt,
    ];
    ModelAdmin::<mailing::Entity, AppState>::new("mailings", "Mailing", "Mailings")
        .on_change(|state, event| Box::pin(after_mailing_change(state, event)))
        .list_display(&[
            C::Name,
            C::OwnerId,
            C::MessageId,
            C::Periodicity,
            C::Status,
            C::IsEnabled,
            C::StartAt,
            C::EndAt,
        ])
        .search_fields(&[C::Name, C::Id, C::OwnerId, C::MessageId])
        .list_filter(&[C::Status, C::Periodicity, C::IsEnabled, C::StartAt])
        .ordering(C::CreatedAt, true)
        .fields(&all)
        // Schedules are edited by their owners; the admin only switches them on and off.
        .readonly_fields(&[
            C::OwnerId,
            C::MessageId,
            C::StartAt,
            C::EndAt,
            C::Periodicity,
            C::Status,
            C::NextRunAt,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        .label(C::OwnerId, "Owner")
        .label(C::IsEnabled, "Enabled")
        .choices(C::Periodicity, &periodicities)
        .choices(C::Status, &statuses)
        .foreign_key(
            C::OwnerId,
            ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
        )
        .foreign_key(
            C::MessageId,
            ForeignKey::to::<message::Entity>(message::Column::Subject).raw_id(),
        )
        .audit_ignore(&[C::UpdatedAt])
        .repr(|m: &mailing::Model| m.name.clone())
        // The name by the same rule as the owner's form and the API.
        .clean(|m: &mut mailing::ActiveModel, ctx| {
            if let Some(name) = m.name.try_as_ref().cloned() {
                match mailings::check_name(&name) {
                    Ok(name) => m.name = Set(name),
                    Err(problem) => return Err(vec![(Some(C::Name), problem)]),
                }
            }
            m.updated_at = Set(ctx.now);
            Ok(())
        })
        .related(Related::cascade::<attempt::Entity>(
            "attempts",
            attempt::Column::MailingId,
            attempt::Column::Recipient,
        ))
        // Its recipients and a link to its report under the fields.
        .change_form_template("admin/mailings/change_form.html")
        .change_context(|state, m| Box::pin(mailing_pages::change_context(state, m)))
        .disable(Perm::Add)
        .action(
            "disable",
            "Disable selected mailings",
            |state, _actor, list| Box::pin(set_mailings_enabled(state, list, false)),
        )
        .action(
            "enable",
            "Enable selected mailings",
            |state, _actor, list| Box::pin(set_mailings_enabled(state, list, true)),
        )
        .permit(
            MANAGER,
            &[Perm::View, Perm::action("disable"), Perm::action("enable")],
        )
}

/// The owner's own enable / disable: an enabled mailing that is due sends at once.
async fn set_mailings_enabled(
    state: &AppState,
    list: Vec<mailing::Model>,
    enabled: bool,
) -> Result<String, ActionError> {
    let n = list.len();
    for m in list {
        let m = mailings::set_enabled(state, m, enabled).await?;
        if enabled {
            mailings::send_if_due(state, &m).await?;
        }
    }
    let id = if enabled {
        "flash-admin-mailings-enabled"
    } else {
        "flash-admin-mailings-disabled"
    };
    Ok(crate::i18n::phrase(id, &[("count", &n)]))
}

fn attempts() -> ModelAdmin<attempt::Entity, AppState> {
    use attempt::Column as C;
    let statuses: Vec<(&str, &str)> = attempt::AttemptStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    // Every column but `reason`, whose JSON the page shows as `response` (below).
    let shown = [
        C::OwnerId,
        C::MailingId,
        C::MessageId,
        C::ClientId,
        C::DeliveryId,
        C::Recipient,
        C::OccurrenceAt,
        C::AttemptedAt,
        C::Status,
        C::SmtpCode,
        C::Response,
    ];
    ModelAdmin::<attempt::Entity, AppState>::new("attempts", "Attempt", "Attempts")
        .list_display(&[
            C::AttemptedAt,
            C::Recipient,
            C::Status,
            C::SmtpCode,
            C::MailingId,
            C::OwnerId,
        ])
        // Our own words as a phrase (the list writes it out in the manager's language),
        // a server's reply cut short.
        .list_computed("Reply", |a: &attempt::Model| {
            match a.reason.as_deref().and_then(crate::i18n::from_stored) {
                Some(phrase) => phrase,
                None => a
                    .response
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(80)
                    .collect(),
            }
        })
        .search_fields(&[C::Recipient, C::Response, C::OwnerId, C::MailingId])
        .list_filter(&[C::Status, C::AttemptedAt])
        .ordering(C::AttemptedAt, true)
        .list_per_page(50)
        .readonly_fields(&shown)
        .fields(&shown)
        // The attempt's page, like its list: our own words in the manager's language.
        .readonly_display(C::Response, |a: &attempt::Model| {
            a.shown_reply().unwrap_or_else(|| "—".to_owned())
        })
        .label(C::OwnerId, "Owner")
        .label(C::MailingId, "Mailing")
        .label(C::SmtpCode, "SMTP code")
        .choices(C::Status, &statuses)
        .foreign_key(
            C::OwnerId,
            ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
        )
        .repr(|a: &attempt::Model| {
            format!(
                "{} · {}",
                a.recipient,
                a.attempted_at.format("%Y-%m-%d %H:%M UTC")
            )
        })
        // The log is written by the delivery engine only.
        .disable(Perm::Add)
        .disable(Perm::Change)
        .permit(MANAGER, &[Perm::View])
}

fn clients() -> ModelAdmin<client::Entity, AppState> {
    use client::Column as C;
    ModelAdmin::<client::Entity, AppState>::new("clients", "Client", "Clients")
        .list_display(&[C::Email, C::FullName, C::OwnerId, C::CreatedAt])
        .search_fields(&[C::Email, C::FullName, C::OwnerId])
        .list_filter(&[C::CreatedAt])
        .ordering(C::CreatedAt, true)
        .fields(&[
            C::OwnerId,
            C::Email,
            C::FullName,
            C::Comment,
            C::Attributes,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        // Attributes are checked by the clients service: shown here, edited there.
        .readonly_fields(&[C::Attributes, C::CreatedAt, C::UpdatedAt])
        .label(C::OwnerId, "Owner")
        .label(C::Email, "E-mail")
        .allow_blank(C::Comment)
        .foreign_key(
            C::OwnerId,
            ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
        )
        .audit_ignore(&[C::UpdatedAt])
        .repr(|c: &client::Model| format!("{} <{}>", c.full_name, c.email))
        .clean(|c: &mut client::ActiveModel, ctx| {
            let mut problems: Problems<client::Column> = Vec::new();
            if let Some(email) = c.email.try_as_ref().cloned() {
                let normalized = normalize_email(&email);
                if !normalized.validate_email() {
                    problems.push((
                        Some(client::Column::Email),
                        "Enter a valid e-mail address.".into(),
                    ));
                }
                c.email = Set(normalized);
            }
            if c.full_name.try_as_ref().is_some_and(|n| breaks_line(n)) {
                problems.push((Some(client::Column::FullName), LINE_BREAK.into()));
            }
            stamp(&mut c.created_at, &mut c.updated_at, ctx);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems)
            }
        })
}

fn messages() -> ModelAdmin<message::Entity, AppState> {
    use message::Column as C;
    ModelAdmin::<message::Entity, AppState>::new("messages", "Message", "Messages")
        .list_display(&[C::Subject, C::OwnerId, C::UpdatedAt])
        .search_fields(&[C::Subject, C::Body, C::OwnerId])
        .list_filter(&[C::UpdatedAt])
        .ordering(C::UpdatedAt, true)
        .fields(&[C::OwnerId, C::Subject, C::Body, C::CreatedAt, C::UpdatedAt])
        .readonly_fields(&[C::CreatedAt, C::UpdatedAt])
        .label(C::OwnerId, "Owner")
        .foreign_key(
            C::OwnerId,
            ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
        )
        .audit_ignore(&[C::UpdatedAt])
        .repr(|m: &message::Model| m.subject.clone())
        .clean(|m: &mut message::ActiveModel, ctx| {
            if m.subject.try_as_ref().is_some_and(|s| breaks_line(s)) {
                return Err(vec![(Some(message::Column::Subject), LINE_BREAK.into())]);
            }
            stamp(&mut m.created_at, &mut m.updated_at, ctx);
            Ok(())
        })
        .related(Related::protect::<mailing::Entity>(
            "mailings",
            mailing::Column::MessageId,
            mailing::Column::Id,
        ))
}

/// `created_at` on insert, `updated_at` on every save.
fn stamp(
    created_at: &mut ActiveValue<chrono::DateTime<chrono::Utc>>,
    updated_at: &mut ActiveValue<chrono::DateTime<chrono::Utc>>,
    ctx: &SaveContext,
) {
    if ctx.is_new {
        *created_at = Set(ctx.now);
    }
    *updated_at = Set(ctx.now);
}

fn posts() -> ModelAdmin<post::Entity, AppState> {
    use post::Column as C;
    ModelAdmin::<post::Entity, AppState>::new("posts", "Post", "Posts")
        // Named by its title on pages and in the audit trail, in no one language.
        .repr(|p: &post::Model| p.title.clone())
        .list_display(&[
            C::Title,
            C::IsPublished,
            C::PublishedAt,
            C::ViewCount,
            C::AuthorId,
            C::Image,
        ])
        .search_fields(&[C::Title, C::Slug, C::Body])
        .list_filter(&[C::IsPublished, C::PublishedAt])
        .ordering(C::CreatedAt, true)
        .fieldset("Post", &[C::Title, C::Slug, C::Body, C::Image])
        .fieldset("Publishing", &[C::IsPublished, C::PublishedAt])
        .fieldset(
            "Statistics",
            &[C::ViewCount, C::AuthorId, C::CreatedAt, C::UpdatedAt],
        )
        .readonly_fields(&[C::ViewCount, C::AuthorId, C::CreatedAt, C::UpdatedAt])
        .label(C::IsPublished, "Published")
        .label(C::PublishedAt, "Publication date")
        .label(C::AuthorId, "Author")
        .help_text(
            C::Slug,
            "The address of the post: /blog/<slug>. Left empty, it is made from the title.",
        )
        .help_text(
            C::PublishedAt,
            "UTC. Empty when published: now. A future date schedules the post.",
        )
        .help_text(
            C::Body,
            "Markdown: **bold**, *italic*, [a link](https://…), # a heading, - a list; \
             a blank line starts a new paragraph.",
        )
        .help_link(C::Body, "Markdown syntax", MARKDOWN_HELP)
        .allow_blank(C::Slug)
        .foreign_key(
            C::AuthorId,
            ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
        )
        .image(
            C::Image,
            ImageField::new(
                |state: &AppState, upload| Box::pin(images::store(state, upload.bytes)),
                images::url,
            ),
        )
        .audit_ignore(&[C::UpdatedAt])
        .repr(|p: &post::Model| p.title.clone())
        .clean(clean_post)
        .action(
            "publish",
            "Publish selected posts",
            |state, _actor, list| Box::pin(set_posts_published(state, list, true)),
        )
        .action(
            "unpublish",
            "Unpublish selected posts",
            |state, _actor, list| Box::pin(set_posts_published(state, list, false)),
        )
        .on_change(|state, event| Box::pin(after_post_change(state, event)))
        .permit(
            CONTENT_MANAGER,
            &[
                Perm::View,
                Perm::Add,
                Perm::Change,
                Perm::Delete,
                Perm::action("publish"),
                Perm::action("unpublish"),
            ],
        )
}

/// "Hello, World!" → "hello-world"; ASCII letters and digits only.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    // "Привет, мир" → "privet-mir": letters of any script become their closest ASCII
    // (deunicode's tables), so a Cyrillic title gives a readable address.
    let ascii = deunicode::deunicode(title);
    for c in ascii.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(200).collect()
}

fn clean_post(p: &mut post::ActiveModel, ctx: &SaveContext) -> Result<(), Problems<post::Column>> {
    if let Some(Some(at)) = p.published_at.try_as_ref()
        && !year_in_range(at)
    {
        return Err(vec![(
            Some(post::Column::PublishedAt),
            YEAR_OUT_OF_RANGE.into(),
        )]);
    }
    let slug = p.slug.try_as_ref().cloned().unwrap_or_default();
    if slug.is_empty() {
        let title = p.title.try_as_ref().cloned().unwrap_or_default();
        let made = slugify(&title);
        p.slug = Set(if made.is_empty() {
            format!("post-{}", ctx.now.timestamp())
        } else {
            made
        });
    } else if slug != slugify(&slug) {
        return Err(vec![(
            Some(post::Column::Slug),
            "Use lower-case letters, digits and hyphens only.".into(),
        )]);
    }
    if ctx.is_new {
        p.author_id = Set(i32::try_from(ctx.actor.id).ok());
        p.view_count = Set(0);
        p.created_at = Set(ctx.now);
    }
    if p.is_published.try_as_ref() == Some(&true)
        && matches!(p.published_at.try_as_ref(), None | Some(None))
    {
        p.published_at = Set(Some(ctx.now));
    }
    p.updated_at = Set(ctx.now);
    Ok(())
}

async fn set_posts_published(
    state: &AppState,
    list: Vec<post::Model>,
    published: bool,
) -> Result<String, ActionError> {
    use sea_orm::ActiveModelTrait;
    let n = list.len();
    let now = chrono::Utc::now();
    for p in list {
        let keep_date = p.published_at;
        let mut active: post::ActiveModel = p.into();
        active.is_published = Set(published);
        if published && keep_date.is_none() {
            active.published_at = Set(Some(now));
        }
        active.updated_at = Set(now);
        active.update(&state.db).await?;
    }
    let id = if published {
        "flash-admin-posts-published"
    } else {
        "flash-admin-posts-unpublished"
    };
    Ok(crate::i18n::phrase(id, &[("count", &n)]))
}

/// Runs after every admin save, delete or action on posts: the place where the blog's
/// cached pages are dropped once the page cache exists.
/// A post saved, published, unpublished or deleted: the cached blog and home pages go.
async fn after_post_change(state: &AppState, event: &ChangeEvent) {
    tracing::debug!(model = %event.model, action = %event.action, ids = ?event.ids, "posts changed in the admin");
    crate::blog::invalidate(state).await;
}

/// A mailing changed or deleted in the admin: the home page's counts go.
async fn after_mailing_change(state: &AppState, _event: &ChangeEvent) {
    crate::home::invalidate(state).await;
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_readable_in_any_script() {
        assert_eq!(slugify("Autumn sale: 20% off!"), "autumn-sale-20-off");
        assert_eq!(slugify("Привет, мир"), "privet-mir");
        assert_eq!(
            slugify("Осенняя распродажа — скидки"),
            "osenniaia-rasprodazha-skidki"
        );
        assert_eq!(slugify("Grüße aus Köln"), "grusse-aus-koln");
        assert_eq!(slugify("!!!"), "");
    }
}
