//! The search box: what `q` matches. Text columns contain it (case-insensitively, with LIKE
//! wildcards escaped), integer columns equal it, foreign keys match through the label of the
//! row they point at.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait};

use crate::AdminState;
use crate::field::FieldKind;
use crate::model::ModelAdmin;

/// LIKE patterns for a search: lower-cased (for `LOWER(column)`), as typed, and capitalised
/// — SQLite's `LOWER()` folds only ASCII, so "мар" must also be tried as "Мар".
pub fn like_patterns(q: &str) -> Vec<String> {
    // NUL cannot be searched for (PostgreSQL refuses it in text): it is dropped.
    let q = q.replace('\0', "");
    let q = q.trim();
    if q.is_empty() {
        return Vec::new();
    }
    let pattern = |s: &str| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    };
    let lower = q.to_lowercase();
    let mut chars = lower.chars();
    let capitalised: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let mut patterns = vec![pattern(&lower), pattern(q), pattern(&capitalised)];
    patterns.dedup();
    patterns
}

/// Any of `columns` contains the search: `LOWER(column)` matches the first of the
/// [`like_patterns`], the column as stored matches one of the others. None when there are
/// no patterns (the search is empty). The admin and the site's own lists both search
/// through this, so a search finds the same rows on every page.
pub fn like_any<C: ColumnTrait>(columns: &[C], patterns: &[String]) -> Option<Condition> {
    let (lower, others) = patterns.split_first()?;
    let mut any = Condition::any();
    for column in columns {
        any = any.add(
            Expr::expr(Func::lower(Expr::col(*column))).like(LikeExpr::new(lower).escape('\\')),
        );
        for other in others {
            any = any.add(Expr::col(*column).like(LikeExpr::new(other).escape('\\')));
        }
    }
    Some(any)
}

impl<E: EntityTrait, S: AdminState> ModelAdmin<E, S> {
    /// The rows the search `q` matches in any of the search fields; None for an empty one.
    pub(crate) fn search_condition(&self, q: &str) -> Option<Condition> {
        let patterns = like_patterns(q);
        if patterns.is_empty() {
            return None;
        }
        let mut any = Condition::any();
        for column in &self.search_fields {
            let info = self.info(*column);
            match info.kind {
                FieldKind::ForeignKey => {
                    if let Some(sub) = self
                        .foreign_keys
                        .get(info.name)
                        .and_then(|fk| (fk.search)(&patterns))
                    {
                        any = any.add(column.in_subquery(sub));
                    }
                }
                FieldKind::Integer => {
                    if let Ok(n) = q.trim().parse::<i64>() {
                        any = any.add(column.eq(n));
                    }
                }
                _ => {
                    if let Some(like) = like_any(&[*column], &patterns) {
                        any = any.add(like);
                    }
                }
            }
        }
        // A search nothing can match (no searchable column) finds nothing.
        Some(if any.is_empty() {
            Condition::all().add(Expr::val(1).eq(0))
        } else {
            any
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_patterns;

    #[test]
    fn patterns_escape_wildcards_and_try_the_capitalised_form() {
        assert!(like_patterns(" \0 ").is_empty(), "nothing to search for");
        assert_eq!(
            like_patterns("мАР"),
            ["%мар%", "%мАР%", "%Мар%"],
            "lower-cased, as typed, capitalised"
        );
        assert_eq!(like_patterns("мар"), ["%мар%", "%Мар%"], "no pattern twice");
        assert_eq!(
            like_patterns(r"5%_\"),
            [r"%5\%\_\\%"],
            "wildcards are escaped"
        );
    }
}
