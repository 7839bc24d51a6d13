//! A site's own recognizer, selected by a model card in configuration. The stand-in is built from
//! the dlib model by `tests/fixtures/site_recognizer.py`: a 112×112 BGR input named `data`
//! normalised to ±1, a unit-length output named `fc1`, compared by cosine. Inside it undoes all
//! that and runs dlib, so what it must answer is known.

use rollcall::config::Config;
use rollcall::domain::{Embedding, Metric};
use rollcall::models::{ColourOrder, RecognizerCard};
use rollcall::vision::FaceEngine;

use crate::helpers::*;

fn mean_cosine_distance(a: &[Embedding], b: &[Embedding]) -> f32 {
    a.iter().zip(b).map(|(x, y)| Metric::Cosine.distance(x, y)).sum::<f32>() / a.len() as f32
}

#[test]
fn a_site_recognizer_under_its_card_embeds_like_the_model_inside_it_and_identifies_everyone() {
    let work = tempfile::tempdir().unwrap();
    let (model, sha256) = site_model(work.path());
    let mut dlib = engine();
    let mut site = FaceEngine::load(&site_config(work.path(), &model, &sha256, site_card())).unwrap();
    assert_eq!(site.model_id(), "site_resnet");
    assert_eq!(site.metric(), Metric::Cosine);
    assert_eq!(site.chip().side, 112);

    let sample = faces_of(&mut dlib, 12);
    let by_dlib: Vec<Embedding> = sample.iter().map(|(i, d)| dlib.embed_face(i, d).unwrap()).collect();
    let by_site: Vec<Embedding> = sample.iter().map(|(i, d)| site.embed_face(i, d).unwrap()).collect();
    for e in &by_site {
        let norm = e.values().iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "the site model's output is unit length: {norm}"
        );
    }
    // The same faces, through a 112 px chip scaled back up to 150 inside the model: close to
    // dlib's own embeddings, far closer than any two people are.
    let right = mean_cosine_distance(&by_site, &by_dlib);
    assert!(
        right < COSINE_THRESHOLD / 3.0,
        "mean cosine distance to dlib's embeddings {right}"
    );

    // The card's colour order matters: read as RGB, the same model drifts away from dlib.
    let mut rgb_card = site_card();
    rgb_card.colour = ColourOrder::Rgb;
    let mut swapped = FaceEngine::load(&site_config(work.path(), &model, &sha256, rgb_card)).unwrap();
    let by_swapped: Vec<Embedding> = sample.iter().map(|(i, d)| swapped.embed_face(i, d).unwrap()).collect();
    let wrong = mean_cosine_distance(&by_swapped, &by_dlib);
    println!("mean cosine distance to dlib's embeddings: card {right:.5}, colours swapped {wrong:.5}");
    assert!(
        wrong > 2.0 * right,
        "colour order ignored? right {right}, swapped {wrong}"
    );

    // rollcall eval, with the card's metric: every probe finds its own person, and the threshold
    // separates genuine from impostor pairs as dlib's L2 threshold does.
    let report = rollcall::eval::evaluate(&mut site, &faces(), COSINE_THRESHOLD).unwrap();
    println!("{}", report.render());
    assert_eq!(report.metric, Metric::Cosine);
    assert_eq!(report.rank1_accuracy, 1.0, "{}", report.render());
    assert!(report.accept_rate > 0.9, "{}", report.render());
    assert!(report.false_accept_rate < 0.01, "{}", report.render());
}

#[test]
fn a_card_that_does_not_fit_its_model_fails_at_load_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    let (model, sha256) = site_model(work.path());
    let load = |card: RecognizerCard| match FaceEngine::load(&site_config(work.path(), &model, &sha256, card)) {
        Ok(_) => panic!("a card that does not fit was accepted"),
        Err(e) => format!("{e:#}"),
    };
    let mut wrong_output = site_card();
    wrong_output.output = "embedding".into();
    let err = load(wrong_output);
    assert!(err.contains("output `embedding`") && err.contains("fc1"), "{err}");

    let mut wrong_dimension = site_card();
    wrong_dimension.dimension = 512;
    let err = load(wrong_dimension);
    assert!(err.contains("512"), "{err}");

    let mut wrong_size = site_card();
    wrong_size.input_size = 150;
    let err = load(wrong_size);
    assert!(err.contains("150"), "{err}");

    let err = match FaceEngine::load(&site_config(work.path(), &model, &"0".repeat(64), site_card())) {
        Ok(_) => panic!("a model with another sha256 was accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("corrupted") && err.contains(&sha256), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_pipeline_runs_on_a_site_recognizer_from_a_configuration_file() {
    let work = tempfile::tempdir().unwrap();
    let (model, sha256) = site_model(work.path());
    // The card as a site writes it, in rollcall.toml.
    let file = work.path().join("rollcall.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[models]
recognizer = "site_resnet"

[[models.custom]]
name = "site_resnet"
role = "recognizer"
file = "{}"
sha256 = "{sha256}"
licence = "the site's own"

[models.custom.card]
input = "data"
output = "fc1"
input_size = 112
colour = "bgr"
mean = [127.5, 127.5, 127.5]
std = [127.5, 127.5, 127.5]
template = "dlib"
metric = "cosine"
dimension = 128

[matching]
threshold = {COSINE_THRESHOLD}
"#,
            model.display()
        ),
    )
    .unwrap();
    let defaults = config(work.path());
    let mut config = Config::load(Some(&file), std::iter::empty()).unwrap();
    config.runtime = defaults.runtime.clone();
    config.models.dir = defaults.models.dir.clone();
    config.store = defaults.store.clone();
    config.ingest = defaults.ingest.clone();
    assert_eq!(config.models.custom[0].card, Some(site_card()));

    let listed = rollcall(work.path())
        .args(["--config", file.to_str().unwrap(), "models", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("site_resnet") && listed.contains("112x112 Bgr") && listed.contains("Cosine"),
        "{listed}"
    );

    // Enrolment, recognition and attendance as with dlib's model, events tagged with the site's model.
    run_then_replay(&config, work.path()).await;
    let store = rollcall::store::Store::open(&config.store.url, 1).await.unwrap();
    let events = store.attendance_events().await.unwrap();
    assert!(!events.is_empty());
    for e in &events {
        assert_eq!(e.model_id, "site_resnet");
        assert!(e.distance < COSINE_THRESHOLD, "{e:?}");
        assert!(
            (e.similarity - (1.0 - e.distance)).abs() < 1e-6,
            "similarity by cosine: {e:?}"
        );
    }
}
