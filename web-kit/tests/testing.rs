//! The test servers of `web_kit::testing` against the real `redis-server`: the cluster is whole
//! and routes keys, the private server loses or keeps its data as asked, and no server outlives
//! the test process, however it ends.

use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use web_kit::testing::{PrivateRedis, RedisCluster};

#[tokio::test]
async fn every_cluster_node_says_ok_and_the_cluster_routes_keys_to_all_three() {
    let cluster = RedisCluster::start().await;

    let mut nodes = Vec::new();
    for url in cluster.urls() {
        let mut node = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let info: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut node)
            .await
            .unwrap();
        assert!(info.contains("cluster_state:ok"), "{info}");
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
        assert!(info.contains("cluster_slots_assigned:16384"), "{info}");
        nodes.push(node);
    }

    let prefix = uuid::Uuid::new_v4().simple().to_string();
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut routed = client.get_async_connection().await.unwrap();
    let keys: Vec<String> = (0..30).map(|n| format!("{prefix}:key:{n}")).collect();
    for (n, key) in keys.iter().enumerate() {
        let () = routed.set(key, n).await.unwrap();
    }
    for (n, key) in keys.iter().enumerate() {
        let value: usize = routed.get(key).await.unwrap();
        assert_eq!(value, n);
    }

    // A node counts only the keys of slots it owns.
    let mut slots = std::collections::BTreeSet::new();
    for key in &keys {
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut nodes[0])
            .await
            .unwrap();
        slots.insert(slot);
    }
    let mut total = 0;
    for node in &mut nodes {
        let mut held = 0;
        for slot in &slots {
            let count: i64 = redis::cmd("CLUSTER")
                .arg("COUNTKEYSINSLOT")
                .arg(slot)
                .query_async(node)
                .await
                .unwrap();
            held += count;
        }
        assert!(held > 0, "every master holds some of the keys");
        total += held;
    }
    assert_eq!(total, 30, "each key is on exactly one master");
    let () = routed.del(&keys).await.unwrap();
}

#[tokio::test]
async fn tests_of_one_binary_share_the_cluster_while_one_holds_it() {
    let first = RedisCluster::start().await;
    let second = RedisCluster::start().await;

    assert_eq!(first.ports(), second.ports());
    assert_eq!(first.urls_setting().split(',').count(), 3);
}

#[tokio::test]
async fn a_private_cluster_stops_when_dropped() {
    let cluster = RedisCluster::start_private().await;
    let ports = cluster.ports();
    assert!(ports.iter().all(|port| answers(*port)));

    drop(cluster);

    assert!(ports.iter().all(|port| !answers(*port)));
}

#[tokio::test]
async fn a_private_redis_keeps_its_data_across_a_restart_and_loses_it_when_restarted_empty() {
    let mut redis = PrivateRedis::start().await;
    let () = redis.connection().await.set("kept", "yes").await.unwrap();

    redis.stop().await;
    assert!(
        !answers(redis.port()),
        "a stopped server refuses connections"
    );
    redis.restart().await;
    let kept: Option<String> = redis.connection().await.get("kept").await.unwrap();
    assert_eq!(kept.as_deref(), Some("yes"));

    redis.restart_empty().await;
    let lost: Option<String> = redis.connection().await.get("kept").await.unwrap();
    assert_eq!(lost, None);
    let size: i64 = redis::cmd("DBSIZE")
        .query_async(&mut redis.connection().await)
        .await
        .unwrap();
    assert_eq!(size, 0);

    let port = redis.port();
    drop(redis);
    assert!(!answers(port), "a dropped server is stopped");
}

/// Set in the child process of [`no_server_outlives_a_test_process_killed_with_sigkill`].
const CHILD: &str = "WEB_KIT_TESTING_CHILD";

#[tokio::test]
async fn no_server_outlives_a_test_process_killed_with_sigkill() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "servers_of_a_process_about_to_be_killed"])
        .args(["--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ports = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        // libtest writes the test's name on the same line first.
        if let Some((_, list)) = line.unwrap().split_once("ports:") {
            ports = list
                .split_whitespace()
                .map(|port| port.parse::<u16>().unwrap())
                .collect();
            break;
        }
    }
    assert_eq!(ports.len(), 4, "a private redis and a cluster");
    assert!(ports.iter().all(|port| answers(*port)));

    child.kill().unwrap();
    child.wait().unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while ports.iter().any(|port| answers(*port)) {
        assert!(
            Instant::now() < deadline,
            "servers outlived their test process: {ports:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs only as the child of the test above: starts servers, tells their ports, waits to die.
#[tokio::test]
#[ignore = "the child process of no_server_outlives_a_test_process_killed_with_sigkill"]
async fn servers_of_a_process_about_to_be_killed() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let redis = PrivateRedis::start().await;
    let cluster = RedisCluster::start_private().await;
    let mut ports = vec![redis.port()];
    ports.extend(cluster.ports());
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    println!("ports:{}", ports.join(" "));
    tokio::time::sleep(Duration::from_secs(60)).await;
    panic!("not killed");
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}
