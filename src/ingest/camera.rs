//! A camera as configured: what every camera has (id, name, location, role, pacing) and its
//! source, one variant per kind of source, each with its own settings in the source's file.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize};
use tokio_util::sync::CancellationToken;

use super::IngestStats;
use crate::bus::Producer;
use crate::domain::{CameraId, CameraRole, Frame};

/// A kind of camera: reads its frames and publishes them into `frames` until it ends (a
/// replayed folder, a video file) or `stop` is cancelled.
#[async_trait]
pub trait FrameSource: Send + Sync {
    async fn run(
        &self,
        camera: &CameraConfig,
        pace: Pace,
        frames: Arc<dyn Producer<Frame>>,
        stop: CancellationToken,
    ) -> anyhow::Result<IngestStats>;
}

/// How a camera runs: its frames per second (0: as fast as taken) and the largest image, in
/// pixels, a live camera's frame may have (`vision.max_pixels`: larger ones are not decoded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub fps: f64,
    pub max_pixels: u64,
}

/// Declares the kinds of source: the `source = "…"` name, the variant and its settings type.
/// Adding a kind of source is one line here and one file beside this one.
macro_rules! sources {
    ($($(#[$doc:meta])* $name:literal => $variant:ident($config:ty),)+) => {
        /// Where a camera's frames come from: `source = "…"` and that source's own settings.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "source")]
        pub enum SourceConfig {
            $($(#[$doc])* #[serde(rename = $name)] $variant($config),)+
        }

        impl SourceConfig {
            /// The source that reads this configuration's camera.
            pub fn frame_source(&self) -> &dyn FrameSource {
                match self { $(SourceConfig::$variant(config) => config,)+ }
            }

            /// The `source` name, as configured.
            pub fn kind(&self) -> &'static str {
                match self { $(SourceConfig::$variant(_) => $name,)+ }
            }
        }
    };
}

sources! {
    /// A folder replayed once, or watched for new files (frames as they are).
    "folder" => Folder(super::folder::FolderConfig),
    /// An HTTP URL answering with one JPEG per request, polled at the camera's fps.
    "snapshot" => Snapshot(super::snapshot::SnapshotConfig),
    /// An HTTP URL streaming `multipart/x-mixed-replace` JPEGs.
    "mjpeg" => Mjpeg(super::mjpeg::MjpegConfig),
    /// Anything ffmpeg reads (RTSP streams, video files), decoded by an `ffmpeg` child process.
    "ffmpeg" => Ffmpeg(super::ffmpeg::FfmpegConfig),
}

/// One camera: `[[ingest.cameras]]`. The settings of its source sit beside these in the same
/// table; `source` defaults to `folder`.
#[derive(Debug, Clone, Serialize)]
pub struct CameraConfig {
    pub id: CameraId,
    pub name: Option<String>,
    pub location: String,
    pub role: CameraRole,
    /// Overrides `ingest.fps` for this camera: the most frames per second it publishes.
    pub fps: Option<f64>,
    /// Live cameras: which frame is given up when the bus cannot take frames as fast as the
    /// camera sends them.
    pub drop: DropPolicy,
    /// Live cameras: JPEG quality (1–100) that frames are re-encoded at.
    pub jpeg_quality: u8,
    /// Live cameras: longest side of a published frame; larger frames are scaled down.
    pub max_side: u32,
    #[serde(flatten)]
    pub source: SourceConfig,
}

/// Backpressure policy of a live camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropPolicy {
    /// Keep the newest frame waiting and drop the one it replaces: the bus always gets the latest.
    #[default]
    Oldest,
    /// Keep the frame already waiting and drop new ones until it is sent.
    Newest,
}

/// The settings every camera has, as written in its table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonSettings {
    id: CameraId,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    location: String,
    #[serde(default)]
    role: CameraRole,
    #[serde(default)]
    fps: Option<f64>,
    #[serde(default)]
    drop: DropPolicy,
    #[serde(default = "default_jpeg_quality")]
    jpeg_quality: u8,
    #[serde(default = "default_max_side")]
    max_side: u32,
}

const COMMON_FIELDS: &[&str] = &[
    "id",
    "name",
    "location",
    "role",
    "fps",
    "drop",
    "jpeg_quality",
    "max_side",
];

fn default_jpeg_quality() -> u8 {
    85
}

fn default_max_side() -> u32 {
    1280
}

/// One flat table: the common settings are taken out, and what is left (with `source`, by
/// default `folder`) must be exactly one source's settings, so a misspelt key is an error.
impl<'de> Deserialize<'de> for CameraConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let mut common = toml::Table::new();
        for field in COMMON_FIELDS {
            if let Some(value) = table.remove(*field) {
                common.insert((*field).to_owned(), value);
            }
        }
        table
            .entry("source")
            .or_insert_with(|| toml::Value::String("folder".into()));
        let c: CommonSettings = toml::Value::Table(common).try_into().map_err(D::Error::custom)?;
        let source: SourceConfig = toml::Value::Table(table).try_into().map_err(D::Error::custom)?;
        Ok(CameraConfig {
            id: c.id,
            name: c.name,
            location: c.location,
            role: c.role,
            fps: c.fps,
            drop: c.drop,
            jpeg_quality: c.jpeg_quality,
            max_side: c.max_side,
            source,
        })
    }
}

impl CameraConfig {
    /// A camera of `source` with defaults for everything else.
    pub fn new(id: CameraId, source: SourceConfig) -> Self {
        Self {
            id,
            name: None,
            location: String::new(),
            role: CameraRole::Both,
            fps: None,
            drop: DropPolicy::default(),
            jpeg_quality: default_jpeg_quality(),
            max_side: default_max_side(),
            source,
        }
    }

    /// A folder camera replayed once, with defaults for everything else.
    pub fn folder(id: CameraId, path: PathBuf) -> Self {
        Self::new(
            id,
            SourceConfig::Folder(super::folder::FolderConfig { path, watch: false }),
        )
    }

    /// The name shown for the camera: its own, or its id.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CameraConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn a_camera_table_is_its_common_settings_and_one_source() {
        let c = parse("id = \"door\"\npath = \"/x\"\nrole = \"entry\"\n").unwrap();
        assert_eq!(c.role, CameraRole::Entry);
        assert_eq!(c.source.kind(), "folder");
        let c = parse(
            "id = \"gate\"\nsource = \"ffmpeg\"\nurl = \"rtsp://h/s\"\nffmpeg_input_options = [\"-x\"]\nfps = 2.0\n",
        )
        .unwrap();
        let SourceConfig::Ffmpeg(f) = &c.source else {
            panic!("{c:?}")
        };
        assert_eq!(
            (f.url.as_str(), f.ffmpeg_input_options.len(), c.fps),
            ("rtsp://h/s", 1, Some(2.0))
        );
    }

    #[test]
    fn keys_of_another_source_and_unknown_kinds_are_refused() {
        let err = parse("id = \"door\"\npath = \"/x\"\nurl = \"http://h\"\n").unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
        assert!(parse("id = \"door\"\nsource = \"carrier-pigeon\"\n").is_err());
        assert!(
            parse("id = \"door\"\nsource = \"snapshot\"\n").is_err(),
            "a snapshot camera needs a url"
        );
    }
}
