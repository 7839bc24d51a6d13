//! What one process knows of the current cache generations, and until when it may trust that
//! knowledge without asking the database (see docs/cache-generations.md).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Instant;

/// The generations announced on the current listening connection, and the lease that makes them
/// usable: a lease runs from the moment a ping was sent, and the ping's arrival proves that every
/// commit before it has been delivered (PostgreSQL delivers notifications in commit order).
#[derive(Debug, Default)]
pub struct Mirror {
    state: RwLock<State>,
    /// Whether a task of this process follows the channel for this mirror.
    followed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Held by the one task that follows the channel for a mirror; released when it ends.
#[derive(Debug)]
pub struct FollowClaim(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for FollowClaim {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct State {
    generations: HashMap<String, i64>,
    /// Counts listening connections; entries belong to the current one alone.
    epoch: u64,
    listening: bool,
    trusted_until: Option<Instant>,
}

/// A lookup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Every key's generation, in the order asked.
    Known(Vec<i64>),
    /// Ask the database; if `fill` is set, the answer may be remembered under that epoch.
    Ask { fill: Option<u64> },
}

impl Mirror {
    /// The right to follow the channel for this mirror, unless a task already has it.
    pub fn claim(&self) -> Option<FollowClaim> {
        use std::sync::atomic::Ordering;
        (!self.followed.swap(true, Ordering::SeqCst)).then(|| FollowClaim(self.followed.clone()))
    }

    pub fn lookup(&self, keys: &[String]) -> Lookup {
        let state = self.read();
        if !state.trusted(Instant::now()) {
            return Lookup::Ask { fill: None };
        }
        let known: Option<Vec<i64>> = keys.iter().map(|k| state.generations.get(k).copied()).collect();
        match known {
            Some(generations) => Lookup::Known(generations),
            None => Lookup::Ask {
                fill: Some(state.epoch),
            },
        }
    }

    /// Remembers generations read from the database while `epoch` was trusted. A notification
    /// that overtook the read wins: generations only go up.
    pub fn fill(&self, epoch: u64, keys: &[String], generations: &[i64]) {
        let mut state = self.write();
        if state.epoch != epoch || !state.listening {
            return;
        }
        for (key, generation) in keys.iter().zip(generations) {
            raise(&mut state.generations, key, *generation);
        }
    }

    /// Applies announced (or, in the process that committed them, returned) generations.
    pub fn apply<'a>(&self, changes: impl IntoIterator<Item = (&'a str, i64)>) {
        let mut state = self.write();
        if !state.listening {
            return;
        }
        for (key, generation) in changes {
            raise(&mut state.generations, key, generation);
        }
    }

    /// A new listening connection: what was known before may have missed notifications.
    pub fn listening(&self) -> u64 {
        let mut state = self.write();
        state.generations.clear();
        state.epoch += 1;
        state.listening = true;
        state.trusted_until = None;
        state.epoch
    }

    /// A ping of `epoch` came back: trust the mirror until `until`.
    pub fn trust_until(&self, epoch: u64, until: Instant) {
        let mut state = self.write();
        if state.epoch == epoch && state.listening {
            state.trusted_until = Some(state.trusted_until.map_or(until, |t| t.max(until)));
        }
    }

    /// The connection is gone (or presumed gone): nothing is trusted until the next one.
    pub fn deaf(&self) {
        let mut state = self.write();
        state.generations.clear();
        state.listening = false;
        state.trusted_until = None;
    }

    /// How many listening connections there have been: a new one means the last was lost.
    pub fn epoch(&self) -> u64 {
        self.read().epoch
    }

    /// Whether lookups are answered from memory now.
    pub fn is_trusted(&self) -> bool {
        self.read().trusted(Instant::now())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn trusted(&self, now: Instant) -> bool {
        self.listening && self.trusted_until.is_some_and(|until| now < until)
    }
}

fn raise(generations: &mut HashMap<String, i64>, key: &str, generation: i64) {
    match generations.get_mut(key) {
        Some(known) => *known = (*known).max(generation),
        None => {
            generations.insert(key.to_owned(), generation);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn nothing_is_answered_before_a_ping_or_after_the_lease() {
        let mirror = Mirror::default();
        let k = keys(&["a"]);
        assert_eq!(mirror.lookup(&k), Lookup::Ask { fill: None });
        let epoch = mirror.listening();
        mirror.apply([("a", 3)]);
        assert_eq!(mirror.lookup(&k), Lookup::Ask { fill: None }, "no ping yet");
        mirror.trust_until(epoch, Instant::now() + Duration::from_secs(60));
        assert_eq!(mirror.lookup(&k), Lookup::Known(vec![3]));
        mirror.trust_until(epoch, Instant::now() - Duration::from_secs(1));
        assert_eq!(mirror.lookup(&k), Lookup::Known(vec![3]), "a lease never shrinks");
        let expired = Mirror::default();
        let epoch = expired.listening();
        expired.trust_until(epoch, Instant::now() - Duration::from_millis(1));
        assert_eq!(expired.lookup(&k), Lookup::Ask { fill: None });
    }

    #[test]
    fn generations_only_go_up_and_a_new_connection_forgets() {
        let mirror = Mirror::default();
        let epoch = mirror.listening();
        mirror.trust_until(epoch, Instant::now() + Duration::from_secs(60));
        let k = keys(&["a", "b"]);
        assert_eq!(mirror.lookup(&k), Lookup::Ask { fill: Some(epoch) });
        // The notification of generation 5 overtook a read that saw 4.
        mirror.apply([("a", 5)]);
        mirror.fill(epoch, &k, &[4, 0]);
        assert_eq!(mirror.lookup(&k), Lookup::Known(vec![5, 0]));
        // A read that began on the previous connection is not remembered on the next.
        let next = mirror.listening();
        mirror.trust_until(next, Instant::now() + Duration::from_secs(60));
        mirror.fill(epoch, &k, &[4, 0]);
        assert_eq!(mirror.lookup(&k), Lookup::Ask { fill: Some(next) });
        mirror.deaf();
        mirror.apply([("a", 9)]);
        assert_eq!(mirror.lookup(&k), Lookup::Ask { fill: None });
    }
}
