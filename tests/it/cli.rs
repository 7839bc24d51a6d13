//! The `identify` and `eval` commands as a user runs them.

use crate::helpers::*;

#[test]
fn identify_prints_each_face_and_clear_errors() {
    let work = tempfile::tempdir().unwrap();
    let enrolled = rollcall(work.path())
        .args(["enroll", "--person", "obama"])
        .arg(face("face_recognition/obama/obama.jpg"))
        .arg(face("face_recognition/obama/obama2.jpg"))
        .output()
        .unwrap();
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );

    let blank = work.path().join("blank.png");
    faceless_png(&blank);
    let corrupt = work.path().join("corrupt.jpg");
    let mut bytes = std::fs::read(face("face_recognition/obama/obama3.jpg")).unwrap();
    bytes.truncate(bytes.len() / 3);
    std::fs::write(&corrupt, bytes).unwrap();

    let out = rollcall(work.path())
        .arg("identify")
        .arg(face("multi/two_people.jpg"))
        .arg(&blank)
        .arg(&corrupt)
        .arg(face("face_recognition/obama/test_obama1.jpg"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "errors must give a failing exit status");
    let two: Vec<&str> = stdout.lines().filter(|l| l.contains("two_people.jpg")).collect();
    assert_eq!(two.len(), 2, "{stdout}");
    assert_eq!(
        two.iter().filter(|l| l.contains("  obama  distance")).count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        two.iter().filter(|l| l.contains("  unknown  distance")).count(),
        1,
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("test_obama1.jpg") && l.contains("  obama  distance")),
        "{stdout}"
    );
    assert!(stderr.contains("blank.png: error: no face found"), "{stderr}");
    assert!(stderr.contains("corrupt.jpg: error: corrupt image"), "{stderr}");
}

#[test]
fn eval_json_reports_the_shared_set() {
    let work = tempfile::tempdir().unwrap();
    let out = rollcall(work.path())
        .arg("eval")
        .arg(faces())
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["detection_rate"], 1.0, "{report}");
    assert_eq!(report["rank1_accuracy"], 1.0, "{report}");
    assert_eq!(report["false_accept_rate"], 0.0, "{report}");
    assert_eq!(report["accept_rate"], 1.0, "{report}");
    assert!(report["genuine"]["max"].as_f64().unwrap() < report["impostor"]["min"].as_f64().unwrap());
    assert!(report["photos"].as_u64().unwrap() >= 20);
}

#[test]
fn missing_runtime_library_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("nope/libonnxruntime.so.1.31.1");
    let stderr = identify_fails_with(work.path(), "ROLLCALL__RUNTIME__ONNXRUNTIME_LIB", &missing);
    assert!(
        stderr.contains("ONNX Runtime library not found") && stderr.contains("scripts/setup"),
        "{stderr}"
    );
}

#[test]
fn corrupted_model_is_a_clear_error_naming_file_and_hash() {
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    for entry in std::fs::read_dir(repo().join(".rollcall/models")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, models.join(path.file_name().unwrap())).unwrap();
    }
    let target = models.join("dlib_face_recognition_resnet_model_v1.onnx");
    let mut perms = std::fs::metadata(&target).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&target, perms).unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&target, bytes).unwrap();
    let stderr = identify_fails_with(work.path(), "ROLLCALL__MODELS__DIR", &models);
    assert!(
        stderr.contains("dlib_face_recognition_resnet_model_v1.onnx is corrupted")
            && stderr.contains("2772fed7e260c03a30178774814e8cf280becc6168193b317f9f751521f7ae14"),
        "{stderr}"
    );
}
