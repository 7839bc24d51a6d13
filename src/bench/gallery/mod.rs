//! `rollcall bench gallery`: top-1 search in a gallery of many templates synthesised around the
//! real photos' embeddings, loaded from PostgreSQL (a database of the benchmark's own), against
//! a plain scan of the same templates; recall of the exact top-1, memory per template, load
//! time and the cost of one person's change.

mod synth;

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use super::scratch::measured_in_scratch;
use crate::config::Config;
use crate::domain::{Embedding, Metric, PersonId};
use crate::recognize::{Gallery, MatchRule, load_gallery};
use crate::store::Store;
use synth::{Query, Synthesis, synthesise};

/// Queries timed on the plain scan, the baseline (it takes 100 ms a query at a million).
const BASELINE_QUERIES: usize = 50;

#[derive(Debug, serde::Serialize)]
struct GalleryReport {
    templates: usize,
    people: usize,
    queries: usize,
    indexed: bool,
    ms_per_query: f64,
    p99_ms: f64,
    baseline_ms_per_query: f64,
    speedup: f64,
    /// Share of the faces of enrolled people (new photos around the real embeddings and around
    /// synthetic people) whose top-1 template is the exact one.
    recall_at_1: f64,
    /// The same for strangers, whose nearest template is only a little nearer than thousands
    /// of others (`docs/gallery.md`), and for all queries.
    recall_at_1_strangers: f64,
    recall_at_1_all: f64,
    /// Share of queries given the same answer (this person, or nobody) as the exact search at
    /// the default threshold.
    decision_agreement: f64,
    bytes_per_template: f64,
    baseline_bytes_per_template: f64,
    import_s: f64,
    load_s: f64,
    erase_ms: f64,
    enrol_ms: f64,
}

pub async fn gallery_benchmark(
    config: &Config,
    faces: &Path,
    templates: usize,
    queries: usize,
    json: bool,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        config.store.url.starts_with("postgres"),
        "the gallery benchmark loads from PostgreSQL: give a postgres:// store URL"
    );
    let engine_config = config.clone();
    let faces_dir = faces.to_path_buf();
    let real = tokio::task::spawn_blocking(move || real_embeddings(&engine_config, &faces_dir))
        .await
        .context("embedding the photos panicked")??;
    let synthesis = tokio::task::spawn_blocking(move || synthesise(&real, templates, queries))
        .await
        .context("synthesis panicked")??;
    let model = config.models.recognizer.clone();
    let threshold = config.matching.threshold;
    measured_in_scratch(&config.store.url, "gallery", json, |url| async move {
        measure(&url, &model, threshold, synthesis).await
    })
    .await
}

/// The subject's embedding of every usable photo, with its label.
fn real_embeddings(config: &Config, faces: &Path) -> anyhow::Result<Vec<(String, Embedding)>> {
    let mut engine = crate::vision::FaceEngine::load(config)?;
    let mut out = Vec::new();
    for (label, path) in crate::eval::labelled_photos(faces)? {
        if let Ok(embedding) = crate::eval::subject_embedding(&mut engine, &path) {
            out.push((label, embedding));
        }
    }
    Ok(out)
}

async fn measure(
    url: &str,
    model: &str,
    threshold: f32,
    synthesis: Synthesis,
) -> anyhow::Result<(Vec<String>, GalleryReport)> {
    let Synthesis { people, queries } = synthesis;
    let store = Store::open(url, 2).await?;
    let t = Instant::now();
    store.import_templates(model, &people).await?;
    let import_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let gallery = load_gallery(&store, model).await?;
    let load_s = t.elapsed().as_secs_f64();
    let plain = PlainScan::of(&people);
    drop(people);
    let metric = Metric::L2;
    let rule = MatchRule::new(metric, threshold);

    let mut times = Vec::with_capacity(queries.len());
    let mut found = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        let nearest = gallery.nearest(&q.embedding, metric);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found.push(nearest.map(|(p, d)| (p.clone(), d)));
    }
    let ms_per_query = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    let p99_ms = times.get(times.len() * 99 / 100).copied().unwrap_or(0.0);

    let t = Instant::now();
    let baseline: Vec<_> = queries
        .iter()
        .take(BASELINE_QUERIES)
        .map(|q| plain.nearest(&q.embedding))
        .collect();
    let baseline_ms_per_query = t.elapsed().as_secs_f64() * 1e3 / baseline.len().max(1) as f64;
    let exact = exact_answers(&plain, &queries);
    let agreement = Agreement::count(&queries, &found, &exact, threshold);
    let (erase_ms, enrol_ms) = one_change(&gallery, &plain, rule)?;

    let report = GalleryReport {
        templates: gallery.len(),
        people: gallery.people(),
        queries: queries.len(),
        indexed: gallery.is_indexed(),
        ms_per_query,
        p99_ms,
        baseline_ms_per_query,
        speedup: baseline_ms_per_query / ms_per_query,
        recall_at_1: agreement.recall(Some(true)),
        recall_at_1_strangers: agreement.recall(Some(false)),
        recall_at_1_all: agreement.recall(None),
        decision_agreement: agreement.decisions as f64 / queries.len().max(1) as f64,
        bytes_per_template: gallery.bytes() as f64 / gallery.len().max(1) as f64,
        baseline_bytes_per_template: plain.bytes_per_template(),
        import_s,
        load_s,
        erase_ms,
        enrol_ms,
    };
    let lines = vec![
        format!(
            "{} templates of {} people ({}), {} queries, metric L2",
            report.templates,
            report.people,
            if report.indexed {
                "searched through sign codes"
            } else {
                "every template compared"
            },
            report.queries
        ),
        format!(
            "search: {:.3} ms a query (p99 {:.3}), plain scan {:.2} ms: {:.1}x",
            report.ms_per_query, report.p99_ms, report.baseline_ms_per_query, report.speedup
        ),
        format!(
            "recall@1 of enrolled people's faces {:.4}, of strangers' {:.4}, of all {:.4}; same decision at {threshold}: {:.4}",
            report.recall_at_1, report.recall_at_1_strangers, report.recall_at_1_all, report.decision_agreement
        ),
        format!(
            "memory {:.0} bytes a template (plain scan {:.0}); import {:.1} s, load from PostgreSQL {:.2} s; one erase {:.1} ms, one enrolment {:.1} ms",
            report.bytes_per_template,
            report.baseline_bytes_per_template,
            report.import_s,
            report.load_s,
            report.erase_ms,
            report.enrol_ms
        ),
    ];
    Ok((lines, report))
}

