//! Tags: an owner's labels on clients (`customers`, `vip`), made on first use. A mailing
//! may target tags; the delivery fan-out resolves them at each occurrence. Names are one
//! line of 1–50 characters without `,` or `;` (the separators of the form and of CSV),
//! stored lower-cased with inner spaces collapsed, unique per owner.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::{client, client_tag, tag};
use crate::i18n::phrase;
use crate::validation::breaks_line;

pub const MAX_NAME_CHARS: usize = 50;
/// Tags one client may carry.
pub const MAX_PER_CLIENT: usize = 50;

/// A name as typed, normalised: trimmed, inner whitespace one space, lower-cased.
pub fn normalize(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// What is wrong with a (normalised) name, if anything.
pub fn problem(name: &str) -> Option<String> {
    let shown: String = name.chars().take(MAX_NAME_CHARS).collect();
    if name.is_empty() {
        Some("A tag needs a name.".to_owned())
    } else if name.contains('\0') || name.chars().any(char::is_control) || breaks_line(name) {
        Some("A tag name cannot hold control characters.".to_owned())
    } else if name.contains([',', ';']) {
        Some(phrase("clients-tag-separator", &[("tag", &shown)]))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(phrase(
            "clients-tag-too-long",
            &[("tag", &shown), ("count", &MAX_NAME_CHARS)],
        ))
    } else {
        None
    }
}

/// Checks names given one by one (the API's array): normalised, each once, in order.
pub fn check_names<S: AsRef<str>>(given: &[S]) -> Result<Vec<String>, Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for raw in given {
        let name = normalize(raw.as_ref());
        match problem(&name) {
            Some(p) => problems.push(p),
            None => {
                if seen.insert(name.clone()) {
                    out.push(name);
                }
            }
        }
    }
    if out.len() > MAX_PER_CLIENT {
        problems.push(format!("At most {MAX_PER_CLIENT} tags a client."));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Splits the form's (or a CSV cell's) text on `,` and `;`, skipping empty parts, and
/// checks the names.
pub fn parse_list(text: &str) -> Result<Vec<String>, Vec<String>> {
    let parts: Vec<&str> = text
        .split([',', ';'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    check_names(&parts)
}

/// The owner's tags, by name.
pub async fn owned<C: ConnectionTrait>(db: &C, owner: i32) -> Result<Vec<tag::Model>, DbErr> {
    tag::Entity::find()
        .filter(tag::Column::OwnerId.eq(owner))
        .order_by_asc(tag::Column::Name)
        .all(db)
        .await
}

/// The owner's tags with these (normalised) names; unknown names are left out.
pub async fn named<C: ConnectionTrait>(
    db: &C,
    owner: i32,
    names: &[String],
) -> Result<Vec<tag::Model>, DbErr> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for chunk in names.chunks(500) {
        found.extend(
            tag::Entity::find()
                .filter(tag::Column::OwnerId.eq(owner))
                .filter(tag::Column::Name.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// The owner's tags with these names, made when missing.
pub async fn ensure<C: ConnectionTrait>(
    db: &C,
    owner: i32,
    names: &[String],
) -> Result<Vec<tag::Model>, DbErr> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<tag::ActiveModel> = names
        .iter()
        .map(|name| tag::ActiveModel {
            owner_id: Set(owner),
            name: Set(name.clone()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    crate::db::insert_new(db, rows, [tag::Column::OwnerId, tag::Column::Name], 500).await?;
    named(db, owner, names).await
}

/// Makes `tag_ids` the tags of `client_id` (the ids are the client owner's).
pub async fn set_for_client<C: ConnectionTrait>(
    db: &C,
    client_id: i32,
    tag_ids: &[i32],
) -> Result<(), DbErr> {
    client_tag::Entity::delete_many()
        .filter(client_tag::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    let pairs: Vec<(i32, i32)> = tag_ids.iter().map(|t| (client_id, *t)).collect();
    link(db, &pairs).await
}

/// Adds (client, tag) pairs; those already there stay.
pub async fn link<C: ConnectionTrait>(db: &C, pairs: &[(i32, i32)]) -> Result<(), DbErr> {
    let rows: Vec<client_tag::ActiveModel> = pairs
        .iter()
        .map(|(client_id, tag_id)| client_tag::ActiveModel {
            client_id: Set(*client_id),
            tag_id: Set(*tag_id),
        })
        .collect();
    crate::db::insert_new(
        db,
        rows,
        [client_tag::Column::ClientId, client_tag::Column::TagId],
        500,
    )
    .await?;
    Ok(())
}

/// The tag names of each of `client_ids`, sorted.
pub async fn of_clients<C: ConnectionTrait>(
    db: &C,
    client_ids: &[i32],
) -> Result<HashMap<i32, Vec<String>>, DbErr> {
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    for chunk in client_ids.chunks(1000) {
        let rows: Vec<(i32, String)> = client_tag::Entity::find()
            .select_only()
            .column(client_tag::Column::ClientId)
            .column(tag::Column::Name)
            .inner_join(tag::Entity)
            .filter(client_tag::Column::ClientId.is_in(chunk.iter().copied()))
            .order_by_asc(tag::Column::Name)
            .into_tuple()
            .all(db)
            .await?;
        for (client_id, name) in rows {
            out.entry(client_id).or_default().push(name);
        }
    }
    Ok(out)
}

/// A condition on clients: carries the owner's tag named `name` (normalised here).
pub fn carrying(owner: i32, name: &str) -> SimpleExpr {
    Expr::col((client::Entity, client::Column::Id)).in_subquery(
        Query::select()
            .column((client_tag::Entity, client_tag::Column::ClientId))
            .from(client_tag::Entity)
            .inner_join(
                tag::Entity,
                Expr::col((tag::Entity, tag::Column::Id))
                    .equals((client_tag::Entity, client_tag::Column::TagId)),
            )
            .and_where(Expr::col((tag::Entity, tag::Column::OwnerId)).eq(owner))
            .and_where(Expr::col((tag::Entity, tag::Column::Name)).eq(normalize(name)))
            .to_owned(),
    )
}
