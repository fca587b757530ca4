//! The MiniJinja environment: templates from `templates/` (the site's pages and the
//! e-mails alike), reloaded on each render when `templates_reload` is on, with the few
//! globals every page uses (`static_url` comes from the static files of `web::assets`) and
//! the texts of `crate::i18n` in the language the context's `lang` names: `t(id, **values)`,
//! `text|tr` for what Rust code wrote, `n|num` for a number.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, State, Value, path_loader};

use crate::i18n::{Catalog, Lang};

#[derive(Clone)]
pub struct Templates {
    env: Arc<RwLock<Environment<'static>>>,
    catalog: Arc<Catalog>,
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
        env.add_filter("num", |state: &State, value: Value| {
            match f64::try_from(value.clone()) {
                Ok(n) if value.kind() == ValueKind::Number => Value::from(lang_of(state).number(n)),
                _ => value,
            }
        });
        Ok(Self {
            env: Arc::new(RwLock::new(env)),
            catalog,
            reload,
        })
    }

    /// Every language's texts (for what is written outside a template: e-mail subjects,
    /// a count spliced into a cached page).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
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
