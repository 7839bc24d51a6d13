//! Traces: one frame's work across the ingest, recognize and project processes is one trace,
//! exported over OTLP, and the recognizer's JSON logs name their span.

use std::collections::BTreeSet;
use std::time::Duration;

use rollcall::store::Store;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_frame_is_one_trace_from_ingest_through_recognition_to_the_store_and_cache() {
    let Stack {
        kafka: _kafka,
        db,
        redis: _redis,
        work,
        mut config,
    } = Stack::start(2).await;
    // Frame mode: in track mode this single frame's track is decided by the camera's
    // end-of-stream marker, a record of its own that no ingest trace starts.
    config.recognize.mode = rollcall::recognize::RecognizeMode::Frame;

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
