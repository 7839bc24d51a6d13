//! The OpenAPI document: valid, listing every route the API serves; readiness; metrics on their
//! own listener.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_validates_and_lists_every_route() {
    let api = Api::start(6_000).await;
    let (status, document) = api.get("/openapi.json", "").await;
    assert_eq!(status, StatusCode::OK);
    let listed: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let routes: BTreeSet<String> = [
        "GET /healthz",
        "GET /readyz",
        "GET /openapi.json",
        "GET /v1/people",
        "POST /v1/people",
        "GET /v1/people/{id}",
        "PATCH /v1/people/{id}",
        "DELETE /v1/people/{id}",
        "POST /v1/people/{id}/photos",
        "GET /v1/people/{id}/attendance",
        "GET /v1/attendance/days/{day}",
        "GET /v1/stats/daily/{day}",
        "GET /v1/cameras",
        "POST /v1/cameras",
        "PUT /v1/cameras/{id}/role",
        "GET /v1/audit",
        "GET /v1/groups",
        "POST /v1/groups",
        "GET /v1/groups/{id}",
        "DELETE /v1/groups/{id}",
        "PUT /v1/groups/{id}/members/{person_id}",
        "DELETE /v1/groups/{id}/members/{person_id}",
        "GET /v1/groups/{id}/absentees",
        "POST /v1/groups/{id}/schedules",
        "GET /v1/schedules/{id}",
        "PUT /v1/schedules/{id}",
        "DELETE /v1/schedules/{id}",
        "GET /v1/schedules/{id}/sessions",
        "GET /v1/schedules/{id}/sessions/{date}",
        "GET /v1/people/{id}/sessions",
        "GET /v1/review/clusters",
        "GET /v1/review/clusters/{cluster_id}",
        "POST /v1/review/clusters/{cluster_id}/dismiss",
        "GET /v1/review/faces/{face_id}/crop",
        "POST /v1/review/faces/{face_id}/not-person",
        "POST /v1/review/assignments",
        "POST /v1/people/{id}/negatives",
        "GET /v1/people/{id}/events",
        "POST /v1/attendance/retractions",
        "POST /v1/attendance/additions",
        "GET /v1/review/matches",
        "POST /v1/review/matches/{face_id}/confirm",
        "GET /v1/webhooks",
        "POST /v1/webhooks",
        "DELETE /v1/webhooks/{webhook_id}",
        "GET /v1/notifications",
        "POST /v1/notifications/{delivery_id}/retry",
    ]
    .map(String::from)
    .into();
    assert_eq!(listed, routes);
    // Every listed route is served (no 404 from the router, no 405).
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path
            .replace("{id}", "ana")
            .replace("{person_id}", "bo")
            .replace("{day}", "2026-11-22")
            .replace("{date}", "2026-11-22")
            .replace("{cluster_id}", "7a1c9e2e-5b3d-4f60-9c1e-2d8f4b6a0e13")
            .replace("{face_id}", "7a1c9e2e-5b3d-4f60-9c1e-2d8f4b6a0e13");
        let request = api
            .http
            .request(method.parse().unwrap(), api.url(&path))
            .bearer_auth(ADMIN_KEY);
        let (status, body) = api.send(request).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{route}: {body}");
        assert!(
            status != StatusCode::NOT_FOUND || body["error"]["message"].as_str().unwrap_or("").starts_with("no "),
            "{route}: {body}"
        );
    }
    // Validated by an independent OpenAPI validator.
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import json,sys; from openapi_spec_validator import validate; validate(json.load(sys.stdin)); print('valid')",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with openapi-spec-validator (scripts/setup installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (status, ready) = api.get("/readyz", "").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(
        ready,
        json!({ "status": "ready", "database": "up", "cache": "up", "model": "loaded" })
    );
    let metrics = api.metrics_text().await;
    assert!(metrics.contains("rollcall_api_requests_total"), "{metrics}");
    // Metrics name groups and keys: they are served on their own listener, not on the API's.
    let (status, _) = api.get("/metrics", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.stop().await;
}
