//! Property tests over everything that reads outside input: image decoding (arbitrary bytes and
//! real JPEG, PNG and WebP photos mutated), the Kafka codecs and their headers, event validation,
//! schedule specs and configuration. Whatever the input: a value or a typed error, never a panic.

use std::io::Cursor;
use std::sync::OnceLock;

use proptest::prelude::*;
use rollcall::bus::kafka::{Codec, EventCodec, FrameCodec};
use rollcall::domain::{AttendanceEvent, CameraId, FaceBox, PersonId};
use rollcall::timetable::spec::ScheduleSpec;
use rollcall::vision::decode_image;

use crate::helpers::*;

const MAX_PIXELS: u64 = 4_000_000;

/// A real photo, small, in each format the decoder takes.
fn real_images() -> &'static [Vec<u8>; 3] {
    static IMAGES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let photo = image::load_from_memory(&photo("face_recognition/obama/obama.jpg"))
            .unwrap()
            .thumbnail(160, 160);
        let encode = |format| {
            let mut out = Vec::new();
            photo.write_to(&mut Cursor::new(&mut out), format).unwrap();
            out
        };
        [
            encode(image::ImageFormat::Jpeg),
            encode(image::ImageFormat::Png),
            encode(image::ImageFormat::WebP),
        ]
    })
}

/// Changes to a byte string: overwrite, insert, remove, truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..64)).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Remove(at, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match m {
            Mutation::Set(at, b) => bytes[at % len] = *b,
            Mutation::Insert(at, more) => {
                let at = at % len;
                bytes.splice(at..at, more.iter().copied());
            }
            Mutation::Remove(at, n) => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_decode_to_an_image_or_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(image) = decode_image(&bytes, MAX_PIXELS) {
            prop_assert!(u64::from(image.width()) * u64::from(image.height()) <= MAX_PIXELS);
        }
    }

    #[test]
    fn mutated_real_photos_decode_to_an_image_or_a_typed_error(
        format in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let bytes = mutate(real_images()[format].clone(), &mutations);
        match decode_image(&bytes, MAX_PIXELS) {
            Ok(image) => prop_assert!(u64::from(image.width()) * u64::from(image.height()) <= MAX_PIXELS),
            Err(error) => prop_assert!(!error.kind().is_empty() && !error.to_string().is_empty()),
        }
    }

    #[test]
    fn frame_headers_decode_or_name_what_is_wrong(
        camera in "\\PC{0,20}",
        seq in "\\PC{0,24}",
        captured_at in "\\PC{0,40}",
        drop_one in proptest::option::of(0usize..4),
        raw in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("camera-id".into(), camera.into_bytes()),
            ("frame-seq".into(), seq.into_bytes()),
            ("captured-at".into(), captured_at.into_bytes()),
            ("content-type".into(), raw),
        ];
        if let Some(i) = drop_one {
            headers.remove(i);
        }
        match FrameCodec.decode("k", b"payload", &headers) {
            Ok(frame) => prop_assert_eq!(frame.data, b"payload".to_vec()),
            Err(failure) => prop_assert!(["missing_header", "invalid_header"].contains(&failure.kind), "{:?}", failure),
        }
    }

    #[test]
    fn attendance_payloads_decode_only_to_valid_events(
        mutations in proptest::collection::vec(mutation(), 0..6),
        garbage in proptest::collection::vec(any::<u8>(), 0..256),
        use_garbage in any::<bool>(),
    ) {
        let event = AttendanceEvent::new(
            PersonId::parse("obama").unwrap(),
            CameraId::parse("door").unwrap(),
            7,
            "2026-11-30T08:00:00Z".parse().unwrap(),
            0.4,
            FaceBox { x: 1, y: 2, w: 30, h: 40 },
            "dlib_resnet_v1",
        );
        let bytes = if use_garbage { garbage } else { mutate(EventCodec::<AttendanceEvent>::default().encode(&event).payload, &mutations) };
        match EventCodec::<AttendanceEvent>::default().decode("obama", &bytes, &[]) {
            Ok(decoded) => prop_assert!(decoded.validate().is_ok()),
            Err(failure) => prop_assert!(["invalid_json", "invalid_event"].contains(&failure.kind), "{:?}", failure),
        }
    }

    #[test]
    fn events_with_any_numbers_validate_or_say_why(
        seq in any::<u64>(),
        seconds in any::<i64>(),
        distance in any::<f32>(),
        model in "\\PC{0,80}",
    ) {
        let Some(seen_at) = chrono::DateTime::from_timestamp(seconds % 200_000_000_000, 0) else {
            return Ok(());
        };
        let event = AttendanceEvent::new(
            PersonId::parse("ana").unwrap(),
            CameraId::parse("door").unwrap(),
            seq,
            seen_at,
            distance,
            FaceBox { x: 0, y: 0, w: 1, h: 1 },
            model,
        );
        if let Err(why) = event.validate() {
            prop_assert!(!why.to_string().is_empty());
        }
    }

    #[test]
    fn schedule_specs_become_schedules_or_say_why(
        kind in prop_oneof![Just("once".to_owned()), Just("weekly".to_owned()), "\\PC{0,8}"],
        date in proptest::option::of((-300_000i32..300_000, 1u32..13, 1u32..32)),
        days in proptest::collection::vec(prop_oneof![Just("mon".to_owned()), "\\PC{0,6}"], 0..4),
        start in "[0-9:]{0,6}",
        end in "[0-9:]{0,6}",
        zone in prop_oneof![Just("Europe/Berlin".to_owned()), Just("UTC".to_owned()), "\\PC{0,12}"],
        next_day in any::<bool>(),
        on in (1970i32..3000, 1u32..13, 1u32..29),
    ) {
        let date = date.map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
        let json = serde_json::json!({
            "kind": kind, "date": date, "days": days, "start": start, "end": end,
            "ends_next_day": next_day, "time_zone": zone, "cameras": ["door"],
        });
        // Reading the JSON refuses dates outside the supported range; the rest is `into_schedule`'s.
        let Ok(spec) = serde_json::from_value::<ScheduleSpec>(json) else { return Ok(()) };
        match spec.into_schedule("maths", "class") {
            Ok(schedule) => {
                let on = chrono::NaiveDate::from_ymd_opt(on.0, on.1, on.2).unwrap();
                let _ = schedule.timing.occurrence_on(on);
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn configuration_files_and_variables_load_or_say_why(
        text in "\\PC{0,200}",
        key in "[A-Z_]{1,30}",
        value in "\\PC{0,30}",
    ) {
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join("rollcall.toml");
        std::fs::write(&file, &text).unwrap();
        if let Err(e) = rollcall::config::Config::load(Some(&file), []) {
            let message = format!("{e:#}");
            prop_assert!(!message.is_empty());
        }
        let env = [(format!("ROLLCALL__{key}"), value)];
        if let Err(e) = rollcall::config::Config::load(None, env) {
            let message = format!("{e:#}");
            prop_assert!(!message.is_empty());
        }
    }
}
