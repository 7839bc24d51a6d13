//! Operations a site runs on a live deployment: rebuilding projections from the attendance
//! topic (`replay`), deleting what is past its retention (`retention`), and the review queue's
//! gauges (`review_queue`).

pub mod replay;
pub mod retention;
pub mod review_queue;
