//! Sessions and the signed-in user. Sessions live in the `Cache` (fred on Redis, or the
//! in-process store) through poem's `SessionStorage`; no second Redis client is involved.
//! Each session remembers when it signed in: a user whose `sessions_valid_after` is later
//! (blocked, password changed) is logged out on the next request, on every device at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use poem::error::InternalServerError;
use poem::session::{Session, SessionStorage};
use poem::{Endpoint, FromRequest, Request, RequestBody};
use sea_orm::EntityTrait;

use crate::cache::Cache;
use crate::entities::user;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::flash::flash;
use crate::web::page::{PageContext, VIEWER};

/// How long a session lasts without activity that changes it.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
pub const COOKIE_NAME: &str = "mailer_session";

const USER_ID: &str = "uid";
const SIGNED_IN_AT: &str = "signed_in_at";

pub struct CacheSessionStorage {
    cache: Cache,
}

impl CacheSessionStorage {
    pub fn new(cache: Cache) -> Self {
        Self { cache }
    }

    fn key(id: &str) -> String {
        format!("session:{id}")
    }
}

impl SessionStorage for CacheSessionStorage {
    async fn load_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> poem::Result<Option<BTreeMap<String, serde_json::Value>>> {
        let raw = self
            .cache
            .get(&Self::key(session_id))
            .await
            .map_err(internal)?;
        Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn update_session<'a>(
        &'a self,
        session_id: &'a str,
        entries: &'a BTreeMap<String, serde_json::Value>,
        expires: Option<Duration>,
    ) -> poem::Result<()> {
        let json = serde_json::to_string(entries).map_err(InternalServerError)?;
        self.cache
            .set(&Self::key(session_id), &json, expires.or(Some(SESSION_TTL)))
            .await
            .map_err(internal)
    }

    async fn remove_session<'a>(&'a self, session_id: &'a str) -> poem::Result<()> {
        self.cache
            .delete(&Self::key(session_id))
            .await
            .map_err(internal)
    }
}

/// A failing session store (Redis down, or skipped by its circuit): the site's 503 page.
fn internal(e: anyhow::Error) -> poem::Error {
    AppError::from_store(e.context("session store failed")).into()
}

/// Signs `user` in: a new session id (against fixation) that remembers the time.
pub fn sign_in(session: &Session, user: &user::Model) {
    session.renew();
    session.set(USER_ID, user.id);
    session.set(SIGNED_IN_AT, Utc::now().timestamp_millis());
}

/// Ends the sign-in: the data goes and the session id changes. (Not `purge()`: after it,
/// poem ignores every `set`, so the "you have signed out" message would be lost.)
pub fn sign_out(session: &Session) {
    session.clear();
    session.renew();
}

/// The visitor: a signed-in, active, verified user, or nobody.
#[derive(Clone, Default)]
pub struct Viewer(pub Option<Arc<user::Model>>);

/// Loads the session's user once per request and ends sessions that are no longer valid.
/// A signed-in user goes into the page context as `viewer` (what the templates show of
/// them, and what keeps the request off the shared anonymous page).
pub async fn load_viewer<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<E::Output> {
    let session = req.extensions().get::<Session>().cloned();
    let state = req.data::<AppState>().cloned();
    let mut viewer = Viewer::default();
    if let (Some(session), Some(state)) = (session, state)
        && let Some(user_id) = session.get::<i32>(USER_ID)
    {
        let signed_in_at = session.get::<i64>(SIGNED_IN_AT).unwrap_or(0);
        let user = user::Entity::find_by_id(user_id)
            .one(&state.db)
            .await
            .map_err(AppError::from)?;
        match user {
            Some(user) if session_is_valid(&user, signed_in_at) => {
                let mut page = req
                    .extensions()
                    .get::<PageContext>()
                    .cloned()
                    .unwrap_or_default();
                page.0.insert(
                    VIEWER,
                    minijinja::context! {
                        id => user.id,
                        email => user.email.clone(),
                        role => user.role.as_str(),
                        avatar => user.avatar.clone(),
                        language => user.language.clone(),
                        timezone => user.timezone.clone(),
                    },
                );
                req.extensions_mut().insert(page);
                viewer = Viewer(Some(Arc::new(user)));
                metrics::counter!(crate::monitoring::SESSIONS, "kind" => "signed_in").increment(1);
            }
            Some(user) => {
                sign_out(&session);
                let text = if user.is_active {
                    "You have been signed out. Please sign in again."
                } else {
                    "Your account has been blocked. Contact the service's managers."
                };
                flash(&session, "error", text);
            }
            None => sign_out(&session),
        }
    }
    if viewer.0.is_none() {
        metrics::counter!(crate::monitoring::SESSIONS, "kind" => "anonymous").increment(1);
    }
    req.extensions_mut().insert(viewer);
    ep.call(req).await
}

fn session_is_valid(user: &user::Model, signed_in_at_ms: i64) -> bool {
    user.is_active
        && user.is_verified
        && user
            .sessions_valid_after
            .is_none_or(|after| signed_in_at_ms >= after.timestamp_millis())
}

impl<'a> FromRequest<'a> for Viewer {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(req
            .extensions()
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default())
    }
}

/// A handler argument that requires a signed-in user (anonymous visitors are sent to the
/// login page and come back afterwards).
pub struct AuthUser(pub Arc<user::Model>);

impl<'a> FromRequest<'a> for AuthUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match req.extensions().get::<Viewer>().and_then(|v| v.0.clone()) {
            Some(user) => Ok(AuthUser(user)),
            None => {
                let next = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into());
                Err(AppError::LoginRequired(next).into())
            }
        }
    }
}
