//! The MiniJinja environment: templates from `templates/` (the site's pages and the
//! e-mails alike), reloaded on each render when `templates_reload` is on, with the few
//! globals every page uses (`static_url` comes from the static files of `web::assets`) and
//! the texts of `crate::i18n` in the language the context's `lang` names: `t(id, **values)`,
//! `text|tr` for what Rust code wrote, `n|num` for a number.
//!
//! Times are written by two filters, in the viewer's zone and the page's language (see
//! `timezone` for the formats): `{{ t|datetime }}` ("7 Dec 2026, 09:00 CET") and
//! `{{ t|date }}` ("7 Dec 2026"). The zone is the context's `timezone` if set, else the
//! signed-in `viewer.timezone`, else UTC; the language is the context's `lang` ("en"
//! unless "ru").

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, State, Value, path_loader};

use chrono_tz::Tz;

use crate::i18n::{Catalog, Lang};
use crate::messages::template::Feet;
use crate::timezone;

#[derive(Clone)]
pub struct Templates {
    env: Arc<RwLock<Environment<'static>>>,
    catalog: Arc<Catalog>,
    feet: Feet,
    reload: bool,
}

/// The language the template is rendered in: the context's `lang`, else English.
pub fn lang_of(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// `t("id", count=3, name=x)`: the text `id` in the page's language with these values.
fn translate(
    catalog: &Catalog,
    state: &State,
    id: &str,
    kwargs: Kwargs,
) -> Result<Value, minijinja::Error> {
    let mut args = FluentArgs::new();
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        let value = match value.kind() {
            ValueKind::Number => match f64::try_from(value.clone()) {
                Ok(n) => FluentValue::from(n),
                Err(_) => FluentValue::from(value.to_string()),
            },
            ValueKind::Undefined | ValueKind::None => FluentValue::from(""),
            _ => FluentValue::from(value.to_string()),
        };
        args.set(key.to_owned(), value);
    }
    Ok(Value::from(catalog.text(lang_of(state), id, Some(&args))))
}

