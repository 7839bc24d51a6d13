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
pub mod deploy;
pub mod domain;
pub mod enroll;
pub mod eval;
pub mod gallery;
pub mod metrics;
pub mod models;
pub mod operations;
pub mod pipeline;
pub mod runtime;
pub mod shutdown;
pub mod stages;
pub mod store;
pub mod telemetry;
pub mod topics;
pub mod vision;

/// Makes ring the process's TLS crypto provider, once: the HTTPS clients (model downloads, trace
/// export) are built without one of their own, as the database and NATS clients use ring too.
pub fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
