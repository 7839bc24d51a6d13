//! `rollcall models list|install|verify`.

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
}

pub fn models(config: &Config, args: ModelsArgs) -> anyhow::Result<ExitCode> {
    let dir = &config.models.dir;
    match args.action {
        ModelsAction::List => {
            for m in models::manifest() {
                println!(
                    "{}  {:?}  {}  {} bytes\n  sha256 {}\n  licence: {}\n  source: {}",
                    m.name, m.role, m.file, m.bytes, m.sha256, m.licence, m.source
                );
            }
            Ok(ExitCode::SUCCESS)
        }
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
            for m in models::manifest() {
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
    }
}
