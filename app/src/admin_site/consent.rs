//! The suppression lists in the back office: the instance's global list, which managers
//! keep (an address on it is mailed by no user), and every owner's list, which they may
//! read but not change — an unsubscribe or a complaint is the recipient's alone to lift.

use admin::{ForeignKey, ModelAdmin, Perm};

use super::Problems;
use sea_orm::Set;
use validator::ValidateEmail;

use super::MANAGER;
use crate::entities::suppression::Reason;
use crate::entities::{global_suppression, suppression, user};
use crate::state::AppState;

fn reasons() -> Vec<(&'static str, &'static str)> {
    [
        Reason::Unsubscribed,
        Reason::Bounced,
        Reason::Complained,
        Reason::Listed,
    ]
    .iter()
    .map(|r| (r.as_str(), r.label()))
    .collect()
}

pub fn global_suppressions() -> ModelAdmin<global_suppression::Entity, AppState> {
    use global_suppression::Column as C;
    ModelAdmin::<global_suppression::Entity, AppState>::new(
        "global_suppressions",
        "Global suppression",
        "Global suppression list",
    )
    .list_display(&[C::Email, C::Reason, C::Detail, C::AddedBy, C::CreatedAt])
    .search_fields(&[C::Email, C::Detail])
    .list_filter(&[C::Reason, C::CreatedAt])
    .ordering(C::CreatedAt, true)
    .fields(&[C::Email, C::Reason, C::Detail, C::AddedBy, C::CreatedAt])
    .readonly_fields(&[C::AddedBy, C::CreatedAt])
    .label(C::Email, "E-mail")
    .label(C::Detail, "Note")
    .label(C::AddedBy, "Added by")
    .allow_blank(C::Detail)
    .choices(C::Reason, &reasons())
    .foreign_key(
        C::AddedBy,
        ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
    )
    .repr(|g: &global_suppression::Model| g.email.clone())
    .clean(|g: &mut global_suppression::ActiveModel, ctx| {
        let mut problems: Problems<global_suppression::Column> = Vec::new();
        if let Some(email) = g.email.try_as_ref().cloned() {
            let email = email.trim().to_lowercase();
            if !email.validate_email() || email.len() > 254 {
                problems.push((
                    Some(global_suppression::Column::Email),
                    "Enter a valid e-mail address.".into(),
                ));
            }
            g.email = Set(email);
        }
        if ctx.is_new {
            g.created_at = Set(ctx.now);
            g.added_by = Set(i32::try_from(ctx.actor.id).ok());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    })
    .permit(
        MANAGER,
        &[Perm::View, Perm::Add, Perm::Change, Perm::Delete],
    )
}

pub fn suppressions() -> ModelAdmin<suppression::Entity, AppState> {
    use suppression::Column as C;
    ModelAdmin::<suppression::Entity, AppState>::new(
        "suppressions",
        "Suppression",
        "Users' suppression lists",
    )
    .list_display(&[C::Email, C::Reason, C::OwnerId, C::CreatedAt])
    .list_computed("Note or reply", |s: &suppression::Model| {
        s.detail.as_deref().unwrap_or("").chars().take(80).collect()
    })
    .search_fields(&[C::Email, C::Detail, C::OwnerId])
    .list_filter(&[C::Reason, C::CreatedAt])
    .ordering(C::CreatedAt, true)
    .readonly_fields(&[C::OwnerId, C::Email, C::Reason, C::Detail, C::CreatedAt])
    .label(C::OwnerId, "Owner")
    .label(C::Email, "E-mail")
    .label(C::Detail, "Note or reply")
    .choices(C::Reason, &reasons())
    .foreign_key(
        C::OwnerId,
        ForeignKey::to::<user::Entity>(user::Column::Email).raw_id(),
    )
    .repr(|s: &suppression::Model| format!("{} ({})", s.email, s.reason.as_str()))
    // The owners' and the recipients' word: read here, changed nowhere in the admin.
    .disable(Perm::Add)
    .disable(Perm::Change)
    .disable(Perm::Delete)
    .permit(MANAGER, &[Perm::View])
}
