//! `stream-admin`: the operator's view of the marketplace streams.
//!
//! ```text
//! stream-admin health                  # length, groups, pending, lag of every stream
//! stream-admin status                  # the same, and each group's oldest pending entry and age
//! stream-admin dead-letters [--count N]
//! stream-admin replay <dead-letter-id>
//! stream-admin replay-all
//! stream-admin trace <order-id>        # every event about the order, in time order
//! ```
//!
//! Reads `REDIS_URL` (default `redis://127.0.0.1:6379`), `REDIS_CLUSTER_URLS` (comma-separated
//! node URLs of a Redis Cluster; when set it wins over `REDIS_URL`, as in the services) and
//! `REDIS_KEY_PREFIX` (default empty). Prints JSON on stdout; exits 2 on bad usage, 1 when Redis
//! fails.

use std::process::ExitCode;

use stream_lib::{
    DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys, StreamRedis, admin, history,
    status,
};

const USAGE: &str =
    "usage: stream-admin health | status | dead-letters [--count N] | replay <id> | replay-all | trace <order-id>
environment: REDIS_URL (default redis://127.0.0.1:6379), REDIS_CLUSTER_URLS (comma-separated
node URLs of a cluster; wins over REDIS_URL), REDIS_KEY_PREFIX (default empty)";

/// The streams `health` and `status` show.
const STREAMS: [&str; 3] = [ORDERS_STREAM, INVENTORY_STREAM, DEAD_LETTER_STREAM];

enum Command {
    Health,
    Status,
    DeadLetters { count: usize },
    Replay { id: String },
    ReplayAll,
    Trace { order_id: uuid::Uuid },
}

fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [command] if command == "health" => Ok(Command::Health),
        [command] if command == "status" => Ok(Command::Status),
        [command] if command == "dead-letters" => Ok(Command::DeadLetters { count: 100 }),
        [command, flag, count] if command == "dead-letters" && flag == "--count" => {
            let count = count
                .parse()
                .map_err(|_| format!("--count takes a number, not {count:?}"))?;
            Ok(Command::DeadLetters { count })
        }
        [command, id] if command == "replay" => Ok(Command::Replay { id: id.clone() }),
        [command] if command == "replay-all" => Ok(Command::ReplayAll),
        [command, id] if command == "trace" => Ok(Command::Trace {
            order_id: id
                .parse()
                .map_err(|_| format!("trace takes an order id, not {id:?}"))?,
        }),
        _ => Err(USAGE.to_owned()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(
        args.first().map(String::as_str),
        Some("-h" | "--help" | "help")
    ) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let cluster_urls: Vec<String> = std::env::var("REDIS_CLUSTER_URLS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect();
    let keys = StreamKeys::new(std::env::var("REDIS_KEY_PREFIX").unwrap_or_default());
    let redis = match StreamRedis::new(&url, &cluster_urls) {
        Ok(redis) => redis,
        Err(error) => {
            eprintln!("stream-admin: REDIS_URL / REDIS_CLUSTER_URLS: {error}");
            return ExitCode::FAILURE;
        }
    };
    match run(&redis, &keys, command).await {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("stream-admin: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    redis: &StreamRedis,
    keys: &StreamKeys,
    command: Command,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let mut connection = redis.control().await?;
    Ok(match command {
        Command::Health => {
            serde_json::to_value(admin::stream_health(&mut connection, keys, &STREAMS).await?)?
        }
        Command::Status => {
            serde_json::to_value(status::stream_status(&mut connection, keys, &STREAMS).await?)?
        }
        Command::DeadLetters { count } => {
            serde_json::to_value(admin::dead_letters(&mut connection, keys, count).await?)?
        }
        Command::Replay { id } => match admin::replay(&mut connection, keys, &id).await? {
            Some(new_id) => serde_json::json!({ "replayed": id, "new_id": new_id }),
            None => {
                return Err(format!("no dead letter {id} (already replayed?)").into());
            }
        },
        Command::ReplayAll => {
            serde_json::json!({ "replayed": admin::replay_all(&mut connection, keys).await? })
        }
        Command::Trace { order_id } => {
            serde_json::to_value(history::order_history(&mut connection, keys, order_id).await?)?
        }
    })
}
