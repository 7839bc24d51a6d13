//! Bad schedules, memberships and deletions: a clear 4xx, and nothing changed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schedules_memberships_and_deletions_get_a_clear_4xx_and_change_nothing() {
    let api = Api::start(6_000).await;
    for id in ["ana", "bo"] {
        api.create_person(id, id).await;
    }
    api.setup(&[], "team", &["ana"]).await;
    api.ok(
        "PUT",
        "/v1/groups/team/members/bo",
        json!({ "from": "2026-09-01", "until": "2026-12-31" }),
    )
    .await;
    api.ok("POST", "/v1/groups/team/schedules", maths()).await;
    let before = api.ok("GET", "/v1/groups/team", Value::Null).await;

    let mut reversed = maths();
    reversed["id"] = "late-shift".into();
    reversed["start"] = "22:00".into();
    reversed["end"] = "06:00".into();
    let mut nowhere = maths();
    nowhere["id"] = "nowhere".into();
    nowhere["time_zone"] = "Europe/Atlantis".into();
    let cases: Vec<(StatusCode, &str, (StatusCode, Value))> = vec![
        (
            StatusCode::BAD_REQUEST,
            "ends_next_day",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, reversed).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "unknown time zone",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, nowhere).await,
        ),
        (
            StatusCode::CONFLICT,
            "overlap",
            api.put_json(
                "/v1/groups/team/members/bo",
                ADMIN_KEY,
                json!({ "from": "2026-12-01", "until": "2027-03-31" }),
            )
            .await,
        ),
        (
            StatusCode::CONFLICT,
            "overlap",
            api.put_json("/v1/groups/team/members/ana", ADMIN_KEY, json!({})).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "after until",
            api.put_json(
                "/v1/groups/team/members/bo",
                ADMIN_KEY,
                json!({ "from": "2027-06-01", "until": "2027-01-01" }),
            )
            .await,
        ),
        (
            StatusCode::CONFLICT,
            "delete them first",
            api.delete("/v1/groups/team", ADMIN_KEY).await,
        ),
        (
            StatusCode::NOT_FOUND,
            "no person",
            api.put_json("/v1/groups/team/members/zed", ADMIN_KEY, json!({})).await,
        ),
        (
            StatusCode::CONFLICT,
            "exists",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, maths()).await,
        ),
        (
            StatusCode::NOT_FOUND,
            "no session",
            api.get("/v1/schedules/maths/sessions/2026-11-21", READER_KEY).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "format",
            api.get("/v1/schedules/maths/sessions/2026-11-20?format=xml", READER_KEY)
                .await,
        ),
        (
            StatusCode::FORBIDDEN,
            "",
            api.post_json("/v1/groups", READER_KEY, json!({ "id": "readers" }))
                .await,
        ),
    ];
    for (expected, says, (status, body)) in cases {
        assert_eq!(status, expected, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{expected}: {message:?} should say {says:?}");
    }
    assert_eq!(
        api.ok("GET", "/v1/groups/team", Value::Null).await,
        before,
        "nothing changed"
    );
    // Erasing a person removes their memberships with them.
    api.ok("DELETE", "/v1/people/ana", Value::Null).await;
    let members = api.ok("GET", "/v1/groups/team", Value::Null).await["members"].clone();
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["person_id"], "bo");
    // A later, separate period is fine; so is deleting the group once its schedule is gone.
    api.ok(
        "PUT",
        "/v1/groups/team/members/bo",
        json!({ "from": "2027-01-01", "until": null }),
    )
    .await;
    api.ok("DELETE", "/v1/schedules/maths", Value::Null).await;
    api.ok("DELETE", "/v1/groups/team", Value::Null).await;
    let (status, _) = api.get("/v1/groups/team", READER_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.stop().await;
}
