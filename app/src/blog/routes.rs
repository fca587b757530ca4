//! `/blog` and `/blog/:slug`. Anonymous visitors get the cached anonymous HTML; everybody
//! else a page rendered from the cached data. Either way a post view is counted.

use chrono::Utc;
use futures::future::BoxFuture;
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::service::{self, Article, ListPage};
use super::{SECTION, views};
use crate::cache::{Computed, Lookup};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::public::{
    CACHE_HEADER, anonymous_response, marks, render_anonymous, sees_anonymous_page, shared_body,
    with_marks,
};
use crate::web::{Page, language};

const LIST_TEMPLATE: &str = "blog/list.html";
const POST_TEMPLATE: &str = "blog/post.html";
/// Where a post's view count goes in its cached HTML (filled per request).
const VIEWS_SLOT: &str = "<!--views-->";

fn list_field(page: u64) -> String {
    format!("list:{page}")
}

/// Anonymous pages are kept under `…:page` (the `…:html` of older versions held a CSRF
/// slot: a new name keeps a shared Redis from serving those after an upgrade).
fn list_html_field(page: u64, lang: Lang) -> String {
    format!("list:{page}:page:{}", lang.code())
}

pub(super) fn article_field(slug: &str) -> String {
    format!("post:{slug}")
}

/// The cached page of a post in `lang`.
pub(super) fn article_html_field(slug: &str, lang: Lang) -> String {
    format!("post:{slug}:page:{}", lang.code())
}

/// "12 views" in `lang`, the number in `#view-count`.
fn views_html(state: &AppState, lang: Lang, views: i64) -> minijinja::Value {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("count", views);
    let word = state
        .templates
        .catalog()
        .text(lang, "blog-views", Some(&args));
    minijinja::Value::from_safe_string(format!(
        "<span id=\"view-count\">{}</span> {}",
        lang.number(views as f64),
        minijinja::HtmlEscape(&word)
    ))
}

#[derive(Debug, Deserialize)]
pub struct BlogQuery {
    page: Option<u64>,
}

#[handler]
pub async fn list_posts(
    req: &Request,
    Data(state): Data<&AppState>,
    Query(query): Query<BlogQuery>,
) -> Result<Response, AppError> {
    let page = query.page.unwrap_or(1);
    if sees_anonymous_page(req) {
        return anonymous_list(state, language::of(req), page)
            .await?
            .ok_or(AppError::NotFound);
    }
    let (list, lookup) = list_data(state, page).await?;
    let list = list.ok_or(AppError::NotFound)?;
    Ok(Page::new(LIST_TEMPLATE, list_context(&list))
        .fragment("post-list", "posts")
        .with_header(CACHE_HEADER, lookup.as_str())
        .into_response())
}

/// Page `page` of the list as every anonymous visitor sees it; `None` past the last page.
pub async fn anonymous_list(
    state: &AppState,
    lang: Lang,
    page: u64,
) -> anyhow::Result<Option<Response>> {
    let (html, lookup) = state
        .cache
        .get_or_compute(SECTION, &list_html_field(page, lang), || async {
            let Some(list) = list_data(state, page).await?.0 else {
                return Ok(None);
            };
            let html = render_anonymous(state, lang, LIST_TEMPLATE, "/blog", list_context(&list))?;
            Ok(Some(Computed {
                value: html,
                ttl: state.config.pages.ttl(),
            }))
        })
        .await?;
    Ok(html.map(|html| anonymous_response(shared_body(html), lookup)))
}

/// `anonymous_list` for the public fast path (`Site::public_page`), for `?page=N` (page 1
/// without it); any other query goes on to `list_posts`, which judges it.
pub fn anonymous_list_page<'a>(
    state: &'a AppState,
    req: &'a Request,
    _params: &'a [&'a str],
) -> BoxFuture<'a, anyhow::Result<Option<Response>>> {
    Box::pin(async move {
        match list_page(req) {
            Some(page) => anonymous_list(state, language::anonymous(req), page).await,
            None => Ok(None),
        }
    })
}

/// `?page=N` of the list (1 without it); `None` for anything `list_posts` should judge.
fn list_page(req: &Request) -> Option<u64> {
    let Some(query) = req.uri().query() else {
        return Some(1);
    };
    let mut page = Some(1);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "page" {
            page = value.parse().ok();
        }
    }
    page
}

fn list_context(list: &ListPage) -> minijinja::Value {
    minijinja::context! { list => minijinja::Value::from(minijinja::value::Serde(list)) }
}