/// The exact top-1 of every query, the queries split between the cores.
fn exact_answers(plain: &PlainScan, queries: &[Query]) -> Vec<Option<(PersonId, f32)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = queries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = queries
            .chunks(per_thread)
            .map(|part| scope.spawn(move || part.iter().map(|q| plain.nearest(&q.embedding)).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("an exact scan panicked"))
            .collect()
    })
}

/// How the gallery's answers compare with the exact ones.
struct Agreement {
    /// (query enrolled, top-1 exact) per query.
    hits: Vec<(bool, bool)>,
    decisions: usize,
}

impl Agreement {
    fn count(
        queries: &[Query],
        found: &[Option<(PersonId, f32)>],
        exact: &[Option<(PersonId, f32)>],
        threshold: f32,
    ) -> Self {
        let decide = |a: &Option<(PersonId, f32)>| a.as_ref().filter(|(_, d)| *d < threshold).map(|(p, _)| p.clone());
        let mut hits = Vec::new();
        let mut decisions = 0;
        for ((q, f), e) in queries.iter().zip(found).zip(exact) {
            // The same template: the same person at the same distance.
            let hit = match (f, e) {
                (Some((fp, fd)), Some((ep, ed))) => fp == ep && (fd - ed).abs() <= 1e-5,
                (None, None) => true,
                _ => false,
            };
            hits.push((q.enrolled, hit));
            decisions += usize::from(decide(f) == decide(e));
        }
        Self { hits, decisions }
    }

    fn recall(&self, enrolled: Option<bool>) -> f64 {
        let of: Vec<bool> = self
            .hits
            .iter()
            .filter(|(e, _)| enrolled.is_none_or(|want| *e == want))
            .map(|(_, hit)| *hit)
            .collect();
        of.iter().filter(|h| **h).count() as f64 / of.len().max(1) as f64
    }
}

/// One person erased from the loaded gallery and one enrolled, as the recognizers apply
/// changes: (erase ms, enrolment ms). Checks that the erased person is gone.
fn one_change(gallery: &Gallery, plain: &PlainScan, rule: MatchRule) -> anyhow::Result<(f64, f64)> {
    let (person, embedding) = plain.first();
    let t = Instant::now();
    let erased = gallery.with_person(person, &[]);
    let erase_ms = t.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        erased.len() < gallery.len() && erased.nearest(embedding, rule.metric).is_none_or(|(p, _)| p != person),
        "the erased person is still in the gallery"
    );
    let newcomer = PersonId::parse("bench-newcomer")?;
    let t = Instant::now();
    let enrolled = erased.with_person(&newcomer, std::slice::from_ref(embedding));
    let enrol_ms = t.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        enrolled
            .nearest(embedding, rule.metric)
            .is_some_and(|(p, _)| *p == newcomer),
        "the enrolled person is not found"
    );
    Ok((erase_ms, enrol_ms))
}

/// The search this replaced, as the baseline and the reference: every template its own heap
/// vector, each distance with its square root.
struct PlainScan {
    templates: Vec<(PersonId, Embedding)>,
}

impl PlainScan {
    fn of(people: &[(PersonId, Vec<Embedding>)]) -> Self {
        let templates = people
            .iter()
            .flat_map(|(p, es)| es.iter().map(move |e| (p.clone(), e.clone())))
            .collect();
        Self { templates }
    }

    fn nearest(&self, query: &Embedding) -> Option<(PersonId, f32)> {
        self.templates
            .iter()
            .map(|(p, e)| (p, e.distance(query)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, d)| (p.clone(), d))
    }

    fn first(&self) -> (&PersonId, &Embedding) {
        let (p, e) = &self.templates[0];
        (p, e)
    }

    fn bytes_per_template(&self) -> f64 {
        let (p, e) = &self.templates[0];
        (std::mem::size_of::<(PersonId, Embedding)>() + p.as_str().len() + e.values().len() * 4) as f64
    }
}
