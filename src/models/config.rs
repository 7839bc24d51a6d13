//! `[models]`: where the model files are and which detector and recognizer to use.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    pub dir: PathBuf,
    /// Manifest name of the detector model.
    pub detector: String,
    /// Name of the recognizer model: a built-in one or one of `custom`.
    pub recognizer: String,
    /// A site's own models, each with its file's sha256 and, for a recognizer, its model card.
    pub custom: Vec<crate::models::ModelSpec>,
}
