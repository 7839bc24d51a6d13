//! Observability against live processes: a real Prometheus server scraping a running pipeline
//! runs every dashboard panel query and every alert rule; spans exported over OTLP join one
//! frame's work across processes into one trace; the dashboards name exactly the code's metrics.

mod metrics;
mod traces;
