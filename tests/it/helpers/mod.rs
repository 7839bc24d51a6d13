//! The harness every integration test shares: configuration, photos, the face engine, the services
//! (PostgreSQL, Redis, Kafka, NATS, Prometheus, an OTLP receiver), child processes and the API
//! client. Feature files `use crate::helpers::*` and hold only tests.

mod api;
mod cameras;
mod compare;
mod compose;
mod config;
mod dashboards;
mod engine;
mod events;
mod frames;
mod kafka;
mod models;
mod otlp;
mod photos;
mod ports;
mod postgres;
mod process;
mod prometheus;
mod redis;
mod reference;
mod rng;
mod scenarios;
mod sessions;
mod stack;
mod stages;
mod store;
mod tracks;
mod video;

pub use api::*;
pub use cameras::*;
pub use compare::*;
pub use compose::*;
pub use config::*;
pub use dashboards::*;
pub use engine::*;
pub use events::*;
pub use frames::*;
pub use kafka::*;
pub use models::*;
pub use otlp::*;
pub use photos::*;
pub use ports::*;
pub use postgres::*;
pub use process::*;
pub use prometheus::*;
pub use redis::*;
pub use reference::*;
pub use rng::*;
pub use scenarios::*;
pub use sessions::*;
pub use stack::*;
pub use stages::*;
pub use store::*;
pub use tracks::*;
pub use video::*;
