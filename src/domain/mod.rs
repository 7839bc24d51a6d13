//! Domain values shared by every stage: identifiers, embeddings, frames and attendance events.

mod camera;
mod correction;
pub mod dates;
mod embedding;
mod event;
mod frame;
mod ids;
pub mod stage;
mod template;
pub mod text;
mod unknown;

pub use camera::CameraRole;
pub use correction::{
    AttendanceCorrection, AttendanceRecord, CORRECTION_SCHEMA_VERSION, CorrectionKind, MANUAL_CAMERA, MANUAL_MODEL_ID,
    MAX_ACTOR_CHARS,
};
pub use embedding::{EMBEDDING_DIM, Embedding, EmbeddingError, MAX_EMBEDDING_DIM, Metric, similarity_from_distance};
pub use event::{ATTENDANCE_SCHEMA_VERSION, AttendanceEvent, FaceBox, InvalidEvent, Validate};
pub use frame::{END_OF_STREAM, Frame};
pub use ids::{CameraId, IdError, PersonId};
pub use template::Template;
pub use unknown::{MAX_FACE_CROP_BYTES, UnknownFaceEvent};
