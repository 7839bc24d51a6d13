//! One use case per action: the CLI and the API change the store the same way.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// The `person.enrolled` entry of `person` in the audit log.
async fn enrolment_entry(api: &Api, person: &str) -> Value {
    let (status, audit) = api.get(&format!("/v1/audit?subject={person}"), ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "person.enrolled")
        .collect();
    assert_eq!(entries.len(), 1, "one enrolment entry for {person}: {audit}");
    entries[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_enrolment_writes_the_same_audit_entry_and_announcement_as_the_api() {
    let api = Api::start(600).await;
    let nats = rollcall::control::Nats::connect(&api.config.nats)
        .await
        .unwrap()
        .unwrap();
    let mut changes = nats.client().subscribe(nats.gallery_subject()).await.unwrap();

    api.create_person("obama", "Barack Obama").await;
    let (status, body) = api
        .upload("obama", &[("obama.jpg", photo("face_recognition/obama/obama.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .env("ROLLCALL__STORE__URL", &api.config.store.url)
        .env("ROLLCALL__NATS__URL", nats_url())
        .env("ROLLCALL__NATS__SUBJECT_PREFIX", &api.config.nats.subject_prefix)
        .args(["enroll", "--person", "biden", "--name", "Joe Biden"])
        .arg(face("face_recognition/biden/biden.jpg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));

    let (by_api, by_cli) = (
        enrolment_entry(&api, "obama").await,
        enrolment_entry(&api, "biden").await,
    );
    assert_eq!(by_api["actor"], "ops");
    assert!(by_cli["actor"].as_str().unwrap().starts_with("cli:"), "{by_cli}");
    let shape = |entry: &Value| {
        let details = entry["details"].as_object().unwrap();
        let keys: Vec<String> = details.keys().cloned().collect();
        (keys, details["templates_added"].clone(), details["model_id"].clone())
    };
    assert_eq!(shape(&by_cli), shape(&by_api), "cli {by_cli} api {by_api}");
    assert_eq!(by_cli["details"]["photos"].as_array().unwrap().len(), 1, "{by_cli}");

    // Both announce the change to the recognizers the same way.
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), changes.next())
            .await
            .expect("two gallery changes within 10 s")
            .unwrap();
        let change: rollcall::control::GalleryChange = serde_json::from_slice(&message.payload).unwrap();
        if ["obama", "biden"].contains(&change.person_id.as_str()) {
            kinds.push((
                change.person_id.to_string(),
                serde_json::to_value(change.kind).unwrap().to_string(),
            ));
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("biden".to_owned(), "\"enrolled\"".to_owned()),
            ("obama".to_owned(), "\"enrolled\"".to_owned())
        ]
    );
    api.stop().await;
}
