//! A TCP proxy in front of PostgreSQL that reads what the service sends and records its round
//! trips: each `Sync` (extended protocol) or `Query` (simple protocol) message ends one, with the
//! SQL it ran. Tests count a use case's round trips and commits with it, whatever else shares
//! the pool.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One round trip on one connection.
#[derive(Debug, Clone, Default)]
pub struct Trip {
    /// Which proxied connection (in accept order).
    pub connection: usize,
    /// The SQL it executed (for a `Bind`, the SQL its statement was prepared from); empty for a
    /// lone `Sync` (sqlx's ping).
    pub sql: Vec<String>,
    /// It prepared a statement (`Parse`).
    pub prepared: bool,
    /// It executed something (`Bind` or `Query`); a trip that only prepared is one a connection
    /// makes once per statement (sqlx's persistent statements).
    pub executed: bool,
}

/// The round trips seen so far, in the order they ended.
#[derive(Clone, Default)]
pub struct Trips(Arc<Mutex<Vec<Trip>>>);

impl Trips {
    pub fn all(&self) -> Vec<Trip> {
        self.0.lock().unwrap().clone()
    }

    /// The transactions (BEGIN to COMMIT or ROLLBACK, each trip in between) on every connection
    /// that ran a statement containing `marker`.
    pub fn transactions_with(&self, marker: &str) -> Vec<Transaction> {
        let mut open: HashMap<usize, Transaction> = HashMap::new();
        let mut done = Vec::new();
        let all = self.all();
        for (index, trip) in all.iter().enumerate() {
            let first = trip.sql.first().map(|sql| sql.trim().to_ascii_uppercase());
            match first.as_deref() {
                Some("BEGIN") => {
                    let pings_before = all[..index]
                        .iter()
                        .rev()
                        .filter(|earlier| earlier.connection == trip.connection)
                        .take_while(|earlier| earlier.is_ping())
                        .count();
                    let transaction = Transaction {
                        pings_before,
                        trips: vec![trip.clone()],
                    };
                    open.insert(trip.connection, transaction);
                }
                Some("COMMIT" | "ROLLBACK") => {
                    if let Some(mut transaction) = open.remove(&trip.connection) {
                        transaction.trips.push(trip.clone());
                        done.push(transaction);
                    }
                }
                _ => {
                    if let Some(transaction) = open.get_mut(&trip.connection) {
                        transaction.trips.push(trip.clone());
                    }
                }
            }
        }
        done.retain(|transaction| {
            transaction
                .trips
                .iter()
                .any(|trip| trip.sql.iter().any(|sql| sql.contains(marker)))
        });
        done
    }
}

/// The commits in `trips` (each COMMIT, and each statement run outside a transaction, as
/// `pg_stat_database.xact_commit` counts them), each named by the first `kinds` marker found in
/// its statements (`"other"` when none is).
pub fn commits_by_kind(
    trips: &[Trip],
    kinds: &[(&'static str, &str)],
) -> HashMap<&'static str, usize> {
    let mut open: HashMap<usize, Vec<String>> = HashMap::new();
    let mut commits: HashMap<&'static str, usize> = HashMap::new();
    let mut count = |statements: &[String]| {
        let kind = kinds
            .iter()
            .find(|(_, marker)| statements.iter().any(|sql| sql.contains(marker)))
            .map_or("other", |(kind, _)| *kind);
        *commits.entry(kind).or_default() += 1;
    };
    for trip in trips.iter().filter(|trip| trip.executed) {
        let first = trip.sql.first().map(|sql| sql.trim().to_ascii_uppercase());
        match first.as_deref() {
            Some("BEGIN") => {
                open.insert(trip.connection, Vec::new());
            }
            Some("COMMIT") => count(&open.remove(&trip.connection).unwrap_or_default()),
            Some("ROLLBACK") => {
                open.remove(&trip.connection);
            }
            _ => match open.get_mut(&trip.connection) {
                Some(statements) => statements.extend(trip.sql.iter().cloned()),
                None => count(&trip.sql),
            },
        }
    }
    commits
}

/// One transaction's round trips, and the lone `Sync`s (pings) its connection made just before:
/// sqlx pings a connection when it is released (always) and when it is acquired (unless the
/// pool is told not to), so two in a row mean a ping on acquire.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub pings_before: usize,
    pub trips: Vec<Trip>,
}

