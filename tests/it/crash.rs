//! Crashes: recognizers and projectors killed at random moments and restarted lose no attendance
//! and count none twice; the tables equal those of an uninterrupted run over the same frames.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rollcall::bus::kafka::KafkaBus;
use rollcall::bus::{Consumer, MemoryConsumer, Producer, memory_topic};
use rollcall::config::Config;
use rollcall::domain::{AttendanceEvent, CameraId, Frame};
use rollcall::gallery::SharedGallery;
use rollcall::stages::recognize::{RecognizeOutputs, RecognizeWorker};
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::kafka::{TestKafka, enrol, spawn_project, spawn_recognize, stage, terminate};
use crate::postgres::TestDatabase;
use crate::support::*;

pub fn start_time() -> DateTime<Utc> {
    "2026-11-20T07:55:00Z".parse().unwrap()
}

/// Frame `seq` of `camera` showing `photo`, taken `seq` seconds after the start.
pub fn frame(camera: &str, seq: u64, photo: &[u8]) -> Frame {
    Frame {
        camera: CameraId::parse(camera).unwrap(),
        seq,
        captured_at: start_time() + TimeDelta::seconds(seq as i64),
        content_type: "image/jpeg".into(),
        data: photo.to_vec(),
    }
}

/// Runs a fresh recognizer worker (nothing in memory) over `frames`, with its cooldown ledger in
/// `ledger` if given; returns the events it emitted.
pub async fn recognize_once(gallery: &SharedGallery, ledger: Option<&Store>, frames: &[Frame]) -> Vec<AttendanceEvent> {
    let (frames_tx, frames_rx) = memory_topic::<Frame>(1, frames.len());
    let (events_tx, events_rx) = memory_topic::<AttendanceEvent>(1, frames.len() * 4);
    let (unknown_tx, _unknown_rx) = memory_topic(1, frames.len() * 4);
    let (dead_tx, _dead_rx) = memory_topic(1, frames.len());
    let outputs = RecognizeOutputs {
        events: Arc::new(events_tx),
        unknown: Arc::new(unknown_tx),
        dead_letters: Arc::new(dead_tx),
    };
    let mut worker = RecognizeWorker::new(engine(), gallery.clone(), 0.55, TimeDelta::seconds(5), outputs);
    if let Some(store) = ledger {
        worker = worker.with_ledger(store.clone());
    }
    for f in frames {
        frames_tx.send(f.camera.as_str(), f.clone()).await.unwrap();
    }
    drop(frames_tx);
    worker
        .run(Box::new(MemoryConsumer::new(frames_rx)), CancellationToken::new())
        .await
        .unwrap();
    let mut events = MemoryConsumer::new(events_rx);
    let mut out = Vec::new();
    while let Some(record) = events.next().await {
        out.push(record.unwrap().value);
    }
    out
}

