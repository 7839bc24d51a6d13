//! A slice of the gallery stored contiguously: the templates' values row after row, their sign
//! codes and their owners. Chunks are shared between gallery versions
//! and copied only when a change touches them.

use crate::domain::PersonId;

/// Templates per chunk: a change copies at most this many rows (2 MB at 128 dimensions).
pub(super) const CHUNK_ROWS: usize = 4096;

#[derive(Debug, Clone, Default)]
pub(super) struct Chunk {
    /// `len * dim` values, one template after another.
    pub values: Vec<f32>,
    /// `len * words` code words, when the gallery has a coder; empty otherwise.
    pub codes: Vec<u64>,
    /// Each row's owner, an index into `people`.
    pub owners: Vec<u32>,
    /// The people with a template in this chunk.
    pub people: Vec<PersonId>,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn row(&self, i: usize, dim: usize) -> &[f32] {
        &self.values[i * dim..(i + 1) * dim]
    }

    pub fn owner(&self, i: usize) -> &PersonId {
        &self.people[self.owners[i] as usize]
    }

    pub fn holds(&self, person: &PersonId) -> bool {
        self.people.iter().any(|p| p == person)
    }

    pub fn push(&mut self, person: &PersonId, values: &[f32], code: &[u64]) {
        // A person's templates arrive together, so only the last slot is looked at: a person
        // whose templates come apart gets two slots, which costs a few bytes, while a search of
        // every slot would make loading a chunk quadratic.
        let slot = match self.people.last() {
            Some(last) if last == person => self.people.len() - 1,
            _ => {
                self.people.push(person.clone());
                self.people.len() - 1
            }
        };
        self.owners.push(slot as u32);
        self.values.extend_from_slice(values);
        self.codes.extend_from_slice(code);
    }

    /// This chunk without `person`'s rows.
    pub fn without(&self, person: &PersonId, dim: usize, words: usize) -> Chunk {
        let mut kept = Chunk::default();
        for i in 0..self.len() {
            let owner = self.owner(i);
            if owner != person {
                kept.push(owner, self.row(i, dim), &self.codes[i * words..(i + 1) * words]);
            }
        }
        kept
    }

    /// Heap bytes held, for the memory-per-template figure.
    pub fn bytes(&self) -> usize {
        self.values.capacity() * 4
            + self.codes.capacity() * 8
            + self.owners.capacity() * 4
            + self
                .people
                .iter()
                .map(|p| std::mem::size_of::<PersonId>() + p.as_str().len())
                .sum::<usize>()
    }
}
