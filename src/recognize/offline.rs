//! One recognizer worker over a finite list of frames on in-process topics, for benchmarks and
//! tests: the frames in, every event out once the stream has ended.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{RecognizeOutputs, RecognizeStats, RecognizeWorker};
use crate::bus::{Consumer, MemoryConsumer, Producer, Record, memory_topic};
use crate::domain::{AttendanceEvent, Frame, UnknownFaceEvent};

type Receivers<T> = Vec<tokio::sync::mpsc::Receiver<Record<T>>>;

/// The far ends of a worker's outputs.
pub struct Outbox {
    events: Receivers<AttendanceEvent>,
    unknown: Receivers<UnknownFaceEvent>,
}

/// Outputs on in-process topics with room for `capacity` messages each (dead letters dropped).
pub fn in_memory_outputs(capacity: usize) -> (RecognizeOutputs, Outbox) {
    let (events_tx, events) = memory_topic::<AttendanceEvent>(1, capacity);
    let (unknown_tx, unknown) = memory_topic::<UnknownFaceEvent>(1, capacity);
    let (dead_tx, _) = memory_topic(1, capacity);
    let outputs = RecognizeOutputs {
        events: Arc::new(events_tx),
        unknown: Arc::new(unknown_tx),
        dead_letters: Arc::new(dead_tx),
    };
    (outputs, Outbox { events, unknown })
}

impl Outbox {
    /// Everything sent, once the worker holding the outputs is gone.
    pub async fn drain(self) -> (Vec<AttendanceEvent>, Vec<UnknownFaceEvent>) {
        (drain(self.events).await, drain(self.unknown).await)
    }
}

/// Queues `frames` and runs `worker` over them to the end of the stream. `started` is called
/// once the frames are queued, just before the worker starts (where a benchmark's clock starts).
pub async fn run_over(
    worker: RecognizeWorker,
    frames: &[Frame],
    started: impl FnOnce(),
) -> anyhow::Result<RecognizeStats> {
    let (frames_tx, frames_rx) = memory_topic::<Frame>(1, frames.len());
    for frame in frames {
        frames_tx.send(frame.camera.as_str(), frame.clone()).await?;
    }
    drop(frames_tx);
    started();
    worker
        .run(Box::new(MemoryConsumer::new(frames_rx)), CancellationToken::new())
        .await
}

async fn drain<T: Send + 'static>(receivers: Receivers<T>) -> Vec<T> {
    let mut consumer = MemoryConsumer::new(receivers);
    let mut out = Vec::new();
    while let Some(Ok(record)) = consumer.next().await {
        out.push(record.value);
    }
    out
}
