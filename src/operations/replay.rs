//! `rollcall replay`: rebuilds the store's attendance from the retained attendance topic.
//!
//! Reads every partition from its first retained message up to the end it had when the replay
//! started, in a consumer group of its own that commits nothing (the projector's position is
//! untouched), and writes the events through the projector's idempotent batch write: events
//! already stored are skipped, days fold to the same rows in any order. So a replay into an
//! empty database gives the rows of the original run, and a replay into the same one changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::bus::kafka::{AttendanceCodec, Codec, KafkaConfig, client_config, message_headers};
use crate::cache::Cache;
use crate::domain::AttendanceRecord;
use crate::store::Store;

/// What a replay read and wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayStats {
    pub messages: u64,
    pub inserted: u64,
    pub duplicates: u64,
    /// Events of erased people, left out.
    pub erased: u64,
    /// Events retracted by a correction (taken out, or left out when they came after it).
    pub retracted: u64,
    /// Messages that are not valid events (the projector dead-lettered them the first time).
    pub invalid: u64,
}

/// How long to wait for the next message before deciding the broker is not delivering.
const STALL: Duration = Duration::from_secs(60);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);

/// The end offset of every non-empty partition of `topic`, as the replay starts.
fn partition_ends(consumer: &StreamConsumer, topic: &str) -> anyhow::Result<HashMap<i32, (i64, i64)>> {
    let metadata = consumer
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .with_context(|| format!("reading the metadata of {topic}"))?;
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
        bail!("topic {topic} does not exist");
    };
    if found.partitions().is_empty() {
        bail!("topic {topic} does not exist or has no partitions");
    }
    let mut ends = HashMap::new();
    for partition in found.partitions() {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition.id(), METADATA_TIMEOUT)
            .with_context(|| format!("reading the offsets of {topic} partition {}", partition.id()))?;
        if high > low {
            ends.insert(partition.id(), (low, high));
        }
    }
    Ok(ends)
}

/// Replays the attendance topic of `kafka` into `store`, in batches of `batch_size`, invalidating
/// `cache` after each batch as the projector does.
pub async fn replay(
    kafka: &KafkaConfig,
    store: &Store,
    cache: Option<&Cache>,
    batch_size: usize,
) -> anyhow::Result<ReplayStats> {
    let topic = kafka.topics.attendance.clone();
    let mut client = client_config(kafka);
    client
        .set("group.id", format!("rollcall-replay-{}", uuid::Uuid::new_v4().simple()))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: StreamConsumer = client.create().context("creating a Kafka consumer")?;
    let ends = {
        let consumer = &consumer;
        let topic = topic.clone();
        tokio::task::block_in_place(move || partition_ends(consumer, &topic))?
    };
    let mut assignment = TopicPartitionList::new();
    for partition in ends.keys() {
        assignment.add_partition_offset(&topic, *partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment).context("assigning the partitions")?;
    let mut pending: HashMap<i32, i64> = ends.iter().map(|(p, (_, high))| (*p, *high)).collect();
    tracing::info!(
        %topic,
        partitions = pending.len(),
        messages = ends.values().map(|(low, high)| high - low).sum::<i64>(),
        "replaying"
    );
    let mut stats = ReplayStats::default();
    let mut batch: Vec<AttendanceRecord> = Vec::with_capacity(batch_size);
    while !pending.is_empty() {
        let message = tokio::time::timeout(STALL, consumer.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no message from {topic} for {STALL:?}; partitions left: {pending:?}"))?
            .with_context(|| format!("consuming {topic}"))?;
        let (partition, offset) = (message.partition(), message.offset());
        let Some(end) = pending.get(&partition).copied() else {
            continue; // a partition already read to where it ended
        };
        if offset >= end {
            pending.remove(&partition);
            continue;
        }
        stats.messages += 1;
        // The projector's own decoding: sightings and corrections, each checked.
        let (payload, headers) = (message.payload().unwrap_or_default(), message_headers(&message));
        match AttendanceCodec.decode("", payload, &headers) {
            Ok(record) => batch.push(record),
            Err(_) => stats.invalid += 1,
        }
        if offset + 1 >= end {
            pending.remove(&partition);
        }
        if batch.len() >= batch_size {
            write(store, cache, &mut batch, &mut stats).await?;
        }
    }
    write(store, cache, &mut batch, &mut stats).await?;
    Ok(stats)
}

async fn write(
    store: &Store,
    cache: Option<&Cache>,
    batch: &mut Vec<AttendanceRecord>,
    stats: &mut ReplayStats,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = store
        .write_attendance_records(batch)
        .await
        .context("storing replayed events")?;
    stats.inserted += outcome.inserted as u64;
    stats.duplicates += outcome.duplicates as u64;
    stats.erased += outcome.erased as u64;
    stats.retracted += outcome.retracted as u64;
    batch.clear();
    if let Some(cache) = cache
        && let Err(e) = cache.invalidate(&outcome.generations).await
    {
        // Readers stay correct: the generations moved on in the same transaction.
        tracing::warn!(error = %e, "cache invalidation after a replayed batch failed");
    }
    Ok(())
}
