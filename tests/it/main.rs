//! Integration tests: the real ONNX models on the real photos in `../shared/faces`, a real
//! SQLite store, and the `rollcall` binary itself. Run `scripts/setup` first (scripts/test does).
//! The harness is in `helpers/`; the other modules hold tests.

mod helpers;

mod anchors;
mod api;
mod cache;
mod cache_follow;
mod camera_limits;
mod cli;
mod console;
mod contracts;
mod corrections;
mod crash;
mod deployment;
mod embedding;
mod enrolment;
mod erasure;
mod gallery_scale;
mod kafka;
mod model_card;
mod models;
mod negatives;
mod notifications;
mod observability;
mod operations;
mod pipeline;
mod postgres;
mod properties;
mod recognition;
mod restart;
mod review;
mod review_decisions;
mod sessions;
mod sources;
mod tracks;
mod usecases;