/// `{{ text|truncate(40) }}`: at most `length` characters, with an ellipsis when cut.
fn truncate(value: &str, length: Option<usize>) -> String {
    let length = length.unwrap_or(255);
    if value.chars().count() <= length {
        return value.to_owned();
    }
    let mut cut: String = value.chars().take(length.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The zone times are shown in: the context's `timezone`, else the viewer's, else UTC.
fn zone_of(state: &State) -> Tz {
    let named = |v: Option<Value>| {
        v.filter(|v| !v.is_undefined() && !v.is_none())
            .and_then(|v| v.as_str().and_then(timezone::parse))
    };
    named(state.lookup("timezone"))
        .or_else(|| {
            named(
                state
                    .lookup("viewer")
                    .and_then(|v| v.get_attr("timezone").ok()),
            )
        })
        .unwrap_or(Tz::UTC)
}

/// `{{ t|datetime }}`: an instant (RFC 3339, as models serialize) in the viewer's zone,
/// the zone named. Empty for none; a value that is no time is shown as it is.
fn datetime(state: &State, value: Value) -> Value {
    if value.is_none() || value.is_undefined() {
        return Value::from("");
    }
    match value.as_str().and_then(timezone::parse_instant) {
        Some(t) => Value::from(timezone::format_datetime(t, zone_of(state), lang_of(state))),
        None => value,
    }
}

/// `{{ v|local_input }}`: a UTC time as the admin's forms hold it (`2026-12-07T09:00`, or
/// RFC 3339) as a `datetime-local` input's value in the viewer's zone; anything else (a
/// value typed wrong, shown back) as it is.
fn local_input(state: &State, value: Value) -> Value {
    match value.as_str().and_then(timezone::parse_instant) {
        Some(t) => Value::from(timezone::local_input(t, zone_of(state))),
        None => value,
    }
}

/// `{{ t|date }}`: the day of an instant in the viewer's zone, or a plain date
/// ("2026-12-07") as it is, written in the page's language.
fn date(state: &State, value: Value) -> Value {
    if value.is_none() || value.is_undefined() {
        return Value::from("");
    }
    let Some(text) = value.as_str() else {
        return value;
    };
    let day = match chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(day) => day,
        Err(_) => match timezone::parse_instant(text) {
            Some(t) => t.with_timezone(&zone_of(state)).date_naive(),
            None => return value,
        },
    };
    Value::from(timezone::format_date(day, lang_of(state)))
}

impl Templates {
    pub fn new(dir: PathBuf, reload: bool) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            anyhow::bail!(
                "MAILER_TEMPLATES_DIR: {} is not a folder of templates",
                dir.display()
            );
        }
        let mut env = Environment::new();
        env.set_loader(path_loader(&dir));
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.add_function("static_url", |name: &str| {
            Value::from_safe_string(crate::web::assets::static_url(name))
        });
        env.add_filter("truncate", truncate);
        let catalog = Arc::new(Catalog::load(&dir.join("locales"))?);
        crate::i18n::keep_for_english(catalog.clone());
        let languages: Vec<Value> = Lang::ALL
            .iter()
            .map(|l| minijinja::context! { code => l.code(), name => l.native_name() })
            .collect();
        env.add_global("languages", Value::from(languages));
        let texts = catalog.clone();
        env.add_function("t", move |state: &State, id: &str, kwargs: Kwargs| {
            translate(&texts, state, id, kwargs)
        });
        let texts = catalog.clone();
        env.add_filter("tr", move |state: &State, value: Value| {
            match value.as_str() {
                Some(text) => Value::from(texts.server_text(lang_of(state), text)),
                None => value,
            }
        });
        // A phrase (our own words) in the reader's language, any other text as it is: a
        // server's reply must not be looked up by its words.
        let texts = catalog.clone();
        env.add_filter("said", move |state: &State, value: Value| {
            match value.as_str() {
                Some(text) => Value::from(texts.phrase_text(lang_of(state), text)),
                None => value,
            }
        });
        // An attempt's reply as `said` shows it: its `reason` when it has one, else its
        // `response`.
        let texts = catalog.clone();
        env.add_filter("reply", move |state: &State, attempt: Value| {
            let field = |name: &str| {
                attempt
                    .get_attr(name)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            };
            let text = field("reason")
                .as_deref()
                .and_then(crate::i18n::from_stored)
                .or_else(|| field("response"))
                .unwrap_or_default();
            texts.phrase_text(lang_of(state), &text)
        });
        env.add_filter("num", |state: &State, value: Value| {
            match f64::try_from(value.clone()) {
                Ok(n) if value.kind() == ValueKind::Number => Value::from(lang_of(state).number(n)),
                _ => value,
            }
        });
        env.add_filter("datetime", datetime);
        env.add_filter("date", date);
        env.add_filter("local_input", local_input);
        Ok(Self {
            env: Arc::new(RwLock::new(env)),
            feet: Feet::of(&catalog),
            catalog,
            reload,
        })
    }

    /// Every language's texts (for what is written outside a template: e-mail subjects,
    /// a count spliced into a cached page).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The foot of mailings' e-mails in every language.
    pub fn feet(&self) -> &Feet {
        &self.feet
    }

    /// Renders the whole template, or only `block` of it.
    pub fn render(
        &self,
        name: &str,
        block: Option<&str>,
        ctx: Value,
    ) -> Result<String, minijinja::Error> {
        if self.reload {
            self.env
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .clear_templates();
        }
        let env = self.env.read().unwrap_or_else(|e| e.into_inner());
        let template = env.get_template(name)?;
        match block {
            None => template.render(ctx),
            Some(block) => {
                let mut captured = template.render_captured_to(ctx, std::io::sink())?;
                captured.with_state_mut(|state| state.render_block(block))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, ctx: Value) -> String {
        let mut env = Environment::new();
        env.add_filter("datetime", datetime);
        env.add_filter("date", date);
        env.add_filter("local_input", local_input);
        env.render_str(source, ctx).unwrap()
    }

    #[test]
    fn admin_times_are_typed_in_the_viewers_zone() {
        let moscow = minijinja::context! { timezone => "Europe/Moscow", v => "2026-12-07T08:00" };
        assert_eq!(render("{{ v|local_input }}", moscow), "2026-12-07T11:00");
        let typed_wrong = minijinja::context! { timezone => "Europe/Moscow", v => "7.12.2026" };
        assert_eq!(render("{{ v|local_input }}", typed_wrong), "7.12.2026");
    }

    #[test]
    fn times_in_the_viewers_zone_and_language() {
        let t = "2026-12-07T08:00:00Z";
        let berlin = minijinja::context! { timezone => "Europe/Berlin" };
        assert_eq!(
            render(
                "{{ t|datetime }}",
                minijinja::context! { t, viewer => berlin }
            ),
            "7 Dec 2026, 09:00 CET"
        );
        assert_eq!(
            render(
                "{{ t|datetime }} · {{ t|date }}",
                minijinja::context! { t, lang => "ru", viewer => minijinja::context! { timezone => "Europe/Moscow" } }
            ),
            "7 дек. 2026, 11:00 MSK · 7 дек. 2026"
        );
        // Anonymous: UTC. A late evening is the next day in Tokyo.
        assert_eq!(
            render("{{ t|datetime }}", minijinja::context! { t }),
            "7 Dec 2026, 08:00 UTC"
        );
        assert_eq!(
            render(
                "{{ t|date }}",
                minijinja::context! { t => "2026-12-07T20:00:00Z", timezone => "Asia/Tokyo" }
            ),
            "8 Dec 2026"
        );
        assert_eq!(
            render("{{ d|date }}", minijinja::context! { d => "2026-12-07" }),
            "7 Dec 2026"
        );
        assert_eq!(
            render(
                "[{{ none|datetime }}][{{ x|datetime }}]",
                minijinja::context! { x => "soon" }
            ),
            "[][soon]"
        );
    }
}