impl Trip {
    /// A `Sync` alone: sqlx's ping.
    pub fn is_ping(&self) -> bool {
        !self.executed && !self.prepared
    }
}

/// Listens on a free port and forwards every connection to `upstream` (`host:port`). Use it with
/// `sslmode=disable`: the proxy reads the messages in clear.
pub async fn proxy(upstream: String) -> (u16, Trips) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let trips = Trips::default();
    let recorded = trips.clone();
    tokio::spawn(async move {
        let mut next = 0;
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            tokio::spawn(forward(client, server, next, recorded.clone()));
            next += 1;
        }
    });
    (port, trips)
}

async fn forward(client: TcpStream, server: TcpStream, connection: usize, trips: Trips) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let answers = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut reader = Reader {
        connection,
        trips,
        buffer: Vec::new(),
        started: false,
        statements: HashMap::new(),
        current: Trip::default(),
    };
    let mut chunk = vec![0; 16 * 1024];
    while let Ok(read) = client_read.read(&mut chunk).await {
        if read == 0 || server_write.write_all(&chunk[..read]).await.is_err() {
            break;
        }
        reader.feed(&chunk[..read]);
    }
    let _ = server_write.shutdown().await;
    answers.abort();
}

/// Parses the frontend's messages: untyped ones (`SSLRequest`, `StartupMessage`) until the
/// startup message, then `type byte, int32 length, body`.
struct Reader {
    connection: usize,
    trips: Trips,
    buffer: Vec<u8>,
    started: bool,
    statements: HashMap<String, String>,
    current: Trip,
}

const SSL_REQUEST: u32 = 80_877_103;

impl Reader {
    fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        loop {
            let header = usize::from(self.started);
            if self.buffer.len() < header + 4 {
                return;
            }
            let length = u32::from_be_bytes(self.buffer[header..header + 4].try_into().unwrap());
            let total = header + length as usize;
            if self.buffer.len() < total {
                return;
            }
            let message: Vec<u8> = self.buffer.drain(..total).collect();
            if self.started {
                self.message(message[0], &message[5..]);
            } else if u32::from_be_bytes(message[4..8].try_into().unwrap()) != SSL_REQUEST {
                self.started = true;
            }
        }
    }

    fn message(&mut self, kind: u8, body: &[u8]) {
        let cstrings = |body: &[u8]| -> Vec<String> {
            body.split(|byte| *byte == 0)
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect()
        };
        match kind {
            b'Q' => {
                let sql = cstrings(body).remove(0);
                self.current.executed = true;
                self.end_trip(vec![sql]);
            }
            b'P' => {
                let parts = cstrings(body);
                self.statements.insert(parts[0].clone(), parts[1].clone());
                self.current.prepared = true;
                self.current.sql.push(parts[1].clone());
            }
            b'B' => {
                let parts = cstrings(body);
                let sql = self.statements.get(&parts[1]).cloned().unwrap_or_default();
                self.current.executed = true;
                if !self.current.sql.contains(&sql) {
                    self.current.sql.push(sql);
                }
            }
            b'S' => {
                let sql = std::mem::take(&mut self.current.sql);
                self.end_trip(sql);
            }
            _ => {}
        }
    }

    fn end_trip(&mut self, sql: Vec<String>) {
        let trip = Trip {
            connection: self.connection,
            sql,
            prepared: self.current.prepared,
            executed: self.current.executed,
        };
        self.current = Trip::default();
        self.trips.0.lock().unwrap().push(trip);
    }
}
