//! `/`: the public home page, the same for everyone. Anonymous visitors get the cached
//! anonymous HTML with three of its pre-rendered post cards picked per request; everybody
//! else a page rendered from the cached data.

use chrono::Utc;
use minijinja::Value;
use poem::web::Data;
use poem::{IntoResponse, Request, Response, handler};
use rand::seq::IndexedRandom;

use super::SECTION;
use super::service::{HomeData, home_data, next_change};
use crate::blog::service::Summary;
use crate::cache::{Computed, Lookup};
use crate::state::AppState;
use crate::web::public::{CACHE_HEADER, anonymous_response, render_anonymous, sees_anonymous_page};
use crate::web::{AppError, Page};

const TEMPLATE: &str = "home/index.html";
const CARD_TEMPLATE: &str = "home/post_card.html";
/// Posts shown per view.
pub const SHOWN_POSTS: usize = 3;
/// In the cached HTML: where the chosen cards go, where the cards start, and between cards.
const POSTS_SLOT: &str = "<!--random-posts-->";
const CARDS: &str = "<!--cards-->";
const CARD: &str = "<!--card-->";

#[handler]
pub async fn home(req: &Request, Data(state): Data<&AppState>) -> Result<Response, AppError> {
    if sees_anonymous_page(req) {
        return Ok(anonymous_home(state, req).await?);
    }
    let (data, lookup) = data(state).await?;
    let shown: Vec<Summary> = data
        .posts
        .sample(&mut rand::rng(), SHOWN_POSTS)
        .cloned()
        .collect();
    Ok(
        Page::new(TEMPLATE, context(&data, &shown, Value::UNDEFINED))
            .with_header(CACHE_HEADER, lookup.as_str())
            .into_response(),
    )
}

/// The home page as every anonymous visitor sees it (this one's CSRF token filled in).
pub async fn anonymous_home(state: &AppState, req: &Request) -> anyhow::Result<Response> {
    let (cached, lookup) = state
        .cache
        .get_or_compute(SECTION, "html", || async {
            let (data, _) = data(state).await?;
            let slot = Value::from_safe_string(POSTS_SLOT.to_owned());
            let mut html = render_anonymous(state, TEMPLATE, "/", context(&data, &[], slot))?;
            html.push_str(CARDS);
            for (i, post) in data.posts.iter().enumerate() {
                if i > 0 {
                    html.push_str(CARD);
                }
                let card = state.templates.render(
                    CARD_TEMPLATE,
                    None,
                    minijinja::context! { post => Value::from(minijinja::value::Serde(post)) },
                );
                html.push_str(&card.map_err(|e| anyhow::anyhow!("{CARD_TEMPLATE}: {e:#}"))?);
            }
            Ok(Some(Computed {
                value: html,
                ttl: state.config.pages.ttl(),
            }))
        })
        .await?;
    let cached = cached.ok_or_else(|| anyhow::anyhow!("the home page computed to nothing"))?;
    Ok(anonymous_response(req, &with_random_cards(&cached), lookup))
}

fn context(data: &HomeData, shown: &[Summary], posts_slot: Value) -> Value {
    minijinja::context! {
        stats => Value::from(minijinja::value::Serde(data)),
        has_posts => !data.posts.is_empty(),
        posts => Value::from(minijinja::value::Serde(shown)),
        posts_slot => posts_slot,
    }
}

/// The cached page with three of its cards, picked at random, in the slot.
fn with_random_cards(cached: &str) -> String {
    let (page, cards) = cached.split_once(CARDS).unwrap_or((cached, ""));
    let cards: Vec<&str> = if cards.is_empty() {
        Vec::new()
    } else {
        cards.split(CARD).collect()
    };
    let chosen: String = cards
        .sample(&mut rand::rng(), SHOWN_POSTS)
        .copied()
        .collect();
    page.replacen(POSTS_SLOT, &chosen, 1)
}

async fn data(state: &AppState) -> anyhow::Result<(HomeData, Lookup)> {
    let (json, lookup) = state
        .cache
        .get_or_compute(SECTION, "data", || async {
            let now = Utc::now();
            let data = home_data(&state.db, now).await?;
            let next = next_change(&state.db, now).await?;
            Ok(Some(Computed {
                value: serde_json::to_string(&data)?,
                ttl: super::until(state.config.pages.ttl(), now, next),
            }))
        })
        .await?;
    let json = json.ok_or_else(|| anyhow::anyhow!("the home data computed to nothing"))?;
    Ok((serde_json::from_str(&json)?, lookup))
}
