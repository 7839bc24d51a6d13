//! Events that the store could never take, among good ones: dead-lettered with their original
//! bytes, whether the check at the topic finds them or the database refuses them, and the rest
//! of their batch is stored and committed.

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rollcall::store::Store;
use sea_orm::ConnectionTrait;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_the_store_cannot_take_are_dead_lettered_as_they_came_and_the_batch_commits() {
    let kafka = TestKafka::start().await;
    let db = TestDatabase::create().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.store.url = db.url.clone();
    config.project.linger_ms = 1_000;
    kafka.create_topics(&config, 1).await;
    let store = Store::open(&db.url, 2).await.unwrap();
    // A rule of the database that no check of this build knows (a site's own constraint, or a
    // newer schema): only the write can find it.
    store
        .connection()
        .execute_unprepared("ALTER TABLE attendance_events ADD CONSTRAINT no_lab CHECK (camera_id <> 'lab')")
        .await
        .unwrap();

    let now = chrono::Utc::now();
    let mut long_model = attendance_event("cy", "door", 3, now);
    long_model.model_id = "m".repeat(65);
    let far_future = attendance_event("dee", "door", 4, "9999-12-31T08:00:00Z".parse().unwrap());
    let events = [
        attendance_event("ana", "door", 1, now),
        long_model,
        far_future,
        attendance_event("eve", "lab", 5, now),
        attendance_event("ben", "door", 2, now),
    ];
    let sent: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    for (event, bytes) in events.iter().zip(&sent) {
        let record = FutureRecord::to(&config.kafka.topics.attendance)
            .key(event.person_id.as_str())
            .payload(bytes);
        raw.send(record, Duration::from_secs(10)).await.unwrap();
    }

    let shutdown = CancellationToken::new();
    let project = spawn_project(&config, &shutdown);
    let good: BTreeSet<String> = ["ana", "ben"].map(String::from).into();
    wait_for_people(&store, &good, Duration::from_secs(60)).await;
    let t = &config.kafka.topics;
    let mut letters = dead_letters(&config, &t.attendance, &t.attendance_dlq, 3).await;
    letters.sort_by(|a, b| a.key.cmp(&b.key));
    let seen: Vec<(&str, &str)> = letters.iter().map(|l| (l.key.as_str(), l.kind.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("cy", "invalid_event"),
            ("dee", "invalid_event"),
            ("eve", "store_rejected")
        ]
    );
    assert!(letters[0].reason.contains("model_id"), "{}", letters[0].reason);
    assert!(letters[1].reason.contains("seen_at"), "{}", letters[1].reason);
    assert!(letters[2].reason.contains("no_lab"), "{}", letters[2].reason);
    for (letter, original) in letters.iter().zip([&sent[1], &sent[2], &sent[3]]) {
        assert_eq!(&letter.payload, original, "{} keeps its original bytes", letter.key);
    }

    shutdown.cancel();
    let projected = project.await.unwrap().unwrap();
    assert_eq!((projected.inserted, projected.dead_lettered), (2, 3));
    assert_eq!(store.count_attendance_events().await.unwrap(), 2);
    assert!(
        wait_until_caught_up(
            &kafka.brokers,
            &config.kafka.project_group,
            &t.attendance,
            Duration::from_secs(30)
        )
        .await,
        "every offset committed, the refused ones too"
    );
    drop(store);
    db.drop_now().await;
}
