//! Detection, distances and identification on the real photos.

use rollcall::config::Config;
use rollcall::domain::Metric;
use rollcall::recognize::{Identity, MatchRule};
use rollcall::vision::decode_image;

use crate::helpers::*;

#[test]
fn every_single_person_photo_has_exactly_one_confident_face() {
    let mut engine = engine();
    let min_score = Config::default().vision.min_enrol_score;
    for (_, photo) in person_photos() {
        let image = decode_image(&std::fs::read(&photo).unwrap(), u64::MAX).unwrap();
        let faces = engine.detect(&image).unwrap();
        let confident: Vec<_> = faces.iter().filter(|d| d.score >= min_score).collect();
        assert_eq!(confident.len(), 1, "{}: {faces:?}", photo.display());
        // The subject's face is the best detection and not a sliver.
        assert_eq!(faces[0].score, confident[0].score, "{}", photo.display());
        assert!(
            confident[0].h >= 60.0,
            "{}: face only {} px high",
            photo.display(),
            confident[0].h
        );
    }
}

#[test]
fn every_face_in_the_group_photos_is_found() {
    let mut engine = engine();
    let expected = [
        ("multi/kit_with_rose.jpg", 2),
        ("multi/obama-480p.jpg", 1),
        // Obama, Biden, and a child in profile at the bottom right.
        ("multi/obama_and_biden.jpg", 3),
        ("multi/openface_longoria-cooper.jpg", 2),
        ("multi/two_people.jpg", 2),
    ];
    for (file, count) in expected {
        let image = decode_image(&std::fs::read(face(file)).unwrap(), u64::MAX).unwrap();
        let faces = engine.analyze(&image).unwrap();
        assert_eq!(
            faces.len(),
            count,
            "{file}: {:?}",
            faces.iter().map(|f| f.face_box()).collect::<Vec<_>>()
        );
        for (i, a) in faces.iter().enumerate() {
            for b in &faces[i + 1..] {
                let (a, b) = (a.face_box(), b.face_box());
                let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{file}: overlapping boxes {a:?} {b:?}");
            }
        }
    }
}

#[test]
fn same_person_is_below_the_threshold_and_different_people_above() {
    let mut engine = engine();
    let threshold = Config::default().matching.threshold;
    let embedded: Vec<(String, _)> = person_photos()
        .into_iter()
        .map(|(label, photo)| (label, template(&mut engine, &photo).embedding))
        .collect();
    let (mut genuine, mut impostor) = (0, 0);
    for (i, (la, ea)) in embedded.iter().enumerate() {
        for (lb, eb) in &embedded[i + 1..] {
            let d = ea.distance(eb);
            if la == lb {
                genuine += 1;
                assert!(d < threshold, "{la}: two photos of the same person are {d:.3} apart");
            } else {
                impostor += 1;
                assert!(d >= threshold, "{la} and {lb} are only {d:.3} apart");
            }
        }
    }
    assert!(
        genuine >= 10 && impostor >= 200,
        "genuine {genuine}, impostor {impostor}"
    );
}

#[test]
fn identify_names_the_right_person_and_strangers_are_unknown() {
    let mut engine = engine();
    let threshold = MatchRule::new(Metric::L2, Config::default().matching.threshold);
    let (gallery, held_out) = gallery_with_held_out(&mut engine);
    assert!(held_out.len() >= 6);
    for (person, photo) in &held_out {
        let image = decode_image(&std::fs::read(photo).unwrap(), u64::MAX).unwrap();
        let faces = engine.analyze(&image).unwrap();
        let best = faces
            .iter()
            .max_by(|a, b| a.detection.score.total_cmp(&b.detection.score))
            .unwrap();
        match gallery.identify(&best.embedding, threshold) {
            Identity::Known {
                person: found,
                distance,
            } => {
                assert_eq!(&found, person, "{}: matched at {distance:.3}", photo.display())
            }
            other => panic!("{}: {other:?}", photo.display()),
        }
    }
    // People with a single photo are not in the gallery: they must come out unknown.
    let strangers = [
        "facenet_pytorch/angelina_jolie/1.jpg",
        "openface/adams/adams.jpg",
        "openface/carell/carell.jpg",
    ];
    for file in strangers {
        let faces = engine.analyze_bytes(&std::fs::read(face(file)).unwrap()).unwrap();
        for f in faces {
            assert!(
                matches!(gallery.identify(&f.embedding, threshold), Identity::Unknown { .. }),
                "{file}"
            );
        }
    }
    // In a group photo each enrolled person is found by name.
    let faces = engine
        .analyze_bytes(&std::fs::read(face("multi/two_people.jpg")).unwrap())
        .unwrap();
    let mut names: Vec<String> = faces
        .iter()
        .filter_map(|f| match gallery.identify(&f.embedding, threshold) {
            Identity::Known { person, .. } => Some(person.to_string()),
            Identity::Unknown { .. } => None,
        })
        .collect();
    names.sort();
    assert_eq!(names, ["biden", "obama"]);
}

#[test]
fn exif_orientation_is_applied() {
    // Rotate a real photo's pixels and record the rotation in EXIF: the decoded image must be upright again.
    let original = decode_image(
        &std::fs::read(face("openface/clapton/clapton-2.jpg")).unwrap(),
        u64::MAX,
    )
    .unwrap();
    let rotated = image::imageops::rotate90(&original);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(&rotated)
        .unwrap();
    // APP1 Exif segment with a little-endian TIFF header and one entry: Orientation (0x0112) = 8 (rotate 270 to view).
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x08\0\0\0\0\0\0\0".to_vec();
    let len = (exif.len() + 2) as u16;
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&len.to_be_bytes());
    segment.append(&mut exif);
    jpeg.splice(2..2, segment);
    let decoded = decode_image(&jpeg, u64::MAX).unwrap();
    assert_eq!(
        decoded.dimensions(),
        original.dimensions(),
        "EXIF orientation 8 should undo the 90° turn"
    );
    let diff = |a: &image::RgbImage, b: &image::RgbImage| {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.as_raw().len() as f64
    };
    assert!(
        diff(&decoded, &original) < 5.0,
        "decoded image is not the upright original"
    );
    assert!(
        diff(&image::imageops::rotate180(&decoded), &original) > 20.0,
        "the check above must be able to fail"
    );
    let mut engine = engine();
    assert_eq!(engine.analyze(&decoded).unwrap().len(), 1);
}
