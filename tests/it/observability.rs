//! Observability against live processes: a real Prometheus server scraping a running pipeline
//! runs every dashboard panel query and every alert rule; spans exported over OTLP join one
//! frame's work across processes into one trace; the dashboards name exactly the code's metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rollcall::store::Store;
use serde_json::Value;

use crate::kafka::{Stack, config_env, enrol, stage, terminate, wait_for_people};
use crate::support::*;

fn dashboards() -> PathBuf {
    repo().join("dashboards")
}

/// The dashboards' JSON files.
fn dashboard_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dashboards().join("grafana"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    files
}

/// Every panel query of every dashboard: (dashboard, panel title, expression).
fn panel_queries() -> Vec<(String, String, String)> {
    let mut queries = Vec::new();
    for file in dashboard_files() {
        let board: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = board["title"].as_str().unwrap().to_owned();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap().to_owned();
                queries.push((name.clone(), panel["title"].as_str().unwrap().to_owned(), expr));
            }
        }
    }
    queries
}

/// The alert rules: (name, expression). A small reader for the one file's known shape.
fn alert_rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dashboards().join("prometheus/alerts.yml")).unwrap();
    let mut rules = Vec::new();
    let mut name = None;
    for line in text.lines().map(str::trim) {
        if let Some(alert) = line.strip_prefix("- alert: ") {
            name = Some(alert.to_owned());
        } else if let Some(expr) = line.strip_prefix("expr: ") {
            rules.push((name.take().expect("expr after alert"), expr.to_owned()));
        }
    }
    assert!(rules.len() >= 5, "{rules:?}");
    rules
}

/// Grafana's variables, as the dashboards use them, replaced by values Prometheus understands.
fn as_prometheus_query(expr: &str) -> String {
    expr.replace("$__rate_interval", "30s").replace("$camera", ".*")
}

/// An alert expression without its final comparison: the signal it watches. An alert that is
/// not firing returns nothing, so the signal is what must have series in a healthy pipeline.
fn signal_of(expr: &str) -> String {
    for op in [" > ", " < ", " == ", " != ", " >= ", " <= "] {
        if let Some(at) = expr.rfind(op) {
            let threshold = expr[at + op.len()..].trim();
            if threshold.parse::<f64>().is_ok() {
                return expr[..at].trim().to_owned();
            }
        }
    }
    panic!("alert expression {expr:?} does not end in a comparison with a number");
}

