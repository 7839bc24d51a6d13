//! `rollcall migrate up|down|status` and `rollcall migrate-store`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::store::{Store, redact};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Direction {
    Up,
    Down,
    Status,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[arg(value_enum, default_value = "up")]
    direction: Direction,
    /// How many migrations `down` reverts.
    #[arg(long, default_value_t = 1)]
    steps: u32,
}

#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The store to copy, e.g. `sqlite://.rollcall/rollcall.db` (the embedded default's).
    #[arg(long)]
    from: String,
}

/// Copies the store at `--from` into the configured store (`store.url`), which is migrated
/// first and must be empty; every table's count is checked before the copy is committed.
pub async fn migrate_store(config: &Config, args: MigrateStoreArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = crate::store::sqlite_path(&args.from)
        && !std::path::Path::new(path).is_file()
    {
        anyhow::bail!("{path} does not exist: give the SQLite store to copy");
    }
    if args.from == config.store.url {
        anyhow::bail!("--from is the configured store itself; set store.url to the target");
    }
    let from = Store::open(&args.from, 2).await?;
    let to = Store::open(&config.store.url, config.store.max_connections).await?;
    let copied = crate::store::copy_store(&from, &to).await?;
    for table in &copied {
        println!("{:<20} {:>8} rows copied and counted", table.table, table.target);
    }
    println!("{} copied into {}", redact(&args.from), redact(&config.store.url));
    Ok(ExitCode::SUCCESS)
}

pub async fn migrate(config: &Config, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&config.store.url, config.store.max_connections).await?;
    match args.direction {
        Direction::Up => {
            store.migrate_up().await?;
            println!("store {} is up to date", redact(&config.store.url));
        }
        Direction::Down => {
            store.migrate_down(args.steps).await?;
            println!("reverted {} migration(s)", args.steps);
        }
        Direction::Status => {
            for (name, applied) in store.migration_status().await? {
                println!("{}  {name}", if applied { "applied" } else { "pending" });
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
