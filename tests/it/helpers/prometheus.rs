//! A Prometheus server of the test's own, scraping live processes and evaluating the alert rules,
//! and polling until a condition holds.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{dashboards, free_port, http_client};

/// A Prometheus server of the test's own, scraping the given targets every second and
/// evaluating the alert rules.
pub struct Prometheus {
    child: Child,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub async fn start(targets: &[(&str, String)]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n",
            dashboards().join("prometheus/alerts.yml").display()
        );
        for (job, target) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ));
        }
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus (Debian's prometheus package) must be installed");
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: http_client(),
            _dir: dir,
        };
        let start = Instant::now();
        loop {
            let ready = prometheus.http.get(format!("{}/-/ready", prometheus.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return prometheus;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "prometheus did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/{path}", self.base))
            .query(params)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Evaluates `expr` now: the JSON answer (status, data.result).
    pub async fn query(&self, expr: &str) -> Value {
        self.api("query", &[("query", expr)]).await
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many series a query's answer holds.
pub fn series(answer: &Value) -> usize {
    answer["data"]["result"].as_array().map_or(0, Vec::len)
}

/// Waits until `check` holds, polling every half second.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < within, "after {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
