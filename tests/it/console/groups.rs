//! Groups and sessions in the console: a group made, members added, a schedule running now, a
//! report that shows someone late, its CSV, who is missing now, and a mistaken sighting taken
//! back from the corrections page.

use chrono::{TimeDelta, Utc};

use super::sign_in;
use crate::helpers::*;

/// A fixed-offset zone in which it is about noon now, so that a session from half an hour ago to
/// half an hour ahead never crosses midnight, whenever the test runs.
fn zone_at_noon() -> (String, TimeDelta) {
    let hour = i64::from(chrono::Timelike::hour(&Utc::now()));
    let offset = 12 - hour; // -11 ..= 12
    // The Etc zones' signs are POSIX's: Etc/GMT-3 is three hours ahead of UTC.
    let name = match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    (name, TimeDelta::hours(offset))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_report_shows_someone_late_downloads_as_csv_and_names_who_is_missing() {
    let api = Api::start(6_000).await;
    api.enrol_people(&[
        ("obama", "Barack Obama", "face_recognition/obama/obama.jpg"),
        ("biden", "Joe Biden", "face_recognition/biden/biden.jpg"),
    ])
    .await;
    let browser = Browser::start().await;
    sign_in(&browser, &api, ADMIN_KEY).await;
    browser.open(&api.url("/console/groups")).await;
    browser.fill("#group_id", "class-4b").await;
    browser.fill("#group_name", "Class 4b").await;
    browser.submit("form[action='/console/groups'] button").await;
    assert_eq!(browser.text("h1").await, "Class 4b");

    // A person id that is not one: the API's message next to the field, nobody added.
    browser.fill("#member_id", "Not Anyone!").await;
    browser.submit("form[action$='/members'] button").await;
    let said = browser.text("#member_id-error").await;
    assert!(said.starts_with("person id \"Not Anyone!\""), "{said}");
    for person in ["obama", "biden"] {
        browser.fill("#member_id", person).await;
        browser.submit("form[action$='/members'] button").await;
        browser.find(&format!("a[href='/console/people/{person}']")).await;
    }

    // A session from half an hour ago to half an hour ahead, with ten minutes' grace.
    let (zone, offset) = zone_at_noon();
    let local = Utc::now().naive_utc() + offset;
    let (start, end) = (local - TimeDelta::minutes(30), local + TimeDelta::minutes(30));
    browser.fill("#schedule_id", "maths").await;
    browser.fill("#schedule_name", "Maths").await;
    browser
        .find("#schedule_kind option[value='once']")
        .await
        .click()
        .await
        .unwrap();
    let date = start.date().to_string();
    // Date and time fields take what is typed in the browser's own order; set them as values.
    for (id, value) in [
        ("schedule_date", date.clone()),
        ("schedule_start", start.format("%H:%M").to_string()),
        ("schedule_end", end.format("%H:%M").to_string()),
    ] {
        browser
            .client
            .execute(
                &format!("document.getElementById('{id}').value = arguments[0]; return true"),
                vec![value.into()],
            )
            .await
            .unwrap();
    }
    browser.fill("#schedule_time_zone", "Nowhere/Atlantis").await;
    browser.fill("#schedule_grace", "10").await;
    browser.submit("form.schedule button").await;
    let said = browser.text("#schedule-error").await;
    assert!(said.contains("Nowhere/Atlantis"), "{said}");
    assert!(
        !browser.has("a[href='/console/schedules/maths']").await,
        "no schedule was made"
    );
    browser.fill("#schedule_time_zone", &zone).await;
    browser.submit("form.schedule button").await;
    browser.find("a[href='/console/schedules/maths']").await;
    assert!(browser.text("ul.missing").await.contains("obama"));

    // Obama comes in now, half an hour after the start: late. Biden is still missing.
    let seen = frame_at("door", Utc::now(), "face_recognition/obama/test_obama1.jpg");
    assert_eq!(api.feed(&[seen]).await.len(), 1);
    browser.open(&api.url("/console/groups/class-4b")).await;
    let missing = browser.text("ul.missing").await;
    assert!(missing.contains("biden") && !missing.contains("obama"), "{missing}");
    browser.screenshot("group").await;

    browser
        .open(&api.url(&format!("/console/schedules/maths/sessions/{date}")))
        .await;
    let obama = browser.text("#report tr[data-person='obama'] .status").await;
    assert!(obama.starts_with("late by "), "{obama}");
    assert_eq!(browser.text("#report tr[data-person='biden'] .status").await, "absent");
    browser.screenshot("session-report").await;

    // The CSV downloads as a file, with the same outcomes.
    let link = browser.find("a[download]").await.attr("href").await.unwrap().unwrap();
    let downloaded = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-disposition'), await r.text()]));",
            vec![link.into()],
        )
        .await
        .unwrap();
    assert_eq!(downloaded[0], 200, "{downloaded}");
    assert_eq!(downloaded[1], format!("attachment; filename=\"maths-{date}.csv\""));
    let csv = downloaded[2].as_str().unwrap();
    assert!(csv.contains(&format!("maths,{date},obama,late,")), "{csv}");
    assert!(csv.contains(&format!("maths,{date},biden,absent,")), "{csv}");

    // The sighting was a mistake: taken back from the review pages, with a reason, and the
    // report follows.
    let today = Utc::now().date_naive();
    browser
        .open(&api.url(&format!("/console/review/corrections?person=obama&day={today}")))
        .await;
    browser.screenshot("corrections").await;
    browser
        .fill("#events input[name='reason']", "a look-alike, not him")
        .await;
    browser.submit("#events button").await;
    assert!(browser.text("p.notice").await.starts_with("Taken back"));
    assert!(browser.page_text().await.contains("No events that day."));
    browser
        .open(&api.url(&format!("/console/schedules/maths/sessions/{date}")))
        .await;
    assert_eq!(browser.text("#report tr[data-person='obama'] .status").await, "absent");
    browser.open(&api.url("/console/schedules/maths")).await;
    browser
        .find(&format!("a[href='/console/schedules/maths/sessions/{date}']"))
        .await;
    browser.screenshot("schedule").await;
    browser.open(&api.url("/console/groups")).await;
    browser.find("a[href='/console/groups/class-4b']").await;
    browser.screenshot("groups").await;
    browser.close().await;
}
