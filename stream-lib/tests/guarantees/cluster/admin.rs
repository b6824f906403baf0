//! `stream-admin` on a cluster: `REDIS_CLUSTER_URLS` wins over `REDIS_URL`, as in the services.

use redis::Value;
use stream_lib::DEAD_LETTER_STREAM;

use super::{GROUP, OnCluster};
use crate::helpers::{STREAM, placed};

impl OnCluster {
    /// Runs `stream-admin args` against the cluster, with a `REDIS_URL` nothing answers on;
    /// returns its exit code and its JSON.
    async fn stream_admin(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_stream-admin"))
            .args(args)
            .env("REDIS_URL", "redis://127.0.0.1:1")
            .env("REDIS_CLUSTER_URLS", self.cluster.urls_setting())
            .env("REDIS_KEY_PREFIX", self.keys.prefix())
            .output()
            .await
            .unwrap();
        let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
        (output.status.code().unwrap(), json)
    }
}

#[tokio::test]
async fn stream_admin_on_a_cluster_shows_the_streams_and_replays_a_dead_letter() {
    let mut on = OnCluster::start("cluster_admin").await;
    let event = placed(1);
    let mut xadd = redis::cmd("XADD");
    xadd.arg(on.keys.key(DEAD_LETTER_STREAM)).arg("*");
    for (name, value) in event.to_fields() {
        xadd.arg(name).arg(value);
    }
    for (name, value) in [
        ("origin_stream", STREAM),
        ("origin_id", "1-1"),
        ("group", GROUP),
        ("attempts", "8"),
        ("error", "boom"),
        ("failed_at", "2026-12-02T18:00:00Z"),
    ] {
        xadd.arg(name).arg(value);
    }
    let id: String = xadd.query_async(&mut on.redis).await.unwrap();

    let (code, health) = on.stream_admin(&["health"]).await;
    assert_eq!(code, 0, "{health}");
    assert_eq!(health[2]["stream"], "dead_letter_stream");
    assert_eq!(health[2]["length"], 1);
    let (code, letters) = on.stream_admin(&["dead-letters"]).await;
    assert_eq!(code, 0);
    assert_eq!(letters[0]["id"], id.as_str());
    assert_eq!(letters[0]["event_id"], event.event_id.to_string());

    let (code, replayed) = on.stream_admin(&["replay", &id]).await;

    assert_eq!(code, 0, "{replayed}");
    assert_eq!(replayed["replayed"], id.as_str());
    let entries: Value = redis::cmd("XRANGE")
        .arg(on.keys.key(STREAM))
        .arg("-")
        .arg("+")
        .query_async(&mut on.redis)
        .await
        .unwrap();
    assert!(
        format!("{entries:?}").contains(&event.event_id.to_string()),
        "the original is back on {STREAM}: {entries:?}"
    );
    let left: u64 = redis::cmd("XLEN")
        .arg(on.keys.key(DEAD_LETTER_STREAM))
        .query_async(&mut on.redis)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
