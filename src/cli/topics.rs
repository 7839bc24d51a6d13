//! `rollcall topics plan|apply`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::topics::{Action, apply, existing_topics, load_specs, plan};

#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(subcommand)]
    action: TopicsAction,
    /// Folder of topic declarations.
    #[arg(long, default_value = "topics", global = true)]
    dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum TopicsAction {
    /// Show what `apply` would do to the configured cluster.
    Plan,
    /// Create missing topics, add partitions, and set topic configuration.
    Apply,
}

pub async fn topics(config: &Config, args: TopicsArgs) -> anyhow::Result<ExitCode> {
    let specs = load_specs(&args.dir)?;
    let kafka = config.kafka.clone();
    let existing = tokio::task::spawn_blocking(move || existing_topics(&kafka)).await??;
    let actions = plan(&specs, &config.kafka.topics, &existing);
    for action in &actions {
        println!("{action}");
    }
    match args.action {
        TopicsAction::Plan => {
            let blocked = actions.iter().any(|a| matches!(a, Action::CannotShrink { .. }));
            Ok(if blocked { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        TopicsAction::Apply => {
            apply(&config.kafka, &actions).await?;
            println!("applied {} action(s) to {}", actions.len(), config.kafka.brokers);
            Ok(ExitCode::SUCCESS)
        }
    }
}
