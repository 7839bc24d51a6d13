//! Cameras ffmpeg reads: RTSP streams and video files, decoded by an `ffmpeg` child process
//! that writes JPEGs to its stdout at the camera's fps.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use anyhow::Context;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::live::{Capture, Delivery, reconnect_backoff, take_jpegs};

/// `source = "ffmpeg"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FfmpegConfig {
    /// ffmpeg's input: `rtsp://…`, a video file, anything it reads.
    pub url: String,
    /// Extra ffmpeg options before its input, e.g. `["-rtsp_flags", "listen"]` for a camera that
    /// pushes its RTSP stream to the ingestor instead of being pulled from.
    #[serde(default)]
    pub ffmpeg_input_options: Vec<String>,
}

#[async_trait]
impl Capture for FfmpegConfig {
    async fn capture(&self, fps: f64, delivery: Arc<Delivery>, stop: CancellationToken) -> anyhow::Result<()> {
        capture(&self.url, &self.ffmpeg_input_options, fps, &delivery, &stop).await
    }

    fn paces_itself(&self) -> bool {
        true
    }
}

/// Whether `input` is a stream to reconnect to, rather than a file that ends.
fn is_stream(input: &str) -> bool {
    input.contains("://") && !input.starts_with("file://")
}

/// Runs ffmpeg on `input` until `stop`; a stream is reopened with backoff when it ends or fails,
/// a file ends the camera when ffmpeg has read all of it.
async fn capture(
    input: &str,
    input_options: &[String],
    fps: f64,
    delivery: &Arc<Delivery>,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = reconnect_backoff();
    loop {
        let outcome = decode(input, input_options, fps, delivery, stop).await;
        if stop.is_cancelled() {
            return Ok(());
        }
        match outcome {
            Ok(_) if !is_stream(input) => return Ok(()),
            Err(e) if !is_stream(input) => return Err(e),
            Ok(true) => backoff = reconnect_backoff(),
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, "ffmpeg failed"),
        }
        delivery.set_up(false);
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// How much of ffmpeg's error output is kept for the error message: the end, where the reason is.
const STDERR_KEPT: usize = 4096;

/// Reads `stream` to its end, keeping only its last `kept` bytes (as text).
fn last_words(mut stream: impl Read, kept: usize) -> String {
    let (mut tail, mut chunk) = (Vec::with_capacity(kept * 2), [0u8; 8192]);
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > kept * 2 {
            tail.drain(..tail.len() - kept);
        }
    }
    let start = tail.len().saturating_sub(kept);
    String::from_utf8_lossy(&tail[start..]).into_owned()
}

/// One ffmpeg run; true if it delivered any image. The pipe is read on a blocking thread; on
/// `stop` the child is killed, which ends the read.
async fn decode(
    input: &str,
    input_options: &[String],
    fps: f64,
    delivery: &Arc<Delivery>,
    stop: &CancellationToken,
) -> anyhow::Result<bool> {
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    if input.starts_with("rtsp://") {
        command.args(["-rtsp_transport", "tcp"]);
    }
    if !is_stream(input) {
        // A file plays at its own speed, like the camera that recorded it.
        command.arg("-re");
    }
    command.args(input_options).args(["-i", input]);
    if fps > 0.0 {
        command.args(["-vf", &format!("fps={fps}")]);
    }
    command
        .args(["-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "2", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .context("starting ffmpeg (install Debian's ffmpeg package)")?;
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    // Read while ffmpeg runs: a long stream with many decode errors would otherwise fill the pipe,
    // and ffmpeg, blocked writing to it, would stop sending frames.
    let said = tokio::task::spawn_blocking(move || last_words(stderr, STDERR_KEPT));
    let child: Arc<Mutex<Child>> = Arc::new(Mutex::new(child));
    let reader = {
        let delivery = Arc::clone(delivery);
        tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let (mut buffer, mut chunk, mut delivered) = (Vec::new(), vec![0u8; 1 << 16], false);
            loop {
                let n = stdout.read(&mut chunk)?;
                if n == 0 {
                    return Ok(delivered);
                }
                buffer.extend_from_slice(&chunk[..n]);
                for image in take_jpegs(&mut buffer).map_err(std::io::Error::other)? {
                    delivery.set_up(true);
                    delivered = true;
                    delivery.offer(image);
                }
            }
        })
    };
    let killer = {
        let (child, stop) = (Arc::clone(&child), stop.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
        })
    };
    let delivered = reader.await.context("ffmpeg reader panicked")??;
    killer.abort();
    let status = tokio::task::spawn_blocking(move || child.lock().unwrap_or_else(|p| p.into_inner()).wait()).await??;
    let said = said.await.unwrap_or_default();
    if !status.success() && !stop.is_cancelled() {
        anyhow::bail!("ffmpeg on {input} exited with {status}: {}", said.trim());
    }
    Ok(delivered)
}
