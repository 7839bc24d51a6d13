//! The names of the stages that consume a topic, as dead letters, consumer groups, metrics and
//! logs use them.

pub const RECOGNIZE: &str = "recognize";
pub const PROJECT: &str = "project";
