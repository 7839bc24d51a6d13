//! The far ends of notifications: an HTTP receiver that checks each request's signature on its
//! own (HMAC-SHA256 with its secret) and can be made to fail or be stopped and started again on
//! its port, and an MQTT subscriber on the real broker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub idempotency_key: String,
    pub kind: String,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inbox {
    accepted: Mutex<Vec<Received>>,
    /// Requests answered 500 before any is accepted.
    fail_first: AtomicUsize,
    refused_signatures: AtomicUsize,
}

/// A webhook receiver on a fixed port.
pub struct Receiver {
    pub port: u16,
    secret: String,
    inbox: Arc<Inbox>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a free port; the first `fail_first` requests are answered 500.
    pub async fn start(secret: &str, fail_first: usize) -> Receiver {
        let inbox = Arc::new(Inbox::default());
        inbox.fail_first.store(fail_first, Ordering::SeqCst);
        let mut receiver = Receiver {
            port: super::free_port(),
            secret: secret.to_owned(),
            inbox,
            server: None,
        };
        receiver.resume().await;
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Stops answering: the port is closed.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Answers again, on the same port.
    pub async fn resume(&mut self) {
        let (inbox, secret) = (self.inbox.clone(), self.secret.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (inbox, secret) = (inbox.clone(), secret.clone());
                async move { accept(&inbox, &secret, &headers, &body) }
            }),
        );
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.server = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.inbox.accepted.lock().unwrap().clone()
    }

    pub fn refused_signatures(&self) -> usize {
        self.inbox.refused_signatures.load(Ordering::SeqCst)
    }
}

fn accept(inbox: &Inbox, secret: &str, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let expected = {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.", header("x-rollcall-timestamp")).as_bytes());
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    if header("x-rollcall-signature") != expected {
        inbox.refused_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    if inbox
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    inbox.accepted.lock().unwrap().push(Received {
        idempotency_key: header("idempotency-key"),
        kind: header("x-rollcall-event"),
        body: serde_json::from_slice(body).unwrap_or_default(),
    });
    StatusCode::NO_CONTENT
}

/// Everything published under `prefix/#` on the local broker, as (topic, JSON).
pub struct Subscriber {
    pub messages: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    pub async fn start(prefix: &str) -> Subscriber {
        let options = rumqttc::MqttOptions::new(format!("test-{}", uuid::Uuid::new_v4().simple()), "127.0.0.1", 1883);
        let (client, mut events) = rumqttc::AsyncClient::new(options, 16);
        client
            .subscribe(format!("{prefix}/#"), rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        let messages: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
        let (subscribed, mut ready) = tokio::sync::oneshot::channel::<()>();
        let collected = messages.clone();
        let task = tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        if let Some(tx) = subscribed.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let body = serde_json::from_slice(&p.payload).unwrap_or_default();
                        collected.lock().unwrap().push((p.topic.clone(), body));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), &mut ready)
            .await
            .expect("the broker on 127.0.0.1:1883 (scripts/services starts Mosquitto) acknowledged the subscription")
            .unwrap();
        Subscriber { messages, task }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}
