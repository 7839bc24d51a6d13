//! `rollcall groups …` and `rollcall sessions …`: groups, memberships and schedules managed on the
//! store directly (as the API does, audited under the operator's name), and session reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeDelta, Utc};
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::sessions::report;
use crate::store::{GroupDeletion, MembershipChange, Period, ScheduleWrite, Store};
use crate::timetable::spec::{ScheduleSpec, check_slug};
use crate::usecases::{Services, cli_actor, groups};

fn slug(what: &str, raw: &str) -> anyhow::Result<String> {
    check_slug(what, raw).map_err(anyhow::Error::msg)
}

#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(subcommand)]
    action: GroupsAction,
}

#[derive(Debug, Subcommand)]
enum GroupsAction {
    /// Every group with its members and schedules.
    List,
    /// Create a group.
    Create {
        id: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a group and its memberships (refused while it has schedules).
    Delete { id: String },
    /// Add a membership period (open ends: always, until further notice).
    AddMember {
        group: String,
        person: String,
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        until: Option<NaiveDate>,
    },
    /// Remove every membership period of a person in a group.
    RemoveMember { group: String, person: String },
    /// Create a schedule from a JSON file (the API's schedule body, with `id` and `group_id`).
    AddSchedule { file: PathBuf },
    /// Replace a schedule from a JSON file; its reports are recomputed with it.
    ReplaceSchedule { id: String, file: PathBuf },
    /// Delete a schedule.
    DeleteSchedule { id: String },
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    action: SessionsAction,
}

#[derive(Debug, Subcommand)]
enum SessionsAction {
    /// Who was present, late, left early or absent in a schedule's session on a local date.
    Report {
        schedule: String,
        date: NaiveDate,
        /// CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// The group's running sessions and who has not arrived yet.
    Absentees { group: String },
    /// A person's sessions over a range of local dates.
    History {
        person: String,
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        to: Option<NaiveDate>,
    },
}

fn read_spec(file: &PathBuf) -> anyhow::Result<ScheduleSpec> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a schedule", file.display()))
}

pub async fn groups(config: &Config, args: GroupsArgs) -> anyhow::Result<ExitCode> {
    let svc = Services::connect(&config.store, &config.redis, &config.nats).await?;
    let store = &svc.store;
    let actor = cli_actor();
    match args.action {
        GroupsAction::List => print_groups(store).await?,
        GroupsAction::Create { id, name } => {
            let id = slug("group", &id)?;
            let name = name.unwrap_or_else(|| id.clone());
            if !groups::create(&svc, &actor, &id, &name).await? {
                bail!("group {id} exists");
            }
            println!("created group {id}");
        }
        GroupsAction::Delete { id } => match groups::delete(&svc, &actor, &slug("group", &id)?).await? {
            GroupDeletion::Deleted { .. } => println!("deleted group {id}"),
            GroupDeletion::NotFound => bail!("no group {id}"),
            GroupDeletion::HasSchedules(n) => bail!("group {id} has {n} schedule(s): delete them first"),
        },
        GroupsAction::AddMember {
            group,
            person,
            from,
            until,
        } => {
            if let (Some(f), Some(u)) = (from, until)
                && f > u
            {
                bail!("--from {f} is after --until {u}");
            }
            let (group, person) = (slug("group", &group)?, slug("person", &person)?);
            match groups::add_member(&svc, &actor, &group, &person, Period { from, until }).await? {
                MembershipChange::Added { .. } => println!("{person} is a member of {group}"),
                MembershipChange::NoGroup => bail!("no group {group}"),
                MembershipChange::NoPerson => bail!("no person {person}"),
                MembershipChange::Overlaps(p) => {
                    bail!(
                        "{person} is already a member of {group} over {:?} – {:?}",
                        p.from,
                        p.until
                    )
                }
            }
        }
        GroupsAction::RemoveMember { group, person } => {
            let (group, person) = (slug("group", &group)?, slug("person", &person)?);
            if !groups::remove_member(&svc, &actor, &group, &person).await? {
                bail!("no membership of {person} in {group}");
            }
            println!("{person} is no longer a member of {group}");
        }
        GroupsAction::AddSchedule { file } => add_schedule(&svc, &actor, &file).await?,
        GroupsAction::ReplaceSchedule { id, file } => replace_schedule(&svc, &actor, &id, &file).await?,
        GroupsAction::DeleteSchedule { id } => {
            if !groups::delete_schedule(&svc, &actor, &slug("schedule", &id)?).await? {
                bail!("no schedule {id}");
            }
            println!("deleted schedule {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every group with its members and schedules.
async fn print_groups(store: &Store) -> anyhow::Result<()> {
    for g in store.groups().await? {
        println!("{}  {}", g.id, g.name);
        for (person, p) in store.members(&g.id).await? {
            let end = |d: Option<NaiveDate>| d.map_or("…".to_owned(), |d| d.to_string());
            println!("  member    {person}  {} – {}", end(p.from), end(p.until));
        }
        for s in store.schedules(Some(&g.id)).await? {
            let spec = ScheduleSpec::of(&s);
            println!(
                "  schedule  {}  {} {}{}  {}–{}{} {}",
                s.id,
                spec.kind,
                spec.date.map(|d| d.to_string()).unwrap_or_default(),
                spec.days.join(","),
                spec.start,
                spec.end,
                if spec.ends_next_day { " (next day)" } else { "" },
                spec.time_zone
            );
        }
    }
    Ok(())
}

/// `groups add-schedule FILE`.
async fn add_schedule(svc: &Services, actor: &str, file: &PathBuf) -> anyhow::Result<()> {
    let spec = read_spec(file)?;
    let id = spec.id.clone().context("the schedule needs an id")?;
    let group = spec.group_id.clone().context("the schedule needs a group_id")?;
    let schedule = spec.into_schedule(&id, &group).map_err(anyhow::Error::msg)?;
    match groups::write_schedule(svc, actor, &schedule, false).await? {
        ScheduleWrite::Written { .. } => println!("created schedule {id}"),
        ScheduleWrite::NoGroup => bail!("no group {group}"),
        _ => bail!("schedule {id} exists"),
    }
    Ok(())
}

/// `groups replace-schedule ID FILE`.
async fn replace_schedule(svc: &Services, actor: &str, id: &str, file: &PathBuf) -> anyhow::Result<()> {
    let id = slug("schedule", id)?;
    let current = svc
        .store
        .schedule(&id)
        .await?
        .with_context(|| format!("no schedule {id}"))?;
    let spec = read_spec(file)?;
    let group = spec.group_id.clone().unwrap_or(current.group_id);
    let schedule = spec.into_schedule(&id, &group).map_err(anyhow::Error::msg)?;
    match groups::write_schedule(svc, actor, &schedule, true).await? {
        ScheduleWrite::Written { schedule, .. } => {
            println!("replaced schedule {id} (version {})", schedule.version)
        }
        ScheduleWrite::NoGroup => bail!("no group {group}"),
        _ => bail!("no schedule {id}"),
    }
    Ok(())
}

/// A session report as a summary line and one line per person.
fn print_report(report: &report::SessionReport) {
    let c = report.counts;
    println!(
        "{} ({}) on {}: {} – {} UTC, {:?}; present {}, late {}, left early {}, absent {}",
        report.schedule_name,
        report.group_id,
        report.date,
        report.starts_at.format("%Y-%m-%d %H:%M"),
        report.ends_at.format("%Y-%m-%d %H:%M"),
        report.phase,
        c.present,
        c.late,
        c.left_early,
        c.absent
    );
    for p in &report.people {
        let minutes = match (p.late_minutes, p.left_early_minutes) {
            (Some(l), Some(e)) => format!("  {l} min late, left {e} min early"),
            (Some(l), None) => format!("  {l} min late"),
            (None, Some(e)) => format!("  left {e} min early"),
            (None, None) => String::new(),
        };
        println!(
            "  {:<24} {:<10} {:>4} min present{minutes}",
            p.person_id,
            p.status.as_str(),
            p.present_minutes
        );
    }
}

pub async fn sessions(config: &Config, args: SessionsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    let now = Utc::now();
    match args.action {
        SessionsAction::Report { schedule, date, csv } => {
            let id = slug("schedule", &schedule)?;
            let schedule = store
                .schedule(&id)
                .await?
                .with_context(|| format!("no schedule {id}"))?;
            let report = report::session_report(&store, &schedule, date, now)
                .await?
                .with_context(|| format!("schedule {id} has no session on {date}"))?;
            if csv {
                print!("{}", report::to_csv(&report));
            } else {
                print_report(&report);
            }
        }
        SessionsAction::Absentees { group } => {
            let group = slug("group", &group)?;
            if store.group(&group).await?.is_none() {
                bail!("no group {group}");
            }
            for (schedule, occurrence) in report::running(&store, Some(&group), now).await? {
                let Some(report) = report::session_report(&store, &schedule, occurrence.date, now).await? else {
                    continue;
                };
                let absent: Vec<&str> = report
                    .people
                    .iter()
                    .filter(|p| p.status == crate::timetable::Status::Absent)
                    .map(|p| p.person_id.as_str())
                    .collect();
                println!(
                    "{} until {}: {}",
                    schedule.id,
                    occurrence.ends_at.to_rfc3339(),
                    absent.join(" ")
                );
            }
        }
        SessionsAction::History { person, from, to } => {
            let person = slug("person", &person)?;
            let to = to.unwrap_or_else(|| now.date_naive());
            let from = from.unwrap_or(to - TimeDelta::days(30));
            for s in report::person_history(&store, &person, from, to, now).await? {
                println!(
                    "{}  {:<20} {:<16} {}",
                    s.date,
                    s.schedule_id,
                    s.group_id,
                    s.outcome.status.as_str()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
