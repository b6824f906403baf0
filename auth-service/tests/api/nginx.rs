//! The storefront's real nginx (frontend/nginx/default.conf.template, rendered by render-local) in
//! front of a test app, and a second server in the same nginx standing in for the TLS proxy that
//! production puts in front of it: it listens on its own port and reaches nginx from 127.0.0.5,
//! appending the client's address to `X-Forwarded-For` as a TLS proxy does.

use std::{
    net::IpAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::Client;

/// The address the stand-in TLS proxy connects to nginx from.
pub const FRONT_PROXY_SOURCE: &str = "127.0.0.5";

pub struct Nginx {
    /// nginx itself (the storefront).
    pub port: u16,
    /// The stand-in TLS proxy in front of it.
    pub front_port: u16,
    dir: PathBuf,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect(
            "nginx is needed for this test: apt-get install nginx (scripts/ensure-services does)",
        )
}

impl Nginx {
    /// Renders the template with every upstream pointing at `upstream` (host:port) and
    /// `TRUSTED_PROXIES` as given, and starts nginx; returns once it answers.
    pub async fn start(upstream: &str, trusted_proxies: &str) -> Self {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::temp_dir().join(format!("nginx-test-{}", uuid::Uuid::new_v4()));
        let html = dir.join("html");
        std::fs::create_dir_all(&html).unwrap();
        std::fs::write(
            html.join("index.html"),
            "<!doctype html><title>test</title>",
        )
        .unwrap();
        // Workers run as nobody when the tests run as root.
        for path in [&dir, &html] {
            Command::new("chmod").arg("755").arg(path).status().unwrap();
        }
        Command::new("chmod")
            .arg("644")
            .arg(html.join("index.html"))
            .status()
            .unwrap();
        let port = free_port();
        let front_port = free_port();
        let rendered = Command::new(repo.join("frontend/nginx/render-local"))
            .arg(dir.join("conf"))
            .env("LISTEN_PORT", port.to_string())
            .env("AUTH_UPSTREAM", upstream)
            .env("PRODUCTS_UPSTREAM", upstream)
            .env("ORDERS_UPSTREAM", upstream)
            .env("STATIC_ROOT", &html)
            .env("TRUSTED_PROXIES", trusted_proxies)
            .output()
            .unwrap();
        assert!(
            rendered.status.success(),
            "render-local failed: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let conf = dir.join("conf");
        let mut server = std::fs::read_to_string(conf.join("default.conf")).unwrap();
        server.push_str(&format!(
            "\n# The stand-in TLS proxy.\nserver {{\n    listen 127.0.0.1:{front_port};\n    \
             location / {{\n        proxy_pass http://127.0.0.1:{port};\n        \
             proxy_bind {FRONT_PROXY_SOURCE};\n        proxy_set_header Host $host;\n        \
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }}\n}}\n"
        ));
        std::fs::write(conf.join("default.conf"), server).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-e")
            .arg(conf.join("error.log"))
            .arg("-p")
            .arg(&conf)
            .arg("-c")
            .arg(conf.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Self {
            port,
            front_port,
            dir,
            child,
        };
        let client = plain_from("127.0.0.1");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let direct = client.get(nginx.url("/")).send().await;
            let front = client.get(nginx.front_url("/")).send().await;
            if direct.is_ok() && front.is_ok() {
                return nginx;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nginx does not answer: {}",
                std::fs::read_to_string(nginx.dir.join("conf/error.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn front_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.front_port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM is a fast shutdown for nginx; the master takes its workers down.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client without cookies whose connections come from `source` (any 127.0.0.0/8 address).
pub fn plain_from(source: &str) -> Client {
    Client::builder()
        .no_proxy()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}
