//! A real three-master Redis Cluster on loopback ports, shared by the tests of one test binary
//! while any of them holds it.

use std::{
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use super::server::Server;

/// How long the nodes may take to agree that the cluster is whole.
const FORM_TIMEOUT: Duration = Duration::from_secs(30);

static SHARED: tokio::sync::Mutex<Weak<Nodes>> = tokio::sync::Mutex::const_new(Weak::new());

/// Three masters (no replicas) owning every slot. Cheap to clone; the nodes stop when the last
/// clone is dropped, or when the test process ends in any way.
///
/// The tests sharing one cluster see each other's keys: give each test its own key prefix, and
/// use [`RedisCluster::start_private`] for anything destructive (`FLUSHALL`, stopping a node).
#[derive(Clone)]
pub struct RedisCluster {
    nodes: Arc<Nodes>,
}

struct Nodes(Vec<Server>);

impl RedisCluster {
    /// The cluster of this test binary: the running one if another test holds it, else a new one
    /// (about three seconds).
    pub async fn start() -> Self {
        let mut shared = SHARED.lock().await;
        if let Some(nodes) = shared.upgrade() {
            return Self { nodes };
        }
        let cluster = Self::start_private().await;
        *shared = Arc::downgrade(&cluster.nodes);
        cluster
    }

    /// A cluster of the caller's own.
    pub async fn start_private() -> Self {
        let options = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        let (a, b, c) = tokio::join!(
            Server::start(&options, true),
            Server::start(&options, true),
            Server::start(&options, true)
        );
        let cluster = Self {
            nodes: Arc::new(Nodes(vec![a, b, c])),
        };
        cluster.create().await;
        cluster.wait_until_whole().await;
        cluster
    }

    /// Each node's `redis://127.0.0.1:<port>`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.0.iter().map(Server::url).collect()
    }

    /// The node URLs joined by commas, as a service's `REDIS_CLUSTER_URLS` takes them.
    pub fn urls_setting(&self) -> String {
        self.urls().join(",")
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.0.iter().map(Server::port).collect()
    }

    async fn create(&self) {
        let output = tokio::process::Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(self.ports().iter().map(|port| format!("127.0.0.1:{port}")))
            .arg("--cluster-yes")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("redis-cli is installed");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Waits until every node says `cluster_state:ok` (it knows an owner for every slot).
    async fn wait_until_whole(&self) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        for node in &self.nodes.0 {
            let client = redis::Client::open(node.url()).expect("a valid URL");
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .expect("the cluster node answers");
            loop {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut connection)
                    .await
                    .expect("the cluster node answers CLUSTER INFO");
                if info.lines().any(|line| line.trim() == "cluster_state:ok") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the cluster did not form: {info}\n{}",
                    node.log()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
