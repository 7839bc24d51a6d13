//! Unknown faces for the review tests: a stranger passing a door three times and another once,
//! judged in track mode, and the review projector that keeps them.

use std::sync::Arc;

use rollcall::bench::stream::scene::Path;
use rollcall::bus::{MemoryConsumer, Producer, memory_topic};
use rollcall::domain::UnknownFaceEvent;
use rollcall::project::{ProjectStats, Projector, UnknownFaces};
use rollcall::recognize::TrackConfig;
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use super::{door_stream, judge, obama_and_biden, pass, track_settings, walker};

/// Kit Harington (three photos) passes three times and Rose Leslie once, neither enrolled: the
/// four unknown-face events of the stream, in the order they were emitted.
pub async fn strangers_passing() -> Vec<UnknownFaceEvent> {
    let people = [
        walker("face_recognition/kit_harington/john1.jpeg"),
        walker("face_recognition/kit_harington/john2.jpeg"),
        walker("face_recognition/kit_harington/johnsnow_test1.jpg"),
        walker("face_recognition/rose_leslie/img1.jpg"),
    ];
    let passes = [
        pass(0, 5, 25, Path::Cross { leftwards: false }, 0.35),
        pass(1, 45, 65, Path::Approach { rightwards: true }, 0.4),
        pass(2, 85, 105, Path::Cross { leftwards: true }, 0.45),
        pass(3, 125, 145, Path::Approach { rightwards: false }, 0.4),
    ];
    let frames = door_stream("door", &people, &passes, 155);
    let (events, unknown) = judge(&obama_and_biden(), track_settings(TrackConfig::default()), &frames).await;
    assert!(events.is_empty(), "strangers are nobody's attendance: {events:?}");
    assert_eq!(unknown.len(), 4, "one unknown-face event per pass: {unknown:?}");
    unknown
}

/// Runs the review projector over `events` to the end of the stream.
pub async fn project_unknown(store: &Store, events: &[UnknownFaceEvent]) -> ProjectStats {
    let (tx, rx) = memory_topic::<UnknownFaceEvent>(1, events.len().max(1));
    let (dlq, _dlq_rx) = memory_topic(1, 4);
    for e in events {
        tx.send(e.camera_id.as_str(), e.clone()).await.unwrap();
    }
    drop(tx);
    let config = rollcall::config::Config::default();
    let projection = UnknownFaces {
        cluster_distance: config.review.cluster_distance,
    };
    Projector::new(projection, store.clone(), config.project, Arc::new(dlq))
        .run(
            Box::new(MemoryConsumer::new(rx)),
            CancellationToken::new(),
            CancellationToken::new(),
        )
        .await
        .unwrap()
}
