//! Benchmarks (`rollcall bench …`): throughput measured against a baseline in the same run.

mod api;
mod pipeline;
mod project;
mod scratch;
mod sessions;
mod soak;
pub mod stream;

pub use api::{LoadPlan, api_benchmark};
pub use pipeline::{make_frames, pipeline_benchmark};
pub use project::project_benchmark;
pub use sessions::sessions_benchmark;
pub use soak::{SoakPlan, soak_benchmark};
pub use stream::stream_benchmark;
