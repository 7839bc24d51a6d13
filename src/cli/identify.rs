//! `rollcall identify` and `rollcall eval`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::recognize::{Identity, MatchRule};
use crate::store::Store;
use crate::vision::FaceEngine;

#[derive(Debug, Args)]
pub struct IdentifyArgs {
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A folder with one sub-folder of photos per person (nested folders allowed; `multi` is skipped).
    dir: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn identify(config: &Config, args: IdentifyArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    let gallery = crate::recognize::load_gallery(&store, &config.models.recognizer).await?;
    let engine_config = config.clone();
    let threshold = config.matching.threshold;
    let lines = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(bool, String)>> {
        let mut engine = FaceEngine::load(&engine_config)?;
        let rule = MatchRule::new(engine.metric(), threshold);
        let mut lines = Vec::new();
        for path in &args.images {
            let name = path.display();
            let analysed = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|b| engine.analyze_bytes(&b).map_err(|e| e.to_string()));
            match analysed {
                Err(e) => lines.push((false, format!("{name}: error: {e}"))),
                Ok(faces) if faces.is_empty() => lines.push((false, format!("{name}: error: no face found"))),
                Ok(faces) => {
                    for (i, face) in faces.iter().enumerate() {
                        let b = face.face_box();
                        let who = match gallery.identify(&face.embedding, rule) {
                            Identity::Known { person, distance } => {
                                format!("{person}  distance {distance:.3}")
                            }
                            Identity::Unknown { nearest: Some(d) } => {
                                format!("unknown  distance {d:.3}")
                            }
                            Identity::Unknown { nearest: None } => "unknown  (empty gallery)".to_owned(),
                        };
                        lines.push((
                            true,
                            format!("{name}  face {}  box {},{} {}x{}  {who}", i + 1, b.x, b.y, b.w, b.h),
                        ));
                    }
                }
            }
        }
        Ok(lines)
    })
    .await
    .context("identify worker panicked")??;
    let mut ok = true;
    for (good, line) in lines {
        if good {
            println!("{line}");
        } else {
            ok = false;
            eprintln!("{line}");
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub async fn eval(config: &Config, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let engine_config = config.clone();
    let threshold = config.matching.threshold;
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = FaceEngine::load(&engine_config)?;
        crate::eval::evaluate(&mut engine, &args.dir, threshold)
    })
    .await
    .context("eval worker panicked")??;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}
