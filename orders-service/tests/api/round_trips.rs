//! What `POST /api/orders` costs PostgreSQL, counted on the wire (see `wire`): five round trips
//! in one transaction, no ping on acquire, each statement prepared once per connection.

use std::collections::HashMap;

use serde_json::json;
use web_kit::testing::database_server_url;

use crate::{
    helpers::{TestApp, spawn_app_with},
    wire::{self, Trips},
};

/// `url` with its host and port replaced by the proxy's, TLS off; and the upstream `host:port`.
pub fn through_proxy(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(u, h)| (u, h));
    let upstream = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let at = if user.is_empty() { "" } else { "@" };
    let separator = if path.contains('?') { '&' } else { '?' };
    (
        format!("{scheme}://{user}{at}127.0.0.1:{port}/{path}{separator}sslmode=disable"),
        upstream,
    )
}

/// A counting proxy in front of the test server; returns its port.
pub async fn proxy() -> (u16, Trips) {
    wire::proxy(through_proxy(&database_server_url(), 0).1).await
}

/// The app with its database behind the counting proxy.
pub async fn proxied_app() -> (TestApp, Trips) {
    let (port, trips) = proxy().await;
    let app = spawn_app_with(|settings| {
        settings.database_url = through_proxy(&settings.database_url, port).0;
    })
    .await;
    (app, trips)
}

#[tokio::test]
async fn placing_an_order_is_five_round_trips_in_one_transaction_without_a_ping_on_acquire() {
    let (app, trips) = proxied_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});
    let placements = 12;

    for n in 0..placements {
        let placed = if n % 2 == 0 {
            app.place_order_with_key(&buyer, &format!("key-{n}"), &body)
                .await
        } else {
            app.place_order(&buyer, &body).await
        };
        assert_eq!(placed.status(), 201);
    }

    let transactions = trips.transactions_with("INSERT INTO orders");
    assert_eq!(transactions.len(), placements, "one transaction per order");
    let mut prepared_on: HashMap<usize, usize> = HashMap::new();
    for transaction in &transactions {
        let trips = &transaction.trips;
        let executed = trips.iter().filter(|trip| trip.executed).count();
        let prepares = trips.iter().filter(|trip| !trip.executed).count();
        assert_eq!(executed, 5, "{trips:#?}");
        assert!(
            trips.iter().all(|trip| !trip.is_ping()),
            "nothing but statements inside: {trips:#?}"
        );
        assert!(
            transaction.pings_before <= 1,
            "the connection was pinged when acquired as well as when released: {transaction:#?}"
        );
        *prepared_on.entry(trips[0].connection).or_default() += prepares;
    }
    // BEGIN and COMMIT are simple queries; the other three are prepared once per connection.
    for (connection, prepares) in &prepared_on {
        assert!(
            *prepares <= 3,
            "connection {connection} prepared {prepares} times"
        );
    }
    println!(
        "POST /api/orders: 5 round trips per order once warm; {} prepares over {placements} \
         orders on {} connections",
        prepared_on.values().sum::<usize>(),
        prepared_on.len()
    );
}
