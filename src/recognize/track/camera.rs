//! One camera's tracks, stepped frame by frame: gate on motion, detect, associate, embed the
//! faces worth it, decide, and end tracks.

use image::RgbImage;

use super::boxes::{BoxF, Motion, associate};
use super::decide::{Vote, pooled};
use super::motion::Thumbnail;
use super::quality::{geometric, same_view, sharpness};
use super::{FrameHead, TrackConfig, TrackDecision, TrackStep, UnknownTrack};
use crate::domain::{Embedding, FaceBox};
use crate::recognize::gallery::{Gallery, MatchRule};
use crate::vision::{Detection, FaceEngine, VisionError, align_face, decode_image};

/// A camera's state between frames. Empty tracks and the last thumbnail are all there is at a
/// quiescent point.
#[derive(Default)]
pub struct CameraTracks {
    /// The last frame's thumbnail and capture time: the reference of the motion gate.
    previous: Option<(Thumbnail, chrono::DateTime<chrono::Utc>)>,
    since_detection: u32,
    tracks: Vec<Track>,
}

struct Track {
    first_seq: u64,
    first_at: chrono::DateTime<chrono::Utc>,
    motion: Motion,
    /// Frames with motion since the face was last detected.
    since_seen: u32,
    /// Detections in a row that did not find the face.
    misses: u32,
    /// Detections that found the face; until the second, its velocity is unknown.
    hits: u32,
    age: u32,
    best_quality: f32,
    /// Detections of the face since it was last embedded.
    since_embedding: u32,
    votes: Vec<Vote>,
    /// The face box of each vote's face.
    vote_boxes: Vec<FaceBox>,
    /// Each vote's embedding, and the vote of their mean once there are two.
    looks: Vec<Embedding>,
    pooled: Option<Vote>,
    /// The landmarks of the face last embedded: a face that has not moved since is the same
    /// picture, and embedding it again would only repeat a vote.
    last_landmarks: Option<[[f32; 2]; 5]>,
    best: Option<BestFace>,
    decided: bool,
}

struct BestFace {
    face_box: FaceBox,
    embedding: Embedding,
    distance: Option<f32>,
    chip: RgbImage,
}

/// What a step needs besides the frame.
pub struct StepContext<'a> {
    pub engine: &'a mut FaceEngine,
    pub gallery: &'a Gallery,
    pub rule: MatchRule,
    pub config: &'a TrackConfig,
}

impl CameraTracks {
    pub fn open_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Takes the camera's next frame.
    pub fn step(&mut self, cx: &mut StepContext<'_>, head: &FrameHead, data: &[u8]) -> Result<TrackStep, VisionError> {
        let max_pixels = cx.engine.settings().max_pixels;
        let c = cx.config;
        // The gate's thumbnail is made from the bytes alone, the same way whether or not the
        // frame is then decoded in full: the state after an anchor must not depend on what
        // came before it (see `recognize::commits`). Only bytes the scaled decoder refuses
        // (PNG) are decoded in full for it.
        let (thumbnail, mut decoded) = match Thumbnail::from_jpeg(data, max_pixels) {
            Some(thumbnail) => (thumbnail, None),
            None => {
                let image = decode_image(data, max_pixels)?;
                (Thumbnail::from_image(&image), Some(image))
            }
        };
        // A reference too far apart in capture time says nothing about this frame, and a
        // restart could not have it: the frame is judged as if the camera had just started.
        let gap = chrono::TimeDelta::milliseconds(c.reference_gap_ms as i64);
        let changed = match &self.previous {
            Some((previous, at)) if (head.captured_at - *at).abs() <= gap => {
                thumbnail.changed_share(previous, c.pixel_delta)
            }
            _ => 1.0,
        };
        let mut step = TrackStep::default();
        // Most of the picture changed at once: another scene (the camera moved, the lights
        // went, or frames that are separate photos). Nothing on it continues a track.
        if changed >= c.scene_cut_share {
            self.end_tracks(c, None, &mut step);
        }
        let moved = changed > c.motion_share;
        self.since_detection = self.since_detection.saturating_add(1);
        for track in &mut self.tracks {
            track.age += 1;
            // A still picture moved nobody: the prediction only advances with motion.
            if moved {
                track.since_seen += 1;
            }
        }
        // A young track's velocity is unknown: it cannot coast yet.
        let young = self.tracks.iter().any(|t| t.hits < 2);
        let due = if self.tracks.is_empty() {
            moved || self.since_detection >= c.force_detect_every
        } else {
            young || (self.since_detection >= c.detect_every && (moved || self.since_detection >= c.force_detect_every))
        };
        // No track before the detector runs: the camera's state after this frame depends on
        // this frame alone (see `recognize::commits`).
        step.anchor = due && self.tracks.is_empty();
        if due {
            let image = match decoded.take() {
                Some(image) => image,
                None => decode_image(data, max_pixels)?,
            };
            self.detect(cx, head, &image, &mut step)?;
        }
        self.end_tracks(c, Some(&thumbnail), &mut step);
        self.previous = Some((thumbnail, head.captured_at));
        step.open_tracks = self.tracks.len();
        Ok(step)
    }

