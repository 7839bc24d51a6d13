//! sea-orm entities of the tables created by the `migration` crate.

pub mod attendance_day;
pub mod attendance_event;
pub mod attendance_retraction;
pub mod audit_entry;
pub mod cache_generation;
pub mod camera;
pub mod console_session;
pub mod erased_person;
pub mod face_template;
pub mod group;
pub mod group_member;
pub mod notification;
pub mod notification_channel;
pub mod notification_delivery;
pub mod person;
pub mod person_negative;
pub mod recognize_anchor;
pub mod recognize_cooldown;
pub mod session_schedule;
pub mod unknown_cluster;
pub mod unknown_face;
