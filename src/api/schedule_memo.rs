//! Schedules that session reports are made from, remembered in the API process for as long as
//! their group's cache generation stays the same (every change to a schedule bumps it), so that
//! a cached report costs no database round trip for its schedule either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::cache::keys;
use crate::store::Store;
use crate::timetable::Schedule;

/// Schedules remembered at most; past it the memo starts afresh.
const REMEMBERED: usize = 10_000;

#[derive(Debug, Default)]
pub struct ScheduleMemo(Mutex<HashMap<String, (i64, Arc<Schedule>)>>);

impl ScheduleMemo {
    /// The schedule as the store has it now; None if there is none.
    pub async fn find(&self, store: &Store, id: &str) -> anyhow::Result<Option<Arc<Schedule>>> {
        let remembered = self.lock().get(id).cloned();
        if let Some((generation, schedule)) = remembered
            && store.current_generations(&[keys::group(&schedule.group_id)]).await? == [generation]
        {
            return Ok(Some(schedule));
        }
        let Some(first) = store.schedule(id).await? else {
            return Ok(None);
        };
        // The generation is read before the schedule that is kept, so the schedule is at least as
        // new as its generation says: a change committed in between leaves a newer schedule
        // under an older generation (the next read reloads), never an older one under a newer.
        let generation = store.current_generations(&[keys::group(&first.group_id)]).await?[0];
        let Some(schedule) = store.schedule(id).await? else {
            return Ok(None);
        };
        let schedule = Arc::new(schedule);
        if schedule.group_id == first.group_id {
            let mut memo = self.lock();
            if memo.len() >= REMEMBERED {
                memo.clear();
            }
            memo.insert(id.to_owned(), (generation, Arc::clone(&schedule)));
        }
        Ok(Some(schedule))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Arc<Schedule>)>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
