//! One supervised `redis-server` on a free loopback port (see `supervise.sh`), and waiting until
//! it answers.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::PathBuf,
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

const SUPERVISOR: &str = include_str!("supervise.sh");

/// How long a server may take to answer after its start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` with its own working directory, run by its supervisor.
pub(super) struct Server {
    port: u16,
    dir: PathBuf,
    supervisor: Child,
    commands: Option<ChildStdin>,
    answers: BufReader<ChildStdout>,
}

impl Server {
    /// Starts a server on a free port with `options` added to its command line, and waits until
    /// it answers; `cluster_bus`: the port 10000 above must be free too. A port taken meanwhile
    /// by someone else is retried with another.
    pub(super) async fn start(options: &[&str], cluster_bus: bool) -> Self {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let mut server = Self::spawn(free_port(cluster_bus), options);
            server.command("start");
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(log) => failures.push(log),
            }
        }
        panic!("redis-server did not start: {failures:#?}");
    }

    fn spawn(port: u16, options: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("web-kit-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).expect("a directory for the test redis-server");
        let port_text = port.to_string();
        let mut supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("supervise")
            .arg(&dir)
            .args(["redis-server", "--port", &port_text, "--bind", "127.0.0.1"])
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh runs the test redis-server's supervisor");
        let commands = supervisor.stdin.take();
        let answers = BufReader::new(supervisor.stdout.take().expect("piped stdout"));
        Self {
            port,
            dir,
            supervisor,
            commands,
            answers,
        }
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one supervisor command and waits until it is done.
    pub(super) fn command(&mut self, command: &str) {
        let commands = self.commands.as_mut().expect("the supervisor runs");
        writeln!(commands, "{command}").expect("the supervisor takes commands");
        commands.flush().expect("the supervisor takes commands");
        let mut answer = String::new();
        self.answers
            .read_line(&mut answer)
            .expect("the supervisor answers");
        assert_eq!(answer.trim_end(), command, "the supervisor's answer");
    }

    /// Waits until the server answers PING; the server's log when it does not in time.
    pub(super) async fn wait_ready(&self) -> Result<(), String> {
        let client = redis::Client::open(self.url()).map_err(|error| error.to_string())?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            let log = self.log();
            if Instant::now() > deadline || log.contains("aborting") {
                return Err(log);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server wrote since its directory was made.
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The end of its input makes the supervisor stop the server and remove the directory.
        drop(self.commands.take());
        let _ = self.supervisor.wait();
    }
}

/// A loopback port nobody listens on now (and, for a cluster node, its bus port 10000 above).
fn free_port(cluster_bus: bool) -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        if !cluster_bus {
            return port;
        }
        if let Some(bus) = port.checked_add(10_000)
            && TcpListener::bind(("127.0.0.1", bus)).is_ok()
        {
            return port;
        }
    }
}
