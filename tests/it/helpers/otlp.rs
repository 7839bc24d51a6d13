//! An OTLP/HTTP receiver (JSON encoding) in the test's process that keeps every span exported to it.

use std::sync::{Arc, Mutex};

use serde_json::Value;

/// An OTLP/HTTP receiver (JSON encoding) that keeps every export request.
pub struct OtlpReceiver {
    pub address: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl OtlpReceiver {
    pub async fn start() -> OtlpReceiver {
        let requests: Arc<Mutex<Vec<Value>>> = Arc::default();
        let kept = Arc::clone(&requests);
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    kept.lock().unwrap().push(request);
                    axum::Json(serde_json::json!({}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        OtlpReceiver { address, requests }
    }

    /// Every span received, with its service's name.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for request in self.requests.lock().unwrap().iter() {
            for resource in request["resourceSpans"].as_array().into_iter().flatten() {
                let service = resource["resource"]["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["key"] == "service.name")
                    .and_then(|a| a["value"]["stringValue"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    for span in scope["spans"].as_array().into_iter().flatten() {
                        let text = |field: &str| span[field].as_str().unwrap_or_default().to_owned();
                        spans.push(Span {
                            service: service.clone(),
                            name: text("name"),
                            trace_id: text("traceId"),
                            span_id: text("spanId"),
                            parent_span_id: text("parentSpanId"),
                            events: span["events"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
                                .collect(),
                            links: span["links"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|l| l["spanId"].as_str().unwrap_or_default().to_owned())
                                .collect(),
                        });
                    }
                }
            }
        }
        spans
    }
}

/// One span received, with its service's name.
#[derive(Debug, Clone)]
pub struct Span {
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub events: Vec<String>,
    pub links: Vec<String>,
}
