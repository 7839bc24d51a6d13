//! A worker's engine on a thread of its own: frames analysed one by one, alone (frame mode) or
//! as steps of their camera's tracks (track mode).

use tokio::sync::oneshot;

use super::gallery::{MatchRule, SharedGallery};
use super::track::{FrameHead, TrackConfig, TrackStep, Tracking, camera::StepContext};
use super::worker::Decoding;
use crate::domain::CameraId;
use crate::vision::{Face, FaceEngine, VisionError, panic_message};

/// What the engine made of one frame.
pub enum Analysis {
    Faces(Vec<Face>),
    Tracks(TrackStep),
}

/// How the thread judges frames.
pub enum Judge {
    Frames,
    Tracks {
        config: TrackConfig,
        gallery: SharedGallery,
        rule: MatchRule,
    },
}

type Answer = (Vec<u8>, Result<Analysis, VisionError>);

enum Message {
    Frame {
        head: FrameHead,
        data: Vec<u8>,
        /// The frame's decode, when the worker started it ahead (frame mode).
        decoding: Option<Decoding>,
        span: tracing::Span,
        answer: oneshot::Sender<Answer>,
    },
    /// A camera's end-of-stream marker: its open tracks are decided now.
    End {
        camera: CameraId,
        answer: oneshot::Sender<Analysis>,
    },
    /// The given cameras' frames come again from their last quiescent point.
    Forget(Vec<CameraId>),
    /// The stream has ended: every open track is decided now.
    Finish(oneshot::Sender<Vec<(CameraId, TrackStep)>>),
}

/// The worker's end of its inference thread. One thread per worker for the worker's life keeps
/// its caches warm and costs no hand-off to a pool per frame.
pub struct Inference {
    messages: std::sync::mpsc::Sender<Message>,
    pub model_id: String,
}

fn stopped<T>(_: T) -> anyhow::Error {
    anyhow::anyhow!("the inference thread stopped")
}

impl Inference {
    pub fn start(mut engine: FaceEngine, judge: Judge) -> Self {
        let model_id = engine.model_id().to_owned();
        let (messages, queue) = std::sync::mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("rollcall-inference".into())
            .spawn(move || {
                let mut tracking = Tracking::default();
                // Ends when the worker, and with it the sender, is dropped.
                for message in queue {
                    match message {
                        Message::Frame {
                            head,
                            data,
                            decoding,
                            span,
                            answer,
                        } => {
                            let frame = (&head, data.as_slice(), decoding);
                            // A panic in a decoder or the model runtime costs this frame (it is
                            // dead-lettered), not the thread: the same bytes would panic again
                            // at every redelivery, and the worker would crash-loop on them.
                            let result = unless_panicked(|| {
                                span.in_scope(|| analyse(&mut engine, &judge, &mut tracking, frame))
                            });
                            let _ = answer.send((data, result));
                        }
                        Message::End { camera, answer } => {
                            let ended = match &judge {
                                Judge::Frames => Analysis::Tracks(TrackStep::end()),
                                Judge::Tracks { config, .. } => Analysis::Tracks(tracking.end(&camera, config)),
                            };
                            let _ = answer.send(ended);
                        }
                        Message::Forget(cameras) => tracking.forget(&cameras),
                        Message::Finish(answer) => {
                            let ended = match &judge {
                                Judge::Frames => Vec::new(),
                                Judge::Tracks { config, .. } => tracking.finish(config),
                            };
                            let _ = answer.send(ended);
                        }
                    }
                }
            })
            .expect("starting an inference thread");
        Self { messages, model_id }
    }

    /// Analyses a frame's bytes, or its decode started ahead; gives the bytes back for a
    /// dead letter.
    pub async fn analyse(&self, head: FrameHead, data: Vec<u8>, decoding: Option<Decoding>) -> anyhow::Result<Answer> {
        let (answer, answered) = oneshot::channel();
        self.messages
            .send(Message::Frame {
                head,
                data,
                decoding,
                span: tracing::Span::current(),
                answer,
            })
            .map_err(stopped)?;
        answered.await.map_err(stopped)
    }

    /// Ends `camera`'s stream: what its open tracks decide (nothing in frame mode).
    pub async fn end(&self, camera: CameraId) -> anyhow::Result<Analysis> {
        let (answer, answered) = oneshot::channel();
        self.messages.send(Message::End { camera, answer }).map_err(stopped)?;
        answered.await.map_err(stopped)
    }

    pub fn forget(&self, cameras: Vec<CameraId>) -> anyhow::Result<()> {
        self.messages.send(Message::Forget(cameras)).map_err(stopped)
    }

    /// Ends every open track (the stream is over), with what each camera's ending decided.
    pub async fn finish(&self) -> anyhow::Result<Vec<(CameraId, TrackStep)>> {
        let (answer, answered) = oneshot::channel();
        self.messages.send(Message::Finish(answer)).map_err(stopped)?;
        answered.await.map_err(stopped)
    }
}

/// `analysis`'s result, or a panic inside it as an error.
fn unless_panicked(analysis: impl FnOnce() -> Result<Analysis, VisionError>) -> Result<Analysis, VisionError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(analysis))
        .unwrap_or_else(|panic| Err(VisionError::Panicked(panic_message(panic.as_ref()))))
}

fn analyse(
    engine: &mut FaceEngine,
    judge: &Judge,
    tracking: &mut Tracking,
    (head, data, decoding): (&FrameHead, &[u8], Option<Decoding>),
) -> Result<Analysis, VisionError> {
    match judge {
        // A decode started ahead that went missing (its thread gone) is done here instead.
        Judge::Frames => match decoding.and_then(|decoding| decoding.blocking_recv().ok()) {
            Some(decoded) => engine.analyze(&decoded?).map(Analysis::Faces),
            None => engine.analyze_bytes(data).map(Analysis::Faces),
        },
        Judge::Tracks { config, gallery, rule } => {
            let gallery = gallery.current();
            let mut cx = StepContext {
                engine,
                gallery: &gallery,
                rule: *rule,
                config,
            };
            tracking
                .camera(&head.camera)
                .step(&mut cx, head, data)
                .map(Analysis::Tracks)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_an_analysis_becomes_the_frames_error() {
        let result = unless_panicked(|| panic!("index out of bounds in a decoder"));
        let error = result.err().expect("the panic is an error");
        assert_eq!(error.kind(), "analysis_panicked");
        assert!(
            error.to_string().contains("index out of bounds in a decoder"),
            "{error}"
        );
        assert!(matches!(
            unless_panicked(|| Ok(Analysis::Faces(Vec::new()))),
            Ok(Analysis::Faces(_))
        ));
    }
}
