//! Metrics: the dashboards and alert rules name exactly the code's metrics, promtool accepts the
//! rules, and a real Prometheus scraping a live pipeline and API has data for every query.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use rollcall::store::Store;

use crate::helpers::*;

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
    let spec: rollcall::timetable::spec::ScheduleSpec = serde_json::from_value(serde_json::json!({
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
    let (pipeline_port, api_port, api_metrics_port) = (free_port(), free_port(), free_port());
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
        .env(
            "ROLLCALL__TELEMETRY__METRICS_LISTEN",
            format!("127.0.0.1:{api_metrics_port}"),
        )
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
        ("a-key-nobody-configured-here", 1),
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
        ("rollcall-api", format!("127.0.0.1:{api_metrics_port}")),
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
