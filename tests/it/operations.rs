//! Operations a site runs over the years: moving the embedded SQLite store into PostgreSQL,
//! rebuilding projections from the attendance topic, and retention.

use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_moves_a_populated_sqlite_store_into_postgresql() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    enrol_and_film(&config, work.path()).await;
    rollcall::topology::run_embedded(&config, CancellationToken::new())
        .await
        .unwrap();
    let sqlite = Store::open(&config.store.url, 1).await.unwrap();
    // What the API and the Kafka recognizer add: an audit entry and the cooldown ledger.
    sqlite
        .audit(
            "ops",
            "person.renamed",
            "obama",
            serde_json::json!({ "display_name": "Barack Obama" }),
        )
        .await
        .unwrap();
    let seen = rollcall::domain::CameraId::parse("front-door").unwrap();
    let obama = rollcall::domain::PersonId::parse("obama").unwrap();
    sqlite
        .record_emissions(&[(seen, obama.clone(), chrono::Utc::now())])
        .await
        .unwrap();
    // A correction: an event added by hand, then taken back.
    let added = rollcall::domain::AttendanceCorrection {
        schema_version: rollcall::domain::CORRECTION_SCHEMA_VERSION,
        correction_id: uuid::Uuid::from_u128(1),
        correction: rollcall::domain::CorrectionKind::Addition,
        event_id: rollcall::domain::AttendanceCorrection::added_event_id(uuid::Uuid::from_u128(1)),
        person_id: obama.clone(),
        camera_id: rollcall::domain::CameraId::parse("manual").unwrap(),
        seen_at: chrono::Utc::now(),
        actor: "ops".into(),
        reason: "seen at the desk".into(),
        corrected_at: chrono::Utc::now(),
    };
    let taken_back = rollcall::domain::AttendanceCorrection {
        correction_id: uuid::Uuid::from_u128(2),
        correction: rollcall::domain::CorrectionKind::Retraction,
        ..added.clone()
    };
    sqlite.apply_corrections(&[&added]).await.unwrap();
    let outcome = sqlite.apply_corrections(&[&taken_back]).await.unwrap();
    assert_eq!(outcome.retracted, 1);
    // A group with a member and a schedule.
    assert!(sqlite.create_group("staff", "Staff", "ops").await.unwrap());
    let always = rollcall::store::Period {
        from: None,
        until: None,
    };
    sqlite.add_member("staff", "obama", always, "ops").await.unwrap();
    let spec: rollcall::timetable::spec::ScheduleSpec = serde_json::from_value(serde_json::json!({
        "kind": "weekly", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00",
        "time_zone": "Europe/London"
    }))
    .unwrap();
    let schedule = spec.into_schedule("office-hours", "staff").unwrap();
    sqlite.write_schedule(&schedule, false, "ops").await.unwrap();
    let before = counts(&sqlite).await;
    assert!(
        before.iter().all(|(_, n)| *n > 0),
        "every table has rows to move: {before:?}"
    );

    let db = TestDatabase::create().await;
    let migrate = |from: &str| {
        rollcall(work.path())
            .env("ROLLCALL__STORE__URL", &db.url)
            .args(["migrate-store", "--from", from])
            .output()
            .unwrap()
    };
    let moved = migrate(&config.store.url);
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(said.contains("attendance_events"), "{said}");

    let postgres = Store::open(&db.url, 2).await.unwrap();
    assert_eq!(counts(&postgres).await, before);
    assert_eq!(
        postgres.attendance_days().await.unwrap(),
        sqlite.attendance_days().await.unwrap()
    );
    assert_eq!(
        postgres.attendance_events().await.unwrap(),
        sqlite.attendance_events().await.unwrap()
    );
    let (a, b) = (
        rollcall::recognize::load_gallery(&postgres, &config.models.recognizer)
            .await
            .unwrap(),
        rollcall::recognize::load_gallery(&sqlite, &config.models.recognizer)
            .await
            .unwrap(),
    );
    assert_eq!((a.len(), a.people()), (b.len(), b.people()));

    // Again into the now populated database: refused, and nothing changes.
    let again = migrate(&config.store.url);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("the target store is not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(counts(&postgres).await, before);
    // A source that does not exist is not created empty.
    let missing = migrate(&format!("sqlite://{}/nothing.db?mode=rwc", work.path().display()));
    assert!(!missing.status.success());
    assert!(!work.path().join("nothing.db").exists());
    drop(postgres);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_into_an_empty_database_gives_the_rows_of_the_original_run() {
    let kafka = TestKafka::start().await;
    let (original_db, rebuilt_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let work = tempfile::tempdir().unwrap();
    let mut config = kafka.config(work.path());
    config.store.url = original_db.url.clone();

    kafka.create_topics(&config, 3).await;
    let original = Store::open(&original_db.url, 2).await.unwrap();
    for (person, photo) in [
        ("obama", "face_recognition/obama/obama.jpg"),
        ("biden", "face_recognition/biden/biden.jpg"),
        ("kit", "face_recognition/kit_harington/john1.jpeg"),
        ("rose", "face_recognition/rose_leslie/img1.jpg"),
    ] {
        enrol(&original, &config, person, photo).await;
    }
    link(
        &face("face_recognition/obama/test_obama1.jpg"),
        &work.path().join("cameras/door"),
        "1.jpg",
    );
    link(
        &face("multi/two_people.jpg"),
        &work.path().join("cameras/door"),
        "2.jpg",
    );
    link(
        &face("multi/kit_with_rose.jpg"),
        &work.path().join("cameras/hall"),
        "1.jpg",
    );
    let stages = recognize_and_project_cameras(&config).await;
    let expected = ["biden", "kit", "obama", "rose"].map(String::from).into();
    wait_for_people(&original, &expected, std::time::Duration::from_secs(90)).await;
    stages.shutdown.cancel();
    stages.recognize.await.unwrap().unwrap();
    stages.project.await.unwrap().unwrap();

    let replay = |db: &str| {
        let out = rollcall(work.path())
            .envs(config_env(&config))
            .env("ROLLCALL__STORE__URL", db)
            .arg("replay")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
        said
    };
    let first = replay(&rebuilt_db.url);
    assert!(
        first.contains("replay: 4 messages, 4 new events, 0 already stored"),
        "{first}"
    );
    let rebuilt = Store::open(&rebuilt_db.url, 2).await.unwrap();
    assert_eq!(events_as_seen(&rebuilt).await, events_as_seen(&original).await);
    assert_eq!(
        rebuilt.attendance_days().await.unwrap(),
        original.attendance_days().await.unwrap()
    );
    // Again: nothing new; and into the original database: nothing changes either.
    let second = replay(&rebuilt_db.url);
    assert!(second.contains("0 new events, 4 already stored"), "{second}");
    let days = original.attendance_days().await.unwrap();
    assert!(replay(&original_db.url).contains("0 new events, 4 already stored"));
    assert_eq!(original.attendance_days().await.unwrap(), days);
    // Kit erased since: a replay brings nothing of theirs back.
    let kit = rollcall::domain::PersonId::parse("kit").unwrap();
    original.erase_person(&kit, true, "ops").await.unwrap().unwrap();
    let after_erasure = replay(&original_db.url);
    assert!(
        after_erasure.contains("0 new events, 3 already stored, 1 of erased people"),
        "{after_erasure}"
    );
    let days = original.attendance_days().await.unwrap();
    assert!(days.iter().all(|r| r.person_id != "kit") && days.len() == 3, "{days:?}");
    drop((original, rebuilt));
    original_db.drop_now().await;
    rebuilt_db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_only_what_is_older_than_the_cutoff() {
    let db = TestDatabase::create().await;
    retention_case(&Store::open(&db.url, 2).await.unwrap()).await;
    db.drop_now().await;
    // The embedded store too.
    let work = tempfile::tempdir().unwrap();
    retention_case(&Store::open(&config(work.path()).store.url, 1).await.unwrap()).await;
}

async fn retention_case(store: &Store) {
    use chrono::{TimeDelta, TimeZone, Utc};
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
    let cutoff = now - TimeDelta::days(30);
    let mut events = Vec::new();
    // Five people on the day before the cutoff's, one just before and one just after the cutoff
    // on its day, and two recent ones.
    for (i, person) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        events.push(attendance_event(person, "door", i as u64, cutoff - TimeDelta::days(1)));
    }
    events.push(attendance_event("f", "door", 10, cutoff - TimeDelta::seconds(1)));
    events.push(attendance_event("g", "door", 11, cutoff + TimeDelta::seconds(1)));
    events.push(attendance_event("a", "door", 12, now - TimeDelta::days(1)));
    events.push(attendance_event("h", "door", 13, now));
    store.write_attendance(&events).await.unwrap();
    let old_day = rollcall::cache::keys::attendance_day((cutoff - TimeDelta::days(1)).date_naive());
    let generation_before = store.cache_generation(&old_day).await.unwrap();
    let ledger = |person: &str, at| {
        (
            rollcall::domain::CameraId::parse("door").unwrap(),
            rollcall::domain::PersonId::parse(person).unwrap(),
            at,
        )
    };
    store
        .record_emissions(&[
            ledger("a", now - TimeDelta::hours(30)),
            ledger("h", now - TimeDelta::minutes(5)),
        ])
        .await
        .unwrap();

    let config = rollcall::config::RetentionConfig {
        attendance_days: 30,
        cooldown_hours: 24,
        unknown_days: 7,
        batch: 2,
    };
    let deleted = rollcall::operations::retention::apply(store, &config, now)
        .await
        .unwrap();
    assert_eq!(
        (deleted.events, deleted.days, deleted.cooldowns),
        (6, 5, 1),
        "{deleted:?}"
    );
    let mut kept: Vec<(String, i64)> = store
        .attendance_events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.person_id, e.frame_seq))
        .collect();
    kept.sort();
    assert_eq!(kept, [("a".into(), 12), ("g".into(), 11), ("h".into(), 13)]);
    // Days before the cutoff's date go; the cutoff's own day stays (g, and f's day row with it).
    let mut days: Vec<(String, chrono::NaiveDate)> = store
        .attendance_days()
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.person_id, d.day))
        .collect();
    days.sort();
    let cutoff_day = cutoff.date_naive();
    assert_eq!(
        days,
        [
            ("a".into(), (now - TimeDelta::days(1)).date_naive()),
            ("f".into(), cutoff_day),
            ("g".into(), cutoff_day),
            ("h".into(), now.date_naive()),
        ]
    );
    assert!(store.cache_generation(&old_day).await.unwrap() > generation_before);
    // Nothing left to delete: a second run deletes nothing.
    let again = rollcall::operations::retention::apply(store, &config, now)
        .await
        .unwrap();
    assert_eq!((again.events, again.days, again.cooldowns), (0, 0, 0));
    // 0 days keeps attendance forever.
    let forever = rollcall::config::RetentionConfig {
        attendance_days: 0,
        ..config
    };
    let none = rollcall::operations::retention::apply(store, &forever, now + TimeDelta::days(999))
        .await
        .unwrap();
    assert_eq!((none.events, none.days), (0, 0));
}