/// The metric names a text mentions (histogram series reduced to their metric).
fn metric_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("rollcall_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        // Job names (`rollcall-api`) and dashboard uids are not metrics.
        if base.len() > "rollcall_".len() {
            names.insert(base.to_owned());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_dashboards_and_alerts_name_exactly_the_metrics_the_code_defines() {
    let defined: BTreeSet<String> = rollcall::metrics::metrics().names().iter().cloned().collect();
    let mut used = BTreeSet::new();
    for file in dashboard_files() {
        used.extend(metric_names_in(&std::fs::read_to_string(file).unwrap()));
    }
    let alerts = std::fs::read_to_string(dashboards().join("prometheus/alerts.yml")).unwrap();
    let in_alerts = metric_names_in(&alerts);
    assert!(in_alerts.is_subset(&defined), "{:?}", in_alerts.difference(&defined));
    used.extend(in_alerts);
    let unknown: Vec<_> = used.difference(&defined).collect();
    let unused: Vec<_> = defined.difference(&used).collect();
    assert!(
        unknown.is_empty(),
        "the dashboards query metrics the code does not define: {unknown:?}"
    );
    assert!(unused.is_empty(), "metrics no dashboard shows: {unused:?}");
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(dashboards().join("prometheus/alerts.yml"))
        .output()
        .expect("promtool (Debian's prometheus package) must be installed");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus server of the test's own, scraping the given targets every second and
/// evaluating the alert rules.
struct Prometheus {
    child: Child,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start(targets: &[(&str, String)]) -> Prometheus {
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

    async fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
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
    async fn query(&self, expr: &str) -> Value {
        self.api("query", &[("query", expr)]).await
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn series(answer: &Value) -> usize {
    answer["data"]["result"].as_array().map_or(0, Vec::len)
}

/// Waits until `check` holds, polling every half second.
async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
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

/// A camera folder with the given photos (and raw files) in order.
fn camera_folder(work: &Path, id: &str, photos: &[&str]) {
    let dir = work.join("cameras").join(id);
    for (i, photo) in photos.iter().enumerate() {
        link(&face(photo), &dir, &format!("{i}.jpg"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_and_alert_rule_has_data_from_a_live_pipeline() {
    let Stack {
        kafka: _kafka,
        db,
        redis: _redis,
        work,
        mut config,
    } = Stack::start(2).await;
    // Lag statistics every second rather than every five.
    config
        .kafka
        .options
        .insert("statistics.interval.ms".into(), "1000".into());
    let store = Store::open(&db.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    enrol(&store, &config, "biden", "face_recognition/biden/biden.jpg").await;
    // A group in a session running all day, for the session panels.
    assert!(store.create_group("staff", "Staff", "test").await.unwrap());
    let always = rollcall::store::Period {
        from: None,
        until: None,
    };
    for person in ["obama", "biden"] {
        store.add_member("staff", person, always, "test").await.unwrap();
    }
    let started = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let spec: rollcall::sessions::spec::ScheduleSpec = serde_json::from_value(serde_json::json!({
        "kind": "once", "date": started.date_naive(), "start": started.format("%H:%M").to_string(),
        "end": started.format("%H:%M").to_string(), "ends_next_day": true, "time_zone": "UTC"
    }))
    .unwrap();
    let schedule = spec.into_schedule("all-day", "staff").unwrap();
    store.write_schedule(&schedule, false, "test").await.unwrap();
    // Obama twice (the second is suppressed), Biden, strangers (unknown faces), and a corrupt
    // file (a dead letter).
    camera_folder(
        work.path(),
        "door",
        &[
            "face_recognition/obama/test_obama1.jpg",
            "face_recognition/obama/obama2.jpg",
            "multi/kit_with_rose.jpg",
        ],
    );
    camera_folder(work.path(), "hall", &["face_recognition/biden/biden.jpg"]);
    std::fs::write(work.path().join("cameras/hall/9.jpg"), b"not a JPEG at all").unwrap();

    // Every stage in one process (it keeps running after the folders are replayed), and the API.
    let (pipeline_port, api_port) = (free_port(), free_port());
    let mut pipeline = stage(work.path(), &config, "run");
    pipeline
        .env(
            "ROLLCALL__TELEMETRY__METRICS_LISTEN",
            format!("127.0.0.1:{pipeline_port}"),
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.path().join("run.log")).unwrap());
    let pipeline = pipeline.spawn().unwrap();
    let mut api = rollcall(work.path());
    api.envs(config_env(&config))
        .env("ROLLCALL__API__LISTEN", format!("127.0.0.1:{api_port}"))
        .env("ROLLCALL__API__RATE_LIMIT_PER_MINUTE", "60")
        .env("ROLLCALL__API__SESSION_METRICS_INTERVAL_SECS", "1")
        .env("ROLLCALL__API__KEYS__DESK__KEY", "desk-key-for-the-metrics-test")
        .env("ROLLCALL__API__KEYS__DESK__ROLE", "reader")
        .env("ROLLCALL__API__KEYS__FLOOD__KEY", "flood-key-for-the-metrics-test")
        .env("ROLLCALL__API__KEYS__FLOOD__ROLE", "reader")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.path().join("serve.log")).unwrap());
    let api = api.spawn().unwrap();

    let expected: BTreeSet<String> = ["biden", "obama"].map(String::from).into();
    wait_for_people(&store, &expected, Duration::from_secs(90)).await;

    // Traffic for the API's panels: a cache miss and hit, readiness, and one key over its limit.
    let http = http_client();
    let base = format!("http://127.0.0.1:{api_port}");
    let today = chrono::Utc::now().date_naive();
    let mut statuses = Vec::new();
    for (key, times) in [
        ("desk-key-for-the-metrics-test", 2),
        ("flood-key-for-the-metrics-test", 12),
    ] {
        for _ in 0..times {
            let response = http
                .get(format!("{base}/v1/attendance/days/{today}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
    }
    assert!(statuses.contains(&200) && statuses.contains(&429), "{statuses:?}");
    assert!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    let prometheus = Prometheus::start(&[
        ("rollcall-run", format!("127.0.0.1:{pipeline_port}")),
        ("rollcall-api", format!("127.0.0.1:{api_port}")),
    ])
    .await;
    // Enough scrapes for rates over 30 s, and the lag statistics in.
    eventually(
        "both targets scraped for 8 s, with consumer lag",
        Duration::from_secs(60),
        || async {
            let scrapes = prometheus.query("min(count_over_time(up[1m]))").await;
            let enough = scrapes["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|n| n >= 8.0);
            enough && series(&prometheus.query("rollcall_bus_consumer_lag_messages").await) > 0
        },
    )
    .await;
    let up = prometheus.query("up").await;
    for target in up["data"]["result"].as_array().unwrap() {
        assert_eq!(target["value"][1], "1", "a target is down: {target}");
    }

    let mut failures = Vec::new();
    let queries = panel_queries();
    for (board, panel, expr) in &queries {
        let answer = prometheus.query(&as_prometheus_query(expr)).await;
        if answer["status"] != "success" || series(&answer) == 0 {
            failures.push(format!("{board} / {panel}: {expr} -> {answer}"));
        }
    }
    let cameras = prometheus
        .api("label/camera/values", &[("match[]", "rollcall_recognize_frames_total")])
        .await;
    if cameras["data"] != serde_json::json!(["door", "hall"]) {
        failures.push(format!("the camera variable's values: {cameras}"));
    }
    let rules = alert_rules();
    for (alert, expr) in &rules {
        let whole = prometheus.query(expr).await;
        let signal = prometheus.query(&signal_of(expr)).await;
        if whole["status"] != "success" || series(&signal) == 0 {
            failures.push(format!("alert {alert}: {expr} -> {whole}; signal -> {signal}"));
        }
    }
    // The server loaded and evaluates the same rules without errors.
    let loaded = prometheus.api("rules", &[]).await;
    let evaluated: BTreeMap<String, String> = loaded["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["health"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(evaluated.len(), rules.len(), "{loaded}");
    assert!(evaluated.values().all(|h| h == "ok"), "{evaluated:?}");
    assert!(
        failures.is_empty(),
        "{} queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(queries.len() >= 20, "{}", queries.len());

    let ran = terminate(pipeline);
    assert!(
        ran.status.success(),
        "{}",
        std::fs::read_to_string(work.path().join("run.log")).unwrap()
    );
    let served = terminate(api);
    assert!(served.status.success());
    drop(store);
    db.drop_now().await;
}

/// An OTLP/HTTP receiver (JSON encoding) that keeps every export request.
struct OtlpReceiver {
    address: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl OtlpReceiver {
    async fn start() -> OtlpReceiver {
        let requests: Arc<Mutex<Vec<Value>>> = Arc::default();
        let kept = Arc::clone(&requests);
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    kept.lock().unwrap().push(request);
                    axum::Json(serde_json::json!({}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        OtlpReceiver { address, requests }
    }

    /// Every span received, with its service's name.
    fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for request in self.requests.lock().unwrap().iter() {
            for resource in request["resourceSpans"].as_array().into_iter().flatten() {
                let service = resource["resource"]["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["key"] == "service.name")
                    .and_then(|a| a["value"]["stringValue"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    for span in scope["spans"].as_array().into_iter().flatten() {
                        let text = |field: &str| span[field].as_str().unwrap_or_default().to_owned();
                        spans.push(Span {
                            service: service.clone(),
                            name: text("name"),
                            trace_id: text("traceId"),
                            span_id: text("spanId"),
                            parent_span_id: text("parentSpanId"),
                            events: span["events"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
                                .collect(),
                            links: span["links"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|l| l["spanId"].as_str().unwrap_or_default().to_owned())
                                .collect(),
                        });
                    }
                }
            }
        }
        spans
    }
}

#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    events: Vec<String>,
    links: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_frame_is_one_trace_from_ingest_through_recognition_to_the_store_and_cache() {
    let Stack {
        kafka: _kafka,
        db,
        redis: _redis,
        work,
        config,
    } = Stack::start(2).await;
    let receiver = OtlpReceiver::start().await;
    let store = Store::open(&db.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    camera_folder(work.path(), "door", &["face_recognition/obama/test_obama1.jpg"]);

    let traced = |name: &str| {
        let mut command = stage(work.path(), &config, name);
        command
            .env("ROLLCALL__TELEMETRY__OTLP_ENDPOINT", &receiver.address)
            .env("ROLLCALL__TELEMETRY__OTLP_PROTOCOL", "http/json")
            // Export every 200 ms instead of every 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200");
        command
    };
    // The recognizer also logs as JSON, its debug lines included, into a file: a pipe nobody
    // reads until the end would fill up and stall it.
    let recognizer_log = work.path().join("recognize.log");
    let recognizer = traced("recognize")
        .env("ROLLCALL__TELEMETRY__LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,rollcall=debug")
        .stderr(std::fs::File::create(&recognizer_log).unwrap())
        .spawn()
        .unwrap();
    let projector = traced("project").spawn().unwrap();
    let ingest = traced("ingest").output().unwrap();
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let expected: BTreeSet<String> = ["obama".to_owned()].into();
    wait_for_people(&store, &expected, Duration::from_secs(90)).await;
    // A clean stop flushes the spans still queued.
    let recognized = terminate(recognizer);
    assert!(recognized.status.success());
    assert!(terminate(projector).status.success());
    let logs: Vec<Value> = std::fs::read_to_string(&recognizer_log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let frame_log = logs
        .iter()
        .find(|l| l["fields"]["message"] == "frame recognized")
        .expect("the debug line of the frame");
    assert_eq!(frame_log["level"], "DEBUG");
    assert_eq!(frame_log["span"]["name"], "recognize.frame", "{frame_log}");
    assert_eq!(frame_log["fields"]["events"], 1, "{frame_log}");

    let spans = receiver.spans();
    let find = |name: &str| -> Vec<&Span> { spans.iter().filter(|s| s.name == name).collect() };
    let ingested = find("ingest.frame");
    assert_eq!(ingested.len(), 1, "{spans:#?}");
    let root = ingested[0];
    assert_eq!(root.service, "rollcall-ingest");
    assert!(root.parent_span_id.is_empty(), "a frame starts its trace: {root:?}");
    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.trace_id == root.trace_id).collect();
    let one = |name: &str| -> &Span {
        let found: Vec<&&Span> = in_trace.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "{name} in the frame's trace: {in_trace:#?}");
        found[0]
    };
    let recognized = one("recognize.frame");
    assert_eq!(recognized.service, "rollcall-recognize");
    assert_eq!(
        recognized.parent_span_id, root.span_id,
        "recognition continues the ingest span"
    );
    for step in ["decode", "detect", "align", "embed", "match"] {
        assert_eq!(one(step).parent_span_id, recognized.span_id, "{step}");
    }
    let projected = one("project.event");
    assert_eq!(projected.service, "rollcall-project");
    assert_eq!(
        projected.parent_span_id, recognized.span_id,
        "projection continues recognition"
    );
    assert_eq!(projected.events, ["stored", "cache invalidated"], "{projected:?}");
    // The batch's own spans (the PostgreSQL write, the invalidation) link back to the event.
    let flush = spans
        .iter()
        .find(|s| s.name == "project.flush" && s.links.contains(&projected.span_id))
        .expect("a flush span linked to the event");
    for child in ["store.write", "cache.invalidate"] {
        assert!(
            spans
                .iter()
                .any(|s| s.name == child && s.parent_span_id == flush.span_id),
            "{child} under the flush"
        );
    }
    drop(store);
    db.drop_now().await;
}
