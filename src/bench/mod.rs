//! Benchmarks (`rollcall bench …`): throughput measured against a baseline in the same run.

mod api;
mod gallery;
mod pipeline;
mod project;
mod scratch;
mod sessions;
mod soak;
mod step_time;
pub mod stream;
mod wrk;

pub use api::{LoadPlan, api_benchmark};
pub use gallery::gallery_benchmark;
pub use pipeline::{make_frames, pipeline_benchmark};
pub use project::project_benchmark;
pub use sessions::sessions_benchmark;
pub use soak::{SoakPlan, soak_benchmark};
pub use stream::stream_benchmark;

/// The middle value of rounds measured in turns (the upper middle of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Follows the cache generations channel as `rollcall serve` does, and waits until cached reads
/// take their generations from memory, so the cached figures are the product's.
async fn follow_generations(
    store: &crate::store::Store,
    stop: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    if !store.follow_generations(stop.clone()) {
        return Ok(()); // SQLite: every cached read asks the database file
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !store.follows_generations() {
        if std::time::Instant::now() > deadline {
            anyhow::bail!("the cache generations channel did not come up within 10 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