fn seqs(events: &[AttendanceEvent]) -> Vec<u64> {
    events.iter().map(|e| e.frame_seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recognizer_restarted_from_an_earlier_frame_suppresses_what_an_uninterrupted_one_does() {
    let work = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        let url = format!("sqlite://{}?mode=rwc", work.path().join(name).display());
        async move { Store::open(&url, 1).await.unwrap() }
    };
    let (uninterrupted_ledger, restarted_ledger) = (open("a.db").await, open("b.db").await);
    let mut engine = engine();
    let model = engine.model_id().to_owned();
    let obama = template(&mut engine, &face("face_recognition/obama/obama.jpg"));
    let person = rollcall::domain::PersonId::parse("obama").unwrap();
    uninterrupted_ledger
        .enrol(&person, "Obama", &model, &[obama])
        .await
        .unwrap();
    let gallery = SharedGallery::new(uninterrupted_ledger.load_gallery(&model).await.unwrap());

    // Obama in front of the door for 15 s, one frame a second, cooldown 5 s.
    let photo = std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap();
    let frames: Vec<Frame> = (0..15).map(|seq| frame("door", seq, &photo)).collect();

    let uninterrupted = recognize_once(&gallery, Some(&uninterrupted_ledger), &frames).await;
    assert_eq!(seqs(&uninterrupted), vec![0, 5, 10]);

    // A worker dies after frame 7 with offsets committed only up to frame 2; its successor
    // starts again at frame 3.
    let before_crash = recognize_once(&gallery, Some(&restarted_ledger), &frames[..8]).await;
    let after_restart = recognize_once(&gallery, Some(&restarted_ledger), &frames[3..]).await;
    assert_eq!(seqs(&before_crash), vec![0, 5]);
    assert_eq!(
        seqs(&after_restart),
        vec![10],
        "the replayed frames 3-7 must stay suppressed"
    );
    let ids = |events: &[AttendanceEvent]| events.iter().map(|e| e.event_id).collect::<BTreeSet<_>>();
    let mut restarted = ids(&before_crash);
    restarted.extend(ids(&after_restart));
    assert_eq!(restarted, ids(&uninterrupted));

    // Without the ledger the successor would count frames 3, 8 and 13: events that never
    // existed in the uninterrupted run.
    let forgetful = recognize_once(&gallery, None, &frames[3..]).await;
    assert_eq!(seqs(&forgetful), vec![3, 8, 13]);
}

/// xorshift64*: a seeded sequence, so a failing schedule of kills can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// True when `group` has committed every message of `topic`.
fn caught_up(brokers: &str, group: &str, topic: &str) -> bool {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let timeout = Duration::from_secs(5);
    let Ok(metadata) = client.fetch_metadata(Some(topic), timeout) else {
        return false;
    };
    let mut partitions = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        partitions.add_partition(topic, p.id());
    }
    let Ok(committed) = client.committed_offsets(partitions, timeout) else {
        return false;
    };
    committed.elements().iter().all(|e| {
        let Ok((_, high)) = client.fetch_watermarks(topic, e.partition(), timeout) else {
            return false;
        };
        match e.offset() {
            Offset::Offset(done) => done >= high,
            _ => high == 0,
        }
    })
}

/// False if `group` has not caught up on `topic` `within`.
async fn wait_until_caught_up(brokers: &str, group: &str, topic: &str, within: Duration) -> bool {
    let start = Instant::now();
    loop {
        let (b, g, t) = (brokers.to_owned(), group.to_owned(), topic.to_owned());
        if tokio::task::spawn_blocking(move || caught_up(&b, &g, &t))
            .await
            .unwrap()
        {
            return true;
        }
        if start.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What must be equal between two runs: every event by id, and every day row.
async fn tables(store: &Store) -> (Vec<String>, Vec<rollcall::store::AttendanceRow>) {
    let events = store
        .attendance_events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.event_id,
                e.person_id,
                e.camera_id,
                e.frame_seq,
                e.seen_at.to_rfc3339()
            )
        })
        .collect();
    (events, store.attendance_days().await.unwrap())
}

/// Each camera shows scenes in turn, each for a few frames: people arrive, stay, leave, come back.
fn scene_photos() -> Vec<Vec<u8>> {
    [
        "face_recognition/obama/test_obama1.jpg",
        "multi/kit_with_rose.jpg",
        "face_recognition/kit_harington/john2.jpeg",
        "openface/clapton/clapton-2.jpg",
        "multi/obama-480p.jpg",
        "face_recognition/biden/biden2.jpg",
        "face_recognition/rose_leslie/img2.jpg",
    ]
    .iter()
    .map(|p| small_jpeg(&face(p)))
    .collect()
}

/// The photo at camera resolution (at most 480 px), as a JPEG of a few tens of KB: librdkafka's
/// mock cluster keeps about 5 MB per partition and silently drops older messages, as a real
/// broker's retention would.
fn small_jpeg(path: &Path) -> Vec<u8> {
    let image = image::open(path).unwrap().thumbnail(400, 400).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&image)
        .unwrap();
    out.into_inner()
}

const CAMERAS: [&str; 3] = ["door", "gate", "hall"];
const FRAMES_PER_CAMERA: u64 = 60;

