//! People in the console: add, enrol by upload with each photo's result, bad input answered next
//! to its field with nothing changed, a name shown as text, rename, erase after a confirmation,
//! and the audit trail of it all.

use super::sign_in;
use crate::helpers::*;

const SCRIPT_NAME: &str = "Barack <script>window.pwned = true</script> Obama";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_enrols_renames_and_erases_a_person_from_the_pages() {
    let api = Api::start(6_000).await;
    let browser = Browser::start().await;
    sign_in(&browser, &api, ADMIN_KEY).await;
    browser.open(&api.url("/console/people")).await;

    // Bad input: the API's message next to the field, and nobody added.
    browser.fill("#display_name", "Barack Obama").await;
    browser.fill("#person_id", "Not An Id!").await;
    browser
        .submit("form[method='post'][action='/console/people'] button")
        .await;
    let said = browser.text("#person_id-error").await;
    assert!(said.starts_with("person id \"Not An Id!\""), "{said}");
    assert_eq!(
        browser
            .find("#display_name")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Barack Obama")
    );
    let (_, people) = api.get("/v1/people", READER_KEY).await;
    assert_eq!(people["items"], serde_json::json!([]));

    // Added with a name holding markup: shown as text, never run.
    browser.fill("#display_name", SCRIPT_NAME).await;
    browser.fill("#person_id", "obama").await;
    browser
        .submit("form[method='post'][action='/console/people'] button")
        .await;
    assert_eq!(
        browser.text("p.notice").await,
        "Added. Upload photos of their face to enrol them."
    );
    assert_eq!(browser.text("h1").await, SCRIPT_NAME);
    let pwned = browser
        .client
        .execute("return window.pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::json!(true), "the name's script ran");

    // An upload: each photo's result, a usable one enrolled, the others refused with the reason.
    let work = tempfile::tempdir().unwrap();
    let notes = work.path().join("notes.jpg");
    std::fs::write(&notes, "not a photo at all").unwrap();
    // Chromedriver takes several files as canonical paths, one per line.
    let obama = face("face_recognition/obama/obama.jpg").canonicalize().unwrap();
    let files = format!("{}\n{}", obama.display(), notes.display());
    browser.find("#photos").await.send_keys(&files).await.unwrap();
    browser.submit("form[enctype='multipart/form-data'] button").await;
    let results = browser.text("section.results").await;
    assert!(results.contains("1 photo(s) enrolled."), "{results}");
    assert!(results.contains("obama.jpg: enrolled"), "{results}");
    assert!(results.contains("notes.jpg: rejected"), "{results}");
    browser.screenshot("person-enrolled").await;
    let (_, person) = api.get("/v1/people/obama", READER_KEY).await;
    assert_eq!(person["templates"], 1);

    // Only a non-photo: the API's rejection, and nothing more enrolled.
    browser
        .find("#photos")
        .await
        .send_keys(&notes.display().to_string())
        .await
        .unwrap();
    browser.submit("form[enctype='multipart/form-data'] button").await;
    let results = browser.text("section.results").await;
    assert!(
        results.contains("none of the 1 photo(s) shows exactly one usable face"),
        "{results}"
    );
    let (_, person) = api.get("/v1/people/obama", READER_KEY).await;
    assert_eq!(person["templates"], 1);

    // Renamed: a blank name is refused next to the field; a good one taken.
    browser.fill("form[action$='/name'] #display_name", "   ").await;
    browser.submit("form[action$='/name'] button").await;
    assert_eq!(
        browser.text("#display_name-error").await,
        "display_name must not be empty"
    );
    browser
        .fill("form[action$='/name'] #display_name", "Barack Obama")
        .await;
    browser.submit("form[action$='/name'] button").await;
    assert_eq!(browser.text("p.notice").await, "Renamed.");
    assert_eq!(browser.text("h1").await, "Barack Obama");

    // Search finds them by part of the name, in any case.
    browser.open(&api.url("/console/people?q=ARACK")).await;
    browser.find("a[href='/console/people/obama']").await;
    browser.screenshot("people").await;
    browser.open(&api.url("/console/people?q=nobody-like-this")).await;
    assert!(browser.page_text().await.contains("Nobody matches."));

    // The audit trail names the admin's key for each change.
    browser.open(&api.url("/console/audit?subject=obama")).await;
    let audit = browser.text("table").await;
    for action in ["person.created", "person.enrolled", "person.renamed"] {
        assert!(audit.contains(action), "{action} missing: {audit}");
    }
    assert!(audit.contains("ops"));
    browser.screenshot("audit").await;

    // Erased only after the confirmation.
    browser.open(&api.url("/console/people/obama")).await;
    browser.submit("form[action$='/erase'] button").await;
    assert!(browser.page_text().await.contains("for good?"));
    browser.screenshot("erase-confirmation").await;
    let (status, _) = api.get("/v1/people/obama", READER_KEY).await;
    assert_eq!(status, reqwest::StatusCode::OK, "not erased before the confirmation");
    browser.submit("form[action$='/erase'] button.danger").await;
    assert_eq!(browser.text("p.notice").await, "Erased obama.");
    let (status, _) = api.get("/v1/people/obama", READER_KEY).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);

    // At phone width the page fits: nothing scrolls sideways but the tables' own boxes.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.open(&api.url("/console/people")).await;
    let fits = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, serde_json::json!(true));
    browser.screenshot("people-phone").await;
    browser.close().await;
}
