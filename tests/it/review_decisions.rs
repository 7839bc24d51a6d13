//! Review decisions (issue 17): a stranger's cluster assigned to a new person enrols their crops
//! and their next pass is attendance; dismissal; bad requests change nothing; erasing the person
//! takes their faces and cluster with them.

use rollcall::bench::stream::scene::Path;
use rollcall::recognize::{SharedGallery, TrackConfig};
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_cluster_assigned_to_a_new_person_makes_their_next_pass_attendance() {
    let unknown = strangers_passing().await;
    let api = Api::start(600).await;
    project_unknown(&api.store, &unknown).await;
    let (kit, rose) = (unknown[0].face_id(), unknown[3].face_id());

    // Bad requests: a clear 4xx, and nothing changes.
    let assign = |body| api.post_json("/v1/review/assignments", ADMIN_KEY, body);
    let nobody = uuid::Uuid::new_v4();
    for (body, status, code) in [
        (json!({"person_id": "kit"}), 400, "nothing_selected"),
        (
            json!({"clusters": [nobody], "person_id": "kit", "new_person_name": "Kit"}),
            404,
            "not_found",
        ),
        (
            json!({"faces": [nobody], "person_id": "kit", "new_person_name": "Kit"}),
            404,
            "not_found",
        ),
        (json!({"clusters": [kit], "person_id": "kit"}), 404, "not_found"),
        (
            json!({"clusters": [kit], "person_id": "Not An Id", "new_person_name": "Kit"}),
            400,
            "invalid_person_id",
        ),
        (
            json!({"clusters": ["not-a-uuid"], "person_id": "kit"}),
            422,
            "invalid_body",
        ),
        (
            json!({"faces": vec![nobody; 1_001], "person_id": "kit"}),
            400,
            "too_many_selected",
        ),
    ] {
        let (got, answer) = assign(body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    let (status, _) = api
        .post_json(
            "/v1/review/assignments",
            READER_KEY,
            json!({"clusters": [kit], "person_id": "kit"}),
        )
        .await;
    assert_eq!(status.as_u16(), 403, "readers see, admins decide");
    assert!(api.store.person(&person_id("kit")).await.unwrap().is_none());

    // Kit's cluster becomes a new person: the crops are enrolled after the usual checks.
    let (status, body) =
        assign(json!({"clusters": [kit], "person_id": "kit", "new_person_name": "Kit Harington"})).await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let faces = body["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 3, "{body}");
    let added = body["templates_added"].as_u64().unwrap();
    assert!(added >= 2, "most of the crops are usable faces: {body}");
    let (_, person) = api.get("/v1/people/kit", READER_KEY).await;
    assert_eq!(
        (person["templates"].as_u64(), person["display_name"].as_str()),
        (Some(added), Some("Kit Harington"))
    );
    let (_, cluster) = api.get(&format!("/v1/review/clusters/{kit}"), READER_KEY).await;
    assert_eq!(
        (
            cluster["cluster"]["status"].as_str(),
            cluster["cluster"]["person_id"].as_str()
        ),
        (Some("assigned"), Some("kit"))
    );
    let (status, again) = assign(json!({"clusters": [kit], "person_id": "kit"})).await;
    assert_eq!(status.as_u16(), 409, "{again}");
    let (_, audit) = api.get("/v1/audit?subject=kit", ADMIN_KEY).await;
    assert!(audit.to_string().contains("review.assigned"), "{audit}");

    // Kit's next pass is attendance.
    let gallery = SharedGallery::new(
        rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
            .await
            .unwrap(),
    );
    let people = [walker("face_recognition/kit_harington/john2.jpeg")];
    let frames = door_stream(
        "door",
        &people,
        &[pass(0, 5, 25, Path::Approach { rightwards: false }, 0.4)],
        35,
    );
    let (events, strangers) = judge(&gallery, track_settings(TrackConfig::default()), &frames).await;
    assert_eq!(events.len(), 1, "{events:?} {strangers:?}");
    assert_eq!(events[0].person_id.as_str(), "kit");

    // Rose's cluster is dismissed through the CLI; it leaves the open list.
    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .env("ROLLCALL__STORE__URL", &api.config.store.url)
        .args(["review", "dismiss", &rose.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, open) = api.get("/v1/review/clusters", READER_KEY).await;
    assert_eq!(open, json!([]));
    let (_, dismissed) = api.get("/v1/review/clusters?status=dismissed", READER_KEY).await;
    assert_eq!(dismissed[0]["cluster_id"], rose.to_string());
    let (status, _) = api
        .post_json(&format!("/v1/review/clusters/{nobody}/dismiss"), ADMIN_KEY, json!({}))
        .await;
    assert_eq!(status.as_u16(), 404);

    // Erasing Kit removes the faces kept of them and their cluster; assigning to them is refused.
    let (status, _) = api.delete("/v1/people/kit", ADMIN_KEY).await;
    assert_eq!(status.as_u16(), 200);
    let (status, _) = api.get(&format!("/v1/review/clusters/{kit}"), READER_KEY).await;
    assert_eq!(status.as_u16(), 404);
    let crop = api.fetch(&format!("/v1/review/faces/{kit}/crop"), READER_KEY).await;
    assert_eq!(crop.status().as_u16(), 404);
    let (status, refused) = assign(json!({"faces": [rose], "person_id": "kit"})).await;
    assert_eq!(
        (status.as_u16(), refused["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{refused}"
    );
}
