//! What a request may cost before a handler sees it: its declared size, the time its body may
//! take to arrive, and closing the connection after an error answered before the body was read.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::error::ApiError;

/// Refuses a body declared larger than the limit before reading any of it, so a client does not
/// upload megabytes to be told no (a body without a length is cut at the limit as it is read).
pub async fn limit_declared_size(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = state.config.max_body_bytes as u64;
    if let Some(length) = declared.filter(|length| *length > max) {
        return too_large(format!("the body has {length} bytes; at most {max} are accepted"));
    }
    next.run(request).await
}

fn too_large(message: String) -> Response {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message).into_response()
}

fn has_body(request: &Request) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "0")
}

/// Reads an authenticated request's body in full within `api.body_timeout_secs` before the
/// handler runs: a body sent a byte a second gets 408 and its connection closed instead of
/// holding a task, a connection and a shutdown forever. Runs after authentication, so only a
/// caller with a key can make the server wait for a body at all.
pub async fn read_body_within(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if !has_body(&request) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let deadline = Duration::from_secs(state.config.body_timeout_secs);
    let max = state.config.max_body_bytes;
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, max)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(error)) if is_length_limit(&error) => {
            too_large(format!("the body is larger than {max} bytes, the most accepted"))
        }
        Ok(Err(error)) => {
            ApiError::bad_request("unreadable_body", format!("the body could not be read: {error}")).into_response()
        }
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the body did not arrive within {} s", deadline.as_secs()),
        )
        .into_response(),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Asks the client to close the connection after an error answer to a request with a body.
/// An error can be answered before the body is read (a wrong key, an unknown person); the
/// server then cannot find where the next request starts and drops the connection, and a client
/// that reused it would see its next request fail. Saying so lets it open a new one.
pub async fn close_after_error_with_body(request: Request, next: Next) -> Response {
    let has_body = has_body(&request);
    let mut response = next.run(request).await;
    let status = response.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
