//! A throw-away PostgreSQL database per test, and outages of one.

use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::db::DbError;

/// The server tests create their databases on: `TEST_DATABASE_URL`, default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn database_server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test and dropped when the value is dropped (even when the test
/// panics), so tests run in parallel and leave nothing behind. It lives on
/// [`database_server_url`].
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name that starts with `label`.
    pub async fn create(label: &str) -> Result<Self, DbError> {
        let server_url = database_server_url();
        let name = format!(
            "t_{}_{}",
            label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            uuid::Uuid::new_v4().simple()
        );
        let mut admin = sqlx::PgConnection::connect(&server_url)
            .await
            .map_err(DbError::Connect)?;
        admin
            .execute(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await?;
        admin.close().await?;
        let url = replace_database(&server_url, &name);
        Ok(Self {
            name,
            url,
            server_url,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// An outage of test database `name` (on [`database_server_url`]): with `down`, it refuses new
/// connections and every session on it is ended; without, it accepts them again. For tests of
/// what a service does while its database is unreachable.
pub async fn set_database_down(name: &str, down: bool) -> Result<(), DbError> {
    let mut admin = sqlx::PgConnection::connect(&database_server_url())
        .await
        .map_err(DbError::Connect)?;
    admin
        .execute(AssertSqlSafe(format!(
            r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS {}"#,
            !down
        )))
        .await?;
    if down {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(name)
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop cannot await, and may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&server_url).await?;
                admin
                    .execute(AssertSqlSafe(format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    )))
                    .await?;
                admin.close().await
            })?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// `server_url` with its database swapped for `database`, its query kept.
fn replace_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_end = base.find("://").map_or(0, |scheme| scheme + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_swapped_and_the_query_kept() {
        assert_eq!(
            replace_database("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
