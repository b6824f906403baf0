//! Settings from environment variables, checked once at start-up: a bad or missing value stops
//! the service with a message naming the variable. Every field is public so tests (ours and other
//! crates') can build `Settings` in code, starting from [`Settings::new`].
//!
//! Each variable is declared once, in [`SETTINGS`] (name, default, meaning): the reading below
//! goes through the declarations (whose defaults are [`Settings::new`]'s, a test checks), the
//! table here is made from them, and orders-service's deployment test holds the compose,
//! Kubernetes, Ansible and `.env.example` files to them.
//!
//! <!-- settings: made from the declarations in src/config.rs; SETTINGS_DOCS=write cargo test rewrites it -->
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | `3030` | listening port (0 picks a free one) |
//! | `DATABASE_URL` | required (a PostgreSQL URL) | PostgreSQL URL |
//! | `DATABASE_MAX_CONNECTIONS` | `10` | pool size |
//! | `DATABASE_STATEMENT_TIMEOUT_MS` | `5000` | every session's `statement_timeout`: a statement running longer fails (0: off; migrations run without it) |
//! | `DATABASE_LOCK_TIMEOUT_MS` | `4000` | `lock_timeout`: a wait for a row or table lock longer than this fails (0: off) |
//! | `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` | `3000` | `idle_in_transaction_session_timeout`: a session idle this long inside a transaction (a frozen or hung peer) is ended and its locks released (0: off) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | deny-list and rate limits |
//! | `REDIS_CLUSTER_URLS` | empty | comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over `REDIS_URL` for the deny-list and rate limits |
//! | `REDIS_KEY_PREFIX` | empty | prefix of every Redis key this service uses |
//! | `APP_ENV` | `development` | `development` or `production` (refuses demo users, cookies without `Secure` and an ephemeral key) |
//! | `PRODUCTION_OVERRIDES` | unset | comma-separated: `demo-users`, `insecure-cookies` allow that in production anyway |
//! | `JWT_PRIVATE_KEY` | unset | Ed25519 PKCS#8 PEM private key (text); with neither it nor `JWT_PRIVATE_KEY_FILE`, an ephemeral key (refused in production) |
//! | `JWT_PRIVATE_KEY_FILE` | unset | path of that PEM file (used when `JWT_PRIVATE_KEY` is unset) |
//! | `JWT_PREVIOUS_PUBLIC_KEYS` | unset | public keys (PEM, one or more) of retired signing keys: still published and accepted, so their tokens stay valid until they expire |
//! | `ACCESS_TOKEN_TTL_SECONDS` | `900` | access token lifetime |
//! | `REFRESH_TOKEN_TTL_SECONDS` | `2592000` | refresh token lifetime (30 days): a session unused that long ends |
//! | `SESSION_MAX_LIFETIME_SECONDS` | `7776000` | a session ends this long after its sign-in (90 days), however often it is refreshed |
//! | `COOKIE_SECURE` | `true` | `Secure` attribute on the session cookies |
//! | `DEMO_USERS` | true (false in production) | seed `demo@demo.com` / `demo2@demo.com` (password `demotest`) |
//! | `ADMIN_EMAIL` | unset | with `ADMIN_PASSWORD`: when no account has that email, an admin account is created; an existing admin is left unchanged, an existing non-admin account stops the start |
//! | `ADMIN_PASSWORD` | unset | that account's password (8 to 128 characters, not a common one in production) |
//! | `ADMIN_USERNAME` | `admin` | username of that account when it is created |
//! | `TRUSTED_PROXIES` | `127.0.0.1/32,::1/128` | comma-separated CIDRs of the proxies whose `X-Forwarded-For` is believed (nginx, and a TLS proxy in front of it); `none` trusts none |
//! | `RATE_LIMIT_LOGIN_PER_IP` | `30` | failed logins per client address per window |
//! | `RATE_LIMIT_LOGIN_PER_ACCOUNT` | `10` | failed logins per email per window, from browsers without the account's device cookie |
//! | `RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_IP` | `5` | failed logins per email and client address per window, from those browsers |
//! | `RATE_LIMIT_LOGIN_PER_DEVICE` | `10` | failed logins per window from one browser with the account's device cookie |
//! | `RATE_LIMIT_LOGIN_WINDOW_SECONDS` | `900` | login window |
//! | `RATE_LIMIT_SIGNUP_PER_IP` | `20` | signup attempts per client address per window |
//! | `RATE_LIMIT_SIGNUP_PER_ACCOUNT` | `5` | signup attempts per email per window |
//! | `RATE_LIMIT_SIGNUP_WINDOW_SECONDS` | `3600` | signup window |
//! | `MAX_BODY_BYTES` | `16384` | largest accepted request body (413 beyond) |
//! | `LOG_FORMAT` | `pretty` on a terminal, else `json` | log lines as `json` (containers) or `pretty` (terminals) |
//! | `RUST_LOG` | `info` (debug for the service itself) | the log filter, e.g. `info,orders_service=debug,sqlx=warn` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OTLP/HTTP endpoint the traces are exported to (`http://jaeger:4318`); unset: none |
//!
//! <!-- /settings -->

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use auth_kit::signing::SigningKeys;
use web_kit::config::{self, Env, Setting};

