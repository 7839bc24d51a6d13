//! The recognizer and projector over Kafka in this process: bad input dead-lettered, a database
//! outage waited out, a person enrolled while recognizing, and a stop with the brokers gone.

use rollcall::bus::Bus;
use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rollcall::bus::Consumer;
use rollcall::bus::kafka::KafkaBus;
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_over_kafka_dead_letter_bad_input_and_keep_going() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.recognize.workers = 1;
    kafka.create_topics(&config, 3).await;
    let store = Store::open(&config.store.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    enrol(&store, &config, "biden", "face_recognition/biden/biden.jpg").await;

    let door = work.path().join("cameras/door");
    link(&face("face_recognition/obama/test_obama1.jpg"), &door, "1.jpg");
    std::fs::create_dir_all(&door).unwrap();
    std::fs::write(door.join("2.jpg"), b"\xff\xd8\xff\xe0 this is not a whole JPEG").unwrap();
    link(
        &face("face_recognition/biden/biden2.jpg"),
        &work.path().join("cameras/hall"),
        "1.jpg",
    );

    let StagesAtWork {
        shutdown,
        recognize,
        project,
        ingested,
    } = recognize_and_project_cameras(&config).await;
    assert_eq!(ingested.frames, 3);

    // A malformed event, straight onto the attendance topic.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    let record = FutureRecord::to(&config.kafka.topics.attendance)
        .key("obama")
        .payload("{\"not\": \"an event\"}");
    raw.send(record, Duration::from_secs(10)).await.unwrap();

    let expected: BTreeSet<String> = ["biden", "obama"].map(String::from).into();
    wait_for_people(&store, &expected, Duration::from_secs(60)).await;

    let t = &config.kafka.topics;
    let letter = first_dead_letter(&config, &t.frames, &t.frames_dlq).await;
    assert_eq!(
        (letter.stage.as_str(), letter.kind.as_str(), letter.key.as_str()),
        ("recognize", "corrupt", "door")
    );
    assert!(letter.reason.contains("truncated JPEG"), "{}", letter.reason);
    assert!(
        letter.payload.starts_with(b"\xff\xd8\xff\xe0 this is not"),
        "the original bytes are kept"
    );
    let letter = first_dead_letter(&config, &t.attendance, &t.attendance_dlq).await;
    assert_eq!(
        (letter.stage.as_str(), letter.kind.as_str()),
        ("project", "invalid_json")
    );

    shutdown.cancel();
    let recognized = recognize.await.unwrap().unwrap();
    let projected = project.await.unwrap().unwrap();
    assert_eq!(recognized.frames, 3);
    assert_eq!(recognized.dead_lettered, 1);
    assert_eq!(projected.dead_lettered, 1);
    assert_eq!(projected.inserted, 2);
    assert_eq!(store.count_attendance_events().await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_waits_out_a_database_outage_and_loses_nothing() {
    let kafka = TestKafka::start().await;
    let db = TestDatabase::create().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.store.url = db.url.clone();
    config.project.retry_initial_ms = 50;
    config.project.retry_max_ms = 500;
    kafka.create_topics(&config, 3).await;
    let store = Store::open(&db.url, 2).await.unwrap();

    let shutdown = CancellationToken::new();
    let project = spawn_project(&config, &shutdown);
    let bus = KafkaBus::new(&config.kafka);
    let events = bus.attendance_producer().unwrap();
    let people = ["ana", "ben", "cy", "dee", "eve"];
    let event = |seq: usize| attendance_event(people[seq], "door", seq as u64, chrono::Utc::now());
    // The projector is up and writing…
    events.send(people[0], event(0)).await.unwrap();
    wait_for_people(
        &store,
        &BTreeSet::from([people[0].to_string()]),
        Duration::from_secs(30),
    )
    .await;
    // …when the database goes away, mid-stream.
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    set_database_reachable(&name, false).await;
    for (seq, person) in people.iter().enumerate().skip(1) {
        events.send(person, event(seq)).await.unwrap();
    }
    // The projector keeps failing while the database refuses connections…
    tokio::time::sleep(Duration::from_secs(3)).await;
    if project.is_finished() {
        panic!("the projector must wait, not give up: {:?}", project.await.unwrap());
    }
    set_database_reachable(&name, true).await;

    // …and catches up once it is back.
    let expected: BTreeSet<String> = people.map(String::from).into();
    wait_for_people(&store, &expected, Duration::from_secs(30)).await;
    shutdown.cancel();
    let stats = project.await.unwrap().unwrap();
    assert!(stats.write_retries > 0, "{stats:?}");
    assert_eq!(stats.inserted, 5);
    assert_eq!(store.count_attendance_events().await.unwrap(), 5);
    drop(store);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_enrolled_while_recognizing_is_recognized_in_the_next_frames() {
    use futures::StreamExt;
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.nats.url = Some(nats_url());
    config.recognize.workers = 1;
    // Frame mode: the same photo in every frame is one still track in track mode, decided
    // once; this test is about each frame meeting the gallery as it is then.
    config.recognize.mode = rollcall::recognize::RecognizeMode::Frame;
    kafka.create_topics(&config, 1).await;
    let store = Store::open(&config.store.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (before, after) = (format!("before-{run}"), format!("after-{run}"));

    let nats = rollcall::control::Nats::connect(&config.nats)
        .await
        .expect("NATS must run for this test")
        .unwrap();
    let mut gallery_changes = nats.client().subscribe(nats.gallery_subject()).await.unwrap();
    let mut live = nats.client().subscribe(nats.live_subject(&after)).await.unwrap();

    let shutdown = CancellationToken::new();
    let recognize = spawn_recognize(&config, &shutdown);
    let project = spawn_project(&config, &shutdown);

    // Biden passes before he is enrolled: an unknown face.
    let mut first = config.clone();
    first.ingest.cameras = vec![folder_camera(work.path(), &before, "face_recognition/biden/biden.jpg")];
    rollcall::topology::ingest(&first, CancellationToken::new())
        .await
        .unwrap();
    let bus = KafkaBus::new(&config.kafka);
    let codec = rollcall::bus::kafka::JsonCodec::<rollcall::domain::UnknownFaceEvent>::default();
    let mut unknown = bus
        .consumer(&format!("reader-{run}"), &config.kafka.topics.unknown, codec)
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(60), unknown.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(seen.camera_id.as_str(), before);

    // Enrolled by the CLI, which broadcasts the change on NATS.
    let enrolled = rollcall(work.path())
        .envs(config_env(&config))
        .env("ROLLCALL__NATS__URL", nats_url())
        .args(["enroll", "--person", "biden"])
        .arg(face("face_recognition/biden/biden2.jpg"))
        .output()
        .unwrap();
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let change = tokio::time::timeout(Duration::from_secs(10), gallery_changes.next())
        .await
        .unwrap()
        .unwrap();
    let change: rollcall::control::GalleryChange = serde_json::from_slice(&change.payload).unwrap();
    assert_eq!(change.person_id.as_str(), "biden");
    // The recognizer reloads on the same message; give it a moment to read the store.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The next frame with Biden: recognised, stored, and announced live.
    let mut second = config.clone();
    second.ingest.cameras = vec![folder_camera(work.path(), &after, "face_recognition/biden/biden.jpg")];
    rollcall::topology::ingest(&second, CancellationToken::new())
        .await
        .unwrap();
    let message = tokio::time::timeout(Duration::from_secs(60), live.next())
        .await
        .unwrap()
        .unwrap();
    let event: rollcall::domain::AttendanceEvent = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(
        (event.person_id.as_str(), event.camera_id.as_str()),
        ("biden", after.as_str())
    );
    wait_for_people(&store, &BTreeSet::from(["biden".to_string()]), Duration::from_secs(30)).await;
    let days = store.attendance_days().await.unwrap();
    assert_eq!(
        days[0].first_camera, after,
        "nothing was recorded for Biden before he was enrolled"
    );

    shutdown.cancel();
    let recognized = recognize.await.unwrap().unwrap();
    assert_eq!((recognized.frames, recognized.events, recognized.unknown), (2, 1, 1));
    project.await.unwrap().unwrap();
}

/// A stage told to stop while its brokers are gone still stops: leaving the consumer group waits
/// for a coordinator that does not answer, and is given up after a bounded wait. Always on a mock
/// cluster of its own, whose brokers the test can take down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_stop_when_told_even_with_their_brokers_gone() {
    let kafka = TestKafka::mock();
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.recognize.workers = 1;
    kafka.create_topics(&config, 3).await;
    let store = Store::open(&config.store.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    link(
        &face("face_recognition/obama/test_obama1.jpg"),
        &work.path().join("cameras/door"),
        "1.jpg",
    );
    let stages = recognize_and_project_cameras(&config).await;
    // Both stages are members of their groups with partitions assigned once the event is stored.
    let expected: BTreeSet<String> = ["obama".to_owned()].into();
    wait_for_people(&store, &expected, Duration::from_secs(60)).await;

    kafka.brokers_down();
    stages.shutdown.cancel();
    let within = Duration::from_secs(45);
    let stopped = tokio::time::timeout(within, async { (stages.recognize.await, stages.project.await) }).await;
    let (recognized, projected) = stopped.unwrap_or_else(|_| panic!("the stages did not stop within {within:?}"));
    recognized.unwrap().unwrap();
    projected.unwrap().unwrap();
}
