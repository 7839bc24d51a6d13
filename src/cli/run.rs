//! `rollcall run` (the embedded pipeline) and `rollcall bench`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::pipeline::run_embedded;
use crate::store::{Store, render_table};

#[derive(Debug, Args)]
pub struct RunArgs {}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Folder of photos to build 640x480 one-face frames from (default: ../shared/faces).
    #[arg(long, default_value = "../shared/faces")]
    faces: PathBuf,
    /// Frames in the benchmark camera folder.
    #[arg(long, default_value_t = 400)]
    frames: usize,
    /// Camera folders the frames are spread over.
    #[arg(long, default_value_t = 4)]
    cameras: usize,
}

pub async fn run(config: &Config, _args: RunArgs) -> anyhow::Result<ExitCode> {
    let shutdown = crate::shutdown::on_signals();
    let summary = run_embedded(config, shutdown).await?;
    let r = &summary.recognize;
    println!(
        "{} camera(s): {} frames, {} faces, {} attendance events ({} suppressed by cooldown), {} unknown faces, {} dead-lettered",
        summary.cameras,
        summary.ingest.frames,
        r.faces,
        r.events,
        r.suppressed,
        r.unknown,
        summary.dead_letters.len()
    );
    println!(
        "store: {} new events, {} already recorded",
        summary.project.inserted, summary.project.duplicates
    );
    for (key, reason) in &summary.dead_letters {
        println!("dead letter [{key}] {reason}");
    }
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    let rows = store.attendance_days().await?;
    println!("\nattendance\n{}", render_table(&rows));
    Ok(ExitCode::SUCCESS)
}

pub async fn bench(config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let report = crate::bench::pipeline_benchmark(config, &args.faces, args.frames, args.cameras).await?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
