//! The stages over Kafka: librdkafka's mock cluster (real Kafka protocol on real TCP ports)
//! hosted by the test, or the broker named by `ROLLCALL_TEST_KAFKA`. Every test has its own
//! topics and consumer groups.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rollcall::bus::Consumer;
use rollcall::bus::kafka::{DeadLetterCodec, KafkaBus};
use rollcall::config::{BusKind, Config};
use rollcall::domain::PersonId;
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::support::*;

/// A Kafka to test against, with topics created for one test.
pub struct TestKafka {
    _mock: Option<MockCluster<'static, rdkafka::producer::DefaultProducerContext>>,
    pub brokers: String,
}

impl TestKafka {
    pub async fn start() -> TestKafka {
        match std::env::var("ROLLCALL_TEST_KAFKA") {
            Ok(brokers) => TestKafka { _mock: None, brokers },
            Err(_) => {
                let mock = MockCluster::new(3).expect("librdkafka mock cluster");
                TestKafka {
                    brokers: mock.bootstrap_servers(),
                    _mock: Some(mock),
                }
            }
        }
    }

    /// Creates the topics of `config`.
    pub async fn create_topics(&self, config: &Config, partitions: i32) {
        let t = &config.kafka.topics;
        for name in [&t.frames, &t.attendance, &t.unknown, &t.frames_dlq, &t.attendance_dlq] {
            self.create_topic(name, partitions).await;
        }
    }

    /// The mock's admin API cannot create topics, so the mock is told directly.
    pub async fn create_topic(&self, name: &str, partitions: i32) {
        match &self._mock {
            Some(mock) => mock.create_topic(name, partitions, 1).unwrap(),
            None => {
                let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                    .set("bootstrap.servers", &self.brokers)
                    .create()
                    .unwrap();
                let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
                for result in admin.create_topics([&topic], &AdminOptions::new()).await.unwrap() {
                    result.unwrap();
                }
            }
        }
    }

    /// A configuration over this Kafka with topic and group names of its own.
    pub fn config(&self, work: &Path) -> Config {
        let mut config = config(work);
        let run = uuid::Uuid::new_v4().simple().to_string();
        config.bus.kind = BusKind::Kafka;
        config.kafka.brokers = self.brokers.clone();
        let t = &mut config.kafka.topics;
        for name in [
            &mut t.frames,
            &mut t.attendance,
            &mut t.unknown,
            &mut t.frames_dlq,
            &mut t.attendance_dlq,
        ] {
            *name = format!("{name}.{run}");
        }
        config.kafka.recognize_group = format!("recognize-{run}");
        config.kafka.project_group = format!("project-{run}");
        config.project.linger_ms = 50;
        config
    }
}

/// The mock Kafka with this run's topics, a fresh PostgreSQL database and a Redis of its own,
/// and a configuration over them.
pub struct Stack {
    pub kafka: TestKafka,
    pub db: crate::postgres::TestDatabase,
    pub redis: crate::cache::TestRedis,
    pub work: tempfile::TempDir,
    pub config: Config,
}

impl Stack {
    pub async fn start(partitions: i32) -> Stack {
        let kafka = TestKafka::start().await;
        let db = crate::postgres::TestDatabase::create().await;
        let redis = crate::cache::TestRedis::start();
        let work = tempfile::tempdir().unwrap();
        let mut config = kafka.config(work.path());
        config.store.url = db.url.clone();
        config.redis.url = Some(redis.url());
        kafka.create_topics(&config, partitions).await;
        Stack {
            kafka,
            db,
            redis,
            work,
            config,
        }
    }
}

/// The configuration as environment variables, for stages started as child processes.
pub fn config_env(config: &Config) -> Vec<(String, String)> {
    let t = &config.kafka.topics;
    let options = config
        .kafka
        .options
        .iter()
        .map(|(k, v)| (format!("ROLLCALL__KAFKA__OPTIONS__{k}"), v.clone()));
    let mut env = vec![
        ("ROLLCALL__BUS__KIND".into(), "kafka".into()),
        ("ROLLCALL__KAFKA__BROKERS".into(), config.kafka.brokers.clone()),
        ("ROLLCALL__KAFKA__TOPICS__FRAMES".into(), t.frames.clone()),
        ("ROLLCALL__KAFKA__TOPICS__ATTENDANCE".into(), t.attendance.clone()),
        ("ROLLCALL__KAFKA__TOPICS__UNKNOWN".into(), t.unknown.clone()),
        ("ROLLCALL__KAFKA__TOPICS__FRAMES_DLQ".into(), t.frames_dlq.clone()),
        (
            "ROLLCALL__KAFKA__TOPICS__ATTENDANCE_DLQ".into(),
            t.attendance_dlq.clone(),
        ),
        (
            "ROLLCALL__KAFKA__RECOGNIZE_GROUP".into(),
            config.kafka.recognize_group.clone(),
        ),
        (
            "ROLLCALL__KAFKA__PROJECT_GROUP".into(),
            config.kafka.project_group.clone(),
        ),
        (
            "ROLLCALL__PROJECT__LINGER_MS".into(),
            config.project.linger_ms.to_string(),
        ),
        ("ROLLCALL__STORE__URL".into(), config.store.url.clone()),
        (
            "ROLLCALL__INGEST__CAMERAS_DIR".into(),
            config.ingest.cameras_dir.display().to_string(),
        ),
        (
            "ROLLCALL__RECOGNIZE__WORKERS".into(),
            config.recognize.workers.to_string(),
        ),
        (
            "ROLLCALL__RECOGNIZE__COOLDOWN_SECS".into(),
            config.recognize.cooldown_secs.to_string(),
        ),
    ];
    env.extend(options);
    if let Some(url) = &config.redis.url {
        env.push(("ROLLCALL__REDIS__URL".into(), url.clone()));
    }
    if let Some(url) = &config.nats.url {
        env.push(("ROLLCALL__NATS__URL".into(), url.clone()));
    }
    env
}

