//! Groups, schedules and session reports through the `rollcall` command line.

use chrono::{TimeDelta, Utc};
use rollcall::domain::PersonId;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_groups_and_schedules_and_prints_reports() {
    let work = tempfile::tempdir().unwrap();
    let store = rollcall::store::Store::open(&config(work.path()).store.url, 1)
        .await
        .unwrap();
    for id in ["ana", "bo"] {
        store.create_person(&PersonId::parse(id).unwrap(), id).await.unwrap();
    }
    let run = |args: &[&str]| {
        let out = rollcall(work.path()).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            text,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["groups", "create", "choir"]).0);
    assert!(run(&["groups", "add-member", "choir", "ana"]).0);
    assert!(run(&["groups", "add-member", "choir", "bo", "--from", "2026-11-01"]).0);
    let (ok, _, err) = run(&["groups", "add-member", "choir", "bo", "--from", "2026-11-10"]);
    assert!(!ok && err.contains("already a member"), "{err}");
    let file = work.path().join("rehearsal.json");
    std::fs::write(
        &file,
        json!({
            "id": "rehearsal", "group_id": "choir", "kind": "weekly", "days": ["mon"],
            "start": "18:00", "end": "20:00", "time_zone": "America/New_York"
        })
        .to_string(),
    )
    .unwrap();
    let (ok, _, err) = run(&["groups", "add-schedule", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    // Monday 2026-11-16, 18:00–20:00 in New York is 23:00–01:00 UTC.
    store
        .write_attendance(&[event_at("ana", "hall", "2026-11-16T22:58:00Z")])
        .await
        .unwrap();
    let (ok, csv, err) = run(&["sessions", "report", "rehearsal", "2026-11-16", "--csv"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[0].starts_with("rehearsal,2026-11-16,ana,present,2026-11-16T22:58:00+00:00"),
        "{csv}"
    );
    assert!(lines[1].starts_with("rehearsal,2026-11-16,bo,absent"), "{csv}");
    let (ok, table, _) = run(&["sessions", "report", "rehearsal", "2026-11-16"]);
    assert!(
        ok && table.contains("present 1, late 0, left early 0, absent 1"),
        "{table}"
    );
    let (ok, history, _) = run(&[
        "sessions",
        "history",
        "ana",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-20",
    ]);
    assert!(
        ok && history.contains("2026-11-16  rehearsal") && history.contains("present"),
        "{history}"
    );
    // A session running now: nobody has come yet.
    let started = Utc::now() - TimeDelta::hours(1);
    std::fs::write(
        &file,
        json!({
            "id": "all-day", "group_id": "choir", "kind": "once", "date": started.date_naive(),
            "start": started.format("%H:%M").to_string(), "end": started.format("%H:%M").to_string(),
            "ends_next_day": true, "time_zone": "UTC"
        })
        .to_string(),
    )
    .unwrap();
    assert!(run(&["groups", "add-schedule", file.to_str().unwrap()]).0);
    let (ok, absentees, err) = run(&["sessions", "absentees", "choir"]);
    assert!(ok, "{err}");
    assert!(
        absentees
            .lines()
            .any(|l| l.starts_with("all-day until") && l.ends_with(": ana bo")),
        "{absentees}"
    );
    let (ok, _, err) = run(&["groups", "delete", "choir"]);
    assert!(!ok && err.contains("delete them first"), "{err}");
    let (ok, listed, _) = run(&["groups", "list"]);
    assert!(ok && listed.contains("member    bo  2026-11-01 – …"), "{listed}");
}
