//! No secret leaves the system by a side door: over a full run of the three real services (sign
//! up, a refused signup and login, log in, order, a declined and a malformed card, pay, refresh,
//! log out, the admin's views), every log line they write (the production JSON format, at debug
//! and finer than production's level), every response body and every event on the streams is
//! searched for the passwords, an argon2 hash, the access and refresh tokens, the card numbers
//! and the signing key. None may appear, but a token in the body of the response that issues it.

use std::{
    io,
    sync::{Arc, Mutex},
};

use auth_kit::testing::TestKeys;
use reqwest::Response;
use serde_json::{Value, json};
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt};

use crate::system::{ADMIN_PASSWORD, Orders, SIGN_UP_PASSWORD, System, start_system_signing_with};

/// Every log line written, shared by the threads that write them.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Logs {
    /// A subscriber writing the services' JSON lines here: everything at debug, our own crates at
    /// trace (production logs info, and debug for the service itself).
    fn dispatch(&self) -> tracing::Dispatch {
        let filter = EnvFilter::new(
            "debug,auth_service=trace,orders_service=trace,products_service=trace,\
             web_kit=trace,auth_kit=trace,stream_lib=trace,tower_http=trace,\
             hyper=info,hyper_util=info,h2=info,reqwest=info,rustls=info",
        );
        tracing_subscriber::registry()
            .with(filter)
            .with(web_kit::telemetry::json_layer(self.clone()))
            .into()
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A response's body, with the tokens it issued as `(cookie name or "access_token", value)`.
struct Body {
    what: String,
    text: String,
    issued: Vec<(String, String)>,
}

/// What the run showed the outside: each response body, with the tokens that very response
/// issued (allowed in it, nowhere else).
#[derive(Default)]
struct Seen {
    bodies: Vec<Body>,
    secrets: Vec<(String, String)>,
}

impl Seen {
    fn secret(&mut self, what: &str, value: &str) {
        self.secrets.push((what.to_owned(), value.to_owned()));
    }

    /// A token is a secret, and so is its signature on its own.
    fn token(&mut self, what: &str, token: &str) {
        self.secret(what, token);
        if let Some((_, signature)) = token.rsplit_once('.') {
            self.secret(&format!("{what}'s signature"), signature);
        }
    }

    /// Records the response's body (and the tokens it issues, which become secrets); returns the
    /// status and the body as JSON (or null).
    async fn record(&mut self, what: &str, response: Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let mut issued: Vec<(String, String)> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(token) = body["access_token"].as_str() {
            issued.push(("access_token".to_owned(), token.to_owned()));
        }
        for (name, token) in &issued {
            self.token(&format!("the {name} issued by {what}"), token);
        }
        self.bodies.push(Body {
            what: what.to_owned(),
            text,
            issued,
        });
        (status, body)
    }
}

/// The value of cookie `name` set by the last recorded response.
fn issued_cookie(seen: &Seen, name: &str) -> String {
    let issued = &seen.bodies.last().unwrap().issued;
    let (_, value) = issued.iter().find(|(cookie, _)| cookie == name).unwrap();
    value.clone()
}

async fn the_run(system: &System, seen: &mut Seen) {
    let client = &system.client;
    let auth = |path: &str| format!("{}/api/auth/{path}", system.auth);
    let (password, wrong, short) = ("tundra-velvet-canoe-58", "orbit-velvet-canoe-58", "tiny-pw");
    for (what, value) in [
        ("the buyer's password", password),
        ("a wrong password", wrong),
        ("a refused password", short),
        ("the seller's password", SIGN_UP_PASSWORD),
        ("the admin's password", ADMIN_PASSWORD),
    ] {
        seen.secret(what, value);
    }
    let email = format!(
        "buyer{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let username = email.split('@').next().unwrap().to_owned();

    let signup = |password: &str| {
        client
            .post(auth("signup"))
            .json(&json!({"username": username, "email": email, "password": password}))
            .send()
    };
    let (status, _) = seen
        .record("a refused signup", signup(short).await.unwrap())
        .await;
    assert_eq!(status, 422);
    let (status, _) = seen.record("signup", signup(password).await.unwrap()).await;
    assert_eq!(status, 201);
    let login = |password: &str| {
        client
            .post(auth("login"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let (status, _) = seen
        .record("a wrong login", login(wrong).await.unwrap())
        .await;
    assert_eq!(status, 401);
    let (status, body) = seen.record("login", login(password).await.unwrap()).await;
    assert_eq!(status, 200);
    let buyer = body["access_token"].as_str().unwrap().to_owned();
    let refresh = issued_cookie(seen, "refresh_token");

    let (_, seller) = system.sign_up("seller").await;
    seen.token("the seller's token", &seller);
    let product_id = system.listing(&seller, 5).await;
    let placed = client
        .post(format!("{}/api/orders", system.orders))
        .bearer_auth(&buyer)
        .header("Idempotency-Key", "no-secrets")
        .json(&json!({"items": [{"product_id": product_id, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    let (status, order) = seen.record("placing the order", placed).await;
    assert_eq!(status, 201);
    let order_url = format!(
        "{}/api/orders/{}",
        system.orders,
        order["id"].as_str().unwrap()
    );
    system
        .wait_for_status(&order_url, &buyer, "CONFIRMED")
        .await;

    for (card, expected) in [
        ("4000 0000 0000 0002", 402),
        ("4242 4242 4242 4241", 422),
        ("4242 4242 4242 4242", 200),
    ] {
        seen.secret("a card number", card);
        seen.secret("a card number without spaces", &card.replace(' ', ""));
        let paid = client
            .post(format!("{order_url}/pay"))
            .bearer_auth(&buyer)
            .json(&json!({"card_number": card, "expiry": "12/39", "cvc": "123"}))
            .send()
            .await
            .unwrap();
        let (status, _) = seen.record(&format!("paying with {card}"), paid).await;
        assert_eq!(status, expected, "paying with {card}");
    }

    let refreshed = client
        .post(auth("refresh"))
        .header("cookie", format!("refresh_token={refresh}"))
        .send()
        .await
        .unwrap();
    let (status, body) = seen.record("refresh", refreshed).await;
    assert_eq!(status, 200);
    let buyer = body["access_token"].as_str().unwrap().to_owned();
    let refresh = issued_cookie(seen, "refresh_token");
    let me = client
        .get(auth("me"))
        .bearer_auth(&buyer)
        .send()
        .await
        .unwrap();
    seen.record("me", me).await;
    let logout = client
        .post(auth("logout"))
        .bearer_auth(&buyer)
        .header("cookie", format!("refresh_token={refresh}"))
        .send()
        .await
        .unwrap();
    let (status, _) = seen.record("logout", logout).await;
    assert_eq!(status, 204);
    let revoked = client
        .get(&order_url)
        .bearer_auth(&buyer)
        .send()
        .await
        .unwrap();
    let (status, _) = seen.record("the order after logout", revoked).await;
    assert_eq!(status, 401);

    let admin = system.admin().await;
    seen.token("the admin's token", &admin);
    for path in [
        "/api/admin/streams",
        "/api/admin/dead-letters?count=10",
        "/api/orders?all=true",
    ] {
        let response = client
            .get(format!("{}{path}", system.orders))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        seen.record(path, response).await;
    }
}

/// Every entry of the three streams under the run's prefix, as text.
async fn stream_entries(system: &System) -> Vec<String> {
    let client = redis::Client::open(system.redis.test.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut entries = Vec::new();
    for stream in ["orders_stream", "inventory_stream", "dead_letter_stream"] {
        let reply: redis::Value = redis::cmd("XRANGE")
            .arg(format!("{}{stream}", system.prefix))
            .arg("-")
            .arg("+")
            .query_async(&mut connection)
            .await
            .unwrap();
        entries.push(format!("{stream}: {reply:?}"));
    }
    entries
}

/// The run itself, in a test process of its own: a subscriber is global to a process, and tests
/// running beside it would log through it too (or hold callsites a thread-local one misses).
const CHILD: &str = "no_secrets::the_run_in_a_process_of_its_own";

#[test]
fn no_password_hash_token_card_number_or_signing_key_reaches_a_log_line_a_response_or_an_event() {
    crate::helpers::run_in_a_process_of_its_own(CHILD);
}

#[test]
#[ignore = "run by no_password_hash_token_card_number_or_signing_key_reaches_a_log_line_a_response_or_an_event in a process of its own"]
fn the_run_in_a_process_of_its_own() {
    let logs = Logs::default();
    tracing::dispatcher::set_global_default(logs.dispatch())
        .expect("no other subscriber in this process");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let keys = TestKeys::generate();
    let mut seen = Seen::default();
    let events = runtime.block_on(async {
        let system =
            start_system_signing_with(Orders::InProcess, Some(keys.signing_keys().clone())).await;
        the_run(&system, &mut seen).await;
        let events = stream_entries(&system).await;
        system.stop().await;
        events
    });
    drop(runtime);
    seen.secret("an argon2 hash", "$argon2");
    let pem = keys.private_pem();
    let key_body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    seen.secret("the signing key (PEM)", &key_body);
    // Past the PKCS#8 prefix every Ed25519 key shares: the key itself.
    seen.secret("the signing key's seed", &key_body[24..]);

    let lines = logs.lines();
    for (service, message) in [
        ("auth_service", "account created"),
        ("orders_service", "order placed"),
        ("products_service", ""),
    ] {
        assert!(
            lines
                .iter()
                .any(|line| line.contains(service) && line.contains(message)),
            "the capture holds no line from {service} with {message:?}"
        );
    }
    let mut leaks = Vec::new();
    for (what, secret) in &seen.secrets {
        for line in lines.iter().filter(|line| line.contains(secret.as_str())) {
            leaks.push(format!("{what} in a log line: {line}"));
        }
        for body in &seen.bodies {
            let issued_here = body
                .issued
                .iter()
                .any(|(_, token)| token.contains(secret.as_str()));
            if body.text.contains(secret.as_str()) && !issued_here {
                leaks.push(format!(
                    "{what} in the body of {}: {}",
                    body.what, body.text
                ));
            }
        }
        for entry in events
            .iter()
            .filter(|entry| entry.contains(secret.as_str()))
        {
            leaks.push(format!("{what} in an event: {entry}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks over {} log lines:\n{}",
        leaks.len(),
        lines.len(),
        leaks.join("\n")
    );
}
