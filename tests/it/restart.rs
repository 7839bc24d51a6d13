//! The embedded pipeline killed mid-stream and started again: exactly the events of an
//! uninterrupted run, and a live camera's cooldown kept across the crash.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rollcall::store::Store;

use crate::helpers::*;

/// Waits until `store` holds an attendance event.
async fn first_event_stored(store: &Store) {
    let started = Instant::now();
    while events_as_seen(store).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no event stored within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `rollcall run` over the demo-like camera folder of `work`, paced to `fps`.
fn run(work: &std::path::Path, fps: &str) -> std::process::Command {
    let mut command = rollcall(work);
    command.arg("run").env("ROLLCALL__INGEST__FPS", fps);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_run_killed_mid_stream_and_started_again_stores_the_events_of_an_uninterrupted_one() {
    let (killed, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for work in [killed.path(), whole.path()] {
        enrol_and_film(&config(work), work).await;
    }

    let out = run(whole.path(), "0").output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let expected = events_as_seen(&Store::open(&config(whole.path()).store.url, 1).await.unwrap()).await;
    assert!(
        expected.len() >= 5,
        "the uninterrupted run stores the demo's events: {expected:?}"
    );

    // Two frames a second: killed -9 as soon as the first events are stored, mid-stream.
    let store = Store::open(&config(killed.path()).store.url, 1).await.unwrap();
    let mut child = run(killed.path(), "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    first_event_stored(&store).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let before_restart = events_as_seen(&store).await;
    assert!(
        before_restart.len() < expected.len(),
        "killed mid-stream: {} of {} events stored",
        before_restart.len(),
        expected.len()
    );

    let out = run(killed.path(), "0").output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let after_restart = events_as_seen(&store).await;
    let ids = |events: &[SeenEvent]| events.iter().map(|e| e.0).collect::<BTreeSet<_>>();
    assert_eq!(ids(&after_restart), ids(&expected), "the same events, each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_seen_just_before_an_embedded_run_is_killed_is_not_counted_again_after_it() {
    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .args(["enroll", "--person", "obama"])
        .arg(face("face_recognition/obama/obama.jpg"))
        .arg(face("face_recognition/obama/obama2.jpg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    // A door camera that keeps seeing the same person, as a snapshot camera.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = axum::body::Bytes::from(photo("face_recognition/obama/test_obama1.jpg"));
    let app = axum::Router::new().route("/snapshot", axum::routing::get(move || async move { seen.clone() }));
    let _server = serve(listener, app).await;
    let file = work.path().join("rollcall.toml");
    std::fs::write(
        &file,
        format!(
            "[recognize]\nworkers = 1\n# Frame mode: a still camera is one track in track mode, and this test counts\n# the suppressed sightings of every frame.\nmode = \"frame\"\n[[ingest.cameras]]\nid = \"door\"\nsource = \"snapshot\"\nurl = \"http://{address}/snapshot\"\nfps = 4.0\n"
        ),
    )
    .unwrap();
    let metrics_port = free_port();
    let run = || {
        rollcall(work.path())
            .env("ROLLCALL_CONFIG", &file)
            .env(
                "ROLLCALL__TELEMETRY__METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .arg("run")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };

    let store = Store::open(&config(work.path()).store.url, 1).await.unwrap();
    let mut first = run();
    first_event_stored(&store).await;
    first.kill().unwrap();
    first.wait().unwrap();

    // Started again within the cooldown, it keeps seeing obama: no new attendance.
    let second = run();
    let suppressed = suppressed_at_the_door(metrics_port, 3).await;
    let out = terminate(second);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 attendance events ("), "{text}");
    let faces: u64 = text
        .split(" faces,")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no face count in {text}"));
    assert!(faces > 0, "the restarted run recognized frames: {text}");
    assert!(suppressed >= 3, "{suppressed} sightings suppressed");
    let events = events_as_seen(&store).await;
    assert_eq!(events.len(), 1, "{events:?}");
}

/// Polls a `rollcall run`'s `/metrics` until its recognizer has suppressed at least `wanted`
/// sightings at the door camera (within 60 s); returns how many.
async fn suppressed_at_the_door(port: u16, wanted: u64) -> u64 {
    let client = http_client();
    let started = Instant::now();
    loop {
        let text = match client.get(format!("http://127.0.0.1:{port}/metrics")).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let suppressed = text
            .lines()
            .find(|l| l.starts_with("rollcall_recognize_events_total{camera=\"door\",outcome=\"suppressed\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
        if suppressed >= wanted {
            return suppressed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "fewer than {wanted} suppressed within 60 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
