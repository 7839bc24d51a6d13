//! The HTTP API over real PostgreSQL, Redis (a server of the test's own) and NATS: enrolment
//! from real photos, attendance read through the cache, erasure, bad input, keys and roles,
//! and the OpenAPI document.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rollcall::bus::{MemoryConsumer, Producer, memory_topic};
use rollcall::cache::{Cache, keys};
use rollcall::config::{ApiKeyConfig, ApiRole, Config};
use rollcall::domain::AttendanceEvent;
use rollcall::gallery::SharedGallery;
use rollcall::stages::project::Projector;
use rollcall::store::Store;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::cache::TestRedis;
use crate::crash::{frame, recognize_once, start_time};
use crate::postgres::TestDatabase;
use crate::support::*;

pub const READER_KEY: &str = "reader-key-for-the-tests-0001";
pub const ADMIN_KEY: &str = "admin-key-for-the-tests-00001";

/// `rollcall serve` in this process on a free port, with a database and a Redis of its own.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub redis: TestRedis,
    pub config: Config,
    pub stop: CancellationToken,
    db: Option<TestDatabase>,
    _work: tempfile::TempDir,
}

impl Api {
    pub async fn start(rate_limit_per_minute: u32) -> Api {
        let work = tempfile::tempdir().unwrap();
        let db = TestDatabase::create().await;
        let redis = TestRedis::start();
        let mut config = config(work.path());
        config.store.url = db.url.clone();
        config.redis.url = Some(redis.url());
        config.nats.url = Some(std::env::var("ROLLCALL_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()));
        config.api.listen = "127.0.0.1:0".into();
        config.api.max_body_bytes = 4 * 1024 * 1024;
        config.api.max_photo_bytes = 3 * 1024 * 1024;
        config.api.rate_limit_per_minute = rate_limit_per_minute;
        config.api.session_metrics_interval_secs = 1;
        for (name, key, role) in [
            ("desk", READER_KEY, ApiRole::Reader),
            ("ops", ADMIN_KEY, ApiRole::Admin),
        ] {
            let key = ApiKeyConfig { key: key.into(), role };
            config.api.keys.insert(name.into(), key);
        }
        let store = Store::open(&db.url, 2).await.unwrap();
        let stop = CancellationToken::new();
        let (address, _server) = rollcall::api::start(&config, stop.clone()).await.unwrap();
        Api {
            base: format!("http://{address}"),
            http: http_client(),
            store,
            redis,
            config,
            stop,
            db: Some(db),
            _work: work,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// The Prometheus text at `/metrics` (served without a key).
    pub async fn metrics_text(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.unwrap();
        response.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(key)).await
    }

    pub async fn post_json(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).bearer_auth(key).json(&body))
            .await
    }

    pub async fn upload(&self, person: &str, files: &[(&str, Vec<u8>)]) -> (StatusCode, Value) {
        let mut form = Form::new();
        for (name, bytes) in files {
            form = form.part("photo", Part::bytes(bytes.clone()).file_name(name.to_string()));
        }
        let request = self
            .http
            .post(self.url(&format!("/v1/people/{person}/photos")))
            .bearer_auth(ADMIN_KEY)
            .multipart(form);
        self.send(request).await
    }

    /// A multipart upload announcing `length` bytes. Sent by hand: the API answers 413 from the
    /// headers alone and closes, which an HTTP client still busy sending the body reports as a
    /// broken connection instead of the answer.
    pub async fn oversized_upload(&self, person: &str, length: usize) -> (StatusCode, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.base.trim_start_matches("http://"))
            .await
            .unwrap();
        let head = format!(
            "POST /v1/people/{person}/photos HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
             Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n--b\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let _ = stream.write_all(&vec![b'x'; 16 * 1024]).await;
        let mut response = Vec::new();
        let mut chunk = [0u8; 4096];
        // The server may reset the connection after answering: keep what arrived.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            if n == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&response);
        let status: u16 = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
        (StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT), body)
    }