use crate::{client_ip::TrustedProxies, domain::Email};

const PORT: Setting = Setting::value("PORT", "3030", "listening port (0 picks a free one)");
const DATABASE_URL: Setting =
    Setting::required("DATABASE_URL", "a PostgreSQL URL", "PostgreSQL URL");
const DATABASE_MAX_CONNECTIONS: Setting =
    Setting::value("DATABASE_MAX_CONNECTIONS", "10", "pool size");
const REDIS_URL: Setting = Setting::value(
    "REDIS_URL",
    "redis://127.0.0.1:6379",
    "deny-list and rate limits",
);
const REDIS_CLUSTER_URLS: Setting = Setting {
    meaning: "comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over \
              `REDIS_URL` for the deny-list and rate limits",
    ..config::REDIS_CLUSTER_URLS
};
const REDIS_KEY_PREFIX: Setting = Setting::value(
    "REDIS_KEY_PREFIX",
    "",
    "prefix of every Redis key this service uses",
);
const APP_ENV: Setting = Setting::value(
    "APP_ENV",
    "development",
    "`development` or `production` (refuses demo users, cookies without `Secure` and an \
     ephemeral key)",
);
const PRODUCTION_OVERRIDES: Setting = Setting::unset(
    "PRODUCTION_OVERRIDES",
    "comma-separated: `demo-users`, `insecure-cookies` allow that in production anyway",
);
const JWT_PRIVATE_KEY: Setting = Setting::unset(
    "JWT_PRIVATE_KEY",
    "Ed25519 PKCS#8 PEM private key (text); with neither it nor `JWT_PRIVATE_KEY_FILE`, an \
     ephemeral key (refused in production)",
);
const JWT_PRIVATE_KEY_FILE: Setting = Setting::unset(
    "JWT_PRIVATE_KEY_FILE",
    "path of that PEM file (used when `JWT_PRIVATE_KEY` is unset)",
);
const JWT_PREVIOUS_PUBLIC_KEYS: Setting = Setting::unset(
    "JWT_PREVIOUS_PUBLIC_KEYS",
    "public keys (PEM, one or more) of retired signing keys: still published and accepted, so \
     their tokens stay valid until they expire",
);
const ACCESS_TOKEN_TTL_SECONDS: Setting =
    Setting::value("ACCESS_TOKEN_TTL_SECONDS", "900", "access token lifetime");
