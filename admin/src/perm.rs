//! Permissions: a role may do an action on a model only when it was granted (deny by
//! default). Custom actions are permissions of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One thing a role may do on one model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Perm {
    View,
    Add,
    Change,
    Delete,
    /// A custom action, by its name.
    Action(String),
}

impl Perm {
    pub fn action(name: &str) -> Self {
        Perm::Action(name.to_owned())
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Perm::View => f.write_str("view"),
            Perm::Add => f.write_str("add"),
            Perm::Change => f.write_str("change"),
            Perm::Delete => f.write_str("delete"),
            Perm::Action(name) => write!(f, "action:{name}"),
        }
    }
}

/// Role → granted permissions, for one model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grants {
    by_role: BTreeMap<String, BTreeSet<Perm>>,
    /// Permissions nobody has on this model (e.g. "add" where rows come from elsewhere).
    disabled: BTreeSet<Perm>,
}

impl Grants {
    pub(crate) fn grant(&mut self, role: &str, perms: &[Perm]) {
        self.by_role
            .entry(role.to_owned())
            .or_default()
            .extend(perms.iter().cloned());
    }

    pub(crate) fn disable(&mut self, perm: Perm) {
        self.disabled.insert(perm);
    }

    /// Granted to `role`, or `role` is a superuser role, and not disabled for everyone.
    pub(crate) fn allows(&self, role: &str, perm: &Perm, superuser: bool) -> bool {
        if self.disabled.contains(perm) {
            return false;
        }
        superuser
            || self
                .by_role
                .get(role)
                .is_some_and(|granted| granted.contains(perm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denies_by_default_and_grants_per_role() {
        let mut grants = Grants::default();
        grants.grant("manager", &[Perm::View, Perm::action("block")]);
        assert!(grants.allows("manager", &Perm::View, false));
        assert!(grants.allows("manager", &Perm::action("block"), false));
        assert!(!grants.allows("manager", &Perm::action("unblock"), false));
        assert!(!grants.allows("manager", &Perm::Change, false));
        assert!(!grants.allows("user", &Perm::View, false));
        assert!(!grants.allows("", &Perm::View, false));
        assert!(grants.allows("root", &Perm::Delete, true));
        grants.disable(Perm::Add);
        assert!(!grants.allows("root", &Perm::Add, true), "disabled for all");
        assert_eq!(Perm::action("block").to_string(), "action:block");
    }
}
