//! The Redis users of redis/users.acl (rendered by redis/render-acl, as the compose redis
//! container does), in a real redis-server of the test's own: the three real services, each
//! signed in as its own user, do all their work without one refused command, and each user is
//! refused everything beyond its service's keys and commands.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use redis::{Value, aio::MultiplexedConnection};
use serde_json::json;
use uuid::Uuid;
use web_kit::testing::wait_until;

use crate::system::{SystemRedis, buy_pay_and_sign_out, start_system_on};

const USERS: [&str; 4] = ["ops", "auth-service", "products-service", "orders-service"];

/// A redis-server on a free port with the rendered ACL file, stopped when dropped.
struct AclRedis {
    port: u16,
    dir: PathBuf,
    child: Child,
    prefix: String,
    passwords: Vec<(String, String)>,
}

impl AclRedis {
    async fn start() -> Self {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::temp_dir().join(format!("redis-acl-test-{}", Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        let prefix = format!("acl-{}:", Uuid::new_v4().simple());
        let passwords: Vec<(String, String)> = USERS
            .iter()
            .map(|user| (user.to_string(), Uuid::new_v4().simple().to_string()))
            .collect();
        let mut render = Command::new("sh");
        render
            .arg(repo.join("redis/render-acl"))
            .env("REDIS_KEY_PREFIX", &prefix);
        for (user, password) in &passwords {
            let name = match user.as_str() {
                "ops" => "REDIS_OPS_PASSWORD",
                "auth-service" => "REDIS_AUTH_PASSWORD",
                "products-service" => "REDIS_PRODUCTS_PASSWORD",
                _ => "REDIS_ORDERS_PASSWORD",
            };
            render.env(name, password);
        }
        let rendered = render.output().unwrap();
        assert!(
            rendered.status.success(),
            "render-acl: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let acl = dir.join("users.acl");
        std::fs::write(&acl, &rendered.stdout).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--aclfile")
            .arg(&acl)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for this test");
        let redis = Self {
            port,
            dir,
            child,
            prefix,
            passwords,
        };
        // Anyone may PING (the compose health check), nothing more.
        wait_until(
            Duration::from_secs(10),
            "redis-server with the ACL file starts",
            || async { redis.connection_as(None).await.is_ok() },
        )
        .await;
        redis
    }

    fn url(&self, user: &str) -> String {
        let password = &self.passwords.iter().find(|(u, _)| u == user).unwrap().1;
        format!("redis://{user}:{password}@127.0.0.1:{}", self.port)
    }

    async fn connection_as(&self, user: Option<&str>) -> redis::RedisResult<MultiplexedConnection> {
        let url = match user {
            Some(user) => self.url(user),
            None => format!("redis://127.0.0.1:{}", self.port),
        };
        let mut connection = redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await?;
        redis::cmd("PING")
            .query_async::<()>(&mut connection)
            .await?;
        Ok(connection)
    }

    /// Every refusal Redis logged (ACL LOG), but CLIENT SETINFO, which the client library sends
    /// on connecting and does without.
    async fn refusals(&self) -> Vec<String> {
        let mut ops = self.connection_as(Some("ops")).await.unwrap();
        let log: Vec<std::collections::HashMap<String, Value>> = redis::cmd("ACL")
            .arg("LOG")
            .query_async(&mut ops)
            .await
            .unwrap();
        let text = |entry: &std::collections::HashMap<String, Value>, field: &str| match entry
            .get(field)
        {
            Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            other => format!("{other:?}"),
        };
        log.iter()
            .map(|entry| {
                format!(
                    "{} refused {} `{}` ({} times)",
                    text(entry, "username"),
                    text(entry, "reason"),
                    text(entry, "object"),
                    text(entry, "count"),
                )
            })
            .filter(|entry| !entry.contains("client|setinfo"))
            .collect()
    }
}

impl Drop for AclRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_service_does_all_its_work_as_its_own_redis_user() {
    let redis = AclRedis::start().await;
    let system = start_system_on(SystemRedis {
        auth: redis.url("auth-service"),
        products: redis.url("products-service"),
        orders: redis.url("orders-service"),
        test: redis.url("ops"),
        cluster: Vec::new(),
        prefix: redis.prefix.clone(),
    })
    .await;

    buy_pay_and_sign_out(&system).await;
    // The admin's stream views and a replay (of an entry that is not there) run stream-lib's
    // admin commands and script as orders-service.
    let admin = system.admin().await;
    for path in ["/api/admin/streams", "/api/admin/dead-letters?count=10"] {
        system.get(format!("{}{path}", system.orders), &admin).await;
    }
    let replay = system
        .client
        .post(format!(
            "{}/api/admin/dead-letters/1-0/replay",
            system.orders
        ))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 404, "{}", replay.text().await.unwrap());
    // Failed logins count in the rate limiter's script.
    let wrong = system
        .client
        .post(format!("{}/api/auth/login", system.auth))
        .json(&json!({"email": "nobody@example.com", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    system.stop().await;

    let refusals = redis.refusals().await;
    assert!(refusals.is_empty(), "refused: {refusals:#?}");
}

/// What `user` must not do (each a command line; `{p}` is the key prefix).
fn forbidden(user: &str) -> Vec<&'static str> {
    let everyone = vec![
        "FLUSHALL",
        "FLUSHDB",
        "CONFIG GET *",
        "CONFIG SET maxmemory 1",
        "KEYS *",
        "SCAN 0",
        "ACL LIST",
        "ACL SETUSER intruder on nopass +@all ~*",
        "CLIENT LIST",
        "CLIENT KILL TYPE normal",
        "SAVE",
        "BGREWRITEAOF",
        "REPLICAOF 127.0.0.1 1",
        "SHUTDOWN NOSAVE",
        "EVAL return 1 0",
        "FUNCTION LIST",
        "SELECT 1",
        "GET unprefixed",
        "SET {p}somebody-elses 1",
    ];
    let only: &[&'static str] = match user {
        "auth-service" => &[
            "XADD {p}orders_stream * type forged",
            "XADD {p}inventory_stream * type forged",
            "XRANGE {p}dead_letter_stream - +",
            "INCR {p}orders:rl:place:someone",
            "PUBLISH {p}orders:status forged",
            "SET auth:denied:unprefixed 1",
        ],
        "products-service" => &[
            "SET {p}auth:denied:forged 1",
            "DEL {p}auth:denied:forged",
            "INCR {p}auth:rl:{login}:ip:127.0.0.1",
            "INCR {p}orders:rl:place:someone",
            "PUBLISH {p}orders:status forged",
            "HSET {{p}inventory_stream}:orders-service:attempts 1-0 1",
            "XDEL {p}dead_letter_stream 1-0",
            "SET {p}inventory_stream overwritten",
            "GET {p}orders_stream",
            "SET {{p}orders_stream}:epoch forged",
        ],
        "orders-service" => &[
            "SET {p}auth:denied:forged 1",
            "DEL {p}auth:denied:forged",
            "INCR {p}auth:rl:{login}:ip:127.0.0.1",
            "HSET {{p}orders_stream}:products-service:attempts 1-0 1",
            "PUBLISH other-channel forged",
            "SET {p}orders_stream overwritten",
            "SET {{p}inventory_stream}:epoch forged",
        ],
        _ => &["PING-ONLY"],
    };
    let mut out = everyone;
    out.extend(only.iter().copied().filter(|line| *line != "PING-ONLY"));
    out
}

#[tokio::test]
async fn each_service_user_is_refused_everything_beyond_its_service() {
    let redis = AclRedis::start().await;
    for user in [
        None,
        Some("auth-service"),
        Some("products-service"),
        Some("orders-service"),
    ] {
        let mut connection = redis.connection_as(user).await.unwrap();
        let name = user.unwrap_or("default (no password)");
        let mut lines = forbidden(user.unwrap_or("default"));
        if user.is_none() {
            lines.extend(["GET {p}auth:denied:x", "XLEN {p}orders_stream"]);
        }
        for line in lines {
            let line = line.replace("{p}", &redis.prefix);
            let mut words = line.split(' ');
            let mut command = redis::cmd(words.next().unwrap());
            for word in words {
                command.arg(word);
            }
            let result: redis::RedisResult<Value> = command.query_async(&mut connection).await;
            let refused = matches!(&result, Err(error) if error.code() == Some("NOPERM"));
            assert!(refused, "{name} may run `{line}`: {result:?}");
        }
    }
    // The same users may run what their service needs (spot checks; the test above runs it all).
    let p = &redis.prefix;
    let mut auth = redis.connection_as(Some("auth-service")).await.unwrap();
    redis::cmd("SET")
        .arg(format!("{p}auth:denied:jti"))
        .arg(1)
        .arg("EX")
        .arg(60)
        .query_async::<()>(&mut auth)
        .await
        .unwrap();
    for user in ["products-service", "orders-service"] {
        let mut connection = redis.connection_as(Some(user)).await.unwrap();
        let denied: bool = redis::cmd("EXISTS")
            .arg(format!("{p}auth:denied:jti"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(denied, "{user} cannot read the deny-list");
    }
    let mut orders = redis.connection_as(Some("orders-service")).await.unwrap();
    redis::cmd("XADD")
        .arg(format!("{p}orders_stream"))
        .arg("*")
        .arg("type")
        .arg("order.placed")
        .query_async::<String>(&mut orders)
        .await
        .unwrap();
}
