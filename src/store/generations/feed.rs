//! The PostgreSQL channel that carries cache generations: bumps announced by NOTIFY in the
//! transaction that makes them (delivered at commit, in commit order), pings that prove the
//! listening connection is current, and the task that feeds a process's mirror from it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgListener, PgNotification, PgPool};
use tokio_util::sync::CancellationToken;

use super::mirror::Mirror;

/// The channel every generation bump is announced on.
pub const CHANNEL: &str = "rollcall_cache_generations";
/// How often a follower pings itself through the database.
pub const PING_EVERY: Duration = Duration::from_millis(250);
/// How long a returned ping makes the mirror trusted, counted from when the ping was sent: the
/// longest a process can go on answering from memory when its connection silently died.
pub const LEASE: Duration = Duration::from_secs(1);
/// PostgreSQL refuses payloads of 8,000 bytes and more.
const MAX_PAYLOAD: usize = 7_500;

/// The payloads announcing `generations`: lines of `{generation} {key}`, split under the limit.
pub fn payloads(generations: &[(String, i64)]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for (key, generation) in generations {
        let line = format!("{generation} {key}\n");
        if !current.is_empty() && current.len() + line.len() > MAX_PAYLOAD {
            payloads.push(std::mem::take(&mut current));
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

/// What one notification says.
#[derive(Debug, PartialEq)]
enum Message<'a> {
    Bumps(Vec<(&'a str, i64)>),
    /// A ping: who sent it, and when (milliseconds since that follower started).
    Ping {
        follower: &'a str,
        sent_ms: u64,
    },
}

fn parse(payload: &str) -> Option<Message<'_>> {
    if let Some(ping) = payload.strip_prefix("ping ") {
        let (follower, sent) = ping.split_once(' ')?;
        return Some(Message::Ping {
            follower,
            sent_ms: sent.parse().ok()?,
        });
    }
    payload
        .lines()
        .map(|line| {
            let (generation, key) = line.split_once(' ')?;
            Some((key, generation.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()
        .map(Message::Bumps)
}

/// Keeps `mirror` fed until `stop`: listens, pings itself, and starts over on a new connection
/// when the current one fails or a ping does not come back within the lease.
pub async fn follow(pool: PgPool, mirror: Arc<Mirror>, stop: CancellationToken) {
    let follower = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let pinger = tokio::spawn(ping(pool.clone(), follower.clone(), started, stop.clone()));
    let fresh_backoff = || crate::retry::Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut backoff = fresh_backoff();
    while !stop.is_cancelled() {
        match listen(&pool).await {
            Ok(listener) => {
                backoff = fresh_backoff();
                let epoch = mirror.listening();
                tracing::info!(epoch, "following cache generations");
                receive(listener, &mirror, epoch, (&follower, started), &stop).await;
                mirror.deaf();
                if !stop.is_cancelled() {
                    tracing::warn!("cache generations channel lost: cached reads ask the database until it is back");
                }
            }
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot listen for cache generations");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
    pinger.abort();
}

async fn listen(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications until the connection fails, goes quiet for longer than the lease (no
/// ping of ours came back: presumed dead), or `stop`.
async fn receive(
    mut listener: PgListener,
    mirror: &Mirror,
    epoch: u64,
    (follower, started): (&str, Instant),
    stop: &CancellationToken,
) {
    let mut deadline = Instant::now() + LEASE + PING_EVERY;
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(deadline.into()) => return,
            next = listener.try_recv() => next,
        };
        let notification: PgNotification = match next {
            Ok(Some(notification)) => notification,
            Ok(None) | Err(_) => return,
        };
        match parse(notification.payload()) {
            Some(Message::Bumps(bumps)) => mirror.apply(bumps),
            Some(Message::Ping {
                follower: sender,
                sent_ms,
            }) if sender == follower => {
                let sent = started + Duration::from_millis(sent_ms);
                mirror.trust_until(epoch, sent + LEASE);
                deadline = Instant::now() + LEASE + PING_EVERY;
            }
            Some(Message::Ping { .. }) => {}
            None => tracing::warn!(
                payload = notification.payload(),
                "unreadable cache generations notification"
            ),
        }
    }
}

/// Sends a ping through the pool every `PING_EVERY`; a failed one simply does not come back.
async fn ping(pool: PgPool, follower: String, started: Instant, stop: CancellationToken) {
    let mut every = tokio::time::interval(PING_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let payload = format!("ping {follower} {}", started.elapsed().as_millis());
        let sent = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&pool);
        match tokio::time::timeout(LEASE, sent).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "cache generations ping failed"),
            Err(_) => tracing::debug!("cache generations ping timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_read_back() {
        let generations: Vec<(String, i64)> = (0..2_000)
            .map(|i| (format!("rollcall:v1:person:person-{i:05}"), i as i64 + 1))
            .collect();
        let payloads = payloads(&generations);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        let read: Vec<(String, i64)> = payloads
            .iter()
            .flat_map(|p| match parse(p) {
                Some(Message::Bumps(bumps)) => bumps.into_iter().map(|(k, g)| (k.to_owned(), g)).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(read, generations);
        assert_eq!(
            parse("ping abc 1500"),
            Some(Message::Ping {
                follower: "abc",
                sent_ms: 1500
            })
        );
        assert_eq!(parse("x rollcall:v1:cameras\n"), None);
    }
}
