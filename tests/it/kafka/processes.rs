//! The stages as separate `rollcall` processes over Kafka, PostgreSQL, Redis and NATS.

use std::collections::BTreeSet;
use std::time::Duration;

use rollcall::store::Store;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_as_separate_processes_over_kafka_postgres_redis_and_nats() {
    let Stack {
        kafka: _kafka,
        db,
        redis,
        work,
        mut config,
    } = Stack::start(3).await;
    config.nats.url = Some(nats_url());
    let store = Store::open(&db.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    enrol(&store, &config, "biden", "face_recognition/biden/biden.jpg").await;
    enrol(&store, &config, "kit", "face_recognition/kit_harington/john1.jpeg").await;
    enrol(&store, &config, "rose", "face_recognition/rose_leslie/img1.jpg").await;

    let cameras = work.path().join("cameras");
    link(
        &face("face_recognition/obama/test_obama1.jpg"),
        &cameras.join("door"),
        "1.jpg",
    );
    link(&face("multi/two_people.jpg"), &cameras.join("door"), "2.jpg");
    // The hall's id is this run's own, so its live subject is not shared with other tests.
    let hall = format!("hall-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    link(&face("multi/kit_with_rose.jpg"), &cameras.join(&hall), "1.jpg");
    link(
        &face("facenet_pytorch/angelina_jolie/1.jpg"),
        &cameras.join(&hall),
        "2.jpg",
    );
    let nats = rollcall::control::Nats::connect(&config.nats).await.unwrap().unwrap();
    let mut live = nats.client().subscribe(nats.live_subject(&hall)).await.unwrap();
    nats.client().flush().await.unwrap();
    // An entry a reader cached before today's attendance existed: the projector must drop it.
    let today = rollcall::cache::keys::attendance_day(chrono::Utc::now().date_naive());
    let before = rollcall::cache::keys::versioned(&today, 0);
    redis.cli(&["HSET", &before, "page::50", "nobody yet"]);

    let recognizer = stage(work.path(), &config, "recognize").spawn().unwrap();
    let projector = stage(work.path(), &config, "project").spawn().unwrap();
    let ingest = stage(work.path(), &config, "ingest").output().unwrap();
    let ingest_out = String::from_utf8_lossy(&ingest.stdout);
    assert!(
        ingest.status.success(),
        "{ingest_out}\n{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    assert!(ingest_out.contains("ingest: 4 frames published"), "{ingest_out}");

    let expected: BTreeSet<String> = ["biden", "kit", "obama", "rose"].map(String::from).into();
    wait_for_people(&store, &expected, Duration::from_secs(90)).await;

    // SIGTERM: each stage drains and exits cleanly.
    let recognized = terminate(recognizer);
    let projected = terminate(projector);
    let (r_out, p_out) = (
        String::from_utf8_lossy(&recognized.stdout),
        String::from_utf8_lossy(&projected.stdout),
    );
    assert!(
        recognized.status.success(),
        "{r_out}\n{}",
        String::from_utf8_lossy(&recognized.stderr)
    );
    assert!(
        projected.status.success(),
        "{p_out}\n{}",
        String::from_utf8_lossy(&projected.stderr)
    );
    assert!(
        r_out.contains("recognize: 4 frames, 6 faces, 4 events, 1 suppressed, 1 unknown"),
        "{r_out}"
    );
    assert!(p_out.contains("4 new events, 0 duplicates"), "{p_out}");

    // Kit and Rose in the hall were announced live on NATS; the stale day entry is gone and the
    // day's generation moved on.
    let mut announced = BTreeSet::new();
    while announced.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut live))
            .await
            .expect("live events on NATS")
            .unwrap();
        let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        announced.insert(event["person_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(announced, BTreeSet::from(["kit".to_owned(), "rose".to_owned()]));
    assert_eq!(redis.cli(&["EXISTS", &before]), "0");
    assert!(store.cache_generation(&today).await.unwrap() >= 1);

    // Obama at the door twice within the cooldown: one event; everyone once per day.
    let days = store.attendance_days().await.unwrap();
    assert!(days.iter().all(|d| d.events == 1), "{days:?}");
    let door: BTreeSet<&str> = days
        .iter()
        .filter(|d| d.first_camera == "door")
        .map(|d| d.person_id.as_str())
        .collect();
    assert_eq!(door, BTreeSet::from(["biden", "obama"]));
    drop(store);
    db.drop_now().await;
}
