//! What a running binary is: its service name, version and the commit it was built from, shown
//! in `GET /health` and as the `build_info` metric.

use std::sync::OnceLock;

/// The identity of one build. Make it with [`crate::build_info!`] in the service's own crate, so
/// the name and version are the service's, not web-kit's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BuildInfo {
    /// The package name, e.g. `orders-service`.
    #[schema(example = "orders-service")]
    pub service: &'static str,
    /// The package version from its Cargo.toml.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// The commit, from `GIT_COMMIT` at build time (the Dockerfile's `GIT_COMMIT` build argument,
    /// CI's checkout); `unknown` when it was not set.
    #[schema(example = "3f2a9c1")]
    pub commit: &'static str,
}

impl BuildInfo {
    /// What a process that never called [`set`] reports (tests that build an app in-process).
    pub const UNKNOWN: Self = Self {
        service: "unknown",
        version: "unknown",
        commit: "unknown",
    };
}

/// The [`BuildInfo`] of the crate this is expanded in: its package name and version, and the
/// `GIT_COMMIT` environment variable of the build (cargo rebuilds the crate when it changes).
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::build_info::BuildInfo {
            service: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            commit: match option_env!("GIT_COMMIT") {
                Some(commit) if !commit.is_empty() => commit,
                _ => "unknown",
            },
        }
    };
}

static CURRENT: OnceLock<BuildInfo> = OnceLock::new();

/// Records the process's build once (the first call wins); [`crate::telemetry::init`] calls it.
pub fn set(info: BuildInfo) {
    let _ = CURRENT.set(info);
}

/// The process's build, or [`BuildInfo::UNKNOWN`].
pub fn current() -> BuildInfo {
    CURRENT.get().copied().unwrap_or(BuildInfo::UNKNOWN)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_macro_names_the_crate_it_is_expanded_in() {
        let info = crate::build_info!();

        assert_eq!(info.service, "web-kit");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert!(!info.commit.is_empty());
    }
}