const REFRESH_TOKEN_TTL_SECONDS: Setting = Setting::value(
    "REFRESH_TOKEN_TTL_SECONDS",
    "2592000",
    "refresh token lifetime (30 days): a session unused that long ends",
);
const SESSION_MAX_LIFETIME_SECONDS: Setting = Setting::value(
    "SESSION_MAX_LIFETIME_SECONDS",
    "7776000",
    "a session ends this long after its sign-in (90 days), however often it is refreshed",
);
const COOKIE_SECURE: Setting = Setting::value(
    "COOKIE_SECURE",
    "true",
    "`Secure` attribute on the session cookies",
);
const DEMO_USERS: Setting = Setting::derived(
    "DEMO_USERS",
    "true (false in production)",
    "seed `demo@demo.com` / `demo2@demo.com` (password `demotest`)",
);
const ADMIN_EMAIL: Setting = Setting::unset(
    "ADMIN_EMAIL",
    "with `ADMIN_PASSWORD`: when no account has that email, an admin account is created; an \
     existing admin is left unchanged, an existing non-admin account stops the start",
);
const ADMIN_PASSWORD: Setting = Setting::unset(
    "ADMIN_PASSWORD",
    "that account's password (8 to 128 characters, not a common one in production)",
);
const ADMIN_USERNAME: Setting = Setting::value(
    "ADMIN_USERNAME",
    "admin",
    "username of that account when it is created",
);
const TRUSTED_PROXIES: Setting = Setting::value(
    "TRUSTED_PROXIES",
    "127.0.0.1/32,::1/128",
    "comma-separated CIDRs of the proxies whose `X-Forwarded-For` is believed (nginx, and a \
     TLS proxy in front of it); `none` trusts none",
);
const RATE_LIMIT_LOGIN_PER_IP: Setting = Setting::value(
    "RATE_LIMIT_LOGIN_PER_IP",
    "30",
    "failed logins per client address per window",
);
const RATE_LIMIT_LOGIN_PER_ACCOUNT: Setting = Setting::value(
    "RATE_LIMIT_LOGIN_PER_ACCOUNT",
    "10",
    "failed logins per email per window, from browsers without the account's device cookie",
);
const RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_IP: Setting = Setting::value(
    "RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_IP",
    "5",
    "failed logins per email and client address per window, from those browsers",
);
const RATE_LIMIT_LOGIN_PER_DEVICE: Setting = Setting::value(
    "RATE_LIMIT_LOGIN_PER_DEVICE",
    "10",
    "failed logins per window from one browser with the account's device cookie",
);
const RATE_LIMIT_LOGIN_WINDOW_SECONDS: Setting =
    Setting::value("RATE_LIMIT_LOGIN_WINDOW_SECONDS", "900", "login window");
const RATE_LIMIT_SIGNUP_PER_IP: Setting = Setting::value(
    "RATE_LIMIT_SIGNUP_PER_IP",
    "20",
    "signup attempts per client address per window",
);
const RATE_LIMIT_SIGNUP_PER_ACCOUNT: Setting = Setting::value(
    "RATE_LIMIT_SIGNUP_PER_ACCOUNT",
    "5",
    "signup attempts per email per window",
);
const RATE_LIMIT_SIGNUP_WINDOW_SECONDS: Setting =
    Setting::value("RATE_LIMIT_SIGNUP_WINDOW_SECONDS", "3600", "signup window");
const MAX_BODY_BYTES: Setting = Setting::value(
    "MAX_BODY_BYTES",
    "16384",
    "largest accepted request body (413 beyond)",
);

/// Every variable the service reads: its own, the deadlines of its database sessions and the
/// telemetry's (web-kit).
pub const SETTINGS: config::Settings = &[
    &[PORT, DATABASE_URL, DATABASE_MAX_CONNECTIONS],
    config::DATABASE_TIMEOUTS,
    &[
        REDIS_URL,
        REDIS_CLUSTER_URLS,
        REDIS_KEY_PREFIX,
        APP_ENV,
        PRODUCTION_OVERRIDES,
        JWT_PRIVATE_KEY,
        JWT_PRIVATE_KEY_FILE,
        JWT_PREVIOUS_PUBLIC_KEYS,
        ACCESS_TOKEN_TTL_SECONDS,
        REFRESH_TOKEN_TTL_SECONDS,
        SESSION_MAX_LIFETIME_SECONDS,
        COOKIE_SECURE,
        DEMO_USERS,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        ADMIN_USERNAME,
        TRUSTED_PROXIES,
        RATE_LIMIT_LOGIN_PER_IP,
        RATE_LIMIT_LOGIN_PER_ACCOUNT,
        RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_IP,
        RATE_LIMIT_LOGIN_PER_DEVICE,
        RATE_LIMIT_LOGIN_WINDOW_SECONDS,
        RATE_LIMIT_SIGNUP_PER_IP,
        RATE_LIMIT_SIGNUP_PER_ACCOUNT,
        RATE_LIMIT_SIGNUP_WINDOW_SECONDS,
        MAX_BODY_BYTES,
    ],
    config::TELEMETRY,
];

/// Where the service runs: production refuses unsafe fallbacks (an ephemeral signing key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// The administrator account ensured at start-up.
#[derive(Clone)]
pub struct AdminAccount {
    pub email: String,
    pub password: String,
    pub username: String,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccount")
            .field("email", &self.email)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Limits of one rate-limited action (a fixed window per key).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Allowed per client address per window.
    pub per_ip: u32,
    /// Allowed per account (email) per window.
    pub per_account: u32,
    pub window: Duration,
}

