use serde_json::Value;
use uuid::Uuid;
use web_kit::testing::wait_until;

use crate::helpers::{PATIENCE, TestApp, TestUser, assert_error, spawn_app};

/// Reads Server-Sent Events from a response, skipping keep-alive comments.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next `status` event's data.
    async fn next_status(&mut self) -> Value {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut event = None;
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(name) = line.strip_prefix("event:") {
                            event = Some(name.trim().to_owned());
                        } else if let Some(value) = line.strip_prefix("data:") {
                            data.push_str(value.trim_start());
                        }
                    }
                    if event.as_deref() == Some("status") {
                        return serde_json::from_str(&data).unwrap();
                    }
                    continue;
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("a status event arrives in time")
    }
}

async fn open(app: &TestApp, user: &TestUser, order_id: Uuid) -> reqwest::Response {
    app.get(&format!("/api/orders/{order_id}/events"), Some(user))
        .await
}

#[tokio::test]
async fn the_event_stream_shows_pending_then_confirmed_without_polling() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    let response = open(&app, &buyer, order_id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut events = EventReader::new(response);
    let first = events.next_status().await;
    assert_eq!(first["status"], "PENDING");
    assert_eq!(first["order_id"], serde_json::json!(order_id));

    app.reserve(order_id).await;
    let second = events.next_status().await;
    assert_eq!(second["status"], "CONFIRMED");
    assert!(second["expires_at"].is_string());
    assert!(second["version"].as_i64() > first["version"].as_i64());

    assert_eq!(
        app.pay(&buyer, order_id, "4242424242424242").await.status(),
        200
    );
    assert_eq!(events.next_status().await["status"], "PAID");
}

#[tokio::test]
async fn a_change_made_on_one_replica_reaches_a_stream_served_by_another() {
    let app = spawn_app().await;
    let other_replica = app.replica().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    let mut events = EventReader::new(open(&other_replica, &buyer, order_id).await);
    assert_eq!(events.next_status().await["status"], "PENDING");
    assert_eq!(app.cancel(&buyer, order_id).await.status(), 200);
    let change = events.next_status().await;
    assert_eq!(change["status"], "CANCELLED");
}

#[tokio::test]
async fn the_event_stream_of_someone_elses_order_is_not_found() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    assert_error(
        open(&app, &app.user(), order_id).await,
        404,
        "order_not_found",
    )
    .await;
    let admin = open(&app, &app.admin(), order_id).await;
    assert_eq!(admin.status(), 200);
}

#[tokio::test]
async fn shutting_down_ends_open_event_streams_and_stops_every_task() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    let mut events = EventReader::new(open(&app, &buyer, order_id).await);
    assert_eq!(events.next_status().await["status"], "PENDING");

    // `stop` fails the test unless the server, consumer, relay, sweeper and subscriber all end.
    app.stop().await;
    let rest = tokio::time::timeout(PATIENCE, async {
        while let Some(_chunk) = events.response.chunk().await.ok().flatten() {}
    })
    .await;
    assert!(rest.is_ok(), "the event stream ended");
}

/// Reads a stream to its end and returns the data of its `session_ended` message, if any.
async fn read_to_end(events: &mut EventReader, within: std::time::Duration) -> Option<String> {
    tokio::time::timeout(within, async {
        while let Some(chunk) = events.response.chunk().await.ok().flatten() {
            events.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("the stream ends in time");
    let at = events.buffer.find("event: session_ended")?;
    events.buffer[at..]
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .map(str::to_owned)
}

/// A user whose token expires in `seconds`, with the claims (for the `jti`).
fn short_lived_user(app: &TestApp, seconds: i64) -> (TestUser, auth_kit::Claims) {
    let user = app.user();
    let mut claims = app
        .test_keys
        .claims(user.id, "shortlived", auth_kit::Role::User);
    claims.exp = time::OffsetDateTime::now_utc().unix_timestamp() + seconds;
    let token = app.test_keys.sign(&claims);
    (TestUser { id: user.id, token }, claims)
}

#[tokio::test]
async fn an_event_stream_ends_when_its_token_expires() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let (buyer, _) = short_lived_user(&app, 3);
    let order_id = app.order(&buyer, product, 1).await;
    let mut events = EventReader::new(open(&app, &buyer, order_id).await);
    assert_eq!(events.next_status().await["status"], "PENDING");

    let why = read_to_end(&mut events, std::time::Duration::from_secs(10)).await;

    assert_eq!(why.as_deref(), Some("expired"));
}

#[tokio::test]
async fn an_event_stream_ends_when_its_token_is_revoked() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let (buyer, claims) = short_lived_user(&app, 900);
    let order_id = app.order(&buyer, product, 1).await;
    let mut events = EventReader::new(open(&app, &buyer, order_id).await);
    assert_eq!(events.next_status().await["status"], "PENDING");

    // What logout does.
    let mut redis = app.redis.get().await.unwrap();
    let () = redis::cmd("SET")
        .arg(auth_kit::deny_list_key(&app.prefix, &claims.jti))
        .arg(1)
        .arg("EX")
        .arg(900)
        .query_async(&mut redis)
        .await
        .unwrap();

    // Within one resync (10 s).
    let why = read_to_end(&mut events, std::time::Duration::from_secs(20)).await;
    assert_eq!(why.as_deref(), Some("revoked"));
}

#[tokio::test]
async fn a_user_may_hold_only_so_many_event_streams_at_once() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Radio", "60.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    let mut open_streams = Vec::new();
    for _ in 0..orders_service::routes::STREAMS_PER_USER {
        let response = open(&app, &buyer, order_id).await;
        assert_eq!(response.status(), 200);
        open_streams.push(response);
    }

    let response = open(&app, &buyer, order_id).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "too_many_streams").await;
    // Someone else is not affected, and closing one frees its slot.
    assert_eq!(open(&app, &app.user(), order_id).await.status(), 404);
    open_streams.pop();
    wait_until(PATIENCE, "a slot to free up", || async {
        let response = open(&app, &buyer, order_id).await;
        (response.status() == 200).then_some(response)
    })
    .await;
}
