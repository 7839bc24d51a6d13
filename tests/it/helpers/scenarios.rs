//! Scenarios the tests run on more than one store or model: the same checks whichever store or
//! recognizer they run on, and the enrolled people and camera folder they run over.

use std::collections::BTreeSet;
use std::path::Path;

use rollcall::store::Store;
use rollcall::topology::run_embedded;
use tokio_util::sync::CancellationToken;

use super::{at, attendance_event, faces, link, person_id, person_photos, template};

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

/// Writes the same events into two empty stores, in order in one batch and in reverse one by
/// one (twice), and checks that both hold the same, correct rows.
pub async fn writes_are_idempotent_and_order_independent(forward: &Store, backward: &Store) {
    let events = vec![
        attendance_event("ana", "door", 1, at("2026-11-22T08:00:00.250Z")),
        attendance_event("ana", "hall", 2, at("2026-11-22T12:30:00Z")),
        attendance_event("ana", "back", 3, at("2026-11-22T08:00:00.250Z")),
        attendance_event("ana", "door", 9, at("2026-11-23T07:59:59.999Z")),
        attendance_event("ben", "door", 4, at("2026-11-22T09:15:00.5Z")),
        attendance_event("ben", "door", 5, at("2026-11-22T09:15:00.05Z")),
    ];
    // One store gets the events in order in one batch, one of them twice (as a restarted
    // recognizer sends it again); the other in reverse, one by one, twice.
    let mut batch = events.clone();
    batch.push(events[4].clone());
    let outcome = forward.write_attendance(&batch).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (6, 1));
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
    assert_eq!(ben.events, 2, "an event twice in one batch counts once");
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
