//! A large gallery synthesised around real embeddings: the real people (their photos, plus new
//! "photos" drawn around them), look-alikes drawn close to each real person, and the rest drawn
//! from a per-dimension normal model fitted to the real embeddings. Seeded: every run makes the
//! same gallery and queries.

use crate::bench::stream::scene::Rng;
use crate::domain::{Embedding, PersonId};

/// Templates per synthetic person.
const TEMPLATES_PER_PERSON: usize = 5;
/// Synthetic people drawn near each real person.
const LOOK_ALIKES: usize = 20;

/// One query face and whether its person is in the gallery.
pub struct Query {
    pub embedding: Embedding,
    pub enrolled: bool,
}

pub struct Synthesis {
    pub people: Vec<(PersonId, Vec<Embedding>)>,
    pub queries: Vec<Query>,
}

/// Where embeddings lie: the centre of people, how far people spread around it and how far one
/// person's photos spread around theirs, per dimension.
struct Spread {
    centre: Vec<f32>,
    between: Vec<f32>,
    within: Vec<f32>,
}

impl Spread {
    fn fit(real: &[(String, Embedding)]) -> Self {
        let dim = real[0].1.values().len();
        let mut labels: Vec<&str> = real.iter().map(|(l, _)| l.as_str()).collect();
        labels.dedup();
        let person_centre = |label: &str| mean(real.iter().filter(|(l, _)| l == label).map(|(_, e)| e.values()), dim);
        let centres: Vec<Vec<f32>> = labels.iter().map(|l| person_centre(l)).collect();
        let centre = mean(centres.iter().map(|c| c.as_slice()), dim);
        let between = deviation(centres.iter().map(|c| (c.as_slice(), centre.as_slice())), dim);
        let within = deviation(
            real.iter().map(|(l, e)| {
                let at = labels.iter().position(|x| x == l).unwrap_or(0);
                (e.values(), centres[at].as_slice())
            }),
            dim,
        );
        Self {
            centre,
            between,
            within,
        }
    }
}

fn mean<'a>(rows: impl Iterator<Item = &'a [f32]>, dim: usize) -> Vec<f32> {
    let mut sum = vec![0f64; dim];
    let mut n = 0usize;
    for row in rows {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
        n += 1;
    }
    sum.iter().map(|s| (s / n.max(1) as f64) as f32).collect()
}

/// Root mean square of each dimension's difference, over the (value, centre) pairs.
fn deviation<'a>(pairs: impl Iterator<Item = (&'a [f32], &'a [f32])>, dim: usize) -> Vec<f32> {
    let mut sum = vec![0f64; dim];
    let mut n = 0usize;
    for (row, centre) in pairs {
        for ((s, v), c) in sum.iter_mut().zip(row).zip(centre) {
            *s += f64::from(v - c).powi(2);
        }
        n += 1;
    }
    sum.iter().map(|s| (s / n.max(1) as f64).sqrt() as f32).collect()
}

/// A seeded generator of normal deviates (Box–Muller over the benchmarks' xorshift).
struct Normal(Rng);

impl Normal {
    fn uniform(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }

    /// `around` plus `scale` times the per-dimension `spread`, times a normal deviate.
    fn around(&mut self, around: &[f32], spread: &[f32], scale: f32) -> Vec<f32> {
        around
            .iter()
            .zip(spread)
            .map(|(c, s)| c + scale * s * self.next())
            .collect()
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

fn embedding(values: Vec<f32>) -> Embedding {
    Embedding::new(values).expect("finite values of the model's dimension")
}

/// `templates` templates in all (about), and `queries` queries: a quarter new photos of the real
/// people, half new photos of synthetic ones, a quarter strangers.
pub fn synthesise(real: &[(String, Embedding)], templates: usize, queries: usize) -> anyhow::Result<Synthesis> {
    anyhow::ensure!(
        real.len() >= 2,
        "at least two real embeddings are needed to fit the spread"
    );
    let spread = Spread::fit(real);
    let mut normal = Normal(Rng(0x005e_ed0f_9a11_e7e5));
    let mut people: Vec<(PersonId, Vec<Embedding>)> = Vec::new();
    let mut real_labels: Vec<&str> = real.iter().map(|(l, _)| l.as_str()).collect();
    real_labels.dedup();
    for (i, label) in real_labels.iter().enumerate() {
        let photos: Vec<&Embedding> = real.iter().filter(|(l, _)| l == label).map(|(_, e)| e).collect();
        let mut own: Vec<Embedding> = photos.iter().map(|e| (*e).clone()).collect();
        for _ in 0..TEMPLATES_PER_PERSON.saturating_sub(own.len()) {
            own.push(embedding(normal.around(photos[0].values(), &spread.within, 1.0)));
        }
        people.push((PersonId::parse(format!("real-{i}"))?, own));
        for twin in 0..LOOK_ALIKES {
            let centre = normal.around(photos[0].values(), &spread.between, 0.5);
            let own = (0..TEMPLATES_PER_PERSON)
                .map(|_| embedding(normal.around(&centre, &spread.within, 1.0)))
                .collect();
            people.push((PersonId::parse(format!("alike-{i}-{twin}"))?, own));
        }
    }
    let mut centres: Vec<Vec<f32>> = Vec::new();
    let mut count: usize = people.iter().map(|(_, t)| t.len()).sum();
    while count < templates {
        let centre = normal.around(&spread.centre, &spread.between, 1.0);
        let own: Vec<Embedding> = (0..TEMPLATES_PER_PERSON.min(templates - count))
            .map(|_| embedding(normal.around(&centre, &spread.within, 1.0)))
            .collect();
        count += own.len();
        people.push((PersonId::parse(format!("synthetic-{}", centres.len()))?, own));
        centres.push(centre);
    }
    let mut out = Vec::with_capacity(queries);
    for q in 0..queries {
        let (around, spread_of, enrolled) = match q % 4 {
            0 => (real[normal.below(real.len())].1.values().to_vec(), &spread.within, true),
            1 | 2 if !centres.is_empty() => (centres[normal.below(centres.len())].clone(), &spread.within, true),
            1 | 2 => (real[normal.below(real.len())].1.values().to_vec(), &spread.within, true),
            _ => (
                normal.around(&spread.centre, &spread.between, 1.0),
                &spread.within,
                false,
            ),
        };
        out.push(Query {
            embedding: embedding(normal.around(&around, spread_of, 1.0)),
            enrolled,
        });
    }
    Ok(Synthesis { people, queries: out })
}
