//! Publishes, for every group, how many people its running sessions have present, late, left
//! early and absent (`rollcall_sessions_people`), recomputed from the store every interval.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::Status;
use super::report::{Counts, running, session_report};
use crate::store::Store;

/// Sums the running sessions of each group, and zero for groups with none.
pub async fn running_counts(store: &Store) -> anyhow::Result<BTreeMap<String, (u64, Counts)>> {
    let now = Utc::now();
    let mut out: BTreeMap<String, (u64, Counts)> = store
        .groups()
        .await?
        .into_iter()
        .map(|g| (g.id, (0, Counts::default())))
        .collect();
    for (schedule, occurrence) in running(store, None, now).await? {
        let Some(report) = session_report(store, &schedule, occurrence.date, now).await? else {
            continue;
        };
        let (sessions, counts) = out.entry(schedule.group_id.clone()).or_default();
        *sessions += 1;
        counts.present += report.counts.present;
        counts.late += report.counts.late;
        counts.left_early += report.counts.left_early;
        counts.absent += report.counts.absent;
    }
    Ok(out)
}

/// Updates the gauges every `interval` until `stop`. A store error is logged and retried at the
/// next tick; deleted groups' series are removed.
pub async fn run(store: Store, interval: Duration, stop: CancellationToken) {
    let metrics = crate::metrics::metrics();
    let mut shown: Vec<String> = Vec::new();
    loop {
        match running_counts(&store).await {
            Ok(groups) => {
                for gone in shown.iter().filter(|g| !groups.contains_key(*g)) {
                    let _ = metrics.sessions_running.remove_label_values(&[gone]);
                    for status in Status::ALL {
                        let _ = metrics.sessions_people.remove_label_values(&[gone, status.as_str()]);
                    }
                }
                for (group, (sessions, counts)) in &groups {
                    metrics
                        .sessions_running
                        .with_label_values(&[group])
                        .set(*sessions as i64);
                    for status in Status::ALL {
                        metrics
                            .sessions_people
                            .with_label_values(&[group, status.as_str()])
                            .set(counts.get(status) as i64);
                    }
                }
                shown = groups.into_keys().collect();
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "session metrics not updated"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
