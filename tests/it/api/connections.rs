//! What a client cannot do to `rollcall serve`: hold a connection idle or trickle its headers or
//! body forever, keep SIGTERM waiting, or guess keys without being slowed down.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::*;

async fn connect(api: &Api) -> TcpStream {
    TcpStream::connect(api.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or `limit` passes): what it sent, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(started + limit, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&received).into(), Some(started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into(), None),
        }
    }
}

async fn quick_timeouts() -> Api {
    Api::start_with(|config| {
        config.api.header_timeout_secs = 1;
        config.api.body_timeout_secs = 1;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed() {
    let api = quick_timeouts().await;

    // A connection that never sends anything.
    let mut idle = connect(&api).await;
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(
        closed.is_some(),
        "an idle connection is closed after the header timeout"
    );

    // A keep-alive connection idle after an answer.
    let mut kept = connect(&api).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut kept, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed.is_some(), "an idle keep-alive connection is closed");

    // Headers sent a byte every 200 ms never complete: closed without an answer to them.
    let mut trickle = connect(&api).await;
    let head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut refused = false;
    for byte in head {
        if trickle.write_all(&[*byte]).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (answer, _) = read_until_closed(&mut trickle, Duration::from_secs(3)).await;
    assert!(refused || !answer.contains("200 OK"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "the trickle was cut, not served"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_a_closed_connection() {
    let api = quick_timeouts().await;
    let mut slow = connect(&api).await;
    let head = format!(
        "POST /v1/people HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\""
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (answer, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(closed.is_some());
    let (status, _) = api.get("/v1/people", READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "the server goes on serving");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_held_half_request_beyond_its_grace() {
    let work = tempfile::tempdir().unwrap();
    let db = TestDatabase::create().await;
    let mut config = config(work.path());
    config.store.url = db.url.clone();
    config.api.listen = "127.0.0.1:0".into();
    config.api.body_timeout_secs = 600;
    config.api.shutdown_grace_secs = 1;
    let key = rollcall::config::ApiKeyConfig::clear(ADMIN_KEY, rollcall::config::ApiRole::Admin);
    config.api.keys.insert("ops".into(), key);
    let stop = tokio_util::sync::CancellationToken::new();
    let (address, server) = rollcall::api::start(&config, stop.clone()).await.unwrap();
    let mut held = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/people HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    held.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    stop.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(ended.is_ok(), "the server ended within 10 s of shutdown");
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(4),
        "it waited {waited:?} for a grace of 1 s"
    );
    let (_, closed) = read_until_closed(&mut held, Duration::from_secs(3)).await;
    assert!(closed.is_some(), "the held connection was closed");
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_limited_per_address_and_counted() {
    let api = Api::start_with(|config| config.api.auth_failures_per_minute = 10).await;
    let failures_before = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("rollcall_api_auth_failures_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let before = failures_before(&api.metrics_text().await);
    let mut statuses = Vec::new();
    for n in 0..60 {
        let (status, _) = api.get("/v1/people", &format!("wrong-key-number-{n:04}")).await;
        statuses.push(status);
    }
    let unauthorized = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((unauthorized, limited), (10, 50), "{statuses:?}");
    // Once the address is refused, even the right key waits: guessing gets no answer either way.
    let response = api
        .http
        .get(api.url("/v1/people"))
        .bearer_auth(READER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let after = failures_before(&api.metrics_text().await);
    assert!(after - before >= 61.0, "every failure is counted: {before} -> {after}");
    api.stop().await;
}
