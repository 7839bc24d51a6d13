//! Enrolment: per-photo errors, the rest still enrolled, and idempotent re-enrolment.

use rollcall::enroll::{PhotoError, template_from_photo};

use crate::helpers::*;

#[test]
fn bad_photos_get_their_own_clear_error() {
    let mut engine = engine();
    let work = tempfile::tempdir().unwrap();
    let blank = work.path().join("blank.png");
    faceless_png(&blank);
    type Expectation = fn(&PhotoError) -> bool;
    let cases: Vec<(Vec<u8>, Expectation)> = vec![
        (std::fs::read(&blank).unwrap(), |e| matches!(e, PhotoError::NoFace)),
        (std::fs::read(face("multi/two_people.jpg")).unwrap(), |e| {
            matches!(e, PhotoError::SeveralFaces(2))
        }),
        (b"definitely not a jpeg".to_vec(), |e| {
            matches!(e, PhotoError::Decode(_))
        }),
        (
            std::fs::read(face("face_recognition/obama/obama.jpg")).unwrap()[..5000].to_vec(),
            |e| matches!(e, PhotoError::Decode(_)),
        ),
    ];
    for (i, (bytes, expected)) in cases.into_iter().enumerate() {
        let err = template_from_photo(&mut engine, &bytes, "case", enrol_criteria()).unwrap_err();
        assert!(expected(&err), "case {i}: unexpected error {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn enroll_dir_reports_bad_photos_and_enrols_the_rest_once() {
    let work = tempfile::tempdir().unwrap();
    let gallery = work.path().join("gallery");
    link(
        &face("face_recognition/obama/obama.jpg"),
        &gallery.join("obama"),
        "a.jpg",
    );
    link(
        &face("face_recognition/obama/obama2.jpg"),
        &gallery.join("obama"),
        "b.jpg",
    );
    link(&face("multi/two_people.jpg"), &gallery.join("obama"), "group.jpg");
    std::fs::write(gallery.join("obama/broken.jpg"), b"\xff\xd8\xff\xe0 truncated").unwrap();
    link(
        &face("face_recognition/biden/biden.jpg"),
        &gallery.join("Joe Biden"),
        "1.jpg",
    );
    faceless_png(&gallery.join("nobody/blank.png"));

    let out = rollcall(work.path())
        .args(["enroll", "--dir"])
        .arg(&gallery)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("group.jpg: 2 faces found"), "{stderr}");
    assert!(stderr.contains("broken.jpg: not a usable image"), "{stderr}");
    assert!(stderr.contains("blank.png: no face found"), "{stderr}");
    assert!(stderr.contains("not enrolled (no usable photo): nobody"), "{stderr}");
    assert!(
        stdout.contains("obama: 2 template(s) from 4 photo(s), 2 new"),
        "{stdout}"
    );
    assert!(
        stdout.contains("joe-biden: 1 template(s) from 1 photo(s), 1 new"),
        "{stdout}"
    );

    // The same photos again add nothing.
    let again = rollcall(work.path())
        .args(["enroll", "--dir"])
        .arg(&gallery)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("obama: 2 template(s) from 4 photo(s), 0 new"),
        "{stdout}"
    );

    // --strict turns rejected photos into a failure.
    let strict = rollcall(work.path())
        .args(["enroll", "--strict", "--dir"])
        .arg(&gallery)
        .output()
        .unwrap();
    assert!(!strict.status.success());
}

#[test]
fn enroll_one_person_with_a_name() {
    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .args(["enroll", "--person", "kit", "--name", "Kit Harington"])
        .arg(face("face_recognition/kit_harington/john1.jpeg"))
        .arg(face("face_recognition/kit_harington/john2.jpeg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = rollcall(work.path())
        .args(["enroll", "--person", "Not Valid"])
        .arg(face("face_recognition/obama/obama.jpg"))
        .output();
    let bad = bad.unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("may contain only"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
