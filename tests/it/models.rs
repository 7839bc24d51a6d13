//! Model provenance: the recognizer rebuilt from dlib's network as published on PyPI, and
//! downloads refused when they do not match their sha256.

use std::path::PathBuf;

use crate::helpers::output_text as text;
use crate::helpers::*;

#[test]
fn the_recognizer_rebuilt_from_dlibs_published_network_gives_the_same_embeddings() {
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    let cache = download_cache();
    let fetched = models_command(
        work.path(),
        &models,
        &[
            "fetch",
            "face_recognition_models-0.3.0",
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    assert!(fetched.status.success(), "{}", text(&fetched));
    let dat = models.join("dlib_face_recognition_resnet_model_v1.dat");
    assert_eq!(
        rollcall::models::sha256_file(&dat).unwrap(),
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
    );

    let converted = models_command(work.path(), &models, &["convert-dlib"]);
    assert!(converted.status.success(), "{}", text(&converted));
    assert!(
        text(&converted).contains("identical to the published dlib_resnet_v1 model"),
        "{}",
        text(&converted)
    );
    let onnx = models.join("dlib_face_recognition_resnet_model_v1.onnx");
    // The published files, as scripts/setup installed them (checked by sha256).
    let installed = config(work.path()).models.dir;
    let published = installed.join("dlib_face_recognition_resnet_model_v1.onnx");
    assert!(std::fs::read(&onnx).unwrap() == std::fs::read(&published).unwrap());

    // The same faces through the rebuilt model and through the published one.
    std::fs::copy(
        published.with_file_name("face_detection_yunet_2023mar_dynamic.onnx"),
        models.join("face_detection_yunet_2023mar_dynamic.onnx"),
    )
    .unwrap();
    let mut rebuilt_config = config(work.path());
    rebuilt_config.models.dir = models.clone();
    let mut rebuilt = rollcall::vision::FaceEngine::load(&rebuilt_config).unwrap();
    let mut reference = engine();
    let mut compared = 0;
    for photo in [
        "face_recognition/obama/obama.jpg",
        "face_recognition/biden/biden.jpg",
        "multi/kit_with_rose.jpg",
    ] {
        let image = rollcall::vision::decode_image(&std::fs::read(face(photo)).unwrap(), 40_000_000).unwrap();
        let (a, b) = (rebuilt.analyze(&image).unwrap(), reference.analyze(&image).unwrap());
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            let worst = x
                .embedding
                .values()
                .iter()
                .zip(y.embedding.values())
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{photo}: {worst}");
            compared += 1;
        }
    }
    assert_eq!(compared, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_does_not_match_its_sha256_is_refused_and_not_kept() {
    let installed = repo().join(".rollcall/models");
    let published = std::fs::read(installed.join("face_detection_yunet_2023mar.onnx")).unwrap();
    let mut corrupted = published.clone();
    corrupted[published.len() / 2] ^= 0x40;
    let truncated = published[..published.len() - 100].to_vec();
    let serving = std::sync::Arc::new(std::sync::Mutex::new(corrupted));
    let served = serving.clone();
    let app = axum::Router::new().route(
        "/face_detection_yunet_2023mar.onnx",
        axum::routing::get(move || {
            let body = served.lock().unwrap().clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mirror = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    let target = models.join("face_detection_yunet_2023mar.onnx");
    let fetch = |models: PathBuf, mirror: String, work: PathBuf| async move {
        tokio::task::spawn_blocking(move || {
            models_command(&work, &models, &["fetch", "yunet_2023mar", "--mirror", &mirror])
        })
        .await
        .unwrap()
    };
    let refused = fetch(models.clone(), mirror.clone(), work.path().to_owned()).await;
    assert!(!refused.status.success());
    assert!(text(&refused).contains("sha256"), "{}", text(&refused));
    assert!(!target.exists(), "a corrupted download is not kept");
    assert_eq!(std::fs::read_dir(&models).unwrap().count(), 0, "nor its partial file");

    *serving.lock().unwrap() = truncated;
    let short = fetch(models.clone(), mirror.clone(), work.path().to_owned()).await;
    assert!(!short.status.success());
    assert!(text(&short).contains("bytes, expected 232589"), "{}", text(&short));
    assert!(!target.exists());

    *serving.lock().unwrap() = published.clone();
    let fetched = fetch(models.clone(), mirror, work.path().to_owned()).await;
    assert!(fetched.status.success(), "{}", text(&fetched));
    assert_eq!(std::fs::read(&target).unwrap(), published);
}
