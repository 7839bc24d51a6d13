//! "Not this person" (issue 17) on real photos: a face wrongly accepted as X, marked through the
//! API, makes every recognizer refuse the same impostor's other photos as X while X's own photos
//! are still accepted; erasing X removes the mark.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use rollcall::bench::stream::scene::Path;
use rollcall::domain::Metric;
use rollcall::recognize::{Identity, MatchRule, RecognizeMode, TrackConfig, WorkerSettings};
use rollcall::vision::FaceEngine;

use crate::helpers::*;

const X: &str = "face_recognition/obama/obama.jpg";
const X_OWN: [&str; 3] = [
    "face_recognition/obama/obama2.jpg",
    "face_recognition/obama/obama3.jpg",
    "face_recognition/obama/test_obama1.jpg",
];
/// People with several photos who are not X: the impostor is whichever looks most like X.
const OTHERS: [&[&str]; 4] = [
    &["face_recognition/biden/biden.jpg", "face_recognition/biden/biden2.jpg"],
    &[
        "face_recognition/kit_harington/john1.jpeg",
        "face_recognition/kit_harington/john2.jpeg",
        "face_recognition/kit_harington/johnsnow_test1.jpg",
    ],
    &[
        "face_recognition/rose_leslie/img1.jpg",
        "face_recognition/rose_leslie/img2.jpg",
    ],
    &[
        "face_recognition/alex_lacamoire/alex-lacamoire.png",
        "face_recognition/alex_lacamoire/test_alex_lacamoire1.jpg",
        "face_recognition/alex_lacamoire/train_img1.jpg",
    ],
];

