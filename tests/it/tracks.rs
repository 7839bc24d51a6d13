//! Track-first recognition on real photos through a real recognizer worker: one event per pass,
//! one unknown-face event per stranger, two people at once, and a person standing still.

use rollcall::bench::stream::scene::Path;
use rollcall::recognize::{RecognizeMode, TrackConfig, WorkerSettings};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_person_passing_gives_one_event() {
    let people = [walker("face_recognition/obama/test_obama1.jpg")];
    let frames = door_stream(
        "door",
        &people,
        &[pass(0, 10, 30, Path::Approach { rightwards: true }, 0.4)],
        50,
    );
    let (events, unknown) = judge(&obama_and_biden(), track_settings(TrackConfig::default()), &frames).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].person_id.as_str(), "obama");
    assert!(
        (10..=30).contains(&events[0].frame_seq),
        "the track's first frame: {}",
        events[0].frame_seq
    );
    assert!(unknown.is_empty(), "{unknown:?}");

    // Judged frame by frame, the same pass is a stream of faces: every one embedded and matched.
    let frame_mode = WorkerSettings {
        mode: RecognizeMode::Frame,
        ..track_settings(TrackConfig::default())
    };
    let (per_frame, _) = judge(&obama_and_biden(), frame_mode, &frames).await;
    assert_eq!(per_frame.len(), 1, "the cooldown keeps one event in frame mode too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_passing_gives_one_unknown_event_with_a_face_crop_and_no_attendance() {
    let people = [walker("face_recognition/kit_harington/john1.jpeg")];
    let frames = door_stream(
        "door",
        &people,
        &[pass(0, 5, 25, Path::Cross { leftwards: false }, 0.35)],
        40,
    );
    let (events, unknown) = judge(&obama_and_biden(), track_settings(TrackConfig::default()), &frames).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(unknown.len(), 1, "one unknown-face event for the whole pass");
    let crop = unknown[0].face_crop_jpeg.as_deref().expect("the best face's crop");
    use base64::Engine as _;
    let jpeg = base64::engine::general_purpose::STANDARD.decode(crop).unwrap();
    let image = rollcall::vision::decode_image(&jpeg, u64::MAX).unwrap();
    assert!(image.width() <= 160 && image.height() <= 160);
    assert!((5..=25).contains(&unknown[0].frame_seq));
    assert!(unknown[0].nearest_distance.is_some_and(|d| d >= 0.55));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_crossing_at_once_give_two_events() {
    let people = [
        walker("face_recognition/obama/test_obama1.jpg"),
        walker("face_recognition/biden/biden2.jpg"),
    ];
    let passes = [
        pass(0, 5, 25, Path::Cross { leftwards: false }, 0.3),
        pass(1, 7, 27, Path::Cross { leftwards: true }, 0.65),
    ];
    let frames = door_stream("door", &people, &passes, 40);
    let (events, unknown) = judge(&obama_and_biden(), track_settings(TrackConfig::default()), &frames).await;
    let mut who: Vec<_> = events.iter().map(|e| e.person_id.as_str().to_owned()).collect();
    who.sort();
    assert_eq!(who, ["biden", "obama"], "{events:?}");
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_standing_still_is_found_by_the_forced_detection() {
    // Biden comes out of the dark so slowly that no frame is motion, and then stands still.
    let people = [walker("face_recognition/biden/biden2.jpg")];
    let frames = door_stream("door", &people, &[pass(0, 5, 95, Path::Emerge, 0.4)], 100);
    let forced = TrackConfig {
        force_detect_every: 30,
        ..TrackConfig::default()
    };
    let (events, _) = judge(&obama_and_biden(), track_settings(forced), &frames).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].person_id.as_str(), "biden");
    assert!(
        events[0].frame_seq >= 29,
        "found by a forced detection, not by motion: {}",
        events[0].frame_seq
    );

    let never_forced = TrackConfig {
        force_detect_every: 1_000,
        ..TrackConfig::default()
    };
    let (events, _) = judge(&obama_and_biden(), track_settings(never_forced), &frames).await;
    assert!(
        events.is_empty(),
        "without motion and without the forced detection nobody is looked for: {events:?}"
    );
}
