//! sea-orm entities, one file per table (the schema itself lives in the `migration` crate).

pub mod admin_log;
pub mod api_token;
pub mod attempt;
pub mod client;
pub mod client_tag;
pub mod delivery;
pub mod fan_out;
pub mod feedback;
pub mod global_suppression;
pub mod mailing;
pub mod mailing_client;
pub mod mailing_tag;
pub mod message;
pub mod post;
pub mod report_slot;
pub mod suppression;
pub mod tag;
pub mod user;

/// The Entity types under short names, plus the enumerated column types.
pub mod prelude {
    pub use super::admin_log::Entity as AdminLog;
    pub use super::api_token::Entity as ApiToken;
    pub use super::attempt::{AttemptStatus, Entity as Attempt};
    pub use super::client::Entity as Client;
    pub use super::client_tag::Entity as ClientTag;
    pub use super::delivery::{DeliveryStatus, Entity as Delivery};
    pub use super::feedback::{Entity as Feedback, Kind as FeedbackKind};
    pub use super::global_suppression::Entity as GlobalSuppression;
    pub use super::mailing::{Entity as Mailing, MailingStatus, Periodicity};
    pub use super::mailing_client::Entity as MailingClient;
    pub use super::mailing_tag::Entity as MailingTag;
    pub use super::message::Entity as Message;
    pub use super::post::Entity as Post;
    pub use super::report_slot::Entity as ReportSlot;
    pub use super::suppression::{Entity as Suppression, Reason as SuppressionReason};
    pub use super::tag::Entity as Tag;
    pub use super::user::{Entity as User, Role};
}
