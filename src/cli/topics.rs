//! `rollcall topics plan|apply|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::topics::{Action, apply, check_topic, deployed_name, existing_topics, load_specs, plan, value_validator};

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
    /// Check the newest messages of every topic against its declaration (value schema, headers).
    Check {
        /// Messages to read per topic, spread over its partitions.
        #[arg(long, default_value_t = 100)]
        sample: usize,
    },
}

pub async fn topics(config: &Config, args: TopicsArgs) -> anyhow::Result<ExitCode> {
    let specs = load_specs(&args.dir)?;
    if let TopicsAction::Check { sample } = args.action {
        return check(config, &args.dir, specs, sample).await;
    }
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
        TopicsAction::Check { .. } => unreachable!("handled above"),
    }
}

async fn check(
    config: &Config,
    dir: &std::path::Path,
    specs: Vec<crate::topics::TopicSpec>,
    sample: usize,
) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for spec in specs {
        let schema = value_validator(dir, &spec)?;
        let topic = deployed_name(&spec.name, &config.kafka.topics);
        let kafka = config.kafka.clone();
        let report = tokio::task::spawn_blocking(move || check_topic(&kafka, &spec, &topic, &schema, sample)).await??;
        all_valid &= report.is_valid();
        println!("{report}");
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