/// Limits of login attempts (a fixed window per key; a success gives its attempt back).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Per client address.
    pub per_ip: u32,
    /// Per account, shared by every browser without the account's device cookie.
    pub per_account: u32,
    /// Per account and client address, from those browsers.
    pub per_account_and_ip: u32,
    /// Per browser with the account's device cookie.
    pub per_device: u32,
    pub window: Duration,
}

/// Login counts failures; signup counts attempts.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub login: LoginLimits,
    pub signup: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login: LoginLimits {
                per_ip: 30,
                per_account: 10,
                per_account_and_ip: 5,
                per_device: 10,
                window: Duration::from_secs(15 * 60),
            },
            signup: Limit {
                per_ip: 20,
                per_account: 5,
                window: Duration::from_secs(60 * 60),
            },
        }
    }
}

/// What the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP port to listen on (`PORT`, default 3030; 0 picks a free one).
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    /// Deadlines of every database session (`DATABASE_*_TIMEOUT_MS`).
    pub database_timeouts: web_kit::db::Timeouts,
    pub redis_url: String,
    /// A Redis Cluster's node URLs (`REDIS_CLUSTER_URLS`); when not empty, used instead of
    /// `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    /// Prefix of every Redis key (deny-list, rate limits).
    pub redis_key_prefix: String,
    pub app_env: AppEnv,
    /// The token signing key; `None` means an ephemeral key (refused in production).
    pub signing_key: Option<SigningKeys>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_lifetime: Duration,
    pub cookie_secure: bool,
    pub demo_users: bool,
    pub admin: Option<AdminAccount>,
    /// The proxies whose forwarded headers give the client's address.
    pub trusted_proxies: TrustedProxies,
    pub rate_limits: RateLimits,
    pub max_body_bytes: usize,
}

