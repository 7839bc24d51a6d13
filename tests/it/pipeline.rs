//! The embedded pipeline end to end: camera folders in, attendance in SQLite out.

use rollcall::store::Store;
use rollcall::topology::run_embedded;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_present_person_once_per_day_and_a_replay_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    run_then_replay(&config(work.path()), work.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_frames_are_dead_lettered_and_the_rest_still_counts() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    let store = Store::open(&config.store.url, 1).await.unwrap();
    enrol_named(
        &store,
        &config.models.recognizer,
        "obama",
        "Obama",
        "face_recognition/obama/obama.jpg",
    )
    .await;

    let camera = work.path().join("cameras/door");
    std::fs::create_dir_all(&camera).unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(camera.join("01-noise.jpg"), noise).unwrap();
    let mut truncated = std::fs::read(face("face_recognition/obama/obama3.jpg")).unwrap();
    truncated.truncate(truncated.len() / 4);
    std::fs::write(camera.join("02-truncated.jpg"), truncated).unwrap();
    // A 50-megapixel PNG: rejected from its header, before decoding.
    let huge = image::RgbImage::new(10_000, 5_000);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(huge)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(camera.join("03-huge.png"), png).unwrap();
    link(&face("face_recognition/obama/test_obama1.jpg"), &camera, "04-obama.jpg");

    let summary = run_embedded(&config, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.ingest.frames, 4);
    let reasons: Vec<&str> = summary.dead_letters.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("unsupported_format")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.starts_with("corrupt")), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("too_large") && r.contains("50000000 pixels")),
        "{reasons:?}"
    );
    let days = store.attendance_days().await.unwrap();
    assert_eq!(days.iter().map(|d| d.person_id.as_str()).collect::<Vec<_>>(), ["obama"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollcall_run_prints_the_attendance_table() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    let store = Store::open(&config.store.url, 1).await.unwrap();
    enrol_named(
        &store,
        &config.models.recognizer,
        "biden",
        "Joe Biden",
        "face_recognition/biden/biden.jpg",
    )
    .await;
    link(
        &face("multi/obama_and_biden.jpg"),
        &work.path().join("cameras/lobby"),
        "1.jpg",
    );

    let out = rollcall(work.path()).arg("run").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table: Vec<&str> = stdout.lines().skip_while(|l| *l != "attendance").collect();
    assert!(
        table[1].starts_with("day") && table[1].contains("first seen"),
        "{stdout}"
    );
    let rows: Vec<&str> = table[3..].iter().copied().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert!(
        rows[0].contains("biden") && rows[0].contains("Joe Biden") && rows[0].contains("lobby"),
        "{stdout}"
    );
}

#[tokio::test]
async fn store_writes_are_idempotent_and_order_independent() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let forward = Store::open(&config(a.path()).store.url, 1).await.unwrap();
    let backward = Store::open(&config(b.path()).store.url, 1).await.unwrap();
    writes_are_idempotent_and_order_independent(&forward, &backward).await;
}

#[test]
fn ctrl_c_drains_and_still_prints_attendance() {
    let work = tempfile::tempdir().unwrap();
    let camera = work.path().join("cameras/door");
    // Sixty frames at 4 per second: a run of 15 s, interrupted after about 2.
    for i in 0..60 {
        link(
            &face("face_recognition/obama/test_obama1.jpg"),
            &camera,
            &format!("{i:03}.jpg"),
        );
    }
    let enrolled = rollcall(work.path())
        .args(["enroll", "--person", "obama"])
        .arg(face("face_recognition/obama/obama.jpg"))
        .output()
        .unwrap();
    assert!(enrolled.status.success());
    let child = rollcall(work.path())
        .env("ROLLCALL__INGEST__FPS", "4")
        .env("RUST_LOG", "info")
        .arg("run")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        started.elapsed().as_secs() < 10,
        "draining took {:?}",
        started.elapsed()
    );
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    let frames: u64 = stdout
        .split(" frames")
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..60).contains(&frames), "the run should stop part-way: {stdout}");
    assert!(
        stdout.lines().any(|l| l.contains("obama") && l.contains("door")),
        "{stdout}"
    );
}

/// Six cameras on one worker, frames as fast as the worker takes them, every person many times
/// within the cooldown: one event per camera and person. The cameras' producers race for the
/// one full partition; had it delivered offsets out of order, the worker would take the gap for
/// a rewind, forget its cooldowns and count people again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cameras_sharing_a_worker_give_one_event_per_camera_and_person_within_the_cooldown() {
    let work = tempfile::tempdir().unwrap();
    let mut config = config(work.path());
    config.recognize.workers = 1;
    config.recognize.mode = rollcall::recognize::RecognizeMode::Frame;
    config.bus.capacity = 2;
    let store = Store::open(&config.store.url, 1).await.unwrap();
    for (person, photo) in [
        ("obama", "face_recognition/obama/obama.jpg"),
        ("biden", "face_recognition/biden/biden.jpg"),
        ("rose", "face_recognition/rose_leslie/img1.jpg"),
    ] {
        enrol(&store, &config, person, photo).await;
    }
    let cameras = 6;
    rollcall::bench::make_frames(
        &faces().join("face_recognition"),
        &config.ingest.cameras_dir,
        240,
        cameras,
    )
    .unwrap();

    let summary = run_embedded(&config, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.ingest.frames, 240);
    let mut seen = std::collections::BTreeMap::new();
    for (_, person, camera, _, _) in events_as_seen(&store).await {
        *seen.entry((camera, person)).or_insert(0) += 1;
    }
    // Which photos a camera gets depends on how the set's size divides among the cameras.
    assert!(
        seen.len() >= 2 * cameras,
        "most cameras see most enrolled people: {seen:?}"
    );
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    assert!(summary.recognize.suppressed > 100, "{:?}", summary.recognize);
}
