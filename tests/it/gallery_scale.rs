//! A gallery large enough to be searched through its sign codes: real photos find the same
//! nearest template as a plain scan, and enrolment and erasure reach a running recognizer as
//! one person's change, without reloading the rest.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rollcall::domain::{Embedding, Metric, PersonId};
use rollcall::recognize::{Gallery, INDEXED_FROM, SharedGallery, Template};

use crate::helpers::*;

/// Normal deviates from the seeded sequence.
fn normal(rng: &mut Rng) -> f32 {
    let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + 1e-12;
    let (u, v) = (uniform(), uniform());
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// `around` moved by a random vector of about `distance` (L2).
fn near(around: &Embedding, distance: f32, rng: &mut Rng) -> Embedding {
    let scale = distance / (around.values().len() as f32).sqrt();
    Embedding::new(around.values().iter().map(|v| v + scale * normal(rng)).collect()).unwrap()
}

/// Templates of strangers crowded around each real embedding: look-alikes from 0.3 to 1.0 away.
fn crowd(real: &[Embedding], templates: usize, rng: &mut Rng) -> Vec<(PersonId, Vec<Embedding>)> {
    (0..templates / 5)
        .map(|i| {
            let seed = &real[i % real.len()];
            let centre = near(seed, 0.3 + 0.7 * (i % 8) as f32 / 7.0, rng);
            let own = (0..5).map(|_| near(&centre, 0.35, rng)).collect();
            (PersonId::parse(format!("crowd-{i}")).unwrap(), own)
        })
        .collect()
}

async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn plain_nearest(templates: &[Template], query: &Embedding) -> (PersonId, f32) {
    templates
        .iter()
        .map(|t| (&t.person, Metric::L2.distance(&t.embedding, query)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(p, d)| (p.clone(), d))
        .unwrap()
}

#[test]
fn real_photos_find_the_same_nearest_template_as_a_plain_scan_in_a_large_gallery() {
    let mut engine = engine();
    let real: Vec<(PersonId, Embedding)> = person_photos()
        .iter()
        .map(|(label, photo)| (person_id(label), template(&mut engine, photo).embedding))
        .collect();
    let mut rng = Rng(7);
    let seeds: Vec<Embedding> = real.iter().map(|(_, e)| e.clone()).collect();
    let mut templates: Vec<Template> = real
        .iter()
        .map(|(person, embedding)| Template {
            person: person.clone(),
            embedding: embedding.clone(),
        })
        .collect();
    for (person, own) in crowd(&seeds, INDEXED_FROM + 10_000, &mut rng) {
        templates.extend(own.into_iter().map(|embedding| Template {
            person: person.clone(),
            embedding,
        }));
    }
    let gallery = Gallery::new(templates.clone());
    assert!(
        gallery.is_indexed(),
        "{} templates are searched through codes",
        gallery.len()
    );

    // Each photo itself, and a new "photo" of its person near it.
    let mut queries = seeds.clone();
    queries.extend(seeds.iter().map(|e| near(e, 0.25, &mut rng)));
    for query in &queries {
        let (person, distance) = gallery.nearest(query, Metric::L2).unwrap();
        assert_eq!((person.clone(), distance), plain_nearest(&templates, query));
        let (first, best, second) = gallery.nearest_two_people(query, Metric::L2).unwrap();
        assert_eq!((first, best), (person, distance));
        let other = templates
            .iter()
            .filter(|t| t.person != *first)
            .map(|t| Metric::L2.distance(&t.embedding, query))
            .min_by(f32::total_cmp);
        assert_eq!(second, other, "the nearest other person");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_and_erasure_reach_a_large_gallery_without_reloading_it() {
    let api = Api::start(6_000).await;
    let model = "dlib_resnet_v1";
    let mut engine = engine();
    let obama_photo = face("face_recognition/obama/obama.jpg");
    let seed = template(&mut engine, &obama_photo).embedding;
    let crowd = crowd(std::slice::from_ref(&seed), INDEXED_FROM + 5_000, &mut Rng(11));
    api.store.import_templates(model, &crowd).await.unwrap();
    // The periodic check runs every second: with the counts equal it must not reload either.
    let (gallery, watching, watcher) = api.watched_gallery(Duration::from_secs(1)).await;
    let size = gallery.current().len();
    assert!(gallery.current().is_indexed());
    let obama = PersonId::parse("obama").unwrap();
    let nearest_is_obama = |g: &SharedGallery| g.current().nearest(&seed, Metric::L2).is_some_and(|(p, _)| *p == obama);
    api.create_person("obama", "Barack Obama").await;
    let (status, _) = api
        .upload("obama", &[("obama.jpg", photo("face_recognition/obama/obama.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    wait_until("the enrolment reaches the recognizer", || nearest_is_obama(&gallery)).await;
    assert_eq!(gallery.current().len(), size + 1);

    let request = api.http.delete(api.url("/v1/people/obama")).bearer_auth(ADMIN_KEY);
    let (status, erased) = api.send(request).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    wait_until("the erasure reaches the recognizer", || !nearest_is_obama(&gallery)).await;
    let current = gallery.current();
    assert_eq!((current.len(), current.people()), (size, crowd.len()));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        gallery.loads(),
        1,
        "changes applied person by person, never a full reload"
    );

    watching.cancel();
    watcher.await.unwrap().unwrap();
}
