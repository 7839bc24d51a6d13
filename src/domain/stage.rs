//! The names of the pipeline's stages, as dead letters, consumer groups, metrics and logs use them.

pub const INGEST: &str = "ingest";
pub const RECOGNIZE: &str = "recognize";
pub const PROJECT: &str = "project";
