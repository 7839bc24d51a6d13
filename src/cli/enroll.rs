//! `rollcall enroll`: one person from photos, or a folder of people with a progress bar.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::domain::PersonId;
use crate::enroll::{PersonFolder, PhotoOutcome, analyse_photos, person_folders};
use crate::store::NewTemplate;
use crate::usecases::{Services, cli_actor, people};
use crate::vision::FaceEngine;

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Person id (a-z, 0-9, '-', '_', '.'), with photos given as arguments.
    #[arg(long, requires = "photos", conflicts_with = "dir")]
    person: Option<PersonId>,
    /// Display name of --person (default: the id).
    #[arg(long, requires = "person")]
    name: Option<String>,
    /// A folder with one sub-folder of photos per person; the folder name gives the id.
    #[arg(long, required_unless_present = "person")]
    dir: Option<PathBuf>,
    /// Fail (exit 1) if any photo is rejected, not only when nothing could be enrolled.
    #[arg(long)]
    strict: bool,
    photos: Vec<PathBuf>,
}

pub async fn enroll(config: &Config, args: EnrollArgs) -> anyhow::Result<ExitCode> {
    let people = match (&args.person, &args.dir) {
        (Some(id), _) => vec![PersonFolder {
            id: id.clone(),
            display_name: args.name.clone().unwrap_or_else(|| id.to_string()),
            photos: args.photos.clone(),
        }],
        (None, Some(dir)) => person_folders(dir)?,
        (None, None) => bail!("give --person ID PHOTO… or --dir FOLDER"),
    };
    if people.is_empty() {
        bail!("no people to enrol: the folder has no sub-folders with JPEG or PNG photos");
    }
    // Connect before analysing anything, so a wrong store or NATS address fails up front.
    let svc = Services::connect(&config.store, &config.redis, &config.nats).await?;
    let total: usize = people.iter().map(|p| p.photos.len()).sum();
    let bar = if args.dir.is_some() {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let criteria = crate::enroll::EnrolCriteria::from_config(&config.vision);
    let engine_config = config.clone();
    let progress = bar.clone();
    let analysed: Vec<(PersonFolder, Vec<PhotoOutcome>)> = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = FaceEngine::load(&engine_config)?;
        Ok(people
            .into_iter()
            .map(|p| {
                progress.set_message(p.id.to_string());
                let outcomes = analyse_photos(&mut engine, &p.photos, criteria, || progress.inc(1));
                (p, outcomes)
            })
            .collect())
    })
    .await
    .context("enrolment worker panicked")??;
    bar.finish_and_clear();

    let model_id = &config.models.recognizer;
    let actor = cli_actor();
    let (mut enrolled, mut templates, mut rejected, mut nobody) = (0, 0, 0, Vec::new());
    for (person, outcomes) in analysed {
        let mut good: Vec<NewTemplate> = Vec::new();
        for o in outcomes {
            match o.result {
                Ok(t) => good.push(t),
                Err(e) => {
                    rejected += 1;
                    eprintln!("rejected {}: {e}", o.path.display());
                }
            }
        }
        if good.is_empty() {
            nobody.push(person.id.to_string());
            continue;
        }
        let new = people::enrol(&svc, &actor, &person.id, &person.display_name, model_id, &good).await?;
        let added = new.iter().filter(|new| **new).count();
        println!(
            "{}: {} template(s) from {} photo(s), {added} new",
            person.id,
            good.len(),
            person.photos.len()
        );
        enrolled += 1;
        templates += good.len();
    }
    println!("enrolled {enrolled} people with {templates} templates; {rejected} photo(s) rejected");
    if !nobody.is_empty() {
        eprintln!("not enrolled (no usable photo): {}", nobody.join(", "));
    }
    let failed = enrolled == 0 || (args.strict && (rejected > 0 || !nobody.is_empty()));
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
