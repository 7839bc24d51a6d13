//! Review in the console: unknown clusters with their crops, one assigned to a person (after a
//! refused attempt that changes nothing), the other dismissed.

use super::sign_in;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_cluster_is_assigned_from_the_review_page_and_another_dismissed() {
    let unknown = strangers_passing().await;
    let api = Api::start(6_000).await;
    project_unknown(&api.store, &unknown).await;
    api.create_person("kit", "Kit Harington").await;
    let (kit, rose) = (unknown[0].face_id(), unknown[3].face_id());
    let browser = Browser::start().await;
    sign_in(&browser, &api, ADMIN_KEY).await;
    browser.open(&api.url("/console/review")).await;
    let kit_cluster = format!("article[data-cluster='{kit}']");
    assert!(browser.text(&kit_cluster).await.starts_with("3 face(s)"));
    browser.find(&format!("article[data-cluster='{rose}']")).await;
    // The crops load through the session: real JPEGs, drawn.
    let drawn = browser
        .client
        .execute(
            "return [...document.querySelectorAll('.crops img')].filter(i => i.complete && i.naturalWidth > 0).length",
            vec![],
        )
        .await
        .unwrap();
    assert!(drawn.as_u64().unwrap() >= 4, "{drawn}");
    browser.screenshot("review").await;

    // Assigned to someone who does not exist: the API's message by the field, nothing changed.
    browser.click(&format!("input[name='cluster_{kit}']")).await;
    browser.fill("#assign_person", "nobody").await;
    browser.submit("#assign button").await;
    let said = browser.text("#assign_person-error").await;
    assert!(said.contains("nobody"), "{said}");
    browser.find(&kit_cluster).await;
    let (_, person) = api.get("/v1/people/kit", READER_KEY).await;
    assert_eq!(person["templates"], 0);

    // Kit's cluster to Kit: his crops enrolled, the cluster gone from the page.
    browser.click(&format!("input[name='cluster_{kit}']")).await;
    browser.fill("#assign_person", "kit").await;
    browser.submit("#assign button").await;
    let notice = browser.text("p.notice").await;
    assert!(notice.ends_with("face(s) now enrol kit."), "{notice}");
    assert!(!browser.has(&kit_cluster).await);
    let (_, person) = api.get("/v1/people/kit", READER_KEY).await;
    assert!(person["templates"].as_u64().unwrap() >= 2, "{person}");

    // Rose's dismissed.
    browser
        .submit(&format!("article[data-cluster='{rose}'] form button"))
        .await;
    assert_eq!(browser.text("p.notice").await, "Dismissed.");
    assert!(browser.page_text().await.contains("Nothing waits for review."));
    let (_, cluster) = api.get(&format!("/v1/review/clusters/{rose}"), READER_KEY).await;
    assert_eq!(cluster["cluster"]["status"], "dismissed");
    browser.close().await;
}
