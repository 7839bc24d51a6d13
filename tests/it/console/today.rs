//! Today in the console: a frame through the pipeline makes its person appear without a reload,
//! fed by the live attendance events on NATS, and a camera's state follows its ingestor's reports.

use std::sync::Arc;

use std::time::Duration;

use rollcall::bus::{Producer, memory_topic};
use rollcall::control::{LiveTee, Nats};
use rollcall::domain::CameraId;
use rollcall::ingest::{CameraConfig, FolderConfig, SourceConfig};

use super::sign_in;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_through_the_pipeline_appears_on_today_without_a_reload() {
    let api = Api::start(6_000).await;
    api.enrol_people(&[("obama", "Barack Obama", "face_recognition/obama/obama.jpg")])
        .await;
    let (status, body) = api
        .post_json(
            "/v1/cameras",
            ADMIN_KEY,
            serde_json::json!({ "id": "console-door", "name": "Front door" }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    // The camera's ingestor watches its folder and announces the camera's state every second.
    let folder = tempfile::tempdir().unwrap();
    let watched = folder.path().join("frames");
    std::fs::create_dir(&watched).unwrap();
    std::fs::copy(face("face_recognition/biden/biden.jpg"), watched.join("0001.jpg")).unwrap();
    let camera = CameraId::parse("console-door").unwrap();
    let source = SourceConfig::Folder(FolderConfig {
        path: watched.clone(),
        watch: true,
    });
    let (frames, _published) = memory_topic(1, 64);
    let stop = tokio_util::sync::CancellationToken::new();
    let cameras = [CameraConfig::new(camera.clone(), source)];
    let ingest = tokio::spawn({
        let stop = stop.clone();
        async move { rollcall::ingest::run_cameras(&cameras, 0.0, 50_000_000, Arc::new(frames), stop).await }
    });
    let nats = Nats::connect(&api.config.nats).await.unwrap().expect("the tests' NATS");
    let status = rollcall::ingest::status::announce(nats.clone(), vec![camera], Duration::from_secs(1), stop.clone());
    tokio::spawn(status);

    let browser = Browser::start().await;
    sign_in(&browser, &api, READER_KEY).await;
    browser.open(&api.url("/console/today")).await;
    browser.find("#live-status[data-state='live']").await;
    browser
        .find("#cameras tr[data-camera='console-door'] .state[data-state='up']")
        .await;
    assert_eq!(browser.text("#present").await, "0");
    assert!(browser.page_text().await.contains("Nobody yet."));
    // A mark in the page: it survives only if the page is never loaded again.
    browser
        .client
        .execute("window.stillThisPage = true; return true", vec![])
        .await
        .unwrap();

    // The recognizer's events, projected into the store and published live as the pipeline does.
    let seen = frame_at(
        "console-door",
        chrono::Utc::now(),
        "face_recognition/obama/test_obama1.jpg",
    );
    let events = api.feed(&[seen]).await;
    assert_eq!(events.len(), 1);
    let (attendance, _records) = memory_topic(1, 4);
    let live = LiveTee {
        inner: Arc::new(attendance),
        nats,
    };
    for event in events {
        let key = event.person_id.to_string();
        live.send(&key, event).await.unwrap();
    }

    let row = browser.find("#arrivals tr[data-person='obama']").await;
    assert!(row.text().await.unwrap().contains("Barack Obama"));
    assert_eq!(browser.text("#present").await, "1");
    assert_eq!(
        browser.text("#cameras tr[data-camera='console-door'] .events").await,
        "1"
    );
    let same_page = browser
        .client
        .execute("return window.stillThisPage === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::json!(true), "the page was reloaded");
    browser.screenshot("today").await;

    // The camera's folder goes away: the camera is down, on the page without a reload.
    std::fs::remove_dir_all(&watched).unwrap();
    let down = browser
        .find("#cameras tr[data-camera='console-door'] .state[data-state='down']")
        .await;
    assert_eq!(down.text().await.unwrap(), "down");
    stop.cancel();
    ingest.await.unwrap().unwrap();

    // Loaded again, the page shows the same from the store.
    browser.open(&api.url("/console/today")).await;
    assert_eq!(browser.text("#present").await, "1");
    assert!(browser.text("#arrivals").await.contains("Barack Obama"));
    browser.close().await;
}
