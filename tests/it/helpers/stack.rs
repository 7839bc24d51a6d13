//! The service stack of a distributed test: the mock Kafka with this run's topics, a fresh
//! PostgreSQL database and a Redis of its own, and a configuration over them.

use rollcall::config::Config;

use super::{TestDatabase, TestKafka, TestRedis};

/// The mock Kafka with this run's topics, a fresh PostgreSQL database and a Redis of its own,
/// and a configuration over them.
pub struct Stack {
    pub kafka: TestKafka,
    pub db: TestDatabase,
    pub redis: TestRedis,
    pub work: tempfile::TempDir,
    pub config: Config,
}

impl Stack {
    pub async fn start(partitions: i32) -> Stack {
        let kafka = TestKafka::start().await;
        let db = TestDatabase::create().await;
        let redis = TestRedis::start();
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
