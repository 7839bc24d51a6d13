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
    let report = eval_json(work.path());
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

#[test]
fn eval_reports_tar_at_fixed_false_accept_rates_and_the_open_set_figure() {
    let work = tempfile::tempdir().unwrap();
    let report = eval_json(work.path());
    let impostor_pairs = report["impostor"]["pairs"].as_f64().unwrap();
    let points = report["tar_at_far"].as_array().unwrap();
    let targets: Vec<f64> = points.iter().map(|p| p["far_target"].as_f64().unwrap()).collect();
    assert_eq!(targets, vec![1e-2, 1e-3, 1e-4]);
    let mut measured = 0;
    for p in points {
        let target = p["far_target"].as_f64().unwrap();
        if impostor_pairs < 1.0 / target {
            assert!(
                p["threshold"].is_null() && p["tar"].is_null(),
                "too few pairs to tell: {p}"
            );
            continue;
        }
        measured += 1;
        assert!(p["far"].as_f64().unwrap() <= target, "{p}");
        // On this set every genuine pair is closer than every impostor pair.
        assert_eq!(p["tar"], 1.0, "{p}");
        assert!(
            p["threshold"].as_f64().unwrap() > report["genuine"]["max"].as_f64().unwrap(),
            "{p}"
        );
    }
    assert!(measured >= 1, "the shared set measures FAR 1e-2: {report}");
    let open = &report["open_set"];
    assert_eq!(open["probes"], report["photos_with_face"], "{open}");
    // No impostor pair is under the threshold, so nobody left out is taken for someone else.
    assert_eq!(open["accepted_as_someone_else"], 0, "{open}");

    let text = rollcall(work.path()).arg("eval").arg(faces()).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("TAR at FAR 1e-2: 100.0 %"), "{text}");
    assert!(text.contains("TAR at FAR 1e-4: not measurable"), "{text}");
    assert!(text.contains("open set at 0.55: 0.0 %"), "{text}");
}
