//! The review loop's rules: unknown faces grouped into clusters of look-alikes for people to name,
//! dismiss or correct, when a cluster is flagged, and the states a cluster can be in (pure; the
//! store keeps them, `store::unknown_faces`).

pub mod clusters;

use serde::{Deserialize, Serialize};

/// `[review]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// A face joins the nearest open cluster whose centroid is at most this far (L2, as the
    /// matcher's threshold); otherwise it starts a cluster of its own. Tighter than the match
    /// threshold: a cluster is meant to be one person.
    pub cluster_distance: f32,
    /// A cluster of at least this many faces is flagged: someone unknown keeps coming.
    pub flag_after: u32,
    /// An accepted match at least `threshold - match_margin` away is kept for review as a
    /// low-confidence match (its face, crop and the person it was taken for); 0 keeps none.
    pub match_margin: f32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            cluster_distance: 0.5,
            flag_after: 3,
            match_margin: 0.05,
        }
    }
}

impl ReviewConfig {
    /// Whether a match at `distance` under `threshold` is close enough to it to be reviewed.
    pub fn doubts(margin: f32, threshold: f32, distance: f32) -> bool {
        margin > 0.0 && distance >= threshold - margin
    }

    /// Whether a cluster of `size` faces is big enough to tell people about.
    pub fn flags(&self, size: u32) -> bool {
        size >= self.flag_after.max(1)
    }
}

/// Where a cluster stands: waiting for people, named as someone, or set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ClusterStatus {
    Open,
    Assigned,
    Dismissed,
}

impl ClusterStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ClusterStatus::Open => "open",
            ClusterStatus::Assigned => "assigned",
            ClusterStatus::Dismissed => "dismissed",
        }
    }

    /// The status as the store keeps it (its CHECK allows these three only).
    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "assigned" => ClusterStatus::Assigned,
            "dismissed" => ClusterStatus::Dismissed,
            _ => ClusterStatus::Open,
        }
    }
}
