//! The embedded pipeline end to end: camera folders in, attendance in SQLite out.

use std::collections::BTreeSet;
use std::path::Path;

use rollcall::domain::{AttendanceEvent, CameraId, FaceBox, PersonId};
use rollcall::pipeline::run_embedded;
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::support::*;

/// Enrols everyone with two or more photos (all but the last) into the store of `work`, and
/// builds a camera folder with the held-out photos, the single-photo strangers and the group
/// photos. Returns the people expected in the attendance.
pub async fn enrol_and_film(config: &rollcall::config::Config, work: &Path) -> BTreeSet<String> {
    let store = Store::open(&config.store.url, 1).await.unwrap();
    let mut engine = rollcall::vision::FaceEngine::load(config).unwrap();
    let camera = work.join("cameras/front-door");
    let photos = person_photos();
    let mut expected = BTreeSet::new();
    let mut labels: Vec<&String> = photos.iter().map(|(l, _)| l).collect();
    labels.dedup();
    for (i, label) in labels.into_iter().enumerate() {
        let own: Vec<&std::path::PathBuf> = photos.iter().filter(|(l, _)| l == label).map(|(_, p)| p).collect();
        let last = own[own.len() - 1];
        link(
            last,
            &camera,
            &format!("{i:02}-{}", last.file_name().unwrap().to_str().unwrap()),
        );
        if own.len() < 2 {
            continue;
        }
        let person = person_id(label);
        let templates: Vec<_> = own[..own.len() - 1].iter().map(|p| template(&mut engine, p)).collect();
        store
            .enrol(&person, label, &config.models.recognizer, &templates)
            .await
            .unwrap();
        expected.insert(person.to_string());
    }
    for entry in std::fs::read_dir(faces().join("multi")).unwrap() {
        let path = entry.unwrap().path();
        link(
            &path,
            &camera,
            &format!("group-{}", path.file_name().unwrap().to_str().unwrap()),
        );
    }
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_present_person_once_per_day_and_a_replay_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    run_then_replay(&config(work.path()), work.path()).await;
}

/// Enrols and films into `work`, runs the pipeline over `config`'s store, checks the attendance,
/// then replays the same camera folder and checks that nothing changed.
pub async fn run_then_replay(config: &rollcall::config::Config, work: &Path) {
    let expected = enrol_and_film(config, work).await;
    assert!(expected.len() >= 6);

    let first = run_embedded(config, CancellationToken::new()).await.unwrap();
    let frames = std::fs::read_dir(work.join("cameras/front-door")).unwrap().count() as u64;
    assert_eq!(first.ingest.frames, frames);
    assert_eq!(first.recognize.frames, frames);
    assert!(first.dead_letters.is_empty(), "{:?}", first.dead_letters);
    assert!(
        first.recognize.unknown >= 7,
        "the strangers must be unknown faces: {first:?}"
    );

    let store = Store::open(&config.store.url, 1).await.unwrap();
    let days = store.attendance_days().await.unwrap();
    let present: BTreeSet<String> = days.iter().map(|d| d.person_id.clone()).collect();
    assert_eq!(present, expected, "exactly the enrolled people who passed the camera");
    assert_eq!(days.len(), expected.len(), "one row per person and day");
    // Obama passes in four frames within the cooldown: one event.
    let obama = days.iter().find(|d| d.person_id == "obama").unwrap();
    assert_eq!(obama.events, 1);
    assert!(first.recognize.suppressed >= 3, "{first:?}");
    let events = store.attendance_events().await.unwrap();
    assert_eq!(events.len() as u64, first.project.inserted);

    let second = run_embedded(config, CancellationToken::new()).await.unwrap();
    assert_eq!(
        second.recognize.events, first.recognize.events,
        "the replay recognises the same"
    );
    assert_eq!(second.project.inserted, 0, "a replay adds no attendance event");
    assert_eq!(second.project.duplicates, first.project.inserted);
    assert_eq!(
        store.attendance_days().await.unwrap(),
        days,
        "a replay changes no attendance day"
    );
    assert_eq!(store.attendance_events().await.unwrap(), events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_frames_are_dead_lettered_and_the_rest_still_counts() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    let store = Store::open(&config.store.url, 1).await.unwrap();
    let mut engine = engine();
    let t = template(&mut engine, &face("face_recognition/obama/obama.jpg"));
    store
        .enrol(
            &PersonId::parse("obama").unwrap(),
            "Obama",
            &config.models.recognizer,
            &[t],
        )
        .await
        .unwrap();

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
    let mut engine = engine();
    let t = template(&mut engine, &face("face_recognition/biden/biden.jpg"));
    store
        .enrol(
            &PersonId::parse("biden").unwrap(),
            "Joe Biden",
            &config.models.recognizer,
            &[t],
        )
        .await
        .unwrap();
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

fn event(person: &str, camera: &str, seq: u64, at: &str) -> AttendanceEvent {
    let (camera, person) = (CameraId::parse(camera).unwrap(), PersonId::parse(person).unwrap());
    AttendanceEvent::new(
        person,
        camera,
        seq,
        at.parse().unwrap(),
        0.3,
        FaceBox { x: 1, y: 2, w: 3, h: 4 },
        "dlib_resnet_v1",
    )
}

#[tokio::test]
async fn store_writes_are_idempotent_and_order_independent() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let forward = Store::open(&config(a.path()).store.url, 1).await.unwrap();
    let backward = Store::open(&config(b.path()).store.url, 1).await.unwrap();
    writes_are_idempotent_and_order_independent(&forward, &backward).await;
}

/// Writes the same events into two empty stores, in order in one batch and in reverse one by
/// one (twice), and checks that both hold the same, correct rows.
pub async fn writes_are_idempotent_and_order_independent(forward: &Store, backward: &Store) {
    let events = vec![
        event("ana", "door", 1, "2026-11-22T08:00:00.250Z"),
        event("ana", "hall", 2, "2026-11-22T12:30:00Z"),
        event("ana", "back", 3, "2026-11-22T08:00:00.250Z"),
        event("ana", "door", 9, "2026-11-23T07:59:59.999Z"),
        event("ben", "door", 4, "2026-11-22T09:15:00.5Z"),
        event("ben", "door", 5, "2026-11-22T09:15:00.05Z"),
    ];
    // One store gets the events in order in one batch; the other in reverse, one by one, twice.
    let outcome = forward.write_attendance(&events).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (6, 0));
    for _ in 0..2 {
        for e in events.iter().rev() {
            backward.write_attendance(std::slice::from_ref(e)).await.unwrap();
        }
    }
    let again = forward.write_attendance(&events).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 6));

    let days = forward.attendance_days().await.unwrap();
    assert_eq!(days, backward.attendance_days().await.unwrap());
    assert_eq!(forward.attendance_events().await.unwrap().len(), 6);
    let ana = &days[0];
    assert_eq!((ana.person_id.as_str(), ana.events), ("ana", 3));
    assert_eq!((ana.first_camera.as_str(), ana.last_camera.as_str()), ("back", "hall"));
    let ben = days.iter().find(|d| d.person_id == "ben").unwrap();
    assert_eq!(
        ben.first_seen,
        "2026-11-22T09:15:00.05Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        ben.last_seen,
        "2026-11-22T09:15:00.5Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(days.len(), 3);
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
