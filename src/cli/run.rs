//! `rollcall run` (the embedded pipeline) and `rollcall bench`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::Config;
use crate::store::{Store, render_table};
use crate::topology::RunSummary;
use crate::topology::Stages;

#[derive(Debug, Args)]
pub struct RunArgs {}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Bench,
}

#[derive(Debug, clap::Subcommand)]
enum Bench {
    /// Embedded pipeline frames/s against raw detection + embedding of the same frames.
    Pipeline {
        /// Folder of photos to build 640x480 one-face frames from.
        #[arg(long, default_value = "../shared/faces")]
        faces: PathBuf,
        /// Frames in all.
        #[arg(long, default_value_t = 400)]
        frames: usize,
        /// Camera folders the frames are spread over.
        #[arg(long, default_value_t = 4)]
        cameras: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Door-camera streams synthesised from photos, judged in frame mode and in track mode:
    /// frames/s, CPU per frame and attendance against the ground truth.
    Stream {
        /// Folder-per-person photo set: people with two photos are enrolled, with one are strangers.
        #[arg(long, default_value = "../shared/faces")]
        faces: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Gallery top-1 search over templates synthesised around the photos' embeddings, loaded from
    /// PostgreSQL (a database of its own beside store.url), against a plain scan: time, recall of
    /// the exact top-1, memory per template, load time.
    Gallery {
        #[arg(long, default_value = "../shared/faces")]
        faces: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        templates: usize,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Projector events/s into PostgreSQL (a database of its own beside store.url) for batches of 1,
    /// 100 and 5,000, against COPY (COPY and batches of 5,000 in turns, three times, medians).
    Project {
        #[arg(long, default_value_t = 50_000)]
        events: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Session report requests/s, computed and through Redis, against the plain day read (a
    /// database of its own beside store.url, Redis database 15).
    Sessions(LoadArgs),
    /// API requests/s and p99 of the attendance-by-day read through Redis (database 15) against no
    /// cache (a database of its own beside store.url).
    Api(LoadArgs),
    /// The Kafka pipeline (librdkafka's mock cluster) into PostgreSQL (a database of its own) and
    /// Redis (database 15) at a steady rate: memory over time, lag, latency frame to stored row.
    Soak {
        #[arg(long, default_value_t = 30.0)]
        minutes: f64,
        /// Frames per second per camera.
        #[arg(long, default_value_t = 2.0)]
        fps: f64,
        #[arg(long, default_value_t = 2)]
        cameras: usize,
        /// Seconds between samples of memory and lag.
        #[arg(long, default_value_t = 10)]
        sample_secs: u64,
        /// Folder-per-person photos: the first photo of each person is enrolled, all are framed.
        #[arg(long, default_value = "../shared/faces")]
        faces: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// The size and load of an API benchmark.
#[derive(Debug, Args)]
struct LoadArgs {
    /// People in the data read (present on the day, or members of the class).
    #[arg(long, default_value_t = 500)]
    people: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Also measure the cached read with wrk (Debian's package), an independent client.
    #[arg(long)]
    wrk: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

impl LoadArgs {
    fn plan(&self) -> crate::bench::LoadPlan {
        crate::bench::LoadPlan {
            people: self.people,
            connections: self.connections,
            seconds: self.seconds,
            wrk: self.wrk,
        }
    }
}

/// Starts the `/metrics` endpoint when `telemetry.metrics_listen` is set.
async fn expose_metrics(config: &Config, shutdown: &tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    if let Some(listen) = &config.telemetry.metrics_listen {
        let limits = crate::api::connection_limits(&config.api);
        crate::metrics::expose(listen, limits, shutdown.clone()).await?;
    }
    Ok(())
}

pub async fn stage(config: &Config, stage: Stages) -> anyhow::Result<ExitCode> {
    let shutdown = crate::shutdown::on_signals();
    expose_metrics(config, &shutdown).await?;
    let s = crate::topology::run(config, stage, shutdown).await?;
    match stage {
        Stages::Ingest => print_ingest(&s),
        Stages::Recognize => print_recognize(&s),
        Stages::Project => print_project(&s),
        Stages::All => print_run(config, &s).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_ingest(s: &RunSummary) {
    println!(
        "ingest: {} frames published, {} unreadable files",
        s.ingest.frames, s.ingest.unreadable
    );
}

fn print_recognize(s: &RunSummary) {
    let r = &s.recognize;
    println!(
        "recognize: {} frames, {} faces, {} events, {} suppressed, {} unknown, {} dead-lettered",
        r.frames, r.faces, r.events, r.suppressed, r.unknown, r.dead_lettered
    );
}

fn print_project(s: &RunSummary) {
    let p = &s.project;
    println!(
        "project: {} batches, {} new events, {} duplicates, {} of erased people, {} dead-lettered, {} write retries",
        p.batches, p.inserted, p.duplicates, p.erased, p.dead_lettered, p.write_retries
    );
}

/// `rollcall run`: what the stages did, then the attendance table.
async fn print_run(config: &Config, summary: &RunSummary) -> anyhow::Result<()> {
    let r = &summary.recognize;
    println!(
        "{} camera(s): {} frames, {} faces, {} attendance events ({} suppressed by cooldown), {} unknown faces, {} dead-lettered",
        summary.cameras,
        summary.ingest.frames,
        r.faces,
        r.events,
        r.suppressed,
        r.unknown,
        r.dead_lettered + summary.project.dead_lettered + summary.review.dead_lettered
    );
    println!(
        "store: {} new events, {} already recorded; {} unknown faces kept for review, {} already kept",
        summary.project.inserted, summary.project.duplicates, summary.review.inserted, summary.review.duplicates
    );
    for (key, reason) in &summary.dead_letters {
        println!("dead letter [{key}] {reason}");
    }
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    println!("\nattendance\n{}", render_table(&store.attendance_days().await?));
    Ok(())
}

pub async fn run(config: &Config, _args: RunArgs) -> anyhow::Result<ExitCode> {
    stage(config, Stages::All).await
}

pub async fn bench(config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let report = match args.which {
        Bench::Pipeline {
            faces,
            frames,
            cameras,
            json,
        } => crate::bench::pipeline_benchmark(config, &faces, frames, cameras, json).await?,
        Bench::Stream { faces, json } => crate::bench::stream_benchmark(config, &faces, json).await?,
        Bench::Gallery {
            faces,
            templates,
            queries,
            json,
        } => crate::bench::gallery_benchmark(config, &faces, templates, queries, json).await?,
        Bench::Project { events, json } => crate::bench::project_benchmark(&config.store.url, events, json).await?,
        Bench::Api(l) => crate::bench::api_benchmark(config, l.plan(), l.json).await?,
        Bench::Sessions(l) => crate::bench::sessions_benchmark(config, l.plan(), l.json).await?,
        Bench::Soak {
            minutes,
            fps,
            cameras,
            sample_secs,
            faces,
            json,
        } => {
            let plan = crate::bench::SoakPlan {
                minutes,
                fps,
                cameras,
                sample_secs,
            };
            crate::bench::soak_benchmark(config, &faces, plan, json).await?
        }
    };
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
