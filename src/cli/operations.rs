//! `rollcall replay` and `rollcall retention`.

use std::process::ExitCode;

use clap::Args;

use crate::config::{BusKind, Config};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Events per store transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
}

pub async fn replay(config: &Config, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    if config.bus.kind != BusKind::Kafka {
        anyhow::bail!("`rollcall replay` reads the attendance topic: set bus.kind = \"kafka\" and [kafka] brokers");
    }
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    let cache = config
        .redis
        .url
        .as_deref()
        .map(crate::cache::Cache::connect)
        .transpose()?;
    let stats = crate::operations::replay::replay(&config.kafka, &store, cache.as_ref(), args.batch.max(1)).await?;
    println!(
        "replay: {} messages, {} new events, {} already stored, {} of erased people (left out), {} retracted, {} invalid (skipped)",
        stats.messages, stats.inserted, stats.duplicates, stats.erased, stats.retracted, stats.invalid
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Overrides `retention.attendance_days` for this run.
    #[arg(long)]
    attendance_days: Option<u32>,
}

pub async fn retention(config: &Config, args: RetentionArgs) -> anyhow::Result<ExitCode> {
    let mut retention = config.retention.clone();
    if let Some(days) = args.attendance_days {
        retention.attendance_days = days;
    }
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    let deleted = crate::operations::retention::apply(&store, &retention, chrono::Utc::now()).await?;
    if let Some(url) = &config.redis.url
        && let Err(e) = crate::cache::Cache::connect(url)?
            .invalidate(&deleted.generations)
            .await
    {
        tracing::warn!(error = %e, keys = deleted.generations.len(), "cache invalidation failed (readers are safe: keys are versioned)");
    }
    println!(
        "retention: {} attendance events and {} attendance days deleted (older than {} days), {} cooldown entries, \
         {} unknown faces (older than {} days) and {} emptied clusters",
        deleted.events,
        deleted.days,
        retention.attendance_days,
        deleted.cooldowns,
        deleted.unknown_faces,
        retention.unknown_days.max(1),
        deleted.unknown_clusters
    );
    Ok(ExitCode::SUCCESS)
}
