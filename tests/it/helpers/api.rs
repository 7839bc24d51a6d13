//! The HTTP API for the tests: `rollcall serve` started in this process over a database, a Redis
//! and NATS of its own, a client with a reader and an admin key, and the pipeline's own stages to
//! feed it attendance.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rollcall::bus::{MemoryConsumer, Producer, memory_topic};
use rollcall::cache::Cache;
use rollcall::config::{ApiKeyConfig, ApiRole, Config};
use rollcall::domain::{AttendanceEvent, AttendanceRecord};
use rollcall::project::{Attendance, Projector};
use rollcall::recognize::SharedGallery;
use rollcall::store::Store;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{TestDatabase, TestRedis, config, nats_url, recognize_once};

/// An HTTP client for the tests (TLS through the same provider as the binary's clients).
pub fn http_client() -> reqwest::Client {
    rollcall::http::install_tls_provider();
    reqwest::Client::new()
}

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
    /// Where `/metrics` is served: a listener of its own, as `telemetry.metrics_listen` gives one.
    pub metrics_base: String,
    db: Option<TestDatabase>,
    _work: tempfile::TempDir,
}

impl Api {
    pub async fn start(rate_limit_per_minute: u32) -> Api {
        Self::start_with(|config| config.api.rate_limit_per_minute = rate_limit_per_minute).await
    }

    /// Started with the test configuration changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Api {
        let work = tempfile::tempdir().unwrap();
        let db = TestDatabase::create().await;
        let redis = TestRedis::start();
        let mut config = config(work.path());
        config.store.url = db.url.clone();
        config.redis.url = Some(redis.url());
        config.nats.url = Some(nats_url());
        config.api.listen = "127.0.0.1:0".into();
        config.api.max_body_bytes = 4 * 1024 * 1024;
        config.api.max_photo_bytes = 3 * 1024 * 1024;
        config.api.session_metrics_interval_secs = 1;
        for (name, key, role) in [
            ("desk", READER_KEY, ApiRole::Reader),
            ("ops", ADMIN_KEY, ApiRole::Admin),
        ] {
            let key = ApiKeyConfig::clear(key, role);
            config.api.keys.insert(name.into(), key);
        }
        configure(&mut config);
        let store = Store::open(&db.url, 2).await.unwrap();
        let stop = CancellationToken::new();
        let (address, _server) = rollcall::api::start(&config, stop.clone()).await.unwrap();
        let limits = rollcall::api::connection_limits(&config.api);
        let metrics = rollcall::metrics::expose("127.0.0.1:0", limits, stop.clone())
            .await
            .unwrap();
        Api {
            metrics_base: format!("http://{metrics}"),
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

    /// The Prometheus text at `/metrics` on the metrics listener (served without a key).
    pub async fn metrics_text(&self) -> String {
        let url = format!("{}/metrics", self.metrics_base);
        let response = self.http.get(url).send().await.unwrap();
        response.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(key)).await
    }

    /// The raw answer to a GET, for bodies that are not JSON (face crops).
    pub async fn fetch(&self, path: &str, key: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(key).send().await.unwrap()
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

    /// Creates each (id, name, photo) person and enrols them from the photo.
    pub async fn enrol_people(&self, people: &[(&str, &str, &str)]) {
        for (id, name, photo) in people {
            self.create_person(id, name).await;
            let (status, body) = self
                .upload(id, &[("1.jpg", std::fs::read(super::face(photo)).unwrap())])
                .await;
            assert!(status.is_success(), "{id}: {body}");
        }
    }

    /// Recognizes `frames` against the store's gallery and projects the events through the
    /// projector, which invalidates the cache: the pipeline's own stages.
    pub async fn feed(&self, frames: &[rollcall::domain::Frame]) -> Vec<AttendanceEvent> {
        let gallery = SharedGallery::new(
            rollcall::recognize::load_gallery(&self.store, "dlib_resnet_v1")
                .await
                .unwrap(),
        );
        let events = recognize_once(&gallery, Some(&self.store), frames).await;
        self.project(&events).await;
        events
    }

    /// A recognizer's gallery, kept current over NATS as a running recognizer's is (with the
    /// periodic count check every `interval`) until the token is cancelled.
    pub async fn watched_gallery(
        &self,
        interval: Duration,
    ) -> (
        SharedGallery,
        CancellationToken,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let model = "dlib_resnet_v1";
        let gallery = SharedGallery::new(rollcall::recognize::load_gallery(&self.store, model).await.unwrap());
        let nats = rollcall::control::Nats::connect(&self.config.nats)
            .await
            .unwrap()
            .expect("the test API has NATS");
        let changes = rollcall::recognize::subscribe_to_gallery_changes(&nats).await.unwrap();
        let watching = CancellationToken::new();
        let watcher = tokio::spawn(rollcall::recognize::keep_gallery_current(
            Some(changes),
            self.store.clone(),
            model.into(),
            gallery.clone(),
            interval,
            watching.clone(),
        ));
        (gallery, watching, watcher)
    }

    /// Writes `events` through the projector, which invalidates the cache as in production.
    pub async fn project(&self, events: &[AttendanceEvent]) {
        let (tx, rx) = memory_topic::<AttendanceRecord>(1, events.len().max(1));
        let (dlq, _dlq_rx) = memory_topic(1, 4);
        for e in events {
            tx.send(e.person_id.as_str(), AttendanceRecord::Sighting(e.clone()))
                .await
                .unwrap();
        }
        drop(tx);
        let cache = Cache::connect(&self.redis.url()).unwrap();
        let projector = Projector::new(
            Attendance,
            self.store.clone(),
            self.config.project.clone(),
            Arc::new(dlq),
        )
        .with_cache(cache);
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

    pub async fn put_json(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).bearer_auth(key).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path)).bearer_auth(key)).await
    }

    /// A request that must succeed (writes with the admin key, reads with the reader's): its answer.
    pub async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, answer) = match method {
            "POST" => self.post_json(path, ADMIN_KEY, body).await,
            "PUT" => self.put_json(path, ADMIN_KEY, body).await,
            "GET" => self.get(path, READER_KEY).await,
            "DELETE" => self.delete(path, ADMIN_KEY).await,
            _ => unreachable!(),
        };
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// Cameras with roles, a group with members, each in one call per item.
    pub async fn setup(&self, cameras: &[(&str, &str)], group: &str, members: &[&str]) {
        for (id, role) in cameras {
            self.ok("POST", "/v1/cameras", json!({ "id": id, "role": role })).await;
        }
        self.ok("POST", "/v1/groups", json!({ "id": group })).await;
        for person in members {
            self.ok("PUT", &format!("/v1/groups/{group}/members/{person}"), json!({}))
                .await;
        }
    }

    /// The session report of `schedule` on `date`.
    pub async fn report(&self, schedule: &str, date: &str) -> Value {
        self.ok("GET", &format!("/v1/schedules/{schedule}/sessions/{date}"), Value::Null)
            .await
    }

    pub async fn stop(mut self) {
        self.stop.cancel();
        let db = self.db.take().unwrap();
        drop(self);
        db.drop_now().await;
    }
}

/// Follows `next_cursor` from `first` to the end, returning each page's item ids.
pub async fn walk_pages(api: &Api, first: &str, id_field: &str) -> Vec<Vec<String>> {
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
