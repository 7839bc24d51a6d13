//! Groups, memberships and schedules. The store audits each change and moves the generations
//! of what it touches in the same transaction; here the superseded cache entries are dropped.

use super::Services;
use crate::store::{GroupDeletion, MembershipChange, Period, ScheduleWrite};
use crate::timetable::Schedule;

/// Creates a group; false if the id is taken.
pub async fn create(svc: &Services, actor: &str, id: &str, name: &str) -> anyhow::Result<bool> {
    Ok(svc.store.create_group(id, name, actor).await?)
}

pub async fn delete(svc: &Services, actor: &str, id: &str) -> anyhow::Result<GroupDeletion> {
    let outcome = svc.store.delete_group(id, actor).await?;
    if let GroupDeletion::Deleted { generations } = &outcome {
        svc.invalidate(generations).await;
    }
    Ok(outcome)
}

pub async fn add_member(
    svc: &Services,
    actor: &str,
    group: &str,
    person: &str,
    period: Period,
) -> anyhow::Result<MembershipChange> {
    let outcome = svc.store.add_member(group, person, period, actor).await?;
    if let MembershipChange::Added { generations, .. } = &outcome {
        svc.invalidate(generations).await;
    }
    Ok(outcome)
}

/// Ends a person's membership; false if they were not a member.
pub async fn remove_member(svc: &Services, actor: &str, group: &str, person: &str) -> anyhow::Result<bool> {
    let Some(generations) = svc.store.remove_member(group, person, actor).await? else {
        return Ok(false);
    };
    svc.invalidate(&generations).await;
    Ok(true)
}

/// Creates a schedule, or with `replace` replaces one (its version moves on).
pub async fn write_schedule(
    svc: &Services,
    actor: &str,
    schedule: &Schedule,
    replace: bool,
) -> anyhow::Result<ScheduleWrite> {
    let outcome = svc.store.write_schedule(schedule, replace, actor).await?;
    if let ScheduleWrite::Written { generations, .. } = &outcome {
        svc.invalidate(generations).await;
    }
    Ok(outcome)
}

/// Deletes a schedule; false if there is none.
pub async fn delete_schedule(svc: &Services, actor: &str, id: &str) -> anyhow::Result<bool> {
    let Some(generations) = svc.store.delete_schedule(id, actor).await? else {
        return Ok(false);
    };
    svc.invalidate(&generations).await;
    Ok(true)
}
