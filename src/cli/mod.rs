//! The command line: one subcommand per stage or task.

mod attendance;
mod enroll;
mod identify;
mod migrate;
mod models;
mod operations;
mod review;
mod run;
mod sessions;
mod topics;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "rollcall",
    version,
    about = "Face-recognition attendance: cameras in, attendance records out"
)]
pub struct Cli {
    /// Configuration file (TOML). `ROLLCALL__SECTION__KEY` variables override it.
    #[arg(long, global = true, env = "ROLLCALL_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage in one process (embedded default: in-process bus and SQLite) and print attendance.
    Run(run::RunArgs),
    /// Publish the configured cameras' frames to Kafka (one stage, for scale-out).
    Ingest,
    /// Recognize frames from Kafka in the recognizer consumer group until stopped.
    Recognize,
    /// Project attendance events, and unknown faces for review, from Kafka into the store until stopped.
    Project,
    /// Serve the HTTP API (people, enrolment, erasure, attendance, cameras, health) until stopped.
    Serve,
    /// Enrol people from photos: one person, or a folder with one sub-folder per person.
    Enroll(enroll::EnrollArgs),
    /// Print every face in the images with its identity (or `unknown`) and distance.
    Identify(identify::IdentifyArgs),
    /// Evaluate detection and recognition on a folder-per-person photo set.
    Eval(identify::EvalArgs),
    /// Apply, revert or list schema migrations of the configured store.
    Migrate(migrate::MigrateArgs),
    /// Copy a store (the embedded SQLite one) into the configured store, checking every table's count.
    MigrateStore(migrate::MigrateStoreArgs),
    /// Rebuild the store's attendance from the retained attendance topic (idempotent).
    Replay(operations::ReplayArgs),
    /// Delete attendance older than `retention.attendance_days`, unknown faces older than
    /// `retention.unknown_days`, and stale cooldown entries.
    Retention(operations::RetentionArgs),
    /// Manage groups, their members and their session schedules.
    Groups(sessions::GroupsArgs),
    /// Session reports (present, late, left early, absent) and a person's session history.
    Sessions(sessions::SessionsArgs),
    /// Unknown faces kept for review: their clusters and faces.
    Review(review::ReviewArgs),
    /// A person's attendance events, and corrections: retract a wrong one, add a missed one.
    Attendance(attendance::AttendanceArgs),
    /// Create or update the Kafka topics declared in `topics/`.
    Topics(topics::TopicsArgs),
    /// Install and verify model files.
    Models(models::ModelsArgs),
    /// Measure throughput (a benchmark, not a test).
    Bench(run::BenchArgs),
}

impl Cli {
    /// Commands that print results on stdout stay quiet on stderr unless asked.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Run(_)
            | Command::Enroll(_)
            | Command::Migrate(_)
            | Command::MigrateStore(_)
            | Command::Replay(_)
            | Command::Retention(_)
            | Command::Ingest
            | Command::Recognize
            | Command::Project
            | Command::Serve => "info,sqlx=warn,ort=warn,sea_orm_migration=warn",
            _ => "warn",
        }
    }

    pub fn load_config(&self) -> anyhow::Result<Config> {
        Config::load(self.config.as_deref(), std::env::vars())
    }

    /// The subcommand's name, for `service.name` and `rollcall_build_info`.
    pub fn command_name(&self) -> &'static str {
        match self.command {
            Command::Run(_) => "run",
            Command::Ingest => "ingest",
            Command::Recognize => "recognize",
            Command::Project => "project",
            Command::Serve => "serve",
            Command::Enroll(_) => "enroll",
            Command::Identify(_) => "identify",
            Command::Eval(_) => "eval",
            Command::Migrate(_) => "migrate",
            Command::MigrateStore(_) => "migrate-store",
            Command::Replay(_) => "replay",
            Command::Retention(_) => "retention",
            Command::Groups(_) => "groups",
            Command::Sessions(_) => "sessions",
            Command::Review(_) => "review",
            Command::Attendance(_) => "attendance",
            Command::Topics(_) => "topics",
            Command::Models(_) => "models",
            Command::Bench(_) => "bench",
        }
    }

    pub async fn execute(self, config: Config) -> anyhow::Result<ExitCode> {
        crate::metrics::metrics().set_command(self.command_name());
        match self.command {
            Command::Run(args) => run::run(&config, args).await,
            Command::Ingest => run::stage(&config, crate::topology::Stages::Ingest).await,
            Command::Recognize => run::stage(&config, crate::topology::Stages::Recognize).await,
            Command::Project => run::stage(&config, crate::topology::Stages::Project).await,
            Command::Serve => {
                crate::api::serve(&config, crate::shutdown::on_signals()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Enroll(args) => enroll::enroll(&config, args).await,
            Command::Identify(args) => identify::identify(&config, args).await,
            Command::Eval(args) => identify::eval(&config, args).await,
            Command::Migrate(args) => migrate::migrate(&config, args).await,
            Command::MigrateStore(args) => migrate::migrate_store(&config, args).await,
            Command::Replay(args) => operations::replay(&config, args).await,
            Command::Retention(args) => operations::retention(&config, args).await,
            Command::Groups(args) => sessions::groups(&config, args).await,
            Command::Sessions(args) => sessions::sessions(&config, args).await,
            Command::Review(args) => review::review(&config, args).await,
            Command::Attendance(args) => attendance::attendance(&config, args).await,
            Command::Models(args) => models::models(&config, args).await,
            Command::Topics(args) => topics::topics(&config, args).await,
            Command::Bench(args) => run::bench(&config, args).await,
        }
    }
}
