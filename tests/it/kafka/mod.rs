//! The stages over Kafka: librdkafka's mock cluster (real Kafka protocol on real TCP ports)
//! hosted by the test, or the broker named by `ROLLCALL_TEST_KAFKA`. Every test has its own
//! topics and consumer groups.

mod faults;
mod processes;
mod rebalance;
mod refused;
mod stages;
mod topics;
