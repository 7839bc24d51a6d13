//! `rollcall bench api`: requests/s and latency percentiles of the cached attendance-by-day
//! read, against the same read with the cache disabled, in one run, with an in-repo HTTP/1.1
//! load generator (keep-alive connections, each sending its next request when the last returns).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::scratch::{measured_in_scratch, scratch_redis};
use crate::api::{ApiState, KeyRing, RateLimiter, router};
use crate::cache::Cache;
use crate::config::{ApiKeyConfig, ApiRole, Config};
use crate::store::Store;

pub(super) const BENCH_KEY: &str = "rollcall-bench-key-0000000000";

/// Latencies of one load run.
pub(super) struct Run {
    requests: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Run {
    pub(super) fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// One result line: requests/s, its ratio to `baseline` (the first run's, set by it), p50, p99.
    pub(super) fn line(&self, name: &str, baseline: &mut Option<f64>) -> String {
        let rps = self.per_second();
        let ratio = rps / *baseline.get_or_insert(rps);
        format!(
            "  {name:<28} {rps:>9.0} req/s ({ratio:.2} x)  p50 {:>6.2} ms  p99 {:>6.2} ms",
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
        )
    }

    pub(super) fn p99_ms(&self) -> f64 {
        self.percentile(0.99).as_secs_f64() * 1e3
    }

    pub(super) fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[at]
    }
}

/// One keep-alive connection sending GET `path` until `until`; returns each request's latency.
async fn client(address: std::net::SocketAddr, path: String, until: Instant) -> anyhow::Result<Vec<Duration>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {BENCH_KEY}\r\n\r\n");
    let mut latencies = Vec::new();
    let mut line = String::new();
    let mut body = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        write.write_all(request.as_bytes()).await?;
        line.clear();
        read.read_line(&mut line).await?;
        if !line.starts_with("HTTP/1.1 200") {
            bail!("{path} answered {}", line.trim());
        }
        let mut length = 0;
        loop {
            line.clear();
            read.read_line(&mut line).await?;
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().context("content-length")?;
            }
        }
        body.resize(length, 0);
        read.read_exact(&mut body).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

pub(super) async fn load(
    address: std::net::SocketAddr,
    path: &str,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections {
        clients.spawn(client(address, path.to_owned(), until));
    }
    let mut latencies = Vec::new();
    while let Some(done) = clients.join_next().await {
        latencies.extend(done??);
    }
    Ok(Run {
        requests: latencies.len(),
        seconds: started.elapsed().as_secs_f64(),
        latencies,
    })
}

pub(super) async fn serve(state: ApiState, stop: CancellationToken) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(state.clone().drop_hot_bodies_every(stop.clone()));
    // The server `rollcall serve` runs, so the figures are the product's.
    let limits = crate::api::connection_limits(&state.config);
    tokio::spawn(crate::http_server::serve(listener, router(state), limits, stop));
    Ok(address)
}

pub(super) fn state(config: &Config, store: Store, cache: Option<Cache>) -> ApiState {
    let mut keys = std::collections::BTreeMap::new();
    keys.insert("bench".to_owned(), ApiKeyConfig::clear(BENCH_KEY, ApiRole::Reader));
    let services = crate::usecases::Services {
        store,
        cache,
        nats: None,
    };
    ApiState::assemble(config, services, None, KeyRing::new(&keys), RateLimiter::new(u32::MAX))
}

/// `people` present on one day in a database of the benchmark's own (beside `store.url`), then
/// the day's first page read through Redis (database 15) and without it.
pub async fn api_benchmark(config: &Config, load_args: LoadPlan, json: bool) -> anyhow::Result<String> {
    let Some(redis) = &config.redis.url else {
        bail!("the API benchmark compares the Redis cache with no cache: set [redis] url");
    };
    let redis = scratch_redis(redis);
    measured_in_scratch(&config.store.url, "api", json, |url| async move {
        measure_day_reads(config, &url, &redis, load_args).await
    })
    .await
}

/// How big and how long an HTTP benchmark is.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    /// People in the data read (present on the day, or members of the class).
    pub people: usize,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Seconds per measurement.
    pub seconds: f64,
    /// Also measure the cached read with `wrk`, an independent client.
    pub wrk: bool,
}

#[derive(Debug, serde::Serialize)]
struct ApiReport {
    people: usize,
    connections: usize,
    uncached_rps: f64,
    uncached_p99_ms: f64,
    cached_rps: f64,
    cached_p99_ms: f64,
    /// Cached over uncached requests/s, in the same run.
    cached_ratio: f64,
    /// The cached read measured by `wrk` (with `--wrk`).
    wrk_cached: Option<super::wrk::WrkRun>,
}

async fn measure_day_reads(
    config: &Config,
    store_url: &str,
    redis: &str,
    plan: LoadPlan,
) -> anyhow::Result<(Vec<String>, ApiReport)> {
    let LoadPlan {
        people,
        connections,
        seconds,
        wrk,
    } = plan;
    let store = Store::open(store_url, config.store.max_connections.max(8)).await?;
    let events = super::project::synthetic_events(people);
    for person in events.iter().map(|e| &e.person_id) {
        store.create_person(person, &format!("Person {person}")).await?;
    }
    store.write_attendance(&events).await?;
    let day = events[0].seen_at.date_naive();
    let cache = Cache::connect(redis)?;
    let stop = CancellationToken::new();
    super::follow_generations(&store, &stop).await?;
    let cached = serve(state(config, store.clone(), Some(cache)), stop.clone()).await?;
    let uncached = serve(state(config, store.clone(), None), stop.clone()).await?;
    let path = format!("/v1/attendance/days/{day}?limit=50");
    // Warm up both (and fill the cache) before measuring.
    load(cached, &path, 1, 0.5).await?;
    load(uncached, &path, 1, 0.5).await?;
    let mut lines = vec![format!(
        "GET {path}: {people} people present, a page of 50; {connections} keep-alive connections for {seconds} s each"
    )];
    let mut baseline = None;
    let mut runs = Vec::new();
    for (name, address) in [("PostgreSQL only (cache off)", uncached), ("through Redis", cached)] {
        let run = load(address, &path, connections, seconds).await?;
        lines.push(run.line(name, &mut baseline));
        runs.push(run);
    }
    let wrk_cached = super::wrk::measure_if(
        wrk,
        "through Redis, wrk",
        (cached, &path),
        (connections, seconds),
        &mut lines,
    )
    .await?;
    stop.cancel();
    drop(store);
    let (uncached, cached) = (&runs[0], &runs[1]);
    let report = ApiReport {
        people,
        connections,
        uncached_rps: uncached.per_second(),
        uncached_p99_ms: uncached.p99_ms(),
        cached_rps: cached.per_second(),
        cached_p99_ms: cached.p99_ms(),
        cached_ratio: cached.per_second() / uncached.per_second(),
        wrk_cached,
    };
    Ok((lines, report))
}
