//! Face embeddings: 128-d descriptors with a fixed byte encoding for storage and transport.

use serde::{Deserialize, Serialize};

/// Dimension of the dlib ResNet descriptor.
pub const EMBEDDING_DIM: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmbeddingError {
    #[error("embedding has {actual} values, expected {EMBEDDING_DIM}")]
    WrongDimension { actual: usize },
    #[error("embedding blob has {actual} bytes, expected {}", EMBEDDING_DIM * 4)]
    WrongByteLength { actual: usize },
    #[error("embedding contains a non-finite value")]
    NotFinite,
}

/// A face descriptor of known dimension, compared by Euclidean (L2) distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Vec<f32>);

impl Embedding {
    pub fn new(values: Vec<f32>) -> Result<Self, EmbeddingError> {
        if values.len() != EMBEDDING_DIM {
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
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    /// Little-endian f32s: the column format in `face_templates.embedding`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmbeddingError> {
        if bytes.len() != EMBEDDING_DIM * 4 {
            return Err(EmbeddingError::WrongByteLength { actual: bytes.len() });
        }
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self::new(values)
    }
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
    (1.0 - distance / 2.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rejects_wrong_dimension_and_nan() {
        assert_eq!(
            Embedding::new(vec![0.0; 3]),
            Err(EmbeddingError::WrongDimension { actual: 3 })
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

    proptest! {
        #[test]
        fn bytes_round_trip(values in proptest::collection::vec(-10.0f32..10.0, EMBEDDING_DIM)) {
            let e = Embedding::new(values).unwrap();
            prop_assert_eq!(Embedding::from_bytes(&e.to_bytes()).unwrap(), e);
        }
    }
}
