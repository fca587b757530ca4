//! Flash messages: a message kept in the visitor's session and shown once, on the next
//! page rendered in full (`page::render_pages` takes them).

use poem::session::Session;
use serde::{Deserialize, Serialize};

const FLASH: &str = "flash";

/// A message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub text: String,
}

pub fn flash(session: &Session, kind: &str, text: impl Into<String>) {
    let mut list: Vec<Flash> = session.get(FLASH).unwrap_or_default();
    list.push(Flash {
        kind: kind.to_owned(),
        text: text.into(),
    });
    session.set(FLASH, list);
}

/// Is a message waiting to be shown (without taking it)?
pub fn has_flashes(session: &Session) -> bool {
    session
        .get::<Vec<Flash>>(FLASH)
        .is_some_and(|list| !list.is_empty())
}

pub fn take_flashes(session: &Session) -> Vec<Flash> {
    let list: Vec<Flash> = session.get(FLASH).unwrap_or_default();
    if !list.is_empty() {
        session.remove(FLASH);
    }
    list
}
