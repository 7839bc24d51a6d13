//! What a frame's analysis makes: events and unknown faces from the faces of one frame (frame
//! mode) or from the tracks a frame decided or ended (track mode), through the cooldown.

use std::collections::HashMap;

use base64::Engine as _;

use super::{FrameOutcome, RecognizeWorker};
use crate::domain::{ATTENDANCE_SCHEMA_VERSION, AttendanceEvent, CameraId, PersonId, UnknownFaceEvent};
use crate::recognize::gallery::Identity;
use crate::recognize::track::camera::encode_crop;
use crate::recognize::track::{FrameHead, TrackDecision, TrackStep};
use crate::vision::Face;

impl RecognizeWorker {
    /// Matches faces against the gallery. A person seen twice in one frame counts once, with
    /// the closer face.
    pub fn match_faces(&mut self, frame: &FrameHead, faces: &[Face]) -> FrameOutcome {
        let model_id = self.inference.model_id.as_str();
        let gallery = self.gallery.current();
        let mut best: HashMap<PersonId, (f32, &Face)> = HashMap::new();
        let mut outcome = FrameOutcome::default();
        let metrics = crate::metrics::metrics();
        let faces_seen = |outcome: &str| {
            metrics
                .recognize_faces
                .with_label_values(&[frame.camera.as_str(), outcome])
        };
        for face in faces {
            let identity = gallery.identify(&face.embedding, self.rule);
            match &identity {
                Identity::Known { distance, .. } => {
                    faces_seen("recognized").inc();
                    metrics.recognize_match_distance.observe(f64::from(*distance));
                }
                Identity::Unknown { nearest } => {
                    faces_seen("unknown").inc();
                    if let Some(nearest) = nearest {
                        metrics.recognize_unknown_distance.observe(f64::from(*nearest));
                    }
                }
            }
            match identity {
                Identity::Known { person, distance } => {
                    let entry = best.entry(person).or_insert((distance, face));
                    if distance < entry.0 {
                        *entry = (distance, face);
                    }
                }
                Identity::Unknown { nearest } => outcome.unknown.push(UnknownFaceEvent {
                    schema_version: ATTENDANCE_SCHEMA_VERSION,
                    camera_id: frame.camera.clone(),
                    frame_seq: frame.seq,
                    seen_at: frame.captured_at,
                    face_box: face.face_box(),
                    nearest_distance: nearest,
                    embedding: face.embedding.clone(),
                    model_id: model_id.to_owned(),
                    face_crop_jpeg: None,
                    matched_person_id: None,
                }),
            }
        }
        let mut people: Vec<_> = best.into_iter().collect();
        people.sort_by(|a, b| a.0.cmp(&b.0));
        for (person, (distance, face)) in people {
            if !self.cooldown.admit(&frame.camera, &person, frame.captured_at) {
                outcome.suppressed += 1;
                continue;
            }
            let mut event = AttendanceEvent::new(
                person,
                frame.camera.clone(),
                frame.seq,
                frame.captured_at,
                distance,
                face.face_box(),
                model_id,
            );
            // A distance reads as a similarity by the recognizer's own metric.
            event.similarity = self.rule.metric.similarity(distance);
            if self.doubts(distance) {
                // Frame mode aligns no chip to show: the face goes to review without a crop.
                outcome.unknown.push(UnknownFaceEvent {
                    schema_version: ATTENDANCE_SCHEMA_VERSION,
                    camera_id: frame.camera.clone(),
                    frame_seq: frame.seq,
                    seen_at: frame.captured_at,
                    face_box: face.face_box(),
                    nearest_distance: Some(distance),
                    embedding: face.embedding.clone(),
                    model_id: model_id.to_owned(),
                    face_crop_jpeg: None,
                    matched_person_id: Some(event.person_id.clone()),
                });
            }
            outcome.events.push(event);
        }
        outcome
    }

    /// Turns what a frame did to its camera's tracks into events: a decided track is one
    /// attendance event (through the cooldown), an unknown track one unknown-face event with
    /// its best face.
    pub(super) fn track_outcome(&mut self, camera: &CameraId, step: TrackStep) -> FrameOutcome {
        let metrics = crate::metrics::metrics();
        let label = camera.as_str();
        self.stats.faces += step.faces as u64;
        if step.ended {
            // The end of a stream looks at no frame: nothing was detected or skipped.
        } else if step.detected {
            metrics.recognize_faces_per_frame.observe(step.faces as f64);
        } else {
            let reason = if step.open_tracks > 0 { "coasting" } else { "still" };
            metrics
                .recognize_detection_skipped
                .with_label_values(&[label, reason])
                .inc();
        }
        let tracks = |outcome: &str, n: usize| {
            metrics
                .recognize_tracks
                .with_label_values(&[label, outcome])
                .inc_by(n as u64)
        };
        tracks("known", step.decisions.len());
        tracks("unknown", step.unknown.len());
        tracks("faceless", step.faceless);
        let mut outcome = FrameOutcome::default();
        for decision in step.decisions {
            metrics.recognize_match_distance.observe(f64::from(decision.distance));
            if !self.cooldown.admit(camera, &decision.person, decision.first_at) {
                outcome.suppressed += 1;
                continue;
            }
            if self.doubts(decision.distance)
                && let Some(face) = &decision.best_face
            {
                outcome.unknown.push(UnknownFaceEvent {
                    schema_version: ATTENDANCE_SCHEMA_VERSION,
                    camera_id: camera.clone(),
                    frame_seq: decision.first_seq,
                    seen_at: decision.first_at,
                    face_box: face.face_box,
                    nearest_distance: Some(decision.distance),
                    embedding: face.embedding.clone(),
                    model_id: self.inference.model_id.clone(),
                    face_crop_jpeg: Some(encode_base64(&encode_crop(&face.chip))),
                    matched_person_id: Some(decision.person.clone()),
                });
            }
            outcome.events.push(self.track_event(camera, decision));
        }
        let model_id = &self.inference.model_id;
        for unknown in step.unknown {
            if let Some(nearest) = unknown.nearest_distance {
                metrics.recognize_unknown_distance.observe(f64::from(nearest));
            }
            outcome.unknown.push(UnknownFaceEvent {
                schema_version: ATTENDANCE_SCHEMA_VERSION,
                camera_id: camera.clone(),
                frame_seq: unknown.first_seq,
                seen_at: unknown.first_at,
                face_box: unknown.face_box,
                nearest_distance: unknown.nearest_distance,
                embedding: unknown.embedding,
                model_id: model_id.clone(),
                face_crop_jpeg: Some(encode_base64(&unknown.crop_jpeg)),
                matched_person_id: None,
            });
        }
        outcome
    }

    /// Whether an accepted match at `distance` is near enough the threshold to be reviewed
    /// (`review.match_margin`).
    fn doubts(&self, distance: f32) -> bool {
        crate::review::ReviewConfig::doubts(self.review_margin, self.rule.threshold, distance)
    }

    /// The attendance event of a decided track: its id derives from the camera, the track's
    /// first frame and the person.
    fn track_event(&self, camera: &CameraId, decision: TrackDecision) -> AttendanceEvent {
        let mut event = AttendanceEvent::new(
            decision.person,
            camera.clone(),
            decision.first_seq,
            decision.first_at,
            decision.distance,
            decision.face_box,
            self.inference.model_id.as_str(),
        );
        event.similarity = self.rule.metric.similarity(decision.distance);
        event
    }
}

fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
