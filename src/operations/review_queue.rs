//! Publishes the review queue (`rollcall_review_clusters{status}`, `rollcall_review_flagged_clusters`)
//! from the store every interval, for the dashboards and alerts.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::review::ReviewConfig;
use crate::store::Store;

/// Updates the gauges every `interval` until `stop`; a store error is logged and retried at the
/// next tick.
pub async fn run(store: Store, review: ReviewConfig, interval: Duration, stop: CancellationToken) {
    let metrics = crate::metrics::metrics();
    loop {
        match store.review_queue(review.flag_after.max(1)).await {
            Ok((counts, flagged)) => {
                for (status, n) in counts {
                    metrics
                        .review_clusters
                        .with_label_values(&[status.as_str()])
                        .set(n as i64);
                }
                metrics.review_flagged_clusters.set(flagged as i64);
            }
            Err(e) => tracing::warn!(error = %e, "review metrics not updated"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