/// Publishes every camera's frames, one round of cameras every 250 ms.
async fn stream_frames(config: Config) {
    let producer = KafkaBus::new(&config.kafka).frames_producer().unwrap();
    let scenes = scene_photos();
    // Even if every camera hashed to one partition, the mock would keep every frame.
    let average = scenes.iter().map(Vec::len).sum::<usize>() / scenes.len();
    let total = average as u64 * FRAMES_PER_CAMERA * CAMERAS.len() as u64;
    assert!(
        total < 4_500_000,
        "{total} bytes of frames would outgrow the mock's partitions"
    );
    let mut pace = tokio::time::interval(Duration::from_millis(250));
    for seq in 0..FRAMES_PER_CAMERA {
        pace.tick().await;
        for (k, camera) in CAMERAS.iter().enumerate() {
            let run = 3 + k as u64;
            let scene = (seq / run + k as u64) as usize % scenes.len();
            producer.send(camera, frame(camera, seq, &scenes[scene])).await.unwrap();
        }
    }
}

/// Starts a stage as a child process logging to a file of its own (a pipe nobody reads would
/// fill up and stall it).
fn spawn_stage(work: &Path, config: &Config, name: &str, generation: u32) -> std::process::Child {
    let log = work.join(format!("{name}-{generation}.log"));
    let file = std::fs::File::create(&log).unwrap();
    stage(work, config, name)
        .env("RUST_LOG", "info,rollcall=debug")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap()
}