    fn detect(
        &mut self,
        cx: &mut StepContext<'_>,
        head: &FrameHead,
        image: &RgbImage,
        step: &mut TrackStep,
    ) -> Result<(), VisionError> {
        step.detected = true;
        self.since_detection = 0;
        let min = cx.engine.settings().min_face_px as f32;
        let detections: Vec<Detection> = cx
            .engine
            .detect(image)?
            .into_iter()
            .filter(|d| d.w >= min && d.h >= min)
            .collect();
        step.faces = detections.len();
        let predicted: Vec<BoxF> = self.tracks.iter().map(|t| t.motion.predict(t.since_seen)).collect();
        let boxes: Vec<BoxF> = detections.iter().map(box_of).collect();
        let pairs = associate(&predicted, &boxes, cx.config.min_iou);
        // Which track each detection belongs to: a matched one, or a new one.
        let mut owner: Vec<Option<usize>> = vec![None; detections.len()];
        let mut found = vec![false; self.tracks.len()];
        for &(t, d) in &pairs {
            owner[d] = Some(t);
            found[t] = true;
            let track = &mut self.tracks[t];
            track.motion.update(boxes[d], track.since_seen);
            track.since_seen = 0;
            track.hits += 1;
        }
        for (track, found) in self.tracks.iter_mut().zip(found) {
            track.misses = if found { 0 } else { track.misses + 1 };
        }
        for (d, slot) in owner.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = Some(self.tracks.len());
                self.tracks.push(Track::start(head, boxes[d]));
            }
        }
        for (d, t) in owner.into_iter().enumerate() {
            let t = t.expect("every detection has a track by now");
            if let Some(decision) = self.consider(cx, t, &detections[d], image, step)? {
                step.decisions.push(decision);
            }
        }
        Ok(())
    }

    /// Embeds the track's face when it is usable and clearly better than the track's best so
    /// far; returns the track's decision if this embedding settles it.
    fn consider(
        &mut self,
        cx: &mut StepContext<'_>,
        t: usize,
        detection: &Detection,
        image: &RgbImage,
        step: &mut TrackStep,
    ) -> Result<Option<TrackDecision>, VisionError> {
        let c = cx.config;
        let track = &mut self.tracks[t];
        if track.decided || track.votes.len() >= c.max_embeddings {
            return Ok(None);
        }
        track.since_embedding += 1;
        // Size, score, pose and being wholly inside the picture say whether a face is usable;
        // sharpness only ranks the usable ones (a walking person is always a little blurred).
        let inside = detection.x >= 1.0
            && detection.y >= 1.0
            && detection.x + detection.w <= image.width() as f32 - 1.0
            && detection.y + detection.h <= image.height() as f32 - 1.0;
        let geometry = geometric(detection, cx.engine.settings().min_face_px as f32);
        if !inside || geometry < c.min_quality {
            return Ok(None);
        }
        // A clearly better face is always worth it; an undecided track also takes another
        // look at a face nearly as good after a while, for a second opinion.
        let better = track.best_quality * c.better_by;
        let another_look = track.best.is_some() && track.since_embedding > c.reembed_after;
        let enough = if another_look { track.best_quality * 0.8 } else { better };
        if geometry < enough || (another_look && same_view(track.last_landmarks.as_ref(), detection)) {
            return Ok(None);
        }
        let chip = align_face(image, &detection.landmarks, cx.engine.chip());
        let quality = geometry * (0.5 + 0.5 * sharpness(&chip));
        if quality < enough {
            return Ok(None);
        }
        let embedding = cx
            .engine
            .embedder()
            .embed(std::slice::from_ref(&chip))?
            .pop()
            .ok_or_else(|| VisionError::Inference("the recognizer returned no embedding".into()))?;
        step.embedded += 1;
        track.since_embedding = 0;
        let vote = Vote::in_gallery(&embedding, cx.gallery, cx.rule, &c.rule());
        let face_box = face_box_of(detection);
        let embedding_of_look = embedding.clone();
        if quality > track.best_quality {
            track.best_quality = quality;
            track.best = Some(BestFace {
                face_box,
                embedding,
                distance: vote.distance,
                chip,
            });
        }
        track.votes.push(vote);
        track.vote_boxes.push(face_box);
        track.last_landmarks = Some(detection.landmarks);
        track.looks.push(embedding_of_look);
        // Only a track's end uses the pooled vote, but the gallery is at hand here, not there;
        // the last look's recomputation is the one that counts.
        if let Some(mean) = pooled(&track.looks) {
            track.pooled = Some(Vote::in_gallery(&mean, cx.gallery, cx.rule, &c.rule()));
        }
        Ok(c.rule().decide_open(&track.votes).map(|person| track.decide(person)))
    }

    /// Ends every open track: the stream is over.
    pub fn finish(&mut self, config: &TrackConfig) -> TrackStep {
        let mut step = TrackStep::end();
        self.end_tracks(config, None, &mut step);
        step
    }

    /// Ends the tracks that lost their face, left `frame` or grew too old (every track without
    /// a frame); a track that was never decided is decided now on its evidence, or reported
    /// unknown with its best face.
    fn end_tracks(&mut self, c: &TrackConfig, frame: Option<&Thumbnail>, step: &mut TrackStep) {
        let mut kept = Vec::with_capacity(self.tracks.len());
        for track in std::mem::take(&mut self.tracks) {
            let Some(frame) = frame else {
                track.close(c, step);
                continue;
            };
            let gone = !track
                .motion
                .predict(track.since_seen)
                .overlaps_frame(frame.frame_width, frame.frame_height);
            if track.misses < c.max_misses && track.age < c.max_track_frames && !gone {
                kept.push(track);
                continue;
            }
            track.close(c, step);
        }
        self.tracks = kept;
    }
}

