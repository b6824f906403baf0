//! Settings from environment variables, checked once at start-up.

/// What the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP port to listen on (`PORT`, default 3030; 0 picks a free one).
    pub port: u16,
}

impl Settings {
    /// Reads the environment; a malformed value is an error naming the variable.
    pub fn from_env() -> anyhow::Result<Self> {
        let port = match std::env::var("PORT") {
            Ok(value) => value
                .parse()
                .map_err(|_| anyhow::anyhow!("PORT must be a port number, got {value:?}"))?,
            Err(_) => 3030,
        };
        Ok(Self { port })
    }
}
