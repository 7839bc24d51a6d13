//! Signing in to the console: an API key is exchanged for a session cookie (HttpOnly,
//! SameSite=Strict, Secure when configured, expiring), the session speaks for that key with the
//! role the key has now, and every form that changes something must come from the console itself.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::page;
use crate::api::ApiRole;
use crate::api::auth::{self, Caller};
use crate::api::{ApiState, Shared};
use crate::store::ConsoleSession;

const COOKIE: &str = "rollcall_session";

/// A signed-in request: who it speaks for, and the token its forms carry.
#[derive(Debug, Clone)]
pub struct Signed {
    pub caller: Caller,
    pub form_token: String,
}

impl Signed {
    pub fn is_admin(&self) -> bool {
        self.caller.role >= ApiRole::Admin
    }
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A secret of 244 random bits from the system's random source (two version 4 UUIDs), far past
/// anything that can be guessed or enumerated.
fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<ApiState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let back_to_sign_in = || {
            let next = parts.uri.path_and_query().map_or("/console", |p| p.as_str());
            Redirect::to(&format!("/console/sign-in?next={}", urlencoded(next))).into_response()
        };
        let Some(secret) = session_secret(&parts.headers) else {
            return Err(back_to_sign_in());
        };
        let session = state
            .services
            .store
            .console_session(&digest(&secret), Utc::now())
            .await
            .map_err(|e| page::api_error_page(None, e.into()))?;
        // A key taken out of the configuration ends its sessions.
        let Some((session, caller)) = session.and_then(|s| Some((s.clone(), state.keys.by_name(&s.key_name)?))) else {
            return Err(back_to_sign_in());
        };
        if let Err(refusal) = auth::admit(state, &caller) {
            return Err(page::message_page(
                None,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                &refusal.message(),
            ));
        }
        Ok(Signed {
            caller,
            form_token: session.form_token,
        })
    }
}

/// `text` as one query value: every byte but the unreserved ones percent-encoded.
pub fn urlencoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form's own origin check: the browser's `Origin` (sent with every cross-origin POST) must be
/// this host, and `Sec-Fetch-Site` (where sent) must not name another site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_ok = match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => true,
        Some(Ok(origin)) => {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            authority.is_some() && authority == host
        }
        Some(Err(_)) => false,
    };
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|s| s.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    origin_ok && site_ok
}

/// The refusal of a form that did not come from the console (another origin, or not this
/// session's token), if it did not. Nothing is changed by a refused form.
pub fn refuse_foreign_form(signed: &Signed, headers: &HeaderMap, token: &str) -> Option<Response> {
    let token_ok = bool::from(signed.form_token.as_bytes().ct_eq(token.as_bytes()));
    if same_origin(headers) && token_ok {
        return None;
    }
    Some(page::message_page(
        Some(signed),
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form did not come from this console (another site, or an old page): nothing was changed. Open the page again and retry.",
    ))
}

/// The refusal of anything but an admin's form from the console itself, if it is not one.
pub fn refuse_unless_admin_form(signed: &Signed, headers: &HeaderMap, form_token: &str) -> Option<Response> {
    refuse_foreign_form(signed, headers, form_token).or_else(|| {
        auth::permitted(&signed.caller, ApiRole::Admin)
            .err()
            .map(|e| page::api_error_page(Some(signed), e))
    })
}

/// A form an admin sent from the console itself: the session, and the form's fields, read only
/// once its token, origin and role have passed; otherwise the refusal page, and nothing changes.
pub struct AdminForm<T> {
    pub signed: Signed,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<ApiState> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ApiState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
            .await
            .map_err(|e| page::message_page(Some(&signed), StatusCode::BAD_REQUEST, "Not done", &e.to_string()))?;
        let token: TokenForm = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if let Some(refused) = refuse_unless_admin_form(&signed, &parts.headers, &token.token) {
            return Err(refused);
        }
        match serde_urlencoded::from_bytes(&bytes) {
            Ok(form) => Ok(AdminForm { signed, form }),
            Err(e) => Err(page::message_page(
                Some(&signed),
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not done",
                &format!("the form is not readable: {e}"),
            )),
        }
    }
}

/// A form whose only field is its token: a button.
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    pub next: Option<String>,
}