/// One page of the list, from the cache or the database.
async fn list_data(state: &AppState, page: u64) -> anyhow::Result<(Option<ListPage>, Lookup)> {
    let (json, lookup) = state
        .cache
        .get_or_compute(SECTION, &list_field(page), || async {
            let now = Utc::now();
            let Some(list) = service::list(&state.db, page, now).await? else {
                return Ok(None);
            };
            Ok(Some(Computed {
                value: serde_json::to_string(&list)?,
                ttl: super::ttl(state, now).await?,
            }))
        })
        .await?;
    Ok((json.map(|j| serde_json::from_str(&j)).transpose()?, lookup))
}

#[handler]
pub async fn show_post(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    if slug.len() > 200 {
        return Err(AppError::NotFound);
    }
    if sees_anonymous_page(req) {
        return anonymous_post(state, language::of(req), &slug)
            .await?
            .ok_or(AppError::NotFound);
    }
    let (article, lookup) = article_data(state, &slug).await?;
    let article = article.ok_or(AppError::NotFound)?;
    let views = article.view_count + views::count(state, article.id).await;
    let views = views_html(state, language::of(req), views);
    Ok(Page::new(POST_TEMPLATE, article_context(&article, views))
        .with_header(CACHE_HEADER, lookup.as_str())
        .into_response())
}

/// `anonymous_post` for the public fast path (`Site::public_page` of `/blog/:slug`).
pub fn anonymous_post_page<'a>(
    state: &'a AppState,
    req: &'a Request,
    params: &'a [&'a str],
) -> BoxFuture<'a, anyhow::Result<Option<Response>>> {
    Box::pin(async move {
        match params {
            [slug] => anonymous_post(state, language::anonymous(req), slug).await,
            _ => Ok(None),
        }
    })
}

/// The post at `slug` as every anonymous visitor sees it, this view counted; `None` when
/// there is no such published post.
pub async fn anonymous_post(
    state: &AppState,
    lang: Lang,
    slug: &str,
) -> anyhow::Result<Option<Response>> {
    let (cached, lookup) = state
        .cache
        .get_or_compute(SECTION, &article_html_field(slug, lang), || async {
            let Some(article) = article_data(state, slug).await?.0 else {
                return Ok(None);
            };
            let ctx = article_context(
                &article,
                minijinja::Value::from_safe_string(VIEWS_SLOT.to_owned()),
            );
            let html = render_anonymous(state, lang, POST_TEMPLATE, &format!("/blog/{slug}"), ctx)?;
            let slot = html
                .find(VIEWS_SLOT)
                .ok_or_else(|| anyhow::anyhow!("{POST_TEMPLATE} has no place for the views"))?;
            let page = format!("{}{}", &html[..slot], &html[slot + VIEWS_SLOT.len()..]);
            Ok(Some(Computed {
                value: format!(
                    "{}\n{}\n{}",
                    article.id,
                    article.view_count,
                    with_marks(&[slot], &page)
                ),
                ttl: state.config.pages.ttl(),
            }))
        })
        .await?;
    let Some(cached) = cached else {
        return Ok(None);
    };
    let (id, counted, slot, html) =
        split_cached_article(&cached).ok_or_else(|| anyhow::anyhow!("bad cached post page"))?;
    let views = views_html(state, lang, counted + views::count(state, id).await).to_string();
    let (head, tail) = html.split_at(slot);
    let mut page = String::with_capacity(html.len() + views.len());
    page.push_str(head);
    page.push_str(&views);
    page.push_str(tail);
    Ok(Some(anonymous_response(page.into(), lookup)))
}

/// `id \n database view count \n marked html` → its parts (the views' place in the html).
fn split_cached_article(cached: &str) -> Option<(i32, i64, usize, &str)> {
    let (id, rest) = cached.split_once('\n')?;
    let (counted, rest) = rest.split_once('\n')?;
    let (marks, html) = marks(rest)?;
    Some((
        id.parse().ok()?,
        counted.parse().ok()?,
        *marks.first()?,
        html,
    ))
}

fn article_context(article: &Article, views: minijinja::Value) -> minijinja::Value {
    minijinja::context! {
        post => minijinja::Value::from(minijinja::value::Serde(article)),
        body => minijinja::Value::from_safe_string(article.body_html.clone()),
        views => views,
    }
}

async fn article_data(state: &AppState, slug: &str) -> anyhow::Result<(Option<Article>, Lookup)> {
    let (json, lookup) = state
        .cache
        .get_or_compute(SECTION, &article_field(slug), || async {
            let now = Utc::now();
            let Some(article) = service::article(&state.db, slug, now).await? else {
                return Ok(None);
            };
            Ok(Some(Computed {
                value: serde_json::to_string(&article)?,
                ttl: super::ttl(state, now).await?,
            }))
        })
        .await?;
    Ok((json.map(|j| serde_json::from_str(&j)).transpose()?, lookup))
}
