//! Operations a site runs on a live deployment: rebuilding projections from the attendance
//! topic (`replay`) and deleting what is past its retention (`retention`).

pub mod replay;
pub mod retention;
