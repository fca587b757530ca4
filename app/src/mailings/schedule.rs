//! Time rules of a mailing: its status follows the clock.

use chrono::{DateTime, Utc};

use crate::entities::mailing::{self, MailingStatus};

/// created before the start, running inside [start, end), finished from the end on.
pub fn status_at(mailing: &mailing::Model, now: DateTime<Utc>) -> MailingStatus {
    if now >= mailing.end_at {
        MailingStatus::Finished
    } else if now < mailing.start_at {
        MailingStatus::Created
    } else {
        MailingStatus::Running
    }
}
