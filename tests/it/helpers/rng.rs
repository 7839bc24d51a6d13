//! A small seeded random sequence, so that a failing schedule of kills can be replayed: the one
//! the stream benchmark lays its passes out with.

pub use rollcall::bench::stream::scene::Rng;
