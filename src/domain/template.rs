//! An enrolled face template: whose it is and its embedding.

use super::{Embedding, PersonId};

/// One enrolled template.
#[derive(Debug, Clone)]
pub struct Template {
    pub person: PersonId,
    pub embedding: Embedding,
}
