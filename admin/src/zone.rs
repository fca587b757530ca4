//! The viewer's time zone, as the application knows it: the admin counts its date filters'
//! days ("today", "this month") in it. The application gives the conversions (its own rule
//! for local times that do not exist or exist twice), so the admin needs no zone database.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

type ToUtc = dyn Fn(NaiveDateTime) -> DateTime<Utc> + Send + Sync;
type ToLocal = dyn Fn(DateTime<Utc>) -> NaiveDateTime + Send + Sync;

/// A named time zone: local wall-clock time to the instant, and back. The default is UTC.
#[derive(Clone)]
pub struct Zone {
    name: String,
    to_utc: Arc<ToUtc>,
    to_local: Arc<ToLocal>,
}

impl Zone {
    /// The zone `name` with its conversions.
    pub fn new(
        name: impl Into<String>,
        to_utc: impl Fn(NaiveDateTime) -> DateTime<Utc> + Send + Sync + 'static,
        to_local: impl Fn(DateTime<Utc>) -> NaiveDateTime + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            to_utc: Arc::new(to_utc),
            to_local: Arc::new(to_local),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant of a local wall-clock time.
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        (self.to_utc)(local)
    }

    /// The local wall-clock time of an instant.
    pub fn to_local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        (self.to_local)(at)
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self::new("UTC", |local| local.and_utc(), |at| at.naive_utc())
    }
}

/// Zones are the same when their names are.
impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}
