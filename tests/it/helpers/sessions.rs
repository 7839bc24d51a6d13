//! Sessions over the API: class 4b and its maths lesson, and reading a session report.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Api;

/// Class 4b: the people enrolled from the shared photos.
pub const CLASS: [&str; 4] = ["biden", "kit", "obama", "rose"];

/// Class 4b as enrolled: id, display name and the photo each is enrolled from.
pub const CLASS_ENROLMENT: [(&str, &str, &str); 4] = [
    ("obama", "Barack Obama", "face_recognition/obama/obama.jpg"),
    ("biden", "Joe Biden", "face_recognition/biden/biden.jpg"),
    ("kit", "Kit Harington", "face_recognition/kit_harington/john1.jpeg"),
    ("rose", "Rose Leslie", "face_recognition/rose_leslie/img1.jpg"),
];

/// Maths for class 4b on Friday 2026-11-20, 09:00–11:00 in Berlin (08:00–10:00 UTC).
pub fn maths() -> Value {
    json!({
        "id": "maths", "name": "Maths", "kind": "once", "date": "2026-11-20",
        "start": "09:00", "end": "11:00", "time_zone": "Europe/Berlin",
        "cameras": ["door-in", "door-out"], "grace_minutes": 5, "early_leave_minutes": 10
    })
}

/// The door cameras, class 4b with everyone in it, and its maths lesson.
pub async fn class_with_maths(api: &Api) {
    api.setup(&[("door-in", "entry"), ("door-out", "exit")], "class-4b", &CLASS)
        .await;
    api.ok("POST", "/v1/groups/class-4b/schedules", maths()).await;
}

/// Each person's status in a report, and the report's counts.
pub fn statuses(report: &Value) -> BTreeMap<String, String> {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["person_id"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One person's entry in a report.
pub fn person<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {report}"))
}
