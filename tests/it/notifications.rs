//! Notifications out (issue 17) on real photos and real services: arrivals, a stranger who keeps
//! coming, and late and absent members at the end of a running session's grace period reach a
//! signed webhook and the Mosquitto broker, at least once each with their idempotency key,
//! across a restart of rollcall and of the receiver; a wrong secret is retried, given up and
//! reported; erasure takes the person's notifications with it.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeDelta, Timelike, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const SECRET: &str = "receiver-secret-0123";

/// (kind, subject) of every notification the receiver accepted.
fn facts(received: &[Received]) -> BTreeSet<(String, String)> {
    received
        .iter()
        .map(|r| {
            (
                r.kind.clone(),
                r.body["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A session of class 4b running now, started 20 minutes ago with 5 minutes' grace.
fn running_maths() -> (serde_json::Value, chrono::DateTime<Utc>) {
    let now = Utc::now();
    let start = (now - TimeDelta::minutes(20))
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let end = start + TimeDelta::minutes(90);
    let spec = json!({
        "id": "maths", "name": "Maths", "kind": "once", "date": start.date_naive(),
        "start": start.format("%H:%M").to_string(), "end": end.format("%H:%M").to_string(),
        "ends_next_day": end.date_naive() != start.date_naive(),
        "time_zone": "UTC", "cameras": ["door-in", "door-out"], "grace_minutes": 5, "early_leave_minutes": 10
    });
    (spec, start)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notification_reaches_the_webhook_and_mqtt_across_restarts_and_a_bad_secret_is_reported() {
    let mut receiver = Receiver::start(SECRET, 2).await;
    let prefix = format!("rollcall-test-{}", uuid::Uuid::new_v4().simple());
    let subscriber = Subscriber::start(&prefix).await;
    let configure = |c: &mut rollcall::config::Config| {
        let n = &mut c.notifications;
        (
            n.poll_ms,
            n.retry_initial_ms,
            n.retry_max_ms,
            n.max_attempts,
            n.timeout_ms,
        ) = (100, 100, 400, 4, 2_000);
        n.mqtt.url = Some("mqtt://127.0.0.1:1883".into());
        n.mqtt.topic_prefix = prefix.clone();
        n.mqtt.home_assistant_discovery = true;
        n.mqtt.discovery_prefix = format!("{prefix}/ha");
    };
    let mut api = Api::start_with(configure).await;
    api.enrol_people(&[
        ("obama", "Barack Obama", "face_recognition/obama/obama.jpg"),
        ("biden", "Joe Biden", "face_recognition/biden/biden.jpg"),
        ("rose", "Rose Leslie", "face_recognition/rose_leslie/img1.jpg"),
    ])
    .await;
    api.setup(
        &[("door-in", "entry"), ("door-out", "exit")],
        "class-4b",
        &["obama", "biden", "rose"],
    )
    .await;
    let (maths, start) = running_maths();
    api.ok("POST", "/v1/groups/class-4b/schedules", maths).await;

    // Endpoints: the receiver with its secret, one with the wrong secret, and refusals.
    let (status, hook) = api
        .post_json(
            "/v1/webhooks",
            ADMIN_KEY,
            json!({ "url": receiver.url(), "secret": SECRET }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    assert!(hook.get("secret").is_none(), "the secret is never shown");
    let (status, wrong) = api
        .post_json(
            "/v1/webhooks",
            ADMIN_KEY,
            json!({ "url": receiver.url(), "secret": "not-the-receivers-secret", "events": ["person.arrived"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrong}");
    for (body, code) in [
        (
            json!({ "url": "ftp://127.0.0.1/hook", "secret": SECRET }),
            "invalid_url",
        ),
        (json!({ "url": "127.0.0.1:9/hook", "secret": SECRET }), "invalid_url"),
        (json!({ "url": receiver.url(), "secret": "short" }), "invalid_body"),
        (
            json!({ "url": receiver.url(), "secret": SECRET, "events": ["person.left"] }),
            "invalid_body",
        ),
    ] {
        let (status, answer) = api.post_json("/v1/webhooks", ADMIN_KEY, body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}"
        );
    }
    let (_, hooks) = api.get("/v1/webhooks", ADMIN_KEY).await;
    assert_eq!(hooks.as_array().unwrap().len(), 2, "{hooks}");

    // Obama on time, Biden late, Rose not there; a stranger passes three times.
    let frames = [
        frame_at(
            "door-in",
            start + TimeDelta::minutes(1),
            "face_recognition/obama/obama2.jpg",
        ),
        frame_at(
            "door-in",
            start + TimeDelta::minutes(12),
            "face_recognition/biden/biden2.jpg",
        ),
    ];
    assert_eq!(api.feed(&frames).await.len(), 2);
    project_unknown(&api.store, &strangers_passing().await[..3]).await;
    let day_of = |minutes: i64| (start + TimeDelta::minutes(minutes)).date_naive();
    let expected: BTreeSet<(String, String)> = [
        ("person.arrived", format!("obama/{}", day_of(1))),
        ("person.arrived", format!("biden/{}", day_of(12))),
        ("session.late", format!("maths/{}/biden", start.date_naive())),
        ("session.absent", format!("maths/{}/rose", start.date_naive())),
    ]
    .into_iter()
    .map(|(k, s)| (k.to_owned(), s))
    .collect();
    eventually(
        "the receiver has every notification",
        Duration::from_secs(30),
        || async {
            let got = facts(&receiver.accepted());
            expected.is_subset(&got) && got.iter().any(|(k, _)| k == "cluster.flagged")
        },
    )
    .await;
    let first = receiver.accepted();
    for r in &first {
        assert_eq!(
            r.body["id"].as_str(),
            Some(r.idempotency_key.as_str()),
            "the key is the notification's id"
        );
    }
    let flagged = first.iter().find(|r| r.kind == "cluster.flagged").unwrap();
    assert_eq!(flagged.body["data"]["faces"], 3, "{:?}", flagged.body);

    // MQTT has them too, one topic per kind.
    eventually(
        "the broker delivered every notification",
        Duration::from_secs(30),
        || async {
            let topics: BTreeSet<String> = subscriber
                .messages
                .lock()
                .unwrap()
                .iter()
                .map(|(t, _)| t.clone())
                .collect();
            ["person/arrived", "cluster/flagged", "session/late", "session/absent"]
                .iter()
                .all(|k| topics.contains(&format!("{prefix}/{k}")))
        },
    )
    .await;

    let discovery = format!("{prefix}/ha/sensor/rollcall_person_arrived/config");
    let announced = subscriber
        .messages
        .lock()
        .unwrap()
        .iter()
        .find(|(t, _)| *t == discovery)
        .cloned();
    let (_, sensor) = announced.expect("a Home Assistant discovery document for each kind");
    assert_eq!(sensor["state_topic"], format!("{prefix}/person/arrived"), "{sensor}");

    // The wrong secret: refused by the receiver, retried, then given up and reported.
    eventually(
        "the wrong secret's deliveries are given up",
        Duration::from_secs(30),
        || async {
            let (_, failed) = api.get("/v1/notifications?status=failed", ADMIN_KEY).await;
            failed.as_array().is_some_and(|f| f.len() == 2)
        },
    )
    .await;
    let (_, failed) = api.get("/v1/notifications?status=failed", ADMIN_KEY).await;
    for f in failed.as_array().unwrap() {
        assert_eq!(f["channel_id"], wrong["webhook_id"], "{f}");
        assert_eq!(f["attempts"], 4, "{f}");
        assert!(f["last_error"].as_str().unwrap().contains("401"), "{f}");
    }
    assert!(receiver.refused_signatures() >= 8, "4 attempts of each of 2");
    let metrics = api.metrics_text().await;
    assert!(
        metrics.contains(r#"rollcall_notification_attempts_total{channel="webhook",outcome="failed"}"#),
        "{metrics}"
    );
    let retried = failed[0]["delivery_id"].as_str().unwrap();
    let (status, _) = api
        .post_json(&format!("/v1/notifications/{retried}/retry"), ADMIN_KEY, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // rollcall and the receiver both down while Rose arrives (late): nothing is lost.
    api.stop.cancel();
    receiver.stop().await;
    let rose_at = Utc::now() - TimeDelta::seconds(30);
    let rose = [frame_at("door-in", rose_at, "face_recognition/rose_leslie/img2.jpg")];
    assert_eq!(api.feed(&rose).await.len(), 1);
    let restarted = tokio_util::sync::CancellationToken::new();
    let (address, _) = rollcall::api::start(&api.config, restarted.clone()).await.unwrap();
    (api.base, api.stop) = (format!("http://{address}"), restarted);
    eventually(
        "deliveries to the stopped receiver are being retried",
        Duration::from_secs(30),
        || async {
            let (_, pending) = api.get("/v1/notifications?status=pending", ADMIN_KEY).await;
            pending
                .as_array()
                .is_some_and(|p| p.iter().any(|d| d["attempts"].as_i64() > Some(0)))
        },
    )
    .await;
    receiver.resume().await;
    let late_rose = ("session.late".to_owned(), format!("maths/{}/rose", start.date_naive()));
    eventually(
        "the receiver, back, has Rose's notifications",
        Duration::from_secs(30),
        || async {
            let got = facts(&receiver.accepted());
            got.contains(&late_rose)
                && got.contains(&("person.arrived".to_owned(), format!("rose/{}", rose_at.date_naive())))
        },
    )
    .await;
    eventually(
        "the broker, after the restart, has Rose's lateness",
        Duration::from_secs(30),
        || async {
            let messages = subscriber.messages.lock().unwrap().clone();
            messages.iter().any(|(topic, body)| {
                *topic == format!("{prefix}/session/late") && body["subject"].as_str() == Some(late_rose.1.as_str())
            })
        },
    )
    .await;
    // At least once, each under its own key with the same document every time.
    let all = receiver.accepted();
    for r in &all {
        let twin = all.iter().find(|o| o.idempotency_key == r.idempotency_key).unwrap();
        assert_eq!(twin.body, r.body);
    }

    // Erasing Rose takes her notifications and their deliveries with her.
    let (status, _) = api.delete("/v1/people/rose", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK);
    let (_, left) = api.get("/v1/notifications?limit=500", ADMIN_KEY).await;
    assert!(!left.to_string().contains("rose"), "{left}");
    let (status, _) = api
        .delete(
            &format!("/v1/webhooks/{}", wrong["webhook_id"].as_str().unwrap()),
            ADMIN_KEY,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.delete("/v1/webhooks/webhook:nothing", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    receiver.stop().await;
    api.stop().await;
}
