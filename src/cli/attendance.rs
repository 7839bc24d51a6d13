//! `rollcall attendance …`: a person's events of a day, and corrections (retract an event, add
//! one by hand) through the same use case as the API.

use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::bus::{Bus, BusKind};
use crate::config::Config;
use crate::domain::{AttendanceCorrection, CameraId, MANUAL_MODEL_ID, PersonId};
use crate::usecases::corrections::{self, Addition, CorrectionLog, Refusal};
use crate::usecases::{Services, cli_actor};

#[derive(Debug, Args)]
pub struct AttendanceArgs {
    #[command(subcommand)]
    action: AttendanceAction,
}

#[derive(Debug, Subcommand)]
enum AttendanceAction {
    /// A person's attendance events on a day (UTC), with their ids.
    Events {
        person: String,
        #[arg(long)]
        day: NaiveDate,
    },
    /// Take back a wrong attendance event (it goes on the attendance topic as a retraction).
    Retract {
        event: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Add an attendance event by hand (a forgotten face, a camera that was down).
    Add {
        person: String,
        /// When they were there (RFC 3339).
        #[arg(long)]
        at: DateTime<Utc>,
        /// The camera that missed them (default: `manual`).
        #[arg(long)]
        camera: Option<String>,
        #[arg(long)]
        reason: String,
    },
}

pub async fn attendance(config: &Config, args: AttendanceArgs) -> anyhow::Result<ExitCode> {
    let services = Services::connect(&config.store, &config.redis, &config.nats).await?;
    let log = match config.bus.kind {
        BusKind::Kafka => CorrectionLog(Some(
            crate::bus::kafka::KafkaBus::new(&config.kafka).corrections_producer()?,
        )),
        BusKind::Memory => CorrectionLog(None),
    };
    let outcome = match args.action {
        AttendanceAction::Events { person, day } => {
            let person = PersonId::parse(&person)?;
            for e in services.store.person_events(&person, day).await? {
                let manual = if e.model_id == MANUAL_MODEL_ID {
                    "  (added by hand)"
                } else {
                    ""
                };
                println!(
                    "{}  {}  {}  similarity {:.3}{manual}",
                    e.event_id,
                    e.seen_at.format("%Y-%m-%d %H:%M:%S"),
                    e.camera_id,
                    e.similarity
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        AttendanceAction::Retract { event, reason } => {
            corrections::retract(&services, &log, event, &cli_actor(), &reason).await?
        }
        AttendanceAction::Add {
            person,
            at,
            camera,
            reason,
        } => {
            let addition = Addition {
                person_id: PersonId::parse(&person)?,
                seen_at: at,
                camera_id: camera.as_deref().map(CameraId::parse).transpose()?,
            };
            corrections::add(&services, &log, addition, &cli_actor(), &reason).await?
        }
    };
    Ok(report(outcome, log.0.is_some()))
}

fn report(outcome: Result<AttendanceCorrection, Refusal>, on_topic: bool) -> ExitCode {
    match outcome {
        Ok(c) => {
            let whereto = if on_topic {
                "on the attendance topic"
            } else {
                "folded into the store"
            };
            println!(
                "attendance: {} {} of event {} ({} at {}) {whereto}",
                c.correction.as_str(),
                c.correction_id,
                c.event_id,
                c.person_id,
                c.seen_at.format("%Y-%m-%d %H:%M:%S")
            );
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            eprintln!("attendance: {refusal}");
            ExitCode::from(2)
        }
    }
}
