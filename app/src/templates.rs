//! The MiniJinja environment: templates from `templates/` (the site's pages and the
//! e-mails alike), reloaded on each render when `templates_reload` is on, with the few
//! globals every page uses (`static_url` comes from the static files of `web::assets`).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use minijinja::{Environment, Value, path_loader};

#[derive(Clone)]
pub struct Templates {
    env: Arc<RwLock<Environment<'static>>>,
    reload: bool,
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
        env.set_loader(path_loader(dir));
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
        Ok(Self {
            env: Arc::new(RwLock::new(env)),
            reload,
        })
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
