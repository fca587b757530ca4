//! What a request says: the list's query string, and a submitted form.

use std::collections::BTreeMap;

use crate::field::Upload;

/// Query parameters of a change list: `q`, `o`, `p`, and filters named after columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListParams {
    pub q: String,
    /// Column name, `-` first for descending.
    pub o: String,
    pub p: u64,
    /// Filter parameter → chosen value (only the model's filters are kept).
    pub filters: BTreeMap<String, String>,
    /// The viewer's zone, in which the date filters count days.
    pub zone: crate::Zone,
}

impl ListParams {
    /// Reads the pairs of a query string; unknown parameters are ignored.
    pub fn from_pairs(
        pairs: &[(String, String)],
        filter_names: &[&str],
        zone: &crate::Zone,
    ) -> Self {
        let mut params = ListParams {
            p: 1,
            zone: zone.clone(),
            ..Default::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "q" => params.q = value.trim().to_owned(),
                "o" => params.o = value.clone(),
                "p" => params.p = value.parse::<u64>().unwrap_or(1).max(1),
                name if filter_names.contains(&name) && !value.is_empty() => {
                    params.filters.insert(name.to_owned(), value.clone());
                }
                _ => {}
            }
        }
        params
    }

    /// The query string of these parameters with `changes` applied (`None` removes one).
    pub fn query_with(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: BTreeMap<String, String> = self.filters.clone();
        if !self.q.is_empty() {
            pairs.insert("q".into(), self.q.clone());
        }
        if !self.o.is_empty() {
            pairs.insert("o".into(), self.o.clone());
        }
        if self.p > 1 {
            pairs.insert("p".into(), self.p.to_string());
        }
        for (key, value) in changes {
            match value {
                Some(v) => pairs.insert((*key).to_owned(), (*v).to_owned()),
                None => pairs.remove(*key),
            };
        }
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            out.append_pair(k, v);
        }
        let query = out.finish();
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    }
}

/// A submitted form: text fields (the last value of a name wins) and non-empty files.
#[derive(Debug, Clone, Default)]
pub struct FormInput {
    pub fields: BTreeMap<String, String>,
    /// Every value of every name, in order (checkbox lists: `_selected`).
    pub all: Vec<(String, String)>,
    pub files: BTreeMap<String, Upload>,
}

impl FormInput {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut input = FormInput::default();
        for (k, v) in &pairs {
            input.fields.insert(k.clone(), v.clone());
        }
        input.all = pairs;
        input
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    pub fn values(&self, name: &str) -> Vec<String> {
        self.all
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Which objects a bulk action is for: checked rows, or everything the list's query
/// matches ("select all across pages").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    Ids(Vec<String>),
    Across(ListParams),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_and_rewrites_the_query() {
        let p = ListParams::from_pairs(
            &pairs(&[
                ("q", " ann "),
                ("o", "-email"),
                ("p", "3"),
                ("is_active", "0"),
                ("evil", "1"),
            ]),
            &["is_active", "role"],
            &crate::Zone::default(),
        );
        assert_eq!(p.q, "ann");
        assert_eq!(p.p, 3);
        assert_eq!(p.filters.len(), 1, "unknown parameters are dropped");
        assert_eq!(p.query_with(&[]), "?is_active=0&o=-email&p=3&q=ann");
        assert_eq!(
            p.query_with(&[("p", None), ("role", Some("a b"))]),
            "?is_active=0&o=-email&q=ann&role=a+b"
        );
        let bad = ListParams::from_pairs(&pairs(&[("p", "zero")]), &[], &crate::Zone::default());
        assert_eq!(bad.p, 1);
        assert_eq!(bad.query_with(&[]), "");
    }
}
