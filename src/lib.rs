//! rollcall: face-recognition attendance as an event-driven stream processor.
//!
//! Frames flow ingest → recognize → project over a bus; each stage is a library function so
//! that the one binary, its subcommands and the tests all run the same code.

pub mod api;
pub mod bench;
pub mod bus;
pub mod cache;
pub mod cli;
pub mod config;
pub mod control;
pub mod domain;
pub mod enroll;
pub mod eval;
pub mod http;
pub mod http_server;
pub mod ingest;
pub mod metrics;
pub mod models;
pub mod notify;
pub mod operations;
pub mod project;
pub mod recognize;
pub mod retry;
pub mod review;
pub mod runtime;
pub mod sessions;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod timetable;
pub mod topics;
pub mod topology;
pub mod usecases;
pub mod vision;
