//! The settings a crate reads from the environment, declared once as data: each [`Setting`] has
//! its name, its default and its meaning. The declarations drive the reading (web-kit's `Env`
//! reads a [`Setting`], never a bare name), the table in each service's docs ([`markdown`],
//! kept in step by [`check_crate_docs`]) and the tests that hold the deployment files (compose,
//! Kubernetes, Ansible, `.env.example`) to what the services declare.
//!
//! A crate of its own, without dependencies, so that every crate that reads settings can declare
//! them: the services and web-kit, and stream-lib, which does not depend on web-kit.

mod docs;

pub use docs::{check_crate_docs, check_docs, markdown};

/// One environment variable: what it is called, what applies when it is unset or blank, and
/// what it means (one line of Markdown, for the docs table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: Default,
    pub meaning: &'static str,
}

/// What applies when a setting is unset or blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    /// This value, as the environment would give it (`""`: empty).
    Value(&'static str),
    /// Nothing: the setting must be set; the hint says with what.
    Required(&'static str),
    /// Nothing: the feature is off, or another setting applies (the meaning says which).
    Unset,
    /// Worked out from other settings, as described (`true (false in production)`).
    Derived(&'static str),
}

impl Setting {
    /// A setting with a default value.
    pub const fn value(name: &'static str, default: &'static str, meaning: &'static str) -> Self {
        Self {
            name,
            default: Default::Value(default),
            meaning,
        }
    }

    /// A setting that must be set; `hint` says with what (`a PostgreSQL URL`).
    pub const fn required(name: &'static str, hint: &'static str, meaning: &'static str) -> Self {
        Self {
            name,
            default: Default::Required(hint),
            meaning,
        }
    }

    /// A setting whose absence means off, or that another setting applies.
    pub const fn unset(name: &'static str, meaning: &'static str) -> Self {
        Self {
            name,
            default: Default::Unset,
            meaning,
        }
    }

    /// A setting whose default is worked out from other settings, as `described`.
    pub const fn derived(
        name: &'static str,
        described: &'static str,
        meaning: &'static str,
    ) -> Self {
        Self {
            name,
            default: Default::Derived(described),
            meaning,
        }
    }

    /// The default value, when there is one.
    pub const fn default_value(&self) -> Option<&'static str> {
        match self.default {
            Default::Value(value) => Some(value),
            _ => None,
        }
    }
}

/// A crate's settings: its own and the groups of the shared crates it uses, in the order of its
/// docs table.
pub type Settings = &'static [&'static [Setting]];

/// Every setting of `groups`, in order.
pub fn all(groups: Settings) -> impl Iterator<Item = &'static Setting> {
    groups.iter().flat_map(|group| group.iter())
}

/// The setting of `groups` called `name`.
pub fn find(groups: Settings, name: &str) -> Option<&'static Setting> {
    all(groups).find(|setting| setting.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[Setting] = &[
        Setting::value("PORT", "3020", "HTTP port"),
        Setting::required("DATABASE_URL", "a PostgreSQL URL", "its database"),
    ];
    const SHARED: &[Setting] = &[Setting::unset("JWT_PUBLIC_KEY", "the key")];
    const GROUPS: Settings = &[OWN, SHARED];

    #[test]
    fn the_groups_read_as_one_table_in_order() {
        let names: Vec<&str> = all(GROUPS).map(|setting| setting.name).collect();

        assert_eq!(names, ["PORT", "DATABASE_URL", "JWT_PUBLIC_KEY"]);
        assert_eq!(find(GROUPS, "PORT").unwrap().default_value(), Some("3020"));
        assert_eq!(find(GROUPS, "DATABASE_URL").unwrap().default_value(), None);
        assert!(find(GROUPS, "HOST").is_none());
    }
}
