//! Groups, schedules and session reports over the API, on real PostgreSQL and Redis: real photos
//! recognized and projected by the pipeline's own stages, delivery in any order, sessions across
//! midnight and a daylight-saving change, a person in two groups, schedule edits, bad input and
//! the running-session metrics.

mod cli;
mod errors;
mod reports;
mod times;
