//! Erasure is final: events redelivered or replayed after an erasure stay out, a recognizer
//! without NATS drops the person on its interval, and no cache entry shows them afterwards.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use rollcall::domain::PersonId;
use rollcall::recognize::SharedGallery;
use rollcall::store::Store;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erased_attendance_stays_out_when_its_events_come_again_and_a_new_enrolment_counts_anew() {
    let db = TestDatabase::create().await;
    redelivery_case(&Store::open(&db.url, 2).await.unwrap()).await;
    db.drop_now().await;
    let work = tempfile::tempdir().unwrap();
    redelivery_case(&Store::open(&config(work.path()).store.url, 1).await.unwrap()).await;
}

async fn redelivery_case(store: &Store) {
    let obama = PersonId::parse("obama").unwrap();
    store.create_person(&obama, "Barack Obama").await.unwrap();
    let before = Utc::now() - TimeDelta::minutes(5);
    let seen = [
        attendance_event("obama", "door", 1, before),
        attendance_event("biden", "door", 2, before),
    ];
    assert_eq!(store.write_attendance(&seen).await.unwrap().inserted, 2);
    let erasure = store.erase_person(&obama, true, "ops").await.unwrap().unwrap();
    assert_eq!(erasure.events, 1);

    // Redelivered, or still in flight when the erasure committed: dropped, and counted.
    let again = store.write_attendance(&seen).await.unwrap();
    assert_eq!((again.inserted, again.duplicates, again.erased), (0, 1, 1));
    let late = store
        .write_attendance(&[attendance_event("obama", "hall", 3, before + TimeDelta::seconds(30))])
        .await
        .unwrap();
    assert_eq!(
        (late.inserted, late.erased),
        (0, 1),
        "seen before the erasure, stored after"
    );
    let people: Vec<String> = store
        .attendance_days()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.person_id)
        .collect();
    assert_eq!(people, ["biden"]);

    // Enrolled again under the same id: what is seen from then on counts, the old events never.
    store.create_person(&obama, "Barack Obama").await.unwrap();
    let after = Utc::now() + TimeDelta::minutes(1);
    let mixed = store
        .write_attendance(&[seen[0].clone(), attendance_event("obama", "door", 9, after)])
        .await
        .unwrap();
    assert_eq!((mixed.inserted, mixed.erased), (1, 1));
    let obama_days: Vec<i64> = store
        .attendance_days()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.person_id == "obama")
        .map(|r| r.events)
        .collect();
    assert_eq!(obama_days, [1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_nats_a_recognizer_drops_an_erased_person_on_its_interval() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    let store = Store::open(&config.store.url, 1).await.unwrap();
    enrol(&store, &config, "obama", "face_recognition/obama/obama.jpg").await;
    let model = config.models.recognizer.clone();
    let gallery = SharedGallery::new(rollcall::recognize::load_gallery(&store, &model).await.unwrap());
    assert_eq!(gallery.current().people(), 1);
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(rollcall::recognize::keep_gallery_current(
        None,
        store.clone(),
        model,
        gallery.clone(),
        Duration::from_secs(1),
        stop.clone(),
    ));
    store
        .erase_person(&PersonId::parse("obama").unwrap(), true, "ops")
        .await
        .unwrap()
        .unwrap();
    let start = Instant::now();
    while gallery.current().people() != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the recognizer still knows the erased person"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    watcher.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_erasure_no_cache_entry_shows_the_person() {
    let api = Api::start(6_000).await;
    for person in CLASS {
        api.create_person(person, &format!("Name of {person}")).await;
    }
    class_with_maths(&api).await;
    let at = |minutes: i64| start_time() + TimeDelta::minutes(minutes);
    api.project(&[
        attendance_event("obama", "door-in", 1, at(5)),
        attendance_event("biden", "door-in", 2, at(6)),
    ])
    .await;
    let day = start_time().date_naive();
    let reads = [
        format!("/v1/attendance/days/{day}"),
        format!("/v1/people/obama/sessions?from={day}&to={day}"),
        format!("/v1/people/obama/attendance?from={day}&to={day}"),
        format!("/v1/schedules/maths/sessions/{day}"),
    ];
    for path in &reads {
        api.ok("GET", path, Value::Null).await;
    }
    // An older generation whose invalidation never reached Redis (it was away then): no reader
    // finds it any more, but it holds the person until its TTL.
    let lingering = format!("{}@0", rollcall::cache::keys::attendance_day(day));
    let copy = api
        .redis
        .cli(&["hgetall", &format!("{}@1", rollcall::cache::keys::attendance_day(day))]);
    let field = copy.lines().next().expect("the day list was cached").to_owned();
    api.redis
        .cli(&["hset", &lingering, &field, "[\"obama\",\"Name of obama\"]"]);
    let showing_obama = || -> Vec<String> {
        api.redis
            .cli(&["--scan", "--pattern", "rollcall:v1:*"])
            .lines()
            .filter(|key| {
                let value = api.redis.cli(&["hgetall", key]);
                value.contains("obama")
            })
            .map(str::to_owned)
            .collect()
    };
    assert!(
        showing_obama().len() >= 5,
        "every read was cached: {:?}",
        showing_obama()
    );

    api.ok("DELETE", "/v1/people/obama", Value::Null).await;
    assert_eq!(showing_obama(), Vec::<String>::new());
    api.stop().await;
}