fn kafka_config(kafka: &TestKafka, work: &Path, db: &TestDatabase) -> Config {
    let mut config = kafka.config(work);
    config.store.url = db.url.clone();
    config.recognize.workers = 1;
    config.recognize.cooldown_secs = 4;
    // A member killed without leaving holds its partitions until its session times out.
    config.kafka.options.insert("session.timeout.ms".into(), "6000".into());
    config
        .kafka
        .options
        .insert("heartbeat.interval.ms".into(), "500".into());
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_recognizer_and_projector_at_random_moments_loses_nothing_and_counts_nothing_twice() {
    let seed = std::env::var("ROLLCALL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    println!("crash test seed: {seed} (ROLLCALL_CRASH_SEED={seed} repeats the schedule of kills)");
    let mut rng = Rng(seed);

    let kafka = TestKafka::start().await;
    let (crash_db, reference_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let work = tempfile::tempdir().unwrap();
    let crashing = kafka_config(&kafka, work.path(), &crash_db);
    // The reference run reads the same frames topic with groups, topics and database of its own.
    let mut reference = kafka_config(&kafka, work.path(), &reference_db);
    reference.kafka.topics.frames = crashing.kafka.topics.frames.clone();
    kafka.create_topics(&crashing, 3).await;
    let t = &reference.kafka.topics;
    for topic in [&t.attendance, &t.unknown, &t.frames_dlq, &t.attendance_dlq] {
        kafka.create_topic(topic, 3).await;
    }
    let (crash_store, reference_store) = (
        Store::open(&crash_db.url, 2).await.unwrap(),
        Store::open(&reference_db.url, 2).await.unwrap(),
    );
    for store in [&crash_store, &reference_store] {
        enrol(store, &crashing, "obama", "face_recognition/obama/obama.jpg").await;
        enrol(store, &crashing, "biden", "face_recognition/biden/biden.jpg").await;
        enrol(store, &crashing, "kit", "face_recognition/kit_harington/john1.jpeg").await;
        enrol(store, &crashing, "rose", "face_recognition/rose_leslie/img1.jpg").await;
    }

    let stop_reference = CancellationToken::new();
    let reference_recognizer = spawn_recognize(&reference, &stop_reference);
    let reference_projector = spawn_project(&reference, &stop_reference);
    let mut recognizer = spawn_stage(work.path(), &crashing, "recognize", 0);
    let mut projector = spawn_stage(work.path(), &crashing, "project", 0);
    let stream = tokio::spawn(stream_frames(crashing.clone()));

    let log = |name: &str, generation: u32| {
        std::fs::read_to_string(work.path().join(format!("{name}-{generation}.log"))).unwrap_or_default()
    };
    // A stage that exits on its own (bad configuration, a crash of its own) fails the test at once.
    let still_running = |child: &mut std::process::Child, name: &str, generation: u32| {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{name} exited by itself ({status}):\n{}", log(name, generation));
        }
    };
    let (mut recognizer_kills, mut projector_kills) = (0, 0);
    // How far a stage got in its current life, from its debug log: a kill only tests recovery if
    // the victim had done some work, and most kills should land between two offset commits.
    let progress = |name: &str, generation: u32| {
        let line = if name == "recognize" {
            "frame recognized"
        } else {
            "batch stored"
        };
        log(name, generation).matches(line).count() as u64
    };
    for round in 0..8 {
        let victims = rng.below(3);
        let frames_first = 1 + rng.below(15);
        let batches_first = 1 + rng.below(4);
        let start = Instant::now();
        loop {
            let recognized = victims == 1 || progress("recognize", recognizer_kills) >= frames_first;
            let projected = victims == 0 || progress("project", projector_kills) >= batches_first;
            // Once the stream is drained nothing moves: kill anyway.
            if (recognized && projected) || start.elapsed() > Duration::from_secs(8) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        still_running(&mut recognizer, "recognize", recognizer_kills);
        still_running(&mut projector, "project", projector_kills);
        println!(
            "round {round}: kill -9 {} after {} frame(s) and {} batch(es)",
            ["recognizer", "projector", "both"][victims as usize],
            progress("recognize", recognizer_kills),
            progress("project", projector_kills)
        );
        if victims != 1 {
            recognizer.kill().unwrap();
            recognizer.wait().unwrap();
            recognizer_kills += 1;
            recognizer = spawn_stage(work.path(), &crashing, "recognize", recognizer_kills);
        }
        if victims != 0 {
            projector.kill().unwrap();
            projector.wait().unwrap();
            projector_kills += 1;
            projector = spawn_stage(work.path(), &crashing, "project", projector_kills);
        }
    }
    stream.await.unwrap();
    assert!(
        recognizer_kills > 0 && projector_kills > 0,
        "seed {seed} killed only one stage"
    );

    let within = Duration::from_secs(240);
    for config in [&crashing, &reference] {
        let k = &config.kafka;
        for (group, topic) in [
            (&k.recognize_group, &k.topics.frames),
            (&k.project_group, &k.topics.attendance),
        ] {
            assert!(
                wait_until_caught_up(&k.brokers, group, topic, within).await,
                "seed {seed}: group {group} has not committed all of {topic} after {within:?}\n\
                 last recognizer:\n{}\nlast projector:\n{}",
                log("recognize", recognizer_kills),
                log("project", projector_kills)
            );
        }
    }
    let (recognized, projected) = (terminate(recognizer), terminate(projector));
    assert!(recognized.status.success(), "{}", log("recognize", recognizer_kills));
    assert!(projected.status.success(), "{}", log("project", projector_kills));
    stop_reference.cancel();
    let reference_stats = reference_recognizer.await.unwrap().unwrap();
    reference_projector.await.unwrap().unwrap();

    let (crash_events, crash_days) = tables(&crash_store).await;
    let (reference_events, reference_days) = tables(&reference_store).await;
    // The stream must exercise the cooldown, or suppression after a restart is not tested.
    assert_eq!(reference_stats.frames, FRAMES_PER_CAMERA * CAMERAS.len() as u64);
    assert!(reference_stats.suppressed > 20, "{reference_stats:?}");
    assert!(reference_events.len() > 20, "{}", reference_events.len());
    let missing: Vec<_> = reference_events.iter().filter(|e| !crash_events.contains(e)).collect();
    let extra: Vec<_> = crash_events.iter().filter(|e| !reference_events.contains(e)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "seed {seed}: lost {missing:#?}, extra {extra:#?}"
    );
    assert_eq!(crash_days, reference_days, "seed {seed}");
    println!(
        "{} events, {} days; {recognizer_kills} recognizer and {projector_kills} projector kills",
        reference_events.len(),
        reference_days.len()
    );
    drop((crash_store, reference_store));
    crash_db.drop_now().await;
    reference_db.drop_now().await;
}
