//! Enrolment uploads as phones and browsers send them: WebP (even under a `.jpg` name), HEIC and
//! AVIF refused by name, the same photo twice, too many parts, and uploads analysed side by side.

use std::io::Cursor;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// A real photo re-encoded as WebP.
fn webp(photo_path: &str) -> Vec<u8> {
    let image = image::load_from_memory(&photo(photo_path)).unwrap();
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::WebP)
        .unwrap();
    out
}

/// The first bytes of an HEIC file as an iPhone writes it (the `ftyp` box), and some payload.
fn heic() -> Vec<u8> {
    let mut bytes = 24u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    bytes.extend_from_slice(&[0x42; 2048]);
    bytes
}

fn statuses(body: &Value) -> Vec<(String, String)> {
    body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let code = p["code"].as_str().unwrap_or("").to_owned();
            (p["status"].as_str().unwrap().to_owned(), code)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webp_is_enrolled_heic_is_named_and_a_repeated_photo_is_already_enrolled() {
    let api = Api::start_with(|config| config.api.max_photos_per_upload = 4).await;
    api.create_person("obama", "Barack Obama").await;
    let obama = "face_recognition/obama/obama.jpg";
    let (status, body) = api
        .upload("obama", &[("obama.jpg", webp(obama)), ("IMG_0001.HEIC", heic())])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["templates_added"], 1, "{body}");
    let got = statuses(&body);
    assert_eq!(got[0], ("enrolled".into(), String::new()), "{body}");
    assert_eq!(got[1], ("rejected".into(), "unsupported_format".into()), "{body}");
    let message = body["photos"][1]["message"].as_str().unwrap();
    assert!(message.contains("HEIC") && message.contains("JPEG"), "{message}");

    // The same WebP again: nothing is added, and the photo says so.
    let (status, body) = api.upload("obama", &[("again.webp", webp(obama))]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["templates_added"], 0, "{body}");
    assert_eq!(statuses(&body)[0].0, "already_enrolled", "{body}");

    let gallery = rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
        .await
        .unwrap();
    assert_eq!(gallery.len(), 1);

    // More parts than allowed: refused whole, nothing analysed or added.
    let five: Vec<(&str, Vec<u8>)> = (0..5).map(|_| ("p.jpg", photo(obama))).collect();
    let (status, body) = api.upload("obama", &five).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("too_many_photos")),
        "{body}"
    );
    let gallery = rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
        .await
        .unwrap();
    assert_eq!(gallery.len(), 1);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_upload_does_not_hold_up_another() {
    // One engine: uploads share it photo by photo, so a short upload waits for one photo of a long
    // one, not for all of it.
    let api = Api::start_with(|config| {
        config.api.analysis_engines = 1;
        config.api.max_photos_per_upload = 20;
        config.api.max_body_bytes = 16 * 1024 * 1024;
    })
    .await;
    api.create_person("obama", "Barack Obama").await;
    api.create_person("biden", "Joe Biden").await;
    let long: Vec<(&str, Vec<u8>)> = (0..20)
        .map(|_| ("obama.jpg", photo("face_recognition/obama/obama.jpg")))
        .collect();
    let long_upload = api.upload("obama", &long);
    let short_upload = async {
        // Let the long upload start first.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let started = std::time::Instant::now();
        let (status, body) = api
            .upload("biden", &[("biden.jpg", photo("face_recognition/biden/biden.jpg"))])
            .await;
        (status, body, started.elapsed(), std::time::Instant::now())
    };
    let ((long_status, long_body), (status, body, _, short_done)) = tokio::join!(
        async {
            let answer = long_upload.await;
            (answer.0, (answer.1, std::time::Instant::now()))
        },
        short_upload
    );
    let (long_body, long_done) = long_body;
    assert_eq!(long_status, StatusCode::CREATED, "{long_body}");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(short_done < long_done, "the short upload finished before the long one");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_during_one_analysis_leaves_the_engines_usable() {
    let pool = std::sync::Arc::new(rollcall::vision::EnginePool::new(vec![engine()]).unwrap());
    let panicked = pool
        .run(|_engine| -> usize { panic!("a decoder bug on one photo") })
        .await
        .unwrap_err();
    assert!(
        panicked.to_string().contains("a decoder bug on one photo"),
        "{panicked}"
    );
    // The engine went back to the pool and works: no poisoned lock, no lost permit.
    let bytes = photo("face_recognition/obama/obama.jpg");
    let faces = pool
        .run(move |engine| engine.analyze_bytes(&bytes).map(|faces| faces.len()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(faces, 1);
}
