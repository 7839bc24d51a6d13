//! The anchor rule behind exactly-once in track mode: a camera started afresh at any anchor of
//! its stream steps exactly as the uninterrupted camera did from there, which is what lets a
//! restarted recognizer skip the frames before a recorded anchor (docs/contracts.md, 2.4).

use rollcall::bench::stream::scene::{Pass, Path};
use rollcall::domain::Frame;
use rollcall::recognize::track::{CameraTracks, FrameHead, StepContext, TrackStep};
use rollcall::recognize::{MatchRule, TrackConfig};

use crate::helpers::*;

/// What a step did, in a form two runs can be compared by. The tracks it ended that began
/// before frame `from` are left out: at an anchor they are the predecessor's, which decided and
/// sent them before the anchor was recorded.
fn summary(step: &TrackStep, from: u64) -> String {
    let decided: Vec<_> = step
        .decisions
        .iter()
        .filter(|d| d.first_seq >= from)
        .map(|d| format!("{}@{} {:.4}", d.person, d.first_seq, d.distance))
        .collect();
    let unknown: Vec<_> = step
        .unknown
        .iter()
        .map(|u| u.first_seq)
        .filter(|&s| s >= from)
        .collect();
    format!(
        "detected {} anchor {} faces {} embedded {} open {} decided {decided:?} unknown {unknown:?}",
        step.detected, step.anchor, step.faces, step.embedded, step.open_tracks
    )
}

/// Steps one fresh camera through `frames` and ends it: each step's anchor flag and summary
/// (without tracks begun before frame `from`).
fn steps(frames: &[Frame], from: u64) -> Vec<(bool, String)> {
    let mut engine = engine();
    let gallery = obama_and_biden().current();
    let config = TrackConfig::default();
    let rule = MatchRule::new(engine.metric(), 0.55);
    let mut cx = StepContext {
        engine: &mut engine,
        gallery: &gallery,
        rule,
        config: &config,
    };
    let mut camera = CameraTracks::default();
    let mut out: Vec<_> = frames
        .iter()
        .map(|frame| {
            let head = FrameHead {
                camera: frame.camera.clone(),
                seq: frame.seq,
                captured_at: frame.captured_at,
            };
            let step = camera.step(&mut cx, &head, &frame.data).unwrap();
            (step.anchor, summary(&step, from))
        })
        .collect();
    out.push((true, summary(&camera.finish(&config), from)));
    out
}

/// Resumes at (up to) `tries` anchors spread over the stream; returns the anchors it had.
fn resuming_at_anchors_repeats_the_uninterrupted_run(frames: &[Frame], tries: usize) -> Vec<usize> {
    let first = steps(frames, 0);
    let anchors: Vec<usize> = (1..frames.len()).filter(|&n| first[n].0).collect();
    let stride = anchors.len().div_ceil(tries).max(1);
    for &from in anchors.iter().step_by(stride) {
        let whole = steps(frames, from as u64);
        let resumed = steps(&frames[from..], from as u64);
        for (k, (again, before)) in resumed.iter().zip(&whole[from..]).enumerate() {
            assert_eq!(again, before, "resumed at frame {from}: step {} differs", from + k);
        }
    }
    anchors
}

#[test]
fn a_camera_resumed_at_an_anchor_of_a_door_stream_decides_what_it_decided_uninterrupted() {
    let people = [
        walker("face_recognition/obama/test_obama1.jpg"),
        walker("face_recognition/biden/biden2.jpg"),
        walker("face_recognition/kit_harington/john1.jpeg"),
    ];
    // Passes with a long empty stretch between them, where only the forced detection runs.
    let passes = [
        Pass {
            person: 0,
            first: 3,
            last: 20,
            path: Path::Cross { leftwards: false },
            lane: 0.4,
        },
        Pass {
            person: 2,
            first: 15,
            last: 30,
            path: Path::Peek,
            lane: 0.6,
        },
        Pass {
            person: 1,
            first: 105,
            last: 125,
            path: Path::Approach { rightwards: true },
            lane: 0.4,
        },
    ];
    let frames = door_stream("door", &people, &passes, 130);
    let anchors = resuming_at_anchors_repeats_the_uninterrupted_run(&frames, 8);
    // The first motion, forced detections in the empty stretch, and the last pass.
    assert!(anchors.len() >= 3, "anchors to resume at: {anchors:?}");
}

#[test]
fn a_camera_resumed_at_an_anchor_of_separate_photos_decides_what_it_decided_uninterrupted() {
    // Separate photos, each for a few frames: every change is a scene cut.
    let photos = [
        "face_recognition/obama/test_obama1.jpg",
        "multi/kit_with_rose.jpg",
        "face_recognition/kit_harington/john2.jpeg",
        "multi/obama-480p.jpg",
        "face_recognition/biden/biden2.jpg",
    ]
    .map(|p| small_jpeg(&face(p)));
    let frames: Vec<Frame> = (0..40u64)
        .map(|seq| frame("hall", seq, &photos[(seq / 4) as usize % photos.len()]))
        .collect();
    let anchors = resuming_at_anchors_repeats_the_uninterrupted_run(&frames, 6);
    assert!(anchors.len() >= 3, "anchors to resume at: {anchors:?}");
}
