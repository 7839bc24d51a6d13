//! Face embeddings: descriptors of the recognizer's dimension, their byte encoding for storage and
//! transport, and the metrics they are compared by.

use serde::{Deserialize, Serialize};

/// Dimension of the dlib ResNet descriptor, the default recognizer.
pub const EMBEDDING_DIM: usize = 128;

/// The largest dimension accepted: published face descriptors have 128 to 512 values.
pub const MAX_EMBEDDING_DIM: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmbeddingError {
    #[error("embedding has {actual} values, expected 1 to {MAX_EMBEDDING_DIM}")]
    WrongDimension { actual: usize },
    #[error("embedding blob has {actual} bytes, expected a positive multiple of 4")]
    WrongByteLength { actual: usize },
    #[error("embedding contains a non-finite value")]
    NotFinite,
}

/// A face descriptor. Its dimension is the recognizer's: embeddings are only ever compared with
/// others of the same model (templates and events carry the model id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Vec<f32>);

impl Embedding {
    pub fn new(values: Vec<f32>) -> Result<Self, EmbeddingError> {
        if values.is_empty() || values.len() > MAX_EMBEDDING_DIM {
            return Err(EmbeddingError::WrongDimension { actual: values.len() });
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EmbeddingError::NotFinite);
        }
        Ok(Self(values))
    }

    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// L2 distance, the metric the dlib descriptor was trained for.
    pub fn distance(&self, other: &Embedding) -> f32 {
        l2_distance(&self.0, &other.0)
    }

    /// Little-endian f32s: the column format in `face_templates.embedding`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// `1 - cos θ`: 0 for the same direction, 2 for opposite ones; blind to the vectors' lengths.
    pub fn cosine_distance(&self, other: &Embedding) -> f32 {
        cosine_distance(&self.0, &other.0)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmbeddingError> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
            return Err(EmbeddingError::WrongByteLength { actual: bytes.len() });
        }
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self::new(values)
    }
}

fn l2_distance(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len(), "embeddings of different models compared");
    a.iter().zip(b).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt()
}

fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len(), "embeddings of different models compared");
    let (mut dot, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (a, b) in a.iter().zip(b) {
        dot += a * b;
        aa += a * a;
        bb += b * b;
    }
    let norms = (aa * bb).sqrt();
    if norms == 0.0 { 1.0 } else { 1.0 - dot / norms }
}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = EmbeddingError;
    fn try_from(values: Vec<f32>) -> Result<Self, EmbeddingError> {
        Self::new(values)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Vec<f32> {
        e.0
    }
}

/// L2 distance maps to a similarity in [0, 1] for display: 1 - d/2 (descriptor distances stay below ~2).
pub fn similarity_from_distance(distance: f32) -> f32 {
    Metric::L2.similarity(distance)
}

/// How a recognizer's embeddings are compared; part of its model card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Euclidean distance of the raw vectors (dlib's descriptor).
    #[default]
    L2,
    /// `1 - cos θ` (ArcFace-style descriptors, trained on the angle only).
    Cosine,
}

impl Metric {
    pub fn distance(self, a: &Embedding, b: &Embedding) -> f32 {
        self.distance_of(&a.0, &b.0)
    }

    /// The distance of two embeddings' values (of one model, so of one length).
    pub fn distance_of(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::L2 => l2_distance(a, b),
            Metric::Cosine => cosine_distance(a, b),
        }
    }

    /// A similarity in [0, 1] for display: for L2 1 - d/2 (descriptor distances stay below ~2),
    /// for cosine the cosine itself.
    pub fn similarity(self, distance: f32) -> f32 {
        match self {
            Metric::L2 => (1.0 - distance / 2.0).clamp(0.0, 1.0),
            Metric::Cosine => (1.0 - distance).clamp(0.0, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rejects_wrong_dimension_and_nan() {
        assert_eq!(
            Embedding::new(vec![]),
            Err(EmbeddingError::WrongDimension { actual: 0 })
        );
        assert_eq!(
            Embedding::new(vec![0.0; MAX_EMBEDDING_DIM + 1]),
            Err(EmbeddingError::WrongDimension {
                actual: MAX_EMBEDDING_DIM + 1
            })
        );
        assert!(Embedding::new(vec![0.5; 512]).is_ok());
        assert_eq!(
            Embedding::from_bytes(&[0, 0, 0]),
            Err(EmbeddingError::WrongByteLength { actual: 3 })
        );
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[5] = f32::NAN;
        assert_eq!(Embedding::new(v), Err(EmbeddingError::NotFinite));
    }

    #[test]
    fn distance_is_euclidean() {
        let a = Embedding::new(vec![0.0; EMBEDDING_DIM]).unwrap();
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[0] = 3.0;
        v[1] = 4.0;
        assert_eq!(a.distance(&Embedding::new(v).unwrap()), 5.0);
    }

    #[test]
    fn cosine_distance_ignores_length_and_similarity_follows_the_metric() {
        let a = Embedding::new(vec![1.0, 0.0]).unwrap();
        let longer = Embedding::new(vec![3.0, 0.0]).unwrap();
        let orthogonal = Embedding::new(vec![0.0, 2.0]).unwrap();
        assert_eq!(Metric::Cosine.distance(&a, &longer), 0.0);
        assert_eq!(Metric::L2.distance(&a, &longer), 2.0);
        assert!((Metric::Cosine.distance(&a, &orthogonal) - 1.0).abs() < 1e-6);
        assert_eq!(Metric::Cosine.similarity(0.25), 0.75);
        assert_eq!(Metric::L2.similarity(0.5), 0.75);
    }

    proptest! {
        #[test]
        fn bytes_round_trip(values in proptest::collection::vec(-10.0f32..10.0, EMBEDDING_DIM)) {
            let e = Embedding::new(values).unwrap();
            prop_assert_eq!(Embedding::from_bytes(&e.to_bytes()).unwrap(), e);
        }
    }
}