impl Settings {
    /// Development defaults over `database_url`: port 3030, local Redis, no prefix, an ephemeral
    /// key, secure cookies, demo users on, no admin.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            port: 3030,
            database_url: database_url.into(),
            database_max_connections: 10,
            database_timeouts: web_kit::db::Timeouts::default(),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_cluster_urls: Vec::new(),
            redis_key_prefix: String::new(),
            app_env: AppEnv::Development,
            signing_key: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            session_max_lifetime: Duration::from_secs(90 * 24 * 60 * 60),
            cookie_secure: true,
            demo_users: true,
            admin: None,
            trusted_proxies: TrustedProxies::loopback(),
            rate_limits: RateLimits::default(),
            max_body_bytes: 16 * 1024,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let env = Env::from_lookup(lookup);
        let database_url = env.required(&DATABASE_URL)?;
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            bail!("DATABASE_URL must be a postgres:// URL");
        }
        let mut settings = Self::new(database_url);
        settings.port = env.parse(&PORT)?;
        settings.database_max_connections = env.parse(&DATABASE_MAX_CONNECTIONS)?;
        if settings.database_max_connections == 0 {
            bail!("DATABASE_MAX_CONNECTIONS must be at least 1");
        }
        settings.database_timeouts = web_kit::db::Timeouts::from_env(&env)?;
        let redis_url = env.text(&REDIS_URL);
        if !redis_url.starts_with("redis://") && !redis_url.starts_with("rediss://") {
            bail!("REDIS_URL must be a redis:// URL, got {redis_url:?}");
        }
        settings.redis_url = redis_url;
        settings.redis_cluster_urls = web_kit::redis_pool::cluster_urls(&env)?;
        settings.redis_key_prefix = env.exact(&REDIS_KEY_PREFIX).unwrap_or_default();
        settings.app_env = match env.text(&APP_ENV).as_str() {
            "development" => AppEnv::Development,
            "production" => AppEnv::Production,
            other => {
                bail!("APP_ENV must be \"development\" or \"production\", got {other:?}")
            }
        };
        settings.signing_key = match (env.var(&JWT_PRIVATE_KEY), env.var(&JWT_PRIVATE_KEY_FILE)) {
            (Some(pem), _) => Some(
                SigningKeys::from_pem(&pem)
                    .map_err(|error| anyhow!("JWT_PRIVATE_KEY is not usable: {error}"))?,
            ),
            (None, Some(path)) => {
                let pem = std::fs::read_to_string(&path)
                    .with_context(|| format!("JWT_PRIVATE_KEY_FILE cannot be read ({path})"))?;
                Some(SigningKeys::from_pem(&pem).map_err(|error| {
                    anyhow!("JWT_PRIVATE_KEY_FILE ({path}) is not usable: {error}")
                })?)
            }
            (None, None) => None,
        };
        if let Some(previous) = env.var(&JWT_PREVIOUS_PUBLIC_KEYS) {
            let keys = settings.signing_key.take().ok_or_else(|| {
                anyhow!("JWT_PREVIOUS_PUBLIC_KEYS needs JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE")
            })?;
            settings.signing_key = Some(
                keys.with_previous(&previous)
                    .map_err(|error| anyhow!("JWT_PREVIOUS_PUBLIC_KEYS is not usable: {error}"))?,
            );
        }
        if settings.signing_key.is_none() && settings.app_env == AppEnv::Production {
            bail!(
                "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be set when APP_ENV=production \
                 (an ephemeral key would log everyone out at each restart and differ between \
                 replicas)"
            );
        }
        let seconds = |setting: &Setting| env.parse(setting).map(Duration::from_secs);
        settings.access_token_ttl = seconds(&ACCESS_TOKEN_TTL_SECONDS)?;
        settings.refresh_token_ttl = seconds(&REFRESH_TOKEN_TTL_SECONDS)?;
        settings.session_max_lifetime = seconds(&SESSION_MAX_LIFETIME_SECONDS)?;
        if settings.session_max_lifetime <= settings.access_token_ttl {
            bail!("SESSION_MAX_LIFETIME_SECONDS must be longer than ACCESS_TOKEN_TTL_SECONDS");
        }
        if settings.access_token_ttl.is_zero() {
            bail!("ACCESS_TOKEN_TTL_SECONDS must be at least 1");
        }
        if settings.refresh_token_ttl <= settings.access_token_ttl {
            bail!("REFRESH_TOKEN_TTL_SECONDS must be longer than ACCESS_TOKEN_TTL_SECONDS");
        }
        settings.cookie_secure = env.flag(&COOKIE_SECURE)?;
        let production = settings.app_env == AppEnv::Production;
        settings.demo_users = env.flag_or(&DEMO_USERS, !production)?;
        if production {
            refuse_unsafe_production(&settings, env.var(&PRODUCTION_OVERRIDES))?;
        }
        let proxies = env
            .exact(&TRUSTED_PROXIES)
            .unwrap_or_else(|| env.text(&TRUSTED_PROXIES));
        settings.trusted_proxies =
            TrustedProxies::parse(&proxies).map_err(|error| anyhow!("TRUSTED_PROXIES: {error}"))?;
        settings.admin = match (env.var(&ADMIN_EMAIL), env.exact(&ADMIN_PASSWORD)) {
            (Some(email), Some(password)) => {
                Email::parse(&email)
                    .map_err(|error| anyhow!("ADMIN_EMAIL is not a valid address: {error}"))?;
                let length = password.chars().count();
                if !(8..=128).contains(&length) {
                    bail!("ADMIN_PASSWORD must be 8 to 128 characters long");
                }
                if settings.app_env == AppEnv::Production
                    && crate::domain::password_is_common(&password)
                {
                    bail!("ADMIN_PASSWORD is a common password; choose another for production");
                }
                let username = env.text(&ADMIN_USERNAME);
                crate::domain::Username::parse(&username)
                    .map_err(|error| anyhow!("ADMIN_USERNAME is not valid: {error}"))?;
                Some(AdminAccount {
                    email,
                    password,
                    username,
                })
            }
            (Some(_), None) => bail!("ADMIN_PASSWORD must be set when ADMIN_EMAIL is"),
            (None, Some(_)) => bail!("ADMIN_EMAIL must be set when ADMIN_PASSWORD is"),
            (None, None) => None,
        };
        let limits = &mut settings.rate_limits;
        limits.login.per_ip = env.parse(&RATE_LIMIT_LOGIN_PER_IP)?;
        limits.login.per_account = env.parse(&RATE_LIMIT_LOGIN_PER_ACCOUNT)?;
        limits.login.per_account_and_ip = env.parse(&RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_IP)?;
        limits.login.per_device = env.parse(&RATE_LIMIT_LOGIN_PER_DEVICE)?;
        limits.login.window = seconds(&RATE_LIMIT_LOGIN_WINDOW_SECONDS)?;
        limits.signup.per_ip = env.parse(&RATE_LIMIT_SIGNUP_PER_IP)?;
        limits.signup.per_account = env.parse(&RATE_LIMIT_SIGNUP_PER_ACCOUNT)?;
        limits.signup.window = seconds(&RATE_LIMIT_SIGNUP_WINDOW_SECONDS)?;
        for (setting, window) in [
            (&RATE_LIMIT_LOGIN_WINDOW_SECONDS, limits.login.window),
            (&RATE_LIMIT_SIGNUP_WINDOW_SECONDS, limits.signup.window),
        ] {
            if window.is_zero() {
                bail!("{} must be at least 1", setting.name);
            }
        }
        settings.max_body_bytes = env.parse(&MAX_BODY_BYTES)?;
        if settings.max_body_bytes < 1024 {
            bail!("MAX_BODY_BYTES must be at least 1024");
        }
        Ok(settings)
    }
}

