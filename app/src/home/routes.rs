//! `/`: the public home page, the same for everyone. Anonymous visitors get the cached
//! anonymous HTML with three of its pre-rendered post cards picked per request; everybody
//! else a page rendered from the cached data.

use chrono::Utc;
use futures::future::BoxFuture;
use minijinja::Value;
use poem::web::Data;
use poem::{IntoResponse, Request, Response, handler};
use rand::seq::IndexedRandom;

use super::SECTION;
use super::service::{HomeData, home_data, next_change};
use crate::blog::service::Summary;
use crate::cache::{Computed, Lookup};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::public::{
    CACHE_HEADER, anonymous_response, marks, render_anonymous, sees_anonymous_page, with_marks,
};
use crate::web::{Page, language};

const TEMPLATE: &str = "home/index.html";
const CARD_TEMPLATE: &str = "home/post_card.html";
/// Posts shown per view.
pub const SHOWN_POSTS: usize = 3;
/// Where the chosen cards go in the anonymous page as rendered (cut out before caching).
const POSTS_SLOT: &str = "<!--random-posts-->";

#[handler]
pub async fn home(req: &Request, Data(state): Data<&AppState>) -> Result<Response, AppError> {
    if sees_anonymous_page(req) {
        return Ok(anonymous_home(state, language::of(req)).await?);
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

/// The home page as every anonymous visitor in `lang` sees it, three of its cards picked at
/// random.
pub async fn anonymous_home(state: &AppState, lang: Lang) -> anyhow::Result<Response> {
    let field = format!("page:{}", lang.code());
    let (cached, lookup) = state
        .cache
        .get_or_compute(SECTION, &field, || async {
            let (data, _) = data(state).await?;
            let slot = Value::from_safe_string(POSTS_SLOT.to_owned());
            let html = render_anonymous(state, lang, TEMPLATE, "/", context(&data, &[], slot))?;
            let mut cards = Vec::with_capacity(data.posts.len());
            for post in &data.posts {
                let card = state.templates.render(
                    CARD_TEMPLATE,
                    None,
                    minijinja::context! {
                        post => Value::from(minijinja::value::Serde(post)),
                        lang => lang.code(),
                    },
                );
                cards.push(card.map_err(|e| anyhow::anyhow!("{CARD_TEMPLATE}: {e:#}"))?);
            }
            Ok(Some(Computed {
                value: pack(&html, &cards)?,
                ttl: state.config.pages.ttl(),
            }))
        })
        .await?;
    let cached = cached.ok_or_else(|| anyhow::anyhow!("the home page computed to nothing"))?;
    let page = with_random_cards(&cached).ok_or_else(|| anyhow::anyhow!("bad cached home page"))?;
    Ok(anonymous_response(page.into(), lookup))
}

/// `anonymous_home` for the public fast path (`Site::public_page`).
pub fn anonymous_page<'a>(
    state: &'a AppState,
    req: &'a Request,
    _params: &'a [&'a str],
) -> BoxFuture<'a, anyhow::Result<Option<Response>>> {
    Box::pin(async move {
        anonymous_home(state, language::anonymous(req))
            .await
            .map(Some)
    })
}

/// The page (its cards' slot cut out) followed by every card, marked where the slot was,
/// where the page ends and where each card ends.
fn pack(html: &str, cards: &[String]) -> anyhow::Result<String> {
    let mut body = String::with_capacity(html.len() + cards.iter().map(String::len).sum::<usize>());
    // Without posts the page has no slot (and there are no cards to put in).
    let slot = match html.find(POSTS_SLOT) {
        Some(slot) => {
            body.push_str(&html[..slot]);
            body.push_str(&html[slot + POSTS_SLOT.len()..]);
            slot
        }
        None if cards.is_empty() => {
            body.push_str(html);
            html.len()
        }
        None => anyhow::bail!("{TEMPLATE} has no place for the posts"),
    };
    let mut marks = vec![slot, body.len()];
    for card in cards {
        body.push_str(card);
        marks.push(body.len());
    }
    Ok(with_marks(&marks, &body))
}

/// The cached page with three of its cards, picked at random, where the slot was.
fn with_random_cards(cached: &str) -> Option<String> {
    let (marks, body) = marks(cached)?;
    let (&slot, rest) = marks.split_first()?;
    let (&page_end, card_ends) = rest.split_first()?;
    // Card `i` (below `card_ends.len()`) starts where the one before it ends.
    let card = |i: usize| {
        let start = if i == 0 { page_end } else { card_ends[i - 1] };
        body.get(start..card_ends[i])
    };
    let chosen = rand::seq::index::sample(
        &mut rand::rng(),
        card_ends.len(),
        SHOWN_POSTS.min(card_ends.len()),
    );
    let mut page = String::with_capacity(body.len());
    page.push_str(body.get(..slot)?);
    for i in chosen {
        page.push_str(card(i)?);
    }
    page.push_str(body.get(slot..page_end)?);
    Some(page)
}

fn context(data: &HomeData, shown: &[Summary], posts_slot: Value) -> Value {
    minijinja::context! {
        stats => Value::from(minijinja::value::Serde(data)),
        has_posts => !data.posts.is_empty(),
        posts => Value::from(minijinja::value::Serde(shown)),
        posts_slot => posts_slot,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_different_cards_fill_the_slot() {
        let cards: Vec<String> = (0..12).map(|i| format!("<c{i}>")).collect();
        let cached = pack(&format!("<head>{POSTS_SLOT}<tail>"), &cards).unwrap();
        for _ in 0..50 {
            let page = with_random_cards(&cached).unwrap();
            let inner = page
                .strip_prefix("<head>")
                .and_then(|p| p.strip_suffix("<tail>"))
                .unwrap();
            let shown: std::collections::HashSet<&str> = inner.split_inclusive('>').collect();
            assert_eq!(shown.len(), SHOWN_POSTS, "{page}");
            assert!(shown.iter().all(|c| cards.iter().any(|k| k == c)), "{page}");
        }
    }

    #[test]
    fn a_page_without_posts_stays_whole() {
        let cached = pack("<head><tail>", &[]).unwrap();
        assert_eq!(with_random_cards(&cached).as_deref(), Some("<head><tail>"));
        assert!(pack("<head><tail>", &["<c>".to_owned()]).is_err());
    }
}
