//! A single redis-server of one test's own, for what a test must not do to the shared Redis:
//! stopping it, or losing its data.

use redis::aio::MultiplexedConnection;

use super::server::Server;

/// A redis-server on a free loopback port, without persistence of its own: [`stop`] saves a
/// snapshot that [`restart`] loads, [`restart_empty`] starts it with nothing, as after a crash
/// without persistence, a failover to an empty replica or `FLUSHALL`. Stopped and its directory
/// removed when dropped, or when the test process ends in any way.
///
/// [`stop`]: PrivateRedis::stop
/// [`restart`]: PrivateRedis::restart
/// [`restart_empty`]: PrivateRedis::restart_empty
pub struct PrivateRedis {
    server: Server,
    running: bool,
}

impl PrivateRedis {
    /// Starts it and waits until it answers.
    pub async fn start() -> Self {
        let server = Server::start(&["--save", "", "--appendonly", "no"], false).await;
        Self {
            server,
            running: true,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A new connection to it.
    pub async fn connection(&self) -> MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("a valid URL")
            .get_multiplexed_async_connection()
            .await
            .expect("the private redis-server answers")
    }

    /// Saves its data and stops it: connections are refused until a restart.
    pub async fn stop(&mut self) {
        if !self.running {
            return;
        }
        let saved: redis::RedisResult<()> = redis::cmd("SAVE")
            .query_async(&mut self.connection().await)
            .await;
        if let Err(error) = saved {
            panic!("the private redis-server cannot save its data: {error}");
        }
        self.server.command("stop");
        self.running = false;
    }

    /// Stops it (if it runs) and starts it again with the data it had, on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Stops it (if it runs) and starts it again with no data at all, on the same port.
    pub async fn restart_empty(&mut self) {
        if self.running {
            self.server.command("stop");
            self.running = false;
        }
        self.server.command("wipe");
        self.start_again().await;
    }

    async fn start_again(&mut self) {
        self.server.command("start");
        if let Err(log) = self.server.wait_ready().await {
            panic!("the private redis-server did not start again: {log}");
        }
        self.running = true;
    }
}
