//! The names of the stages that consume a topic, as dead letters, consumer groups, metrics and
//! logs use them.

pub const RECOGNIZE: &str = "recognize";
pub const PROJECT: &str = "project";
/// Keeps unknown faces for review (the unknown-face topic's consumer).
pub const REVIEW: &str = "review";
