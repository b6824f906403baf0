//! Every Lua script and `MULTI` of the consumer and the outbox relay, with the real key names of
//! each stream, on a cluster.

use redis::{Script, Value};
use stream_lib::{
    DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys, outbox::recovery::epoch_key,
};
use uuid::Uuid;
use web_kit::testing::RedisCluster;

use super::{GROUP, slot};

const CONSUMER: &str = "replica-1";

fn script(source: &str) -> Script {
    Script::new(source)
}

#[tokio::test]
async fn every_script_and_transaction_of_a_stream_runs_on_a_cluster() {
    let cluster = RedisCluster::start().await;
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut redis = client.get_async_connection().await.unwrap();
    let keys = StreamKeys::new(format!("slcluster-{}:", Uuid::new_v4().simple()));

    for stream in [ORDERS_STREAM, INVENTORY_STREAM, DEAD_LETTER_STREAM] {
        let stream_key = keys.key(stream);
        let retries = keys.retries(stream, GROUP);
        let attempts = keys.attempts(stream, GROUP);
        let epoch = epoch_key(&keys, stream);
        let home = slot(&mut redis, &stream_key).await;
        for key in [&retries, &attempts, &epoch] {
            assert_eq!(
                slot(&mut redis, key).await,
                home,
                "{key} is in {stream_key}'s slot"
            );
        }

        // The relay's publish: the check alone (no entries), then one entry.
        let () = redis::cmd("SET")
            .arg(&epoch)
            .arg("e1")
            .query_async(&mut redis)
            .await
            .unwrap();
        let checked: Value = script(include_str!("../../../src/outbox/publish.lua"))
            .key(&stream_key)
            .key(&epoch)
            .arg("e1")
            .arg(0)
            .arg(0)
            .arg(2)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        assert!(format!("{checked:?}").contains("ok"), "{checked:?}");
        let published: Value = script(include_str!("../../../src/outbox/publish.lua"))
            .key(&stream_key)
            .key(&epoch)
            .arg("e1")
            .arg(0)
            .arg(0)
            .arg(2)
            .arg("type")
            .arg("order.placed")
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let Value::Array(reply) = &published else {
            panic!("{published:?}")
        };
        let id = match &reply[3] {
            Value::BulkString(id) => String::from_utf8(id.clone()).unwrap(),
            other => panic!("an entry id: {other:?}"),
        };

        // The consumer's group and a delivery to this replica.
        let () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream_key)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut redis)
            .await
            .unwrap();
        let _: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(CONSUMER)
            .arg("COUNT")
            .arg(10)
            .arg("STREAMS")
            .arg(&stream_key)
            .arg(">")
            .query_async(&mut redis)
            .await
            .unwrap();

        // Its scripts, each over the stream and its hash-tagged retry keys.
        let scheduled: Vec<i64> = script(include_str!("../../../src/lua/schedule_retry.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(&id)
            .arg(1)
            .arg(8)
            .arg(1000)
            .arg(2.0)
            .arg(60_000)
            .arg(1.0)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(
            scheduled,
            [1, 1000],
            "owned by this replica: retry in base ms"
        );
        let _: Value = script(include_str!("../../../src/lua/claim_due.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(10)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../../src/lua/reclaim.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(0)
            .arg("0-0")
            .arg(10)
            .arg(100)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../../src/lua/touch.lua"))
            .key(&stream_key)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(0)
            .arg(&id)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../../src/lua/forget_consumers.lua"))
            .key(&stream_key)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(3_600_000)
            .invoke_async(&mut redis)
            .await
            .unwrap();

        // The ack: XACK and the attempt count's HDEL in one transaction.
        let () = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&stream_key)
            .arg(GROUP)
            .arg(&id)
            .ignore()
            .cmd("HDEL")
            .arg(&attempts)
            .arg(&id)
            .ignore()
            .query_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../../src/lua/trim.lua"))
            .key(&stream_key)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let pending: Value = redis::cmd("XPENDING")
            .arg(&stream_key)
            .arg(GROUP)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(
            matches!(&pending, Value::Array(summary) if summary.first() == Some(&Value::Int(0))),
            "acked: {pending:?}"
        );

        let () = redis::cmd("DEL")
            .arg(&stream_key)
            .query_async(&mut redis)
            .await
            .unwrap();
        for key in [&retries, &attempts, &epoch] {
            let () = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
    }
}
