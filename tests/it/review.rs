//! Unknown faces kept for review (issue 17): a stranger's passes become one cluster in the
//! store, exactly once however often they are delivered; the clusters, faces and crops through
//! the API and the CLI; retention deletes them.

use chrono::TimeDelta;
use reqwest::StatusCode;
use rollcall::review::ClusterStatus;
use rollcall::store::Store;

use crate::helpers::*;

/// What the store holds of the strangers: (cluster size, its faces' ids) per open cluster, largest first.
async fn clusters_of(store: &Store) -> Vec<(u32, Vec<uuid::Uuid>)> {
    let mut out = Vec::new();
    for c in store.unknown_clusters(Some(ClusterStatus::Open), 100).await.unwrap() {
        let (summary, faces) = store.unknown_cluster(c.cluster_id).await.unwrap().unwrap();
        assert_eq!(summary.size as usize, faces.len());
        assert_eq!(
            faces[0].face_id, c.cluster_id,
            "a cluster is named after its first face"
        );
        assert!(
            faces.iter().all(|f| f.has_crop),
            "every face of a track-mode event has its crop"
        );
        out.push((summary.size, faces.iter().map(|f| f.face_id).collect()));
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.0));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_passing_three_times_is_one_cluster_of_three_faces_on_both_stores() {
    let unknown = strangers_passing().await;
    let kit: Vec<uuid::Uuid> = unknown[..3].iter().map(|e| e.face_id()).collect();
    let db = TestDatabase::create().await;
    let work = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", work.path().join("review.db").display());
    for url in [db.url.clone(), sqlite] {
        let store = Store::open(&url, 2).await.unwrap();
        let stats = project_unknown(&store, &unknown).await;
        assert_eq!((stats.inserted, stats.duplicates), (4, 0), "{url}");
        // Delivered again (a restarted projector) and in other batches: nothing changes.
        let again = project_unknown(&store, &unknown[1..]).await;
        assert_eq!((again.inserted, again.duplicates), (0, 3), "{url}");
        let clusters = clusters_of(&store).await;
        assert_eq!(clusters.len(), 2, "Kit and Rose apart: {clusters:?}");
        assert_eq!(clusters[0], (3, kit.clone()), "Kit's three passes in one cluster");
        assert_eq!(clusters[1].0, 1);

        // Recomputed from the faces: the same clusters under the same ids.
        assert_eq!(store.recluster_unknown_faces(0.5).await.unwrap(), 2);
        assert_eq!(clusters_of(&store).await, clusters);
        // Arriving one at a time, newest first, gives them too once recomputed in time order.
        let fresh = TestDatabase::create().await;
        let reversed = Store::open(&fresh.url, 2).await.unwrap();
        for e in unknown.iter().rev() {
            project_unknown(&reversed, std::slice::from_ref(e)).await;
        }
        reversed.recluster_unknown_faces(0.5).await.unwrap();
        assert_eq!(clusters_of(&reversed).await, clusters);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_faces_and_crops_are_served_for_review_until_retention_deletes_them() {
    let unknown = strangers_passing().await;
    let api = Api::start(600).await;
    project_unknown(&api.store, &unknown).await;

    let (status, body) = api.get("/v1/review/clusters", READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let clusters = body.as_array().unwrap();
    assert_eq!(clusters.len(), 2, "{body}");
    let kit = clusters.iter().find(|c| c["size"] == 3).expect("Kit's cluster");
    assert_eq!(kit["flagged"], true, "three passes reach review.flag_after");
    assert_eq!(kit["status"], "open");
    assert_eq!(kit["cameras"], serde_json::json!(["door"]));
    let rose = clusters.iter().find(|c| c["size"] == 1).expect("Rose's cluster");
    assert_eq!(rose["flagged"], false);

    let id = kit["cluster_id"].as_str().unwrap();
    let (status, body) = api.get(&format!("/v1/review/clusters/{id}"), READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let faces = body["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 3);
    let crop_url = faces[0]["crop_url"].as_str().unwrap().to_owned();
    let crop = api.fetch(&crop_url, READER_KEY).await;
    assert_eq!(crop.status(), StatusCode::OK);
    assert_eq!(crop.headers()["content-type"], "image/jpeg");
    assert_eq!(crop.headers()["cache-control"], "private, no-store");
    let image = rollcall::vision::decode_image(&crop.bytes().await.unwrap(), u64::MAX).unwrap();
    assert!(image.width() <= 160 && image.height() <= 160 && image.width() >= 32);

    // Bad input: a clear 4xx.
    let (status, body) = api.get("/v1/review/clusters/not-a-uuid", READER_KEY).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_id"))
    );
    let nobody = uuid::Uuid::new_v4();
    let (status, _) = api.get(&format!("/v1/review/clusters/{nobody}"), READER_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = api.get("/v1/review/clusters?status=maybe", READER_KEY).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = api.get("/v1/review/clusters", "no-such-key").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The CLI lists the same clusters.
    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .env("ROLLCALL__STORE__URL", &api.config.store.url)
        .args(["review", "clusters"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(id) && stdout.contains("flagged"), "{stdout}");
    assert!(stdout.contains("2 open cluster(s)"), "{stdout}");

    // Retention: a week later (the default) the faces, their crops and their clusters are gone.
    let mut retention = api.config.retention.clone();
    retention.attendance_days = 0;
    // The stream's frames carry the test's fixed capture times: retention is applied as of then.
    let last_seen = unknown.iter().map(|e| e.seen_at).max().unwrap();
    let next_day = rollcall::operations::retention::apply(&api.store, &retention, last_seen + TimeDelta::days(1))
        .await
        .unwrap();
    assert_eq!(next_day.unknown_faces, 0, "seen a day ago: kept");
    let deleted = rollcall::operations::retention::apply(&api.store, &retention, last_seen + TimeDelta::days(8))
        .await
        .unwrap();
    assert_eq!((deleted.unknown_faces, deleted.unknown_clusters), (4, 2));
    let crop = api.fetch(&crop_url, READER_KEY).await;
    assert_eq!(crop.status(), StatusCode::NOT_FOUND, "a crop past retention");
    let (status, _) = api.get(&format!("/v1/review/clusters/{id}"), READER_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_larger_than_one_statement_is_stored_whole_on_both_stores() {
    use rollcall::domain::{CameraId, Embedding, FaceBox, UnknownFaceEvent};
    // 5,000 made-up faces of 40 made-up people (125 each, near their own point) in one batch:
    // 75,000 values, more than either database binds in one statement.
    let faces: Vec<UnknownFaceEvent> = (0..5_000u32)
        .map(|i| {
            let (person, nth) = ((i % 40) as usize, (i / 40) as f32);
            let embedding = (0..128)
                .map(|d| {
                    let own_axis = if d == person { 1.0 } else { 0.0 };
                    own_axis + nth * 1e-4
                })
                .collect();
            UnknownFaceEvent {
                schema_version: 1,
                camera_id: CameraId::parse("door").unwrap(),
                frame_seq: u64::from(i),
                seen_at: start_time() + TimeDelta::seconds(i64::from(i)),
                face_box: FaceBox {
                    x: 1,
                    y: 2,
                    w: 80,
                    h: 90,
                },
                nearest_distance: None,
                embedding: Embedding::new(embedding).unwrap(),
                model_id: "dlib_resnet_v1".into(),
                face_crop_jpeg: None,
                matched_person_id: None,
            }
        })
        .collect();
    let db = TestDatabase::create().await;
    let work = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", work.path().join("large.db").display());
    for url in [db.url.clone(), sqlite] {
        let store = Store::open(&url, 2).await.unwrap();
        let outcome = store.write_unknown_faces(&faces, 0.5).await.unwrap();
        assert_eq!((outcome.inserted, outcome.duplicates), (5_000, 0), "{url}");
        let clusters = store.unknown_clusters(Some(ClusterStatus::Open), 100).await.unwrap();
        assert_eq!(clusters.len(), 40, "{url}");
        assert!(clusters.iter().all(|c| c.size == 125), "{url}");
    }
}