/// Where to go after signing in: a console page only, never another site.
fn next_page(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/console") && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/console/today".to_owned(),
    }
}

pub async fn sign_in_page(Query(q): Query<SignInQuery>) -> Response {
    page::sign_in(q.next.as_deref(), None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub key: String,
    pub next: Option<String>,
}

pub async fn sign_in(
    state: Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    if !same_origin(&headers) {
        return page::sign_in(
            form.next.as_deref(),
            Some("This sign-in did not come from this console."),
            StatusCode::FORBIDDEN,
        );
    }
    let presented = Some(form.key.trim()).filter(|k| !k.is_empty());
    let caller = match auth::authenticate(&state, &peer.ip().to_string(), presented) {
        Ok(caller) => caller,
        Err(refusal) => {
            let status = match refusal {
                auth::Refusal::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                auth::Refusal::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            };
            let message = match refusal {
                auth::Refusal::Unauthorized(_) if presented.is_none() => "Enter an API key.".to_owned(),
                other => other.message(),
            };
            return page::sign_in(form.next.as_deref(), Some(&message), status);
        }
    };
    let secret = random_secret();
    let lifetime = Duration::minutes(state.config.console_session_minutes.max(1) as i64);
    let now = Utc::now();
    let session = ConsoleSession {
        key_name: caller.name.clone(),
        form_token: random_secret(),
        expires_at: now + lifetime,
    };
    if let Err(e) = state
        .services
        .store
        .open_console_session(&digest(&secret), &session, now)
        .await
    {
        return page::api_error_page(None, e.into());
    }
    let cookie = session_cookie(secret, lifetime, state.config.console_secure_cookie);
    with_cookie(Redirect::to(&next_page(form.next.as_deref())).into_response(), &cookie)
}

/// The session cookie: for the console's paths only, out of scripts' reach, never sent with a
/// request another site starts, and (behind HTTPS) never in clear.
fn session_cookie(secret: String, lifetime: Duration, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, secret))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(lifetime.num_seconds()))
        .build()
}

fn with_cookie(mut response: Response, cookie: &Cookie<'_>) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default, rename = "_token")]
    pub token: String,
}

pub async fn sign_out(
    state: Shared,
    signed: Signed,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TokenForm>,
) -> Response {
    if let Some(refused) = refuse_foreign_form(&signed, &headers, &form.token) {
        return refused;
    }
    if let Some(secret) = session_secret(&headers)
        && let Err(e) = state.services.store.close_console_session(&digest(&secret)).await
    {
        return page::api_error_page(Some(&signed), e.into());
    }
    let gone = Cookie::build((COOKIE, ""))
        .path("/console")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    with_cookie(Redirect::to("/console/sign-in").into_response(), &gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_forms_from_this_host_pass() {
        assert!(same_origin(&headers(&[("host", "door:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "door:8080"),
            ("origin", "http://door:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "door:8080"),
            ("origin", "https://door:8080"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "door:8080"),
            ("origin", "http://door:9090")
        ])));
        assert!(!same_origin(&headers(&[("host", "door:8080"), ("origin", "null")])));
        assert!(!same_origin(&headers(&[
            ("host", "door:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "door:8080"),
            ("sec-fetch-site", "same-site")
        ])));
    }

    #[test]
    fn sign_in_only_sends_people_on_to_console_pages() {
        assert_eq!(next_page(Some("/console/people?q=a")), "/console/people?q=a");
        assert_eq!(next_page(Some("https://evil.example/")), "/console/today");
        assert_eq!(next_page(Some("//evil.example/console")), "/console/today");
        assert_eq!(next_page(None), "/console/today");
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_secure_when_asked() {
        let plain = session_cookie("s".into(), Duration::minutes(5), false).to_string();
        assert_eq!(
            plain,
            "rollcall_session=s; HttpOnly; SameSite=Strict; Path=/console; Max-Age=300"
        );
        let secure = session_cookie("s".into(), Duration::minutes(5), true).to_string();
        assert!(secure.contains("; Secure"), "{secure}");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "a=1; rollcall_session=abc; b=2")]);
        assert_eq!(session_secret(&map).as_deref(), Some("abc"));
        assert_eq!(session_secret(&headers(&[("cookie", "a=1")])), None);
    }
}
