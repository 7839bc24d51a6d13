//! A disturbed run and its reference over one frames topic: the disturbed stages (faults, members
//! coming and going) and, after them, an undisturbed recognizer and projector with groups, topics
//! and a database of their own. Their stored attendance must be equal: 0 lost, 0 counted twice.

use std::time::Duration;

use rollcall::config::Config;
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use super::*;

pub struct TwoRuns {
    pub disturbed: Config,
    pub reference: Config,
    pub disturbed_store: Store,
    pub reference_store: Store,
    databases: (TestDatabase, TestDatabase),
    _work: tempfile::TempDir,
}

/// How long stages get to catch up with their topics.
pub const CATCH_UP: Duration = Duration::from_secs(180);

impl TwoRuns {
    /// Two configurations on `kafka` sharing the frames topic, topics of `partitions`, and the
    /// same four people enrolled in each database.
    pub async fn new(kafka: &TestKafka, partitions: i32) -> TwoRuns {
        let databases = (TestDatabase::create().await, TestDatabase::create().await);
        let work = tempfile::tempdir().unwrap();
        let disturbed = kafka_config(kafka, work.path(), &databases.0);
        let mut reference = kafka_config(kafka, work.path(), &databases.1);
        reference.kafka.topics.frames = disturbed.kafka.topics.frames.clone();
        kafka.create_topics(&disturbed, partitions).await;
        let t = &reference.kafka.topics;
        for topic in [
            &t.attendance,
            &t.unknown,
            &t.frames_dlq,
            &t.attendance_dlq,
            &t.unknown_dlq,
        ] {
            kafka.create_topic(topic, partitions).await;
        }
        let disturbed_store = Store::open(&databases.0.url, 2).await.unwrap();
        let reference_store = Store::open(&databases.1.url, 2).await.unwrap();
        for store in [&disturbed_store, &reference_store] {
            enrol(store, &disturbed, "obama", "face_recognition/obama/obama.jpg").await;
            enrol(store, &disturbed, "biden", "face_recognition/biden/biden.jpg").await;
            enrol(store, &disturbed, "kit", "face_recognition/kit_harington/john1.jpeg").await;
            enrol(store, &disturbed, "rose", "face_recognition/rose_leslie/img1.jpg").await;
        }
        TwoRuns {
            disturbed,
            reference,
            disturbed_store,
            reference_store,
            databases,
            _work: work,
        }
    }

    /// Runs the reference recognizer and projector until they have caught up, then stops them.
    pub async fn run_reference(&self) {
        let stop = CancellationToken::new();
        let recognizer = spawn_recognize(&self.reference, &stop);
        let projector = spawn_project(&self.reference, &stop);
        assert_caught_up(&self.reference, "the reference run").await;
        stop.cancel();
        recognizer.await.unwrap().unwrap();
        projector.await.unwrap().unwrap();
    }

    /// The two runs stored the same events and days; then the databases are dropped.
    pub async fn assert_same_attendance(self) {
        let (events, days) = tables(&self.disturbed_store).await;
        let (reference_events, reference_days) = tables(&self.reference_store).await;
        assert!(reference_events.len() > 10, "{}", reference_events.len());
        let missing: Vec<_> = reference_events.iter().filter(|e| !events.contains(e)).collect();
        let extra: Vec<_> = events.iter().filter(|e| !reference_events.contains(e)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "lost {missing:#?}, extra {extra:#?}"
        );
        assert_eq!(days, reference_days);
        drop((self.disturbed_store, self.reference_store));
        self.databases.0.drop_now().await;
        self.databases.1.drop_now().await;
    }
}

/// Both groups of `config` commit all of their topics within `CATCH_UP`.
pub async fn assert_caught_up(config: &Config, after: &str) {
    let k = &config.kafka;
    for (group, topic) in [
        (&k.recognize_group, &k.topics.frames),
        (&k.project_group, &k.topics.attendance),
    ] {
        assert!(
            wait_until_caught_up(&k.brokers, group, topic, CATCH_UP).await,
            "group {group} has not committed all of {topic} after {after}"
        );
    }
}