    pub async fn create_person(&self, id: &str, name: &str) {
        let (status, body) = self
            .post_json("/v1/people", ADMIN_KEY, json!({ "id": id, "display_name": name }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Recognizes `frames` against the store's gallery and projects the events through the
    /// projector, which invalidates the cache: the pipeline's own stages.
    pub async fn feed(&self, frames: &[rollcall::domain::Frame]) -> Vec<AttendanceEvent> {
        let gallery = SharedGallery::new(self.store.load_gallery("dlib_resnet_v1").await.unwrap());
        let events = recognize_once(&gallery, Some(&self.store), frames).await;
        self.project(&events).await;
        events
    }

    /// Writes `events` through the projector, which invalidates the cache as in production.
    pub async fn project(&self, events: &[AttendanceEvent]) {
        let (tx, rx) = memory_topic::<AttendanceEvent>(1, events.len().max(1));
        let (dlq, _dlq_rx) = memory_topic(1, 4);
        for e in events {
            tx.send(e.person_id.as_str(), e.clone()).await.unwrap();
        }
        drop(tx);
        let cache = Cache::connect(&self.redis.url()).unwrap();
        let projector =
            Projector::new(self.store.clone(), self.config.project.clone(), Arc::new(dlq)).with_cache(cache);
        let stats = projector
            .run(
                Box::new(MemoryConsumer::new(rx)),
                CancellationToken::new(),
                CancellationToken::new(),
            )
            .await
            .unwrap();
        assert_eq!(stats.cache_failures, 0);
    }

    pub async fn stop(mut self) {
        self.stop.cancel();
        let db = self.db.take().unwrap();
        drop(self);
        db.drop_now().await;
    }
}

fn photo(relative: &str) -> Vec<u8> {
    std::fs::read(face(relative)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_over_http_then_read_attendance_through_the_cache_and_see_new_events() {
    let api = Api::start(6_000).await;
    api.create_person("obama", "Barack Obama").await;
    let (status, body) = api
        .upload(
            "obama",
            &[
                ("obama.jpg", photo("face_recognition/obama/obama.jpg")),
                ("obama2.jpg", photo("face_recognition/obama/obama2.jpg")),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["templates_added"], 2, "{body}");
    assert!(
        body["photos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "enrolled"),
        "{body}"
    );

    let seen = photo("face_recognition/obama/test_obama1.jpg");
    let events = api.feed(&[frame("door", 0, &seen)]).await;
    assert_eq!(events.len(), 1);
    let day = start_time().date_naive();
    let path = format!("/v1/attendance/days/{day}");
    let (status, first) = api.get(&path, READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["items"][0]["person_id"], "obama");
    assert_eq!(first["items"][0]["display_name"], "Barack Obama");
    assert_eq!(first["items"][0]["events"], 1);

    // The read left an entry under the key's current generation…
    let key = keys::attendance_day(day);
    let generation = api.store.cache_generation(&key).await.unwrap();
    let versioned = keys::versioned(&key, generation);
    let field = format!("page::{}", api.config.api.default_page_size);
    let cached = api.redis.cli(&["HGET", &versioned, &field]);
    assert!(cached.contains("Barack Obama"), "{cached:?}");
    // …and the second read is served from it: mark the entry, and the mark comes back.
    let marked = cached.replace("Barack Obama", "Served From Redis");
    api.redis.cli(&["HSET", &versioned, &field, &marked]);
    let (_, second) = api.get(&path, READER_KEY).await;
    assert_eq!(second["items"][0]["display_name"], "Served From Redis", "{second}");

    // A new event that day (past the cooldown) reaches the next read.
    let later = rollcall::domain::Frame {
        captured_at: start_time() + TimeDelta::hours(2),
        ..frame("door", 1, &seen)
    };
    assert_eq!(api.feed(&[later]).await.len(), 1);
    let (_, third) = api.get(&path, READER_KEY).await;
    assert_eq!(third["items"][0]["events"], 2, "{third}");
    assert_eq!(third["items"][0]["display_name"], "Barack Obama", "{third}");
    assert_eq!(
        api.redis.cli(&["EXISTS", &versioned]),
        "0",
        "the old generation's entry is deleted"
    );

    // The person's range and the daily stats agree.
    let (status, range) = api
        .get(&format!("/v1/people/obama/attendance?from={day}&to={day}"), READER_KEY)
        .await;
    assert_eq!(status, StatusCode::OK, "{range}");
    assert_eq!(range["days"][0]["events"], 2);
    let (_, stats) = api.get(&format!("/v1/stats/daily/{day}"), READER_KEY).await;
    assert_eq!(stats["present"], 1, "{stats}");
    assert_eq!(stats["per_camera"][0]["camera_id"], "door");
    assert_eq!(stats["per_camera"][0]["events"], 2);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_templates_cache_entries_and_recognition_and_is_audited() {
    let api = Api::start(6_000).await;
    api.create_person("obama", "Barack Obama").await;
    api.create_person("biden", "Joe Biden").await;
    let (status, _) = api
        .upload("obama", &[("obama.jpg", photo("face_recognition/obama/obama.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .upload("biden", &[("biden.jpg", photo("face_recognition/biden/biden.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // A recognizer's gallery, kept current over NATS as a running recognizer's is.
    let gallery = SharedGallery::new(api.store.load_gallery("dlib_resnet_v1").await.unwrap());
    let nats = rollcall::control::connect(api.config.nats.url.as_ref().unwrap())
        .await
        .unwrap();
    let watching = CancellationToken::new();
    let watcher = tokio::spawn(rollcall::control::keep_gallery_current(
        nats,
        api.store.clone(),
        "dlib_resnet_v1".into(),
        gallery.clone(),
        Duration::from_secs(3600),
        watching.clone(),
    ));
    let seen = photo("face_recognition/obama/test_obama1.jpg");
    assert_eq!(
        recognize_once(&gallery, None, &[frame("door", 0, &seen)]).await.len(),
        1
    );
    api.feed(&[frame("door", 0, &seen)]).await;
    let day = start_time().date_naive();
    for path in [
        "/v1/people/obama".to_owned(),
        format!("/v1/people/obama/attendance?from={day}&to={day}"),
    ] {
        assert_eq!(api.get(&path, READER_KEY).await.0, StatusCode::OK);
    }
    let person_entries = || api.redis.cli(&["--scan", "--pattern", "rollcall:v1:person:obama*"]);
    assert!(!person_entries().is_empty(), "the reads were cached");

    let request = api.http.delete(api.url("/v1/people/obama")).bearer_auth(ADMIN_KEY);
    let (status, erased) = api.send(request).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["templates_removed"], 1);
    assert_eq!(erased["attendance_events_removed"], 1);
    assert_eq!(person_entries(), "", "no cache entry about the person is left");
    assert_eq!(api.get("/v1/people/obama", READER_KEY).await.0, StatusCode::NOT_FOUND);
    let templates = api.store.load_gallery("dlib_resnet_v1").await.unwrap();
    assert_eq!(templates.people(), 1, "only biden's template is left");

    // The running recognizer applies the broadcast: obama is a stranger now.
    let start = Instant::now();
    while gallery.current().people() != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the recognizer never applied the erasure"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recognize_once(&gallery, None, &[frame("door", 1, &seen)])
            .await
            .is_empty()
    );

    let (status, audit) = api.get("/v1/audit?subject=obama", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let erasure = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "person.erased")
        .unwrap_or_else(|| panic!("no erasure in {audit}"));
    assert_eq!(erasure["actor"], "ops");
    assert_eq!(erasure["id"], erased["audit_id"]);
    assert_eq!(erasure["details"]["templates_removed"], 1);
    let text = erasure.to_string();
    assert!(
        !text.contains("embedding") && text.len() < 1_000,
        "no biometric data: {text}"
    );
    watching.cancel();
    watcher.await.unwrap().unwrap();
    api.stop().await;
}

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
    assert_eq!(api.store.load_gallery("dlib_resnet_v1").await.unwrap().len(), 0);

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
        "GET /metrics",
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
            .replace("{date}", "2026-11-22");
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
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_are_served_uncached_and_readiness_says_degraded() {
    let mut api = Api::start(6_000).await;
    api.create_person("ana", "Ana").await;
    api.redis.stop();
    let (status, ready) = api.get("/readyz", "").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["cache"], "degraded", "{ready}");
    let (status, person) = api.get("/v1/people/ana", READER_KEY).await;
    assert_eq!(
        (status, person["display_name"].as_str()),
        (StatusCode::OK, Some("Ana")),
        "{person}"
    );
    let day = start_time().date_naive();
    assert_eq!(
        api.get(&format!("/v1/attendance/days/{day}"), READER_KEY).await.0,
        StatusCode::OK
    );
    let metrics = api.metrics_text().await;
    assert!(
        metrics.contains("rollcall_api_cache_lookups_total{outcome=\"error\"}"),
        "{metrics}"
    );
    api.stop().await;
}

/// Follows `next_cursor` from `first` to the end, returning each page's item ids.
async fn walk_pages(api: &Api, first: &str, id_field: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut path = first.to_owned();
    loop {
        let (status, page) = api.get(&path, READER_KEY).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let ids = page["items"].as_array().unwrap();
        pages.push(ids.iter().map(|i| i[id_field].as_str().unwrap().to_owned()).collect());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => return pages,
        }
        assert!(pages.len() < 20, "paging does not end: {pages:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_people_and_of_a_day_cover_everyone_once_and_a_rename_reaches_cached_reads() {
    let api = Api::start(6_000).await;
    let ids = ["ada", "bo", "cy", "dee", "eli", "fay", "gus"];
    for id in ids {
        api.create_person(id, &format!("Person {id}")).await;
    }
    let day = start_time().date_naive();
    let events: Vec<AttendanceEvent> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            AttendanceEvent::new(
                rollcall::domain::PersonId::parse(*id).unwrap(),
                rollcall::domain::CameraId::parse("door").unwrap(),
                i as u64,
                start_time() + TimeDelta::minutes(i as i64),
                0.3,
                rollcall::domain::FaceBox { x: 1, y: 2, w: 3, h: 4 },
                "dlib_resnet_v1",
            )
        })
        .collect();
    api.project(&events).await;

    let expected: Vec<Vec<String>> = ids
        .chunks(3)
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(walk_pages(&api, "/v1/people?limit=3", "id").await, expected);
    let day_path = format!("/v1/attendance/days/{day}?limit=3");
    assert_eq!(walk_pages(&api, &day_path, "person_id").await, expected);
    // Read again: every page now comes from Redis and says the same.
    assert_eq!(walk_pages(&api, &day_path, "person_id").await, expected);
    let key = keys::attendance_day(day);
    let versioned = keys::versioned(&key, api.store.cache_generation(&key).await.unwrap());
    assert_eq!(api.redis.cli(&["HLEN", &versioned]), "3", "one cached field per page");

    // The person record is cached by the first read; a rename reaches the next read of it and of the day.
    let (_, before) = api.get("/v1/people/cy", READER_KEY).await;
    assert_eq!(before["display_name"], "Person cy");
    let person_key = keys::person("cy");
    let person_entry = keys::versioned(&person_key, api.store.cache_generation(&person_key).await.unwrap());
    assert!(api.redis.cli(&["HGET", &person_entry, "profile"]).contains("Person cy"));
    let (status, renamed) = api
        .send(
            api.http
                .patch(api.url("/v1/people/cy"))
                .bearer_auth(ADMIN_KEY)
                .json(&json!({ "display_name": "Cyrus Renamed" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (_, after) = api.get("/v1/people/cy", READER_KEY).await;
    assert_eq!(after["display_name"], "Cyrus Renamed", "{after}");
    assert_eq!(
        api.redis.cli(&["EXISTS", &person_entry]),
        "0",
        "the stale entry is deleted"
    );
    let (_, first_page) = api.get(&day_path, READER_KEY).await;
    assert_eq!(first_page["items"][2]["display_name"], "Cyrus Renamed", "{first_page}");
    api.stop().await;
}
