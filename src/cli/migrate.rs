//! `rollcall migrate up|down|status`.

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