/// With `APP_ENV=production`, demo users and cookies without `Secure` stop the start, naming the
/// setting, unless `PRODUCTION_OVERRIDES` lists them.
fn refuse_unsafe_production(settings: &Settings, overrides: Option<String>) -> anyhow::Result<()> {
    let overrides = overrides.unwrap_or_default();
    let mut allowed = Vec::new();
    for item in overrides
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        match item {
            "demo-users" | "insecure-cookies" => allowed.push(item),
            other => bail!(
                "PRODUCTION_OVERRIDES: unknown item {other:?} (known: demo-users, insecure-cookies)"
            ),
        }
    }
    if settings.demo_users && !allowed.contains(&"demo-users") {
        bail!(
            "DEMO_USERS=true is refused when APP_ENV=production: anyone could sign in as \
             demo@demo.com with the published password. Set DEMO_USERS=false, or add demo-users \
             to PRODUCTION_OVERRIDES to allow it"
        );
    }
    if !settings.cookie_secure && !allowed.contains(&"insecure-cookies") {
        bail!(
            "COOKIE_SECURE=false is refused when APP_ENV=production: session cookies would travel \
             over plain http. Set COOKIE_SECURE=true (and serve over https), or add \
             insecure-cookies to PRODUCTION_OVERRIDES to allow it"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path};

    use super::*;

    #[test]
    fn the_declared_defaults_are_those_of_new() {
        let read = settings(&[DB]).unwrap();

        assert_eq!(format!("{read:?}"), format!("{:?}", Settings::new(DB.1)));
    }

    #[test]
    fn the_docs_tables_are_made_from_the_declarations() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));

        config::check_crate_docs(root, SETTINGS).unwrap();
    }

    fn settings(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    const DB: (&str, &str) = ("DATABASE_URL", "postgres://postgres@127.0.0.1/auth");

    fn error_of(pairs: &[(&str, &str)]) -> String {
        settings(pairs).unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_need_only_a_database_url() {
        let settings = settings(&[DB]).unwrap();

        assert_eq!(settings.port, 3030);
        assert_eq!(settings.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(settings.redis_key_prefix, "");
        assert_eq!(settings.app_env, AppEnv::Development);
        assert!(settings.signing_key.is_none());
        assert!(settings.cookie_secure);
        assert!(settings.demo_users);
        assert!(settings.admin.is_none());
        assert_eq!(settings.access_token_ttl, Duration::from_secs(900));
        assert_eq!(settings.trusted_proxies, TrustedProxies::loopback());
    }

    #[test]
    fn a_missing_database_url_is_named() {
        assert!(error_of(&[]).contains("DATABASE_URL"));
        assert!(error_of(&[("DATABASE_URL", "mysql://x")]).contains("DATABASE_URL"));
    }

    #[test]
    fn malformed_values_are_named() {
        assert!(error_of(&[DB, ("PORT", "eighty")]).contains("PORT"));
        assert!(error_of(&[DB, ("COOKIE_SECURE", "maybe")]).contains("COOKIE_SECURE"));
        assert!(error_of(&[DB, ("APP_ENV", "staging")]).contains("APP_ENV"));
        assert!(error_of(&[DB, ("REDIS_URL", "localhost")]).contains("REDIS_URL"));
        assert!(error_of(&[DB, ("JWT_PRIVATE_KEY", "nope")]).contains("JWT_PRIVATE_KEY"));
        assert!(
            error_of(&[DB, ("JWT_PRIVATE_KEY_FILE", "/no/such/file")])
                .contains("JWT_PRIVATE_KEY_FILE")
        );
        assert!(
            error_of(&[DB, ("RATE_LIMIT_LOGIN_PER_IP", "-1")]).contains("RATE_LIMIT_LOGIN_PER_IP")
        );
        assert!(error_of(&[DB, ("TRUSTED_PROXIES", "10.0.0.0/33")]).contains("TRUSTED_PROXIES"));
    }

    #[test]
    fn production_refuses_an_ephemeral_signing_key() {
        let error = error_of(&[DB, ("APP_ENV", "production")]);

        assert!(error.contains("JWT_PRIVATE_KEY"), "{error}");
    }

    static PEM: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| SigningKeys::generate().private_pem());

    fn production(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut pairs = vec![
            DB,
            ("APP_ENV", "production"),
            ("JWT_PRIVATE_KEY", PEM.as_str()),
        ];
        pairs.extend_from_slice(extra);
        pairs
    }

    #[test]
    fn production_refuses_demo_users_and_insecure_cookies_naming_the_setting() {
        let demo = error_of(&production(&[("DEMO_USERS", "true")]));
        let cookies = error_of(&production(&[("COOKIE_SECURE", "false")]));
        let unknown = error_of(&production(&[("PRODUCTION_OVERRIDES", "everything")]));

        assert!(demo.contains("DEMO_USERS"), "{demo}");
        assert!(cookies.contains("COOKIE_SECURE"), "{cookies}");
        assert!(unknown.contains("PRODUCTION_OVERRIDES"), "{unknown}");
    }

    #[test]
    fn production_defaults_to_no_demo_users_and_takes_explicit_overrides() {
        let defaults = settings(&production(&[])).unwrap();
        let overridden = settings(&production(&[
            ("DEMO_USERS", "true"),
            ("COOKIE_SECURE", "false"),
            ("PRODUCTION_OVERRIDES", "demo-users, insecure-cookies"),
        ]))
        .unwrap();

        assert!(!defaults.demo_users);
        assert!(defaults.cookie_secure);
        assert!(overridden.demo_users);
        assert!(!overridden.cookie_secure);
    }

    #[test]
    fn a_private_key_is_read_from_the_variable_or_the_file() {
        let keys = SigningKeys::generate();
        let path = std::env::temp_dir().join(format!("auth-key-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, keys.private_pem()).unwrap();

        let inline = settings(&[
            DB,
            ("APP_ENV", "production"),
            ("JWT_PRIVATE_KEY", &keys.private_pem()),
        ])
        .unwrap();
        let from_file = settings(&[DB, ("JWT_PRIVATE_KEY_FILE", path.to_str().unwrap())]).unwrap();
        std::fs::remove_file(&path).unwrap();

        assert_eq!(inline.signing_key.unwrap().kid(), keys.kid());
        assert_eq!(from_file.signing_key.unwrap().kid(), keys.kid());
    }

    #[test]
    fn the_admin_account_needs_both_variables() {
        assert!(error_of(&[DB, ("ADMIN_EMAIL", "root@example.com")]).contains("ADMIN_PASSWORD"));
        assert!(error_of(&[DB, ("ADMIN_PASSWORD", "long enough")]).contains("ADMIN_EMAIL"));
        assert!(
            error_of(&[
                DB,
                ("ADMIN_EMAIL", "nope"),
                ("ADMIN_PASSWORD", "long enough")
            ])
            .contains("ADMIN_EMAIL")
        );
        assert!(
            error_of(&[DB, ("ADMIN_EMAIL", "a@b.co"), ("ADMIN_PASSWORD", "short")])
                .contains("ADMIN_PASSWORD")
        );
        let admin = settings(&[
            DB,
            ("ADMIN_EMAIL", "root@example.com"),
            ("ADMIN_PASSWORD", "correct horse"),
        ])
        .unwrap()
        .admin
        .unwrap();
        assert_eq!(admin.username, "admin");
    }
}
