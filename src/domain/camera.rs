//! What a camera's sightings mean for presence: whether it watches people come in, go out, or both.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraRole {
    Entry,
    Exit,
    #[default]
    Both,
}

impl CameraRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CameraRole::Entry => "entry",
            CameraRole::Exit => "exit",
            CameraRole::Both => "both",
        }
    }
}
