//! Benchmarks (`rollcall bench …`): throughput measured against a baseline in the same run.

mod api;
mod pipeline;
mod project;

pub use api::api_benchmark;
pub use pipeline::{make_frames, pipeline_benchmark};
pub use project::project_benchmark;
