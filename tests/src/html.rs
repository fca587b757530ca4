//! Assertions on parsed HTML (CSS selectors), never on substrings.

use scraper::{Html, Selector};

pub struct Doc(pub Html);

pub fn parse(body: &str) -> Doc {
    Doc(Html::parse_document(body))
}

pub fn parse_fragment(body: &str) -> Doc {
    Doc(Html::parse_fragment(body))
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

impl Doc {
    pub fn count(&self, css: &str) -> usize {
        self.0.select(&selector(css)).count()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.count(css) > 0
    }

    /// Text of the first match, whitespace-collapsed.
    pub fn text(&self, css: &str) -> Option<String> {
        self.0.select(&selector(css)).next().map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    pub fn texts(&self, css: &str) -> Vec<String> {
        self.0
            .select(&selector(css))
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.0
            .select(&selector(css))
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_owned))
    }

    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.0
            .select(&selector(css))
            .filter_map(|e| e.value().attr(name).map(str::to_owned))
            .collect()
    }
}
