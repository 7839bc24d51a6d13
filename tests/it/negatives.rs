//! "Not this person" (issue 17) on real photos: a face wrongly accepted as X, marked through the
//! API, makes every recognizer refuse the same impostor's other photos as X while X's own photos
//! are still accepted; erasing X removes the mark.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use rollcall::domain::Metric;
use rollcall::recognize::{Identity, MatchRule};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_marked_not_this_person_stops_the_impostor_not_the_person() {
    let mut engine = engine();
    let embed = |engine: &mut _, photo: &str| template(engine, &face(photo)).embedding;
    let x = embed(&mut engine, X);
    // The impostor: the person whose photos come nearest to X.
    let (impostor, distances) = OTHERS
        .iter()
        .map(|photos| {
            let d: Vec<f32> = photos
                .iter()
                .map(|p| Metric::L2.distance(&embed(&mut engine, p), &x))
                .collect();
            (*photos, d)
        })
        .min_by(|a, b| {
            a.1.iter()
                .cloned()
                .fold(f32::MAX, f32::min)
                .total_cmp(&b.1.iter().cloned().fold(f32::MAX, f32::min))
        })
        .unwrap();
    let own: Vec<f32> = X_OWN
        .iter()
        .map(|p| Metric::L2.distance(&embed(&mut engine, p), &x))
        .collect();
    // A threshold loose enough to take every photo of the impostor for X (a site that set it
    // too high): the situation "not this person" is for.
    let threshold = distances.iter().cloned().fold(0.0, f32::max) + 0.01;
    let rule = MatchRule::new(Metric::L2, threshold);
    assert!(own.iter().all(|d| *d < threshold), "X's own photos match: {own:?}");

    let api = Api::start(600).await;
    api.create_person("obama", "Barack Obama").await;
    let (status, body) = api
        .upload("obama", &[("obama.jpg", std::fs::read(face(X)).unwrap())])
        .await;
    assert_eq!(status.as_u16(), 201, "{body}");
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