impl Track {
    /// The end of the track: an undecided one is decided on its evidence now, or reported
    /// unknown with its best face.
    fn close(mut self, c: &TrackConfig, step: &mut TrackStep) {
        tracing::debug!(
            first_seq = self.first_seq,
            age = self.age,
            hits = self.hits,
            decided = self.decided,
            best_quality = self.best_quality,
            votes = ?self.votes.iter().map(|v| (v.person.as_ref().map(|p| p.as_str().to_owned()), v.distance)).collect::<Vec<_>>(),
            pooled = ?self.pooled.as_ref().map(|v| (v.person.as_ref().map(|p| p.as_str().to_owned()), v.distance)),
            "track ended"
        );
        if self.decided {
            return;
        }
        if let Some(person) = c.rule().decide_closed(&self.votes, self.pooled.as_ref()) {
            step.decisions.push(self.decide(person));
        } else if let Some(best) = self.best {
            step.unknown.push(UnknownTrack {
                first_seq: self.first_seq,
                first_at: self.first_at,
                face_box: best.face_box,
                nearest_distance: best.distance,
                embedding: best.embedding,
                crop_jpeg: encode_crop(&best.chip),
            });
        } else {
            step.faceless += 1;
        }
    }

    fn start(head: &FrameHead, at: BoxF) -> Self {
        Self {
            first_seq: head.seq,
            first_at: head.captured_at,
            motion: Motion::start(at),
            since_seen: 0,
            misses: 0,
            hits: 1,
            age: 0,
            best_quality: 0.0,
            since_embedding: 0,
            votes: Vec::new(),
            vote_boxes: Vec::new(),
            looks: Vec::new(),
            pooled: None,
            last_landmarks: None,
            best: None,
            decided: false,
        }
    }

    /// The decision for `person`, with the closest of the track's faces that voted for them.
    fn decide(&mut self, person: crate::domain::PersonId) -> TrackDecision {
        self.decided = true;
        let (distance, face_box) = self
            .votes
            .iter()
            .zip(&self.vote_boxes)
            .filter(|(v, _)| v.person.as_ref() == Some(&person))
            .filter_map(|(v, b)| v.distance.map(|d| (d, *b)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((0.0, FaceBox { x: 0, y: 0, w: 0, h: 0 }));
        TrackDecision {
            person,
            first_seq: self.first_seq,
            first_at: self.first_at,
            distance,
            face_box,
            best_face: self.best.as_ref().map(|best| super::ReviewFace {
                face_box: best.face_box,
                embedding: best.embedding.clone(),
                chip: best.chip.clone(),
            }),
        }
    }
}

fn box_of(d: &Detection) -> BoxF {
    BoxF {
        x: d.x,
        y: d.y,
        w: d.w,
        h: d.h,
    }
}

fn face_box_of(d: &Detection) -> FaceBox {
    FaceBox {
        x: d.x.round() as i32,
        y: d.y.round() as i32,
        w: d.w.round() as i32,
        h: d.h.round() as i32,
    }
}

/// The aligned face as a JPEG for review: at most the chip's size (150 px for dlib).
pub(crate) fn encode_crop(chip: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding an in-memory RGB image cannot fail; an empty crop is still a valid event.
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(chip);
    out
}