/// The impostor (whichever of `OTHERS` comes nearest to X), and a threshold loose enough to
/// take every photo of theirs for X (a site that set it too high: the situation "not this
/// person" is for), which X's own photos pass too.
fn impostor_and_loose_threshold(engine: &mut FaceEngine) -> (&'static [&'static str], MatchRule) {
    let mut embed = |photo: &str| template(engine, &face(photo)).embedding;
    let x = embed(X);
    let (impostor, distances) = OTHERS
        .iter()
        .map(|photos| {
            let d: Vec<f32> = photos.iter().map(|p| Metric::L2.distance(&embed(p), &x)).collect();
            (*photos, d)
        })
        .min_by(|a, b| {
            a.1.iter()
                .cloned()
                .fold(f32::MAX, f32::min)
                .total_cmp(&b.1.iter().cloned().fold(f32::MAX, f32::min))
        })
        .unwrap();
    let own: Vec<f32> = X_OWN.iter().map(|p| Metric::L2.distance(&embed(p), &x)).collect();
    let threshold = distances.iter().cloned().fold(0.0, f32::max) + 0.01;
    assert!(own.iter().all(|d| *d < threshold), "X's own photos match: {own:?}");
    (impostor, MatchRule::new(Metric::L2, threshold))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_marked_not_this_person_stops_the_impostor_not_the_person() {
    let mut engine = engine();
    let (impostor, rule) = impostor_and_loose_threshold(&mut engine);
    let embed = |engine: &mut _, photo: &str| template(engine, &face(photo)).embedding;

    let api = Api::start(600).await;
    api.enrol_people(&[("obama", "Barack Obama", X)]).await;
    let (gallery, watching, watcher) = api.watched_gallery(Duration::from_secs(3600)).await;
    let identify = |photo: &str, engine: &mut _| gallery.current().identify(&embed(engine, photo), rule);
    for photo in impostor {
        assert!(
            matches!(identify(photo, &mut engine), Identity::Known { .. }),
            "{photo} is wrongly taken for X"
        );
    }

    // One of the impostor's photos is marked: not Obama.
    let marked = impostor[0];
    let form = Form::new().part(
        "photo",
        Part::bytes(std::fs::read(face(marked)).unwrap()).file_name("impostor.jpg"),
    );
    let response = api
        .http
        .post(api.url("/v1/people/obama/negatives"))
        .bearer_auth(ADMIN_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["negatives_added"], 1, "{body}");
    eventually(
        "the recognizer's gallery took the mark",
        Duration::from_secs(10),
        || async { gallery.current().negatives() == 1 },
    )
    .await;

    for photo in &impostor[1..] {
        assert!(
            matches!(identify(photo, &mut engine), Identity::Unknown { .. }),
            "{photo}: the impostor's other photos are no longer taken for X"
        );
    }
    for photo in X_OWN {
        assert!(
            matches!(identify(photo, &mut engine), Identity::Known { .. }),
            "{photo}: X is still X"
        );
    }
    let (_, audit) = api.get("/v1/audit?subject=obama", ADMIN_KEY).await;
    assert!(audit.to_string().contains("review.not_this_person"), "{audit}");

    // Bad input changes nothing.
    let nobody = uuid::Uuid::new_v4();
    let (status, body) = api
        .post_json(
            &format!("/v1/review/faces/{nobody}/not-person"),
            ADMIN_KEY,
            serde_json::json!({"person_id": "obama"}),
        )
        .await;
    assert_eq!(status.as_u16(), 404, "{body}");
    let (status, _) = api
        .post_json(
            &format!("/v1/review/faces/{nobody}/not-person"),
            ADMIN_KEY,
            serde_json::json!({"person_id": "nobody"}),
        )
        .await;
    assert_eq!(status.as_u16(), 404);

    // Erasing X takes their negative examples with them.
    let (status, _) = api.delete("/v1/people/obama", ADMIN_KEY).await;
    assert_eq!(status.as_u16(), 200);
    eventually("the erasure reached the gallery", Duration::from_secs(10), || async {
        gallery.current().negatives() == 0 && gallery.current().is_empty()
    })
    .await;
    assert!(
        api.store
            .negatives_of(&person_id("obama"), "dlib_resnet_v1")
            .await
            .unwrap()
            .is_empty()
    );
    watching.cancel();
    watcher.await.unwrap().unwrap();
}

/// A door pass of each photo, one after another, as one camera's stream.
fn passes_of(photos: &[&str]) -> Vec<rollcall::domain::Frame> {
    let people: Vec<_> = photos.iter().map(|p| walker(p)).collect();
    let passes: Vec<_> = (0..photos.len())
        .map(|i| {
            let first = 5 + 40 * i as u64;
            pass(i, first, first + 20, Path::Cross { leftwards: i % 2 == 1 }, 0.4)
        })
        .collect();
    door_stream("door", &people, &passes, 40 * photos.len() as u64 + 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubtful_match_is_kept_for_review_and_marked_not_this_person_from_there() {
    let mut engine = engine();
    let (impostor, rule) = impostor_and_loose_threshold(&mut engine);
    let api = Api::start(600).await;
    api.enrol_people(&[("obama", "Barack Obama", X)]).await;
    let (gallery, watching, watcher) = api.watched_gallery(Duration::from_secs(3600)).await;
    // Track mode: a doubtful decision goes to review with the track's best face, crop included;
    // with no margin nothing does.
    let track_mode = |margin: f32| WorkerSettings {
        threshold: 0.6,
        review_margin: margin,
        ..track_settings(TrackConfig::default())
    };
    let pass_of_x = passes_of(&[X_OWN[0]]);
    let (events, review) = judge(&gallery, track_mode(0.6), &pass_of_x).await;
    assert_eq!((events.len(), review.len()), (1, 1), "{events:?} {review:?}");
    assert_eq!(review[0].matched_person_id.as_ref().map(|p| p.as_str()), Some("obama"));
    assert_eq!(review[0].nearest_distance, Some(events[0].distance));
    assert!(review[0].face_crop_jpeg.is_some(), "the track's best face to look at");
    let (_, review) = judge(&gallery, track_mode(0.0), &pass_of_x).await;
    assert!(review.is_empty(), "{review:?}");

    // Frame mode on the photos themselves: the impostor is taken for X near the threshold, X
    // well within it.
    let frame_mode = |margin: f32| WorkerSettings {
        threshold: rule.threshold,
        review_margin: margin,
        mode: RecognizeMode::Frame,
        ..track_settings(TrackConfig::default())
    };
    let photos = |photos: &[&str]| -> Vec<rollcall::domain::Frame> {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .to_utc();
        photos
            .iter()
            .enumerate()
            .map(|(i, p)| frame_at("door", start + chrono::TimeDelta::minutes(5 * i as i64), p))
            .collect()
    };
    let frames = photos(&[impostor[0], X_OWN[0]]);
    let (events, _) = judge(&gallery, frame_mode(0.0), &frames).await;
    assert_eq!(events.len(), 2, "both are taken for X: {events:?}");
    assert!(events.iter().all(|e| e.person_id.as_str() == "obama"));
    let (doubtful, sure) = (events[0].distance, events[1].distance);
    assert!(sure < doubtful, "X is nearer X than the impostor: {sure} {doubtful}");
    // A margin that covers the impostor's match and not X's: only the doubtful one is reviewed.
    let margin = rule.threshold - (sure + doubtful) / 2.0;
    let (events, review) = judge(&gallery, frame_mode(margin), &frames).await;
    assert_eq!(events.len(), 2, "review changes no decision");
    assert_eq!(review.len(), 1, "{review:?}");
    assert_eq!(review[0].matched_person_id.as_ref().map(|p| p.as_str()), Some("obama"));
    assert_eq!(review[0].nearest_distance, Some(doubtful));
    let stats = project_unknown(&api.store, &review).await;
    assert_eq!(stats.inserted, 1);
    assert!(
        api.store.unknown_clusters(None, 10).await.unwrap().is_empty(),
        "a match joins no cluster of strangers"
    );

    // Listed for review; marked "not this person" from there.
    let (_, listed) = api.get("/v1/review/matches", READER_KEY).await;
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["person_id"], "obama");
    assert_eq!(listed[0]["distance"].as_f64().map(|d| d as f32), Some(doubtful));
    assert!(listed[0]["crop_url"].is_null(), "frame mode aligns no crop to show");
    let face_id = listed[0]["face_id"].as_str().unwrap().to_owned();
    let (status, body) = api
        .post_json(
            &format!("/v1/review/faces/{face_id}/not-person"),
            ADMIN_KEY,
            serde_json::json!({"person_id": "obama"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, listed) = api.get("/v1/review/matches", READER_KEY).await;
    assert_eq!(listed, serde_json::json!([]), "decided: no longer waiting");
    let (status, _) = api
        .post_json(
            &format!("/v1/review/matches/{face_id}/confirm"),
            ADMIN_KEY,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status.as_u16(), 404, "a decided match cannot be confirmed");
    eventually(
        "the recognizer's gallery took the mark",
        Duration::from_secs(10),
        || async { gallery.current().negatives() == 1 },
    )
    .await;

    // The impostor's other photos are no longer taken for X; X still is X.
    let (events, _) = judge(&gallery, frame_mode(margin), &photos(&impostor[1..])).await;
    assert!(events.is_empty(), "the impostor's other photos: {events:?}");
    let (events, _) = judge(&gallery, frame_mode(margin), &photos(&X_OWN)).await;
    assert_eq!(events.len(), X_OWN.len(), "X is still X: {events:?}");
    watching.cancel();
    watcher.await.unwrap().unwrap();
    api.stop().await;
}
