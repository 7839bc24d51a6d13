//! Kafka for the tests: librdkafka's mock cluster (real Kafka protocol on real TCP ports) hosted
//! by the test, or the broker named by `ROLLCALL_TEST_KAFKA`, with topics and consumer groups of
//! the test's own; reading dead letters and consumer groups' progress.

use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rollcall::bus::Consumer;
use rollcall::bus::kafka::{DeadLetterCodec, KafkaBus};
use rollcall::config::{BusKind, Config};

use super::{TestDatabase, config};

/// A Kafka to test against, with topics created for one test.
pub struct TestKafka {
    _mock: Option<MockCluster<'static, rdkafka::producer::DefaultProducerContext>>,
    pub brokers: String,
}

impl TestKafka {
    pub async fn start() -> TestKafka {
        match std::env::var("ROLLCALL_TEST_KAFKA") {
            Ok(brokers) => TestKafka { _mock: None, brokers },
            Err(_) => TestKafka::mock(),
        }
    }

    /// Always librdkafka's mock cluster, for a test that takes the brokers down.
    pub fn mock() -> TestKafka {
        let mock = MockCluster::new(3).expect("librdkafka mock cluster");
        TestKafka {
            brokers: mock.bootstrap_servers(),
            _mock: Some(mock),
        }
    }

    fn mock_cluster(&self) -> &MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
        self._mock
            .as_ref()
            .expect("only the mock cluster's brokers can be disturbed")
    }

    /// Takes broker `id` (1 to 3) of the mock cluster down, or brings it back up.
    pub fn set_broker_up(&self, id: i32, up: bool) {
        let mock = self.mock_cluster();
        if up { mock.broker_up(id) } else { mock.broker_down(id) }.unwrap();
    }

    /// Delays every answer of every broker of the mock cluster by `delay` (zero: none).
    pub fn set_round_trip(&self, delay: Duration) {
        for broker in 1..=3 {
            self.mock_cluster().broker_round_trip_time(broker, delay).unwrap();
        }
    }

    /// Takes every broker of the mock cluster down: connections are refused from now on.
    pub fn brokers_down(&self) {
        let mock = self
            ._mock
            .as_ref()
            .expect("only the mock cluster's brokers can be taken down");
        for broker in 1..=3 {
            mock.broker_down(broker).unwrap();
        }
    }

    /// Creates the topics of `config`.
    pub async fn create_topics(&self, config: &Config, partitions: i32) {
        let t = &config.kafka.topics;
        for name in [
            &t.frames,
            &t.attendance,
            &t.unknown,
            &t.frames_dlq,
            &t.attendance_dlq,
            &t.unknown_dlq,
        ] {
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
            &mut t.unknown_dlq,
        ] {
            *name = format!("{name}.{run}");
        }
        config.kafka.recognize_group = format!("recognize-{run}");
        config.kafka.project_group = format!("project-{run}");
        config.kafka.review_group = format!("review-{run}");
        config.project.linger_ms = 50;
        config
    }
}

/// A configuration over `kafka` and `db` for stages that are killed and restarted: one recognizer
/// worker, a 4 s cooldown, and group sessions short enough for a killed member to be replaced soon.
pub fn kafka_config(kafka: &TestKafka, work: &Path, db: &TestDatabase) -> Config {
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

/// The first message of a dead-letter topic, read in a group of its own (an idle member of a
/// shared group would stall the other readers' rebalance).
pub async fn first_dead_letter(config: &Config, source: &str, dlq: &str) -> rollcall::bus::DeadLetter {
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

/// The first `count` dead letters of `dlq` (whose records came from `source`).
pub async fn dead_letters(config: &Config, source: &str, dlq: &str, count: usize) -> Vec<rollcall::bus::DeadLetter> {
    let bus = KafkaBus::new(&config.kafka);
    let codec = DeadLetterCodec {
        source_topic: source.to_owned(),
    };
    let mut reader = bus.consumer(&format!("reader-{dlq}"), dlq, codec).unwrap();
    let mut letters = Vec::new();
    while letters.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(30), reader.next()).await;
        letters.push(next.expect("a dead letter within 30 s").unwrap().unwrap().value);
    }
    letters
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
pub async fn wait_until_caught_up(brokers: &str, group: &str, topic: &str, within: Duration) -> bool {
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
