//! What the API refuses: bad input with a clear 4xx that changes nothing, requests without a valid
//! key or the right role, and requests over the rate limit.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let api = Api::start(6_000).await;
    api.create_person("ana", "Ana").await;
    let work = tempfile::tempdir().unwrap();
    let faceless = work.path().join("wall.png");
    faceless_png(&faceless);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("notes.txt", b"not an image at all".to_vec(), "not_an_image"),
        ("wall.png", std::fs::read(&faceless).unwrap(), "no_face"),
        ("two.jpg", photo("multi/two_people.jpg"), "several_faces"),
    ];
    for (name, bytes, code) in cases {
        let (status, body) = api.upload("ana", &[(name, bytes)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        assert_eq!(body["error"]["code"], "no_usable_photo", "{body}");
        assert_eq!(body["photos"][0]["code"], code, "{name}: {body}");
        assert!(!body["photos"][0]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = api.oversized_upload("ana", 5 * 1024 * 1024).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");

    let checks: Vec<(&str, StatusCode, &str)> = vec![
        ("/v1/people?cursor=nonsense", StatusCode::BAD_REQUEST, "invalid_cursor"),
        ("/v1/people?cursor=7631", StatusCode::BAD_REQUEST, "invalid_cursor"),
        (
            "/v1/people?limit=1;DROP%20TABLE%20people",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("/v1/people?limit=100000", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/people/nobody", StatusCode::NOT_FOUND, "not_found"),
        ("/v1/people/nobody/attendance", StatusCode::NOT_FOUND, "not_found"),
        (
            "/v1/people/Robert';%20DROP%20TABLE%20people;--",
            StatusCode::BAD_REQUEST,
            "invalid_person_id",
        ),
        (
            "/v1/attendance/days/2026-11-22'%20OR%20'1'='1",
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            "/v1/people/ana/attendance?from=2026-11-22&to=2026-11-01",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("/v1/no/such/route", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (path, status, code) in checks {
        let (got, body) = api.get(path, ADMIN_KEY).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
        assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{path}: {body}");
    }
    let (status, body) = api
        .upload("nobody", &[("obama.jpg", photo("face_recognition/obama/obama.jpg"))])
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{body}"
    );
    let (status, body) = api
        .post_json(
            "/v1/people",
            ADMIN_KEY,
            json!({ "id": "x'; DROP TABLE people;--", "display_name": "X" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_person_id")),
        "{body}"
    );
    let request = api
        .http
        .post(api.url("/v1/people"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body("{\"display_name\": ");
    let (status, body) = api.send(request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body")),
        "{body}"
    );

    // Nothing changed: still one person, with no template.
    let people = api.store.people().await.unwrap();
    assert_eq!(people.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["ana"]);
    assert_eq!(
        rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
            .await
            .unwrap()
            .len(),
        0
    );

    // A name that looks like SQL is just a name: stored as given, harming nothing.
    let sql = "Robert'); DROP TABLE people;--";
    let (status, body) = api
        .post_json("/v1/people", ADMIN_KEY, json!({ "id": "bobby", "display_name": sql }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["display_name"], sql);
    assert_eq!(api.store.people().await.unwrap().len(), 2);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_roles_and_the_rate_limit() {
    let api = Api::start(60).await;
    let (status, body) = api.send(api.http.get(api.url("/v1/people"))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized")),
        "{body}"
    );
    let (status, _) = api.get("/v1/people", "not-a-key-of-this-api").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let with_header = api.http.get(api.url("/v1/cameras")).header("x-api-key", READER_KEY);
    assert_eq!(api.send(with_header).await.0, StatusCode::OK);
    let (status, body) = api
        .post_json("/v1/people", READER_KEY, json!({ "display_name": "Ana" }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{body}"
    );
    let request = api.http.delete(api.url("/v1/people/ana")).bearer_auth(READER_KEY);
    assert_eq!(api.send(request).await.0, StatusCode::FORBIDDEN);
    let (status, body) = api.post_json("/v1/cameras", READER_KEY, json!({ "id": "door" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = api
        .post_json("/v1/cameras", ADMIN_KEY, json!({ "id": "door", "role": "entry" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "entry");
    let request = api
        .http
        .put(api.url("/v1/cameras/door/role"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "role": "exit" }));
    let (status, body) = api.send(request).await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("exit")),
        "{body}"
    );
    assert_eq!(api.get("/healthz", "").await.0, StatusCode::OK, "health needs no key");

    // 60 a minute with a burst of 6; refused requests count too: the reader has used 4.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(api.get("/v1/people", READER_KEY).await);
    }
    let (limited, body) = statuses.last().unwrap().clone();
    assert_eq!(limited, StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(statuses[..2].iter().all(|(s, _)| *s == StatusCode::OK), "{statuses:?}");
    let response = api
        .http
        .get(api.url("/v1/people"))
        .bearer_auth(READER_KEY)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        api.get("/v1/cameras", ADMIN_KEY).await.0,
        StatusCode::OK,
        "each key has its own budget"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_outside_the_supported_range_and_control_characters_get_400s() {
    let api = Api::start(6_000).await;
    api.create_person("ana", "Ana").await;
    api.post_json("/v1/groups", ADMIN_KEY, json!({ "id": "team" })).await;
    // Each of these once panicked a handler (the connection was reset) or gave a 500.
    let far = [
        "/v1/people/ana/attendance?to=-262143-01-01",
        "/v1/people/ana/attendance?from=2026-01-01&to=%2B262142-12-31",
        "/v1/people/ana/attendance?from=-4714-01-01&to=-4714-02-01",
        "/v1/attendance/days/3000-01-01",
        "/v1/attendance/days/1969-12-31",
        "/v1/stats/daily/%2B262142-12-31",
        "/v1/schedules/maths/sessions?from=2026-01-01&to=%2B262142-12-31",
        "/v1/schedules/maths/sessions/%2B262142-12-31",
        "/v1/people/ana/sessions?to=-262143-01-01",
    ];
    for path in far {
        let (status, body) = api.get(path, ADMIN_KEY).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("1970-01-01 to 2999-12-31") || message.contains("input is out of range"),
            "{path}: {body}"
        );
    }
    let (status, body) = api
        .put_json(
            "/v1/groups/team/members/ana",
            ADMIN_KEY,
            json!({ "from": "+262142-12-31" }),
        )
        .await;
    assert!(status.is_client_error(), "{status}: {body}");
    let mut schedule = maths();
    schedule["date"] = "3000-06-01".into();
    let (status, body) = api.post_json("/v1/groups/team/schedules", ADMIN_KEY, schedule).await;
    assert!(status.is_client_error(), "{status}: {body}");

    // NUL and other control characters in names reach no database.
    let mut named = maths();
    named["name"] = "Maths\u{0}".into();
    let writes = [
        ("/v1/cameras", json!({ "id": "door", "name": "Door\u{0}" })),
        ("/v1/cameras", json!({ "id": "door", "location": "Hall\u{0}B" })),
        ("/v1/groups", json!({ "id": "band", "name": "Band\u{0}" })),
        ("/v1/groups/team/schedules", named),
        ("/v1/people", json!({ "id": "bo", "display_name": "Bo\u{1b}[31m" })),
    ];
    for (path, body) in writes {
        let (status, answer) = api.post_json(path, ADMIN_KEY, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("control characters"), "{path}: {answer}");
    }
    let (status, body) = api.get("/v1/audit?subject=ana%00", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing was written.
    assert_eq!(api.get("/v1/cameras", ADMIN_KEY).await.1, json!([]));
    let (_, groups) = api.get("/v1/groups", ADMIN_KEY).await;
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");
    let (_, team) = api.get("/v1/groups/team", ADMIN_KEY).await;
    assert_eq!(
        (team["members"].clone(), team["schedules"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(api.store.people().await.unwrap().len(), 1);
    api.stop().await;
}
