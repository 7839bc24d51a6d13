//! `rollcall review …`: the clusters of unknown faces waiting for a decision, a cluster's faces,
//! decisions on them (assign to a person, dismiss: the API's use cases), and a recomputation of
//! the clusters from the faces.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::PersonId;
use crate::enroll::{EnrolCriteria, template_from_crop};
use crate::review::ClusterStatus;
use crate::store::Store;
use crate::usecases::review::{self, Assignee, NotPersonFace, Selection};
use crate::usecases::{Services, cli_actor};
use crate::vision::FaceEngine;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    action: ReviewAction,
}

#[derive(Debug, Subcommand)]
enum ReviewAction {
    /// Clusters of unknown faces, last seen first (flagged: seen at least `review.flag_after` times).
    Clusters {
        #[arg(long, value_enum, default_value = "open")]
        status: ClusterStatus,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// One cluster's faces, in the order they were seen.
    Faces { cluster: Uuid },
    /// Recompute the open clusters from their faces, in time order (as `review.cluster_distance` says now).
    Recluster,
    /// Low-confidence matches (accepted within `review.match_margin` of the threshold), newest first.
    Matches {
        #[arg(long)]
        person: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Confirm a low-confidence match: it was the person it was taken for.
    Confirm { face: Uuid },
    /// Assign clusters or faces to a person: their crops are enrolled after the usual checks.
    Assign {
        #[arg(long)]
        person: String,
        /// Create the person with this display name (otherwise they must exist).
        #[arg(long)]
        new_name: Option<String>,
        #[arg(long = "cluster")]
        clusters: Vec<Uuid>,
        #[arg(long = "face")]
        faces: Vec<Uuid>,
    },
    /// Set clusters aside: they keep their faces until retention and take no new ones.
    Dismiss { clusters: Vec<Uuid> },
    /// "Not this person": unknown faces or photos of someone wrongly taken for PERSON become
    /// their negative examples.
    NotPerson {
        #[arg(long)]
        person: String,
        #[arg(long = "face")]
        faces: Vec<Uuid>,
        photos: Vec<std::path::PathBuf>,
    },
}

pub async fn review(config: &Config, args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    match args.action {
        ReviewAction::Clusters { status, limit } => {
            let clusters = store.unknown_clusters(Some(status), limit).await?;
            println!(
                "cluster                               faces  first seen            last seen             cameras"
            );
            for c in &clusters {
                let flag = if config.review.flags(c.size) { "  flagged" } else { "" };
                println!(
                    "{}  {:>5}  {}  {}  {}{flag}",
                    c.cluster_id,
                    c.size,
                    c.first_seen.format("%Y-%m-%d %H:%M:%S"),
                    c.last_seen.format("%Y-%m-%d %H:%M:%S"),
                    c.cameras.join(",")
                );
            }
            println!("{} {} cluster(s)", clusters.len(), status.as_str());
        }
        ReviewAction::Faces { cluster } => {
            let Some((summary, faces)) = store.unknown_cluster(cluster).await? else {
                eprintln!("review: no unknown-face cluster {cluster} (or its faces are past retention)");
                return Ok(ExitCode::from(2));
            };
            println!(
                "cluster {} ({}, {} faces)",
                summary.cluster_id,
                summary.status.as_str(),
                summary.size
            );
            for f in faces {
                let nearest = f.nearest_distance.map_or("-".to_owned(), |d| format!("{d:.3}"));
                println!(
                    "{}  {}  frame {}  {}  nearest {nearest}",
                    f.face_id,
                    f.camera_id,
                    f.frame_seq,
                    f.seen_at.format("%Y-%m-%d %H:%M:%S")
                );
            }
        }
        ReviewAction::Assign {
            person,
            new_name,
            clusters,
            faces,
        } => return assign(config, &person, new_name, Selection { clusters, faces }).await,
        ReviewAction::Dismiss { clusters } => {
            let services = Services::connect(&config.store, &config.redis, &config.nats).await?;
            if let Err(refusal) = review::dismiss(&services, &cli_actor(), &clusters).await? {
                eprintln!("review: {refusal}");
                return Ok(ExitCode::from(2));
            }
            println!("review: {} cluster(s) dismissed", clusters.len());
        }
        ReviewAction::NotPerson { person, faces, photos } => return not_person(config, &person, faces, photos).await,
        ReviewAction::Matches { person, limit } => {
            let person = person.as_deref().map(PersonId::parse).transpose()?;
            for m in store.low_confidence_matches(person.as_ref(), limit).await? {
                let distance = m.distance.map_or("-".to_owned(), |d| format!("{d:.3}"));
                println!(
                    "{}  {}  {}  {}  distance {distance}",
                    m.face_id,
                    m.person_id,
                    m.camera_id,
                    m.seen_at.format("%Y-%m-%d %H:%M:%S")
                );
            }
        }
        ReviewAction::Confirm { face } => {
            let services = Services::connect(&config.store, &config.redis, &config.nats).await?;
            match review::confirm_match(&services, &cli_actor(), face).await? {
                Ok(person) => println!("review: match {face} confirmed as {person}"),
                Err(refusal) => {
                    eprintln!("review: {refusal}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        ReviewAction::Recluster => {
            let clusters = store.recluster_unknown_faces(config.review.cluster_distance).await?;
            println!("review: {clusters} open cluster(s) after recomputing from their faces");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn assign(
    config: &Config,
    person: &str,
    new_name: Option<String>,
    selection: Selection,
) -> anyhow::Result<ExitCode> {
    let id = PersonId::parse(person).map_err(|e| anyhow::anyhow!("person id {person:?}: {e}"))?;
    let assignee = match new_name {
        Some(name) => Assignee::New {
            id,
            display_name: crate::domain::text::checked_name("--new-name", &name, false).map_err(anyhow::Error::msg)?,
        },
        None => Assignee::Existing(id),
    };
    let services = Services::connect(&config.store, &config.redis, &config.nats).await?;
    let crops = match review::crops_to_assign(&services, &selection, &assignee).await? {
        Ok(crops) => crops,
        Err(refusal) => {
            eprintln!("review: {refusal}");
            return Ok(ExitCode::from(2));
        }
    };
    let analysed = crops.len();
    let (engine_config, criteria) = (config.clone(), EnrolCriteria::from_config(&config.vision));
    let (model_id, templates) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = FaceEngine::load(&engine_config)?;
        let mut templates = Vec::new();
        for (face, jpeg) in crops {
            match template_from_crop(&mut engine, &jpeg, &format!("unknown face {face}"), criteria) {
                Ok(template) => templates.push(template),
                Err(e) => eprintln!("face {face}: rejected: {e}"),
            }
        }
        Ok((engine.model_id().to_owned(), templates))
    })
    .await??;
    let actor = cli_actor();
    match review::assign(
        &services, &actor, &selection, &assignee, &model_id, &templates, analysed,
    )
    .await?
    {
        Ok(added) => {
            let new = added.iter().filter(|new| **new).count();
            println!(
                "review: {} face(s) assigned to {}; {new} template(s) added",
                analysed,
                assignee.id()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(refusal) => {
            eprintln!("review: {refusal}");
            Ok(ExitCode::from(2))
        }
    }
}

async fn not_person(
    config: &Config,
    person: &str,
    faces: Vec<Uuid>,
    photos: Vec<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let id = PersonId::parse(person).map_err(|e| anyhow::anyhow!("person id {person:?}: {e}"))?;
    let services = Services::connect(&config.store, &config.redis, &config.nats).await?;
    let mut marked: Vec<NotPersonFace> = faces.into_iter().map(NotPersonFace::Unknown).collect();
    if !photos.is_empty() {
        let (engine_config, criteria) = (config.clone(), EnrolCriteria::from_config(&config.vision));
        let analysed = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut engine = FaceEngine::load(&engine_config)?;
            let model_id = engine.model_id().to_owned();
            Ok(crate::enroll::analyse_photos(&mut engine, &photos, criteria, || ())
                .into_iter()
                .filter_map(|outcome| match outcome.result {
                    Ok(template) => Some(NotPersonFace::Analysed {
                        embedding: template.embedding,
                        model_id: model_id.clone(),
                        source: template.source,
                    }),
                    Err(e) => {
                        eprintln!("{}: rejected: {e}", outcome.path.display());
                        None
                    }
                })
                .collect::<Vec<_>>())
        })
        .await??;
        marked.extend(analysed);
    }
    let actor = cli_actor();
    let mut added = 0;
    for face in marked {
        match review::not_person(&services, &actor, &id, face).await? {
            Ok(new) => added += usize::from(new),
            Err(refusal) => {
                eprintln!("review: {refusal}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    println!("review: {added} negative example(s) of {id} added");
    Ok(ExitCode::SUCCESS)
}
