//! Frame mode reads one record ahead: while the engine works on a frame, the next frame is
//! decoded on another core, so one worker costs about what its inference costs.

use std::future::Future;

use image::RgbImage;
use tokio::sync::oneshot;

use crate::bus::{BusError, Consumer, Position, Record};
use crate::domain::Frame;
use crate::vision::{DecodeError, decode_frame};

/// A frame's decode running apart from the engine; the engine waits for it instead of decoding.
pub type Decoding = oneshot::Receiver<Result<RgbImage, DecodeError>>;

/// What `Consumer::next` gave: a record, a failure, or the end of the stream (`None`).
pub(super) type Next = Option<Result<Record<Frame>, BusError>>;

pub(super) struct ReadAhead {
    max_pixels: u64,
    next: Option<Next>,
    decoding: Option<(Position, Decoding)>,
}

impl ReadAhead {
    pub(super) fn new(max_pixels: u64) -> Self {
        Self {
            max_pixels,
            next: None,
            decoding: None,
        }
    }

    /// The record read ahead, if any: it comes before anything the consumer gives.
    pub(super) fn take(&mut self) -> Option<Next> {
        self.next.take()
    }

    /// The decode started for the frame at `position`.
    pub(super) fn decoding(&mut self, position: Position) -> Option<Decoding> {
        self.decoding
            .take_if(|(at, _)| *at == position)
            .map(|(_, decoding)| decoding)
    }

    /// Waits for `analysing`; meanwhile reads the next record and, when it is a frame, starts
    /// its decode. A decode depends on the frame's bytes alone, so reading ahead changes no
    /// decision; records are still judged one by one, in order.
    pub(super) async fn overlap<T>(
        &mut self,
        analysing: impl Future<Output = T>,
        frames: &mut dyn Consumer<Frame>,
    ) -> T {
        if self.next.is_some() {
            return analysing.await;
        }
        let mut analysing = std::pin::pin!(analysing);
        let next = tokio::select! {
            biased;
            done = &mut analysing => return done,
            next = frames.next() => next,
        };
        if let Some(Ok(record)) = &next
            && !record.value.is_end_of_stream()
        {
            let (decoded, decoding) = oneshot::channel();
            let (bytes, max_pixels) = (record.value.data.clone(), self.max_pixels);
            tokio::task::spawn_blocking(move || decoded.send(decode_frame(&bytes, max_pixels)));
            self.decoding = Some((record.position, decoding));
        }
        self.next = Some(next);
        analysing.await
    }
}
