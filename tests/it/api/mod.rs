//! The HTTP API over real PostgreSQL, Redis (a server of the test's own) and NATS: enrolment
//! from real photos, attendance read through the cache, erasure, bad input, keys and roles,
//! and the OpenAPI document.

mod attendance;
mod connections;
mod fuzz;
mod input;
mod openapi;
mod people;
mod uploads;