pub async fn enrol(store: &Store, config: &Config, person: &str, photo: &str) {
    let mut engine = engine();
    let t = template(&mut engine, &face(photo));
    store
        .enrol(
            &PersonId::parse(person).unwrap(),
            person,
            &config.models.recognizer,
            &[t],
        )
        .await
        .unwrap();
}

/// Polls the store until the set of people with attendance equals `expected`.
pub async fn wait_for_people(store: &Store, expected: &BTreeSet<String>, within: Duration) {
    let start = Instant::now();
    loop {
        let present: BTreeSet<String> = store
            .attendance_days()
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.person_id)
            .collect();
        if &present == expected {
            return;
        }
        assert!(
            start.elapsed() < within,
            "after {within:?} the store has {present:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts the recognizer stage in this process, until `shutdown`.
pub fn spawn_recognize(
    config: &Config,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<rollcall::stages::recognize::RecognizeStats>> {
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move { rollcall::deploy::recognize(&config, shutdown).await })
}

/// Starts the projector stage in this process, until `shutdown`.
pub fn spawn_project(
    config: &Config,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<rollcall::stages::project::ProjectStats>> {
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move { rollcall::deploy::project(&config, shutdown).await })
}

/// The first message of a dead-letter topic, read in a group of its own (an idle member of a
/// shared group would stall the other readers' rebalance).
async fn first_dead_letter(config: &Config, source: &str, dlq: &str) -> rollcall::bus::DeadLetter {
    let bus = KafkaBus::new(&config.kafka);
    let codec = DeadLetterCodec {
        source_topic: source.to_owned(),
    };
    let mut reader = bus.consumer(&format!("reader-{dlq}"), dlq, codec).unwrap();
    tokio::time::timeout(Duration::from_secs(30), reader.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .value
}

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

    let shutdown = CancellationToken::new();
    let recognize = spawn_recognize(&config, &shutdown);
    let project = spawn_project(&config, &shutdown);
    let ingested = rollcall::deploy::ingest(&config, CancellationToken::new())
        .await
        .unwrap();
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

pub fn stage(work: &Path, config: &Config, name: &str) -> std::process::Command {
    let mut cmd = rollcall(work);
    cmd.envs(config_env(config)).env("RUST_LOG", "info").arg(name);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

pub fn terminate(child: std::process::Child) -> std::process::Output {
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    child.wait_with_output().unwrap()
}

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
    let nats = rollcall::control::connect(&nats_url()).await.unwrap();
    let mut live = nats.subscribe(rollcall::control::live_subject(&hall)).await.unwrap();
    nats.flush().await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_waits_out_a_database_outage_and_loses_nothing() {
    let kafka = TestKafka::start().await;
    let db = crate::postgres::TestDatabase::create().await;
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
    let event = |seq: usize| {
        rollcall::domain::AttendanceEvent::new(
            PersonId::parse(people[seq]).unwrap(),
            rollcall::domain::CameraId::parse("door").unwrap(),
            seq as u64,
            chrono::Utc::now(),
            0.3,
            rollcall::domain::FaceBox {
                x: 0,
                y: 0,
                w: 10,
                h: 10,
            },
            "dlib_resnet_v1",
        )
    };
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
    crate::postgres::set_database_reachable(&name, false).await;
    for (seq, person) in people.iter().enumerate().skip(1) {
        events.send(person, event(seq)).await.unwrap();
    }
    // The projector keeps failing while the database refuses connections…
    tokio::time::sleep(Duration::from_secs(3)).await;
    if project.is_finished() {
        panic!("the projector must wait, not give up: {:?}", project.await.unwrap());
    }
    crate::postgres::set_database_reachable(&name, true).await;

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

fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A camera of its own for one test run: its live subject is not shared with other tests.
fn camera(work: &Path, id: &str, photo: &str) -> rollcall::config::CameraConfig {
    let path = work.join("cameras").join(id);
    link(&face(photo), &path, "1.jpg");
    rollcall::config::CameraConfig {
        role: rollcall::config::CameraRole::Entry,
        ..rollcall::config::CameraConfig::folder(rollcall::domain::CameraId::parse(id).unwrap(), path)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_enrolled_while_recognizing_is_recognized_in_the_next_frames() {
    use futures::StreamExt;
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.nats.url = Some(nats_url());
    config.recognize.workers = 1;
    kafka.create_topics(&config, 1).await;
    let store = Store::open(&config.store.url, 2).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (before, after) = (format!("before-{run}"), format!("after-{run}"));

    let nats = rollcall::control::connect(&nats_url())
        .await
        .expect("NATS must run for this test");
    let mut gallery_changes = nats.subscribe(rollcall::control::GALLERY_SUBJECT).await.unwrap();
    let mut live = nats.subscribe(rollcall::control::live_subject(&after)).await.unwrap();

    let shutdown = CancellationToken::new();
    let recognize = spawn_recognize(&config, &shutdown);
    let project = spawn_project(&config, &shutdown);

    // Biden passes before he is enrolled: an unknown face.
    let mut first = config.clone();
    first.ingest.cameras = vec![camera(work.path(), &before, "face_recognition/biden/biden.jpg")];
    rollcall::deploy::ingest(&first, CancellationToken::new())
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
    second.ingest.cameras = vec![camera(work.path(), &after, "face_recognition/biden/biden.jpg")];
    rollcall::deploy::ingest(&second, CancellationToken::new())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_plan_reads_the_cluster_and_the_declarations() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let config = kafka.config(work.path());
    // Frames exist with too few partitions; attendance exists as declared; the rest are missing.
    kafka.create_topic(&config.kafka.topics.frames, 2).await;
    kafka.create_topic(&config.kafka.topics.attendance, 6).await;
    let out = rollcall(work.path())
        .envs(config_env(&config))
        .args(["topics", "plan"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = &config.kafka.topics;
    assert!(
        stdout.contains(&format!("add partitions  {}: 2 -> 12", t.frames)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("set config      {}: 3 setting(s)", t.attendance)),
        "{stdout}"
    );
    for missing in [&t.unknown, &t.frames_dlq, &t.attendance_dlq] {
        assert!(stdout.contains(&format!("create          {missing}:")), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_check_finds_messages_that_break_their_declaration() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let config = kafka.config(work.path());
    kafka.create_topics(&config, 3).await;
    let t = &config.kafka.topics;
    let bus = KafkaBus::new(&config.kafka);

    let events = bus.attendance_producer().unwrap();
    for seq in 0..4 {
        let event = rollcall::domain::AttendanceEvent::new(
            PersonId::parse("ana").unwrap(),
            rollcall::domain::CameraId::parse("door").unwrap(),
            seq,
            chrono::Utc::now(),
            0.4,
            rollcall::domain::FaceBox {
                x: 1,
                y: 2,
                w: 30,
                h: 40,
            },
            "dlib_resnet_v1",
        );
        events.send("ana", event).await.unwrap();
    }
    let frames = bus.frames_producer().unwrap();
    let photo = std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap();
    for seq in 0..2 {
        let frame = rollcall::domain::Frame {
            camera: rollcall::domain::CameraId::parse("door").unwrap(),
            seq,
            captured_at: chrono::Utc::now(),
            content_type: "image/jpeg".into(),
            data: photo.clone(),
        };
        frames.send("door", frame).await.unwrap();
    }
    // A foreign producer's mistakes: an event out of range with a field missing, a bare frame.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    let bad_event = r#"{"schema_version":1,"event_id":"not-a-uuid","person_id":"ana","camera_id":"door","frame_seq":1,"seen_at":"2026-11-22T08:00:00Z","distance":0.4,"similarity":1.5,"face_box":{"x":1,"y":2,"w":3,"h":4}}"#;
    for (topic, key, payload) in [
        (&t.attendance, "ana", bad_event.as_bytes()),
        (&t.frames, "door", photo.as_slice()),
    ] {
        raw.send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    }

    let out = rollcall(work.path())
        .envs(config_env(&config))
        .args(["topics", "check", "--sample", "60"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let report = |topic: &str| {
        let start = stdout
            .find(&format!(" {topic}: "))
            .unwrap_or_else(|| panic!("{topic} missing in {stdout}"));
        let rest = &stdout[start..];
        let end = rest[1..]
            .find("\nok")
            .or_else(|| rest[1..].find("\nINVALID"))
            .map_or(rest.len(), |e| e + 1);
        rest[..end].to_owned()
    };
    let attendance = report(&t.attendance);
    assert!(attendance.contains("1 of 5 message(s)"), "{attendance}");
    for problem in ["similarity", "maximum", "model_id", "not-a-uuid"] {
        assert!(attendance.contains(problem), "{problem} not reported: {attendance}");
    }
    let frames = report(&t.frames);
    assert!(frames.contains("1 of 3 message(s)"), "{frames}");
    assert!(frames.contains("header camera-id is missing"), "{frames}");
    assert!(report(&t.unknown).starts_with(&format!(" {}: 0 message(s) checked", t.unknown)));
    assert!(
        stdout.contains(&format!("ok       {}: 0 message(s) checked", t.frames_dlq)),
        "{stdout}"
    );
}
