//! Signing in and out, the cookie's attributes, what a reader sees, and forms from elsewhere.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use super::sign_in;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_opens_a_session_cookie_that_sign_out_ends() {
    let api = Api::start(600).await;
    let browser = Browser::start().await;
    // Any page sends a stranger to the sign-in form, and back after signing in.
    browser.open(&api.url("/console/people")).await;
    browser.find("#key").await;
    assert!(
        browser
            .url()
            .await
            .contains("/console/sign-in?next=%2Fconsole%2Fpeople")
    );
    browser.screenshot("sign-in").await;
    browser.fill("#key", "not-a-key-of-this-deployment").await;
    browser.submit("form[action='/console/sign-in'] button").await;
    assert_eq!(browser.text("#key-error").await, "the API key is not valid");
    assert_eq!(
        browser
            .find("#key")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );

    // The cookie: HttpOnly, SameSite=Strict, for the console only, expiring (Secure is set by
    // `api.console_secure_cookie`, for HTTPS; the unit tests check it).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = http
        .post(api.url("/console/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={ADMIN_KEY}&next=%2Fconsole%2Fpeople"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()[LOCATION], "/console/people");
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = http
        .get(api.url("/console/today"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // Somewhere else than the console is never where sign-in sends you.
    let elsewhere = http
        .post(api.url("/console/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={ADMIN_KEY}&next=https%3A%2F%2Fexample.org%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.headers()[LOCATION], "/console/today");

    // Signed in in the browser, then out: sign-out ends the session in the store, so the old
    // cookie opens nothing any more.
    sign_in(&browser, &api, READER_KEY).await;
    assert!(browser.page_text().await.contains("Signed in as desk (reader)"));
    let kept = browser.client.get_named_cookie("rollcall_session").await.unwrap();
    assert_eq!(kept.http_only(), Some(true));
    assert_eq!(kept.same_site(), Some(cookie::SameSite::Strict));
    let old_session = format!("rollcall_session={}", kept.value());
    browser.submit("form.who button").await;
    browser.find("#key").await;
    let after = http
        .get(api.url("/console/today"))
        .header("cookie", &old_session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the old cookie no longer opens a page"
    );
    browser.open(&api.url("/console/today")).await;
    browser.find("#key").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_no_admin_actions_and_forms_from_elsewhere_change_nothing() {
    let api = Api::start(600).await;
    api.enrol_people(&[("obama", "Barack Obama", "face_recognition/obama/obama.jpg")])
        .await;
    let browser = Browser::start().await;
    sign_in(&browser, &api, READER_KEY).await;
    assert!(browser.page_text().await.contains("Signed in as desk (reader)"));
    assert!(
        !browser.has("nav a[href='/console/audit']").await,
        "the audit trail is an admin read"
    );
    browser.open(&api.url("/console/people")).await;
    browser.find("a[href='/console/people/obama']").await;
    assert!(
        !browser.has("form[method='post'][action='/console/people']").await,
        "no add form for a reader"
    );
    browser.open(&api.url("/console/people/obama")).await;
    browser.find("#days-heading").await;
    for admin_only in ["#photos", "form[action$='/name']", "form[action$='/erase']"] {
        assert!(!browser.has(admin_only).await, "{admin_only} shown to a reader");
    }
    browser.screenshot("person-as-reader").await;

    // A reader's own session posting an admin form (made by hand) is refused with the API's words.
    let posted = browser
        .client
        .execute(
            "const form = document.createElement('form'); form.method = 'post';
             form.action = '/console/people/obama/name';
             for (const [name, value] of [['_token', document.querySelector('input[name=_token]').value],
                                          ['display_name', 'Renamed By A Reader']]) {
               const input = document.createElement('input'); input.name = name; input.value = value; form.append(input);
             }
             document.body.append(form); form.submit(); return true;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(posted, serde_json::json!(true));
    browser.find("p.message").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("key desk is a reader key; this route needs an admin key")
    );
    let (_, person) = api.get("/v1/people/obama", READER_KEY).await;
    assert_eq!(person["display_name"], "Barack Obama");

    // An admin signed in, visiting another site whose page posts a form to the console.
    sign_in(&browser, &api, ADMIN_KEY).await;
    let other_site = OtherSite::serving(&format!(
        "<form id=f method=post action='{}/console/people'>
           <input name=display_name value=Mallory><input name=_token value=guessed></form>
         <script>document.getElementById('f').submit()</script>",
        api.base
    ))
    .await;
    browser.open(&other_site.url).await;
    browser.find("p.message").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("This form did not come from this console")
    );
    let (_, people) = api.get("/v1/people?q=mallory", READER_KEY).await;
    assert_eq!(people["items"], serde_json::json!([]), "nobody was added");
    browser.close().await;
}

/// A page of another origin (another port of this host), as a site an admin might visit.
struct OtherSite {
    url: String,
    _stop: tokio_util::sync::CancellationToken,
}

impl OtherSite {
    async fn serving(html: &str) -> OtherSite {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let body = html.to_owned();
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(body) }),
        );
        let stop = tokio_util::sync::CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(until.cancelled_owned())
                .await
                .unwrap();
        });
        OtherSite { url, _stop: stop }
    }
}
