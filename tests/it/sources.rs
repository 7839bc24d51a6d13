//! Live camera sources against real local servers on real photos: an HTTP snapshot camera, an
//! MJPEG camera that goes away and comes back, a video file and an RTSP stream read through
//! ffmpeg, and a watched folder that files are dropped into.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rollcall::bus::Consumer;
use rollcall::config::{CameraConfig, SourceConfig};
use rollcall::domain::CameraId;
use rollcall::ingest::{FfmpegConfig, FolderConfig, MjpegConfig, SnapshotConfig};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_camera_is_polled_and_its_frames_recognized() {
    let photos = Arc::new([
        std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap(),
        std::fs::read(face("face_recognition/biden/biden2.jpg")).unwrap(),
    ]);
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    let app = axum::Router::new().route(
        "/snapshot.jpg",
        axum::routing::get(move || {
            let (photos, counter) = (Arc::clone(&photos), Arc::clone(&counter));
            async move { photos[counter.fetch_add(1, Ordering::SeqCst) % 2].clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/snapshot.jpg", listener.local_addr().unwrap());
    let _server = serve(listener, app).await;
    let camera = source_camera(SourceConfig::Snapshot(SnapshotConfig { url }), 10.0);
    let mut running = start_camera(&camera);
    let frames = running.take(4, Duration::from_secs(30)).await;
    let stats = running.stop().await;
    assert!(stats.frames >= 4);
    check_frames(&frames, &camera);
    assert_eq!(people_recognized(&frames).await, ["biden", "obama"]);
    let up = rollcall::metrics::metrics()
        .ingest_camera_up
        .with_label_values(&[camera.id.as_str()])
        .get();
    assert_eq!(up, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mjpeg_camera_that_goes_away_is_reconnected_and_its_health_shows_the_gap() {
    let photo = std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let on = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = serve(listener, mjpeg_app(photo.clone(), Arc::clone(&on))).await;
    let camera = source_camera(
        SourceConfig::Mjpeg(MjpegConfig {
            url: format!("http://{address}/stream"),
        }),
        5.0,
    );
    let metrics = rollcall::metrics::metrics();
    let up = || metrics.ingest_camera_up.with_label_values(&[camera.id.as_str()]).get();
    let reconnects = || metrics.ingest_reconnects.with_label_values(&[camera.id.as_str()]).get();
    let mut running = start_camera(&camera);
    let before = running.take(3, Duration::from_secs(30)).await;
    check_frames(&before, &camera);
    assert_eq!(up(), 1);
    assert_eq!(reconnects(), 0);
    // At 20 parts a second and a cap of 5 frames a second, the rest are throttled.
    let throttled = metrics
        .ingest_frames
        .with_label_values(&[camera.id.as_str(), "throttled"])
        .get();
    assert!(throttled > 0);

    // The camera goes away (its stream ends, its port closes): its health drops to 0 while it is gone.
    on.store(false, Ordering::SeqCst);
    server.abort();
    let _ = server.await;
    let gone = tokio::time::Instant::now();
    while up() != 0 {
        assert!(
            gone.elapsed() < Duration::from_secs(10),
            "the camera is still reported up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(up(), 0, "still down while the camera is away");
    running.drain().await;

    // It comes back on the same address: frames flow again and the reconnection is counted.
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    on.store(true, Ordering::SeqCst);
    let _server = serve(listener, mjpeg_app(photo, on)).await;
    let after = running.take(3, Duration::from_secs(60)).await;
    check_frames(&after, &camera);
    assert!(after[0].seq > before[2].seq);
    assert_eq!(up(), 1);
    assert_eq!(reconnects(), 1);
    running.stop().await;
    assert_eq!(people_recognized(&after).await, ["obama"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_file_is_read_through_ffmpeg_to_its_end() {
    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("door.avi");
    // Two seconds of Biden then two of Obama, 10 frames a second, as Motion JPEG.
    make_video(
        &video,
        &[
            ("face_recognition/biden/biden2.jpg", 2),
            ("face_recognition/obama/test_obama1.jpg", 2),
        ],
    );
    let camera = source_camera(
        SourceConfig::Ffmpeg(FfmpegConfig {
            url: video.display().to_string(),
            ffmpeg_input_options: Vec::new(),
        }),
        2.0,
    );
    let mut running = start_camera(&camera);
    // At 2 frames a second, four seconds of video give about 8 frames, and then the camera ends.
    let frames = running.take(6, Duration::from_secs(60)).await;
    // The file's end is the camera's: its last record is the end-of-stream marker.
    let rest = running.rest(Duration::from_secs(60)).await;
    let (end, images) = rest.split_last().expect("an end-of-stream marker");
    assert!(end.is_end_of_stream() && end.data.is_empty(), "{end:?}");
    assert!(images.iter().all(|f| !f.is_end_of_stream()));
    assert!(end.seq > images.last().unwrap_or(&frames[5]).seq);
    let stats = tokio::time::timeout(Duration::from_secs(60), running.task)
        .await
        .expect("a video file ends its camera")
        .unwrap()
        .unwrap();
    assert!((6..=10).contains(&stats.frames), "{stats:?}");
    assert_eq!(stats.frames, 6 + images.len() as u64, "the marker is not a frame");
    check_frames(&frames, &camera);
    assert_eq!(people_recognized(&frames).await, ["biden", "obama"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtsp_stream_is_read_through_ffmpeg_and_followed_when_it_stops() {
    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("gate.avi");
    make_video(&video, &[("face_recognition/obama/test_obama1.jpg", 3)]);
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/gate");
    // The ingestor's ffmpeg listens; the "camera" (another ffmpeg) pushes its stream to it.
    let camera = source_camera(
        SourceConfig::Ffmpeg(FfmpegConfig {
            url: url.clone(),
            ffmpeg_input_options: vec!["-rtsp_flags".into(), "listen".into()],
        }),
        2.0,
    );
    let mut running = start_camera(&camera);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let publisher = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-re", "-i"])
        .arg(&video)
        .args([
            "-c:v",
            "mpeg4",
            "-q:v",
            "3",
            "-f",
            "rtsp",
            "-rtsp_transport",
            "tcp",
            &url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let frames = running.take(3, Duration::from_secs(30)).await;
    check_frames(&frames, &camera);
    let published = tokio::task::spawn_blocking(move || publisher.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    // The stream ended: the camera is down and waits for it again, until stopped.
    let metrics = rollcall::metrics::metrics();
    let up = || metrics.ingest_camera_up.with_label_values(&[camera.id.as_str()]).get();
    let ended = tokio::time::Instant::now();
    while up() != 0 {
        assert!(
            ended.elapsed() < Duration::from_secs(10),
            "still up after the stream ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !running.task.is_finished(),
        "a stream camera waits for its stream to return"
    );
    running.stop().await;
    assert_eq!(people_recognized(&frames).await, ["obama"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_folder_ends_its_stream_with_a_marker_after_its_last_frame() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("door");
    link(&face("face_recognition/obama/test_obama1.jpg"), &dir, "1.jpg");
    link(&face("face_recognition/biden/biden2.jpg"), &dir, "2.jpg");
    let camera = CameraConfig::new(
        CameraId::parse("door").unwrap(),
        SourceConfig::Folder(FolderConfig {
            path: dir,
            watch: false,
        }),
    );
    let mut running = start_camera(&camera);
    let records = running.rest(Duration::from_secs(10)).await;
    let seen: Vec<_> = records
        .iter()
        .map(|f| (f.seq, f.is_end_of_stream(), f.data.is_empty()))
        .collect();
    assert_eq!(seen, [(0, false, false), (1, false, false), (2, true, true)]);
    assert_eq!(records[2].content_type, rollcall::domain::END_OF_STREAM);
    assert_eq!(running.task.await.unwrap().unwrap().frames, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_folder_publishes_each_new_file_once_complete_and_the_same_frames_after_a_restart() {
    use std::io::Write;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("uploads");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(face("face_recognition/obama/obama.jpg"), dir.join("0001.jpg")).unwrap();
    let id = format!("watch-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let camera = CameraConfig::new(
        CameraId::parse(&id).unwrap(),
        SourceConfig::Folder(FolderConfig {
            path: dir.clone(),
            watch: true,
        }),
    );
    let mut running = start_camera(&camera);
    let mut frames = running.take(1, Duration::from_secs(10)).await;

    // A file arriving slowly, a chunk every 300 ms: some listing sees it half written, but no two
    // listings in a row see it unchanged until it is complete.
    let biden = std::fs::read(face("face_recognition/biden/biden.jpg")).unwrap();
    let mut file = std::fs::File::create(dir.join("0002.jpg")).unwrap();
    for chunk in biden.chunks(biden.len().div_ceil(5)) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(file);
    // Not an image: ignored.
    std::fs::write(dir.join("notes.txt"), b"not a frame").unwrap();
    frames.extend(running.take(1, Duration::from_secs(10)).await);
    assert_eq!(frames[1].data, biden, "published complete, not half written");
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), running.frames.next())
            .await
            .is_err(),
        "each file is published once"
    );
    let stats = running.stop().await;
    assert_eq!(stats.frames, 2);

    // Capture time and sequence number come from the file: a restarted watcher publishes the
    // same frames again, which downstream recognises as the same events.
    for (frame, name) in frames.iter().zip(["0001.jpg", "0002.jpg"]) {
        let modified: chrono::DateTime<chrono::Utc> =
            std::fs::metadata(dir.join(name)).unwrap().modified().unwrap().into();
        assert_eq!(
            frame.captured_at.timestamp_millis(),
            modified.timestamp_millis(),
            "{name}"
        );
        assert_eq!(frame.seq, modified.timestamp_millis() as u64, "{name}");
    }
    let mut again = start_camera(&camera);
    let repeated = again.take(2, Duration::from_secs(10)).await;
    again.stop().await;
    for (a, b) in frames.iter().zip(&repeated) {
        assert_eq!((a.seq, a.captured_at, &a.data), (b.seq, b.captured_at, &b.data));
    }
    assert_eq!(people_recognized(&frames).await, ["biden", "obama"]);
}
