//! Benchmarks (`rollcall bench …`): throughput measured against a baseline in the same run.

mod pipeline;
mod project;

pub use pipeline::{make_frames, pipeline_benchmark};
pub use project::project_benchmark;
