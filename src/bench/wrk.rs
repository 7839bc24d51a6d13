//! `wrk` (Debian's package) as an independent HTTP client for the API benchmarks: the same
//! server, path and connections as the in-repo load generator, its figures read from its report.

use std::net::SocketAddr;

use anyhow::{Context, bail};

/// What wrk measured.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct WrkRun {
    pub rps: f64,
    pub p99_ms: f64,
}

/// Runs wrk (2 threads) against `path` with `connections` keep-alive connections for `seconds`.
async fn measure(
    address: SocketAddr,
    path: &str,
    key: &str,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<WrkRun> {
    let mut wrk = std::process::Command::new("wrk");
    wrk.args(["-t2", "--latency"])
        .arg(format!("-c{}", connections.max(2)))
        .arg(format!("-d{}s", seconds.ceil().max(1.0) as u64))
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .arg(format!("http://{address}{path}"));
    // Waited for off the runtime: the server under test runs on it.
    let output = tokio::task::spawn_blocking(move || wrk.output())
        .await?
        .context("running wrk (apt install wrk)")?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {report}{}", String::from_utf8_lossy(&output.stderr));
    }
    parse(&report).with_context(|| format!("reading wrk's report:\n{report}"))
}

/// With `--wrk`, measures `path` with wrk and adds its result line under `name`.
pub async fn measure_if(
    wanted: bool,
    name: &str,
    (address, path): (SocketAddr, &str),
    (connections, seconds): (usize, f64),
    lines: &mut Vec<String>,
) -> anyhow::Result<Option<WrkRun>> {
    if !wanted {
        return Ok(None);
    }
    let run = measure(address, path, super::api::BENCH_KEY, connections, seconds).await?;
    lines.push(format!(
        "  {name:<28} {:>9.0} req/s            p99 {:>6.2} ms",
        run.rps, run.p99_ms
    ));
    Ok(Some(run))
}

fn parse(report: &str) -> anyhow::Result<WrkRun> {
    if let Some(line) = report.lines().find(|l| l.contains("Non-2xx or 3xx responses")) {
        bail!("the server refused requests: {}", line.trim());
    }
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .with_context(|| format!("no {prefix:?} line"))
    };
    let rps: f64 = field("Requests/sec:")?.parse()?;
    let p99_ms = duration_ms(field("99%")?)?;
    Ok(WrkRun { rps, p99_ms })
}

/// wrk's durations: `850.00us`, `2.31ms`, `1.02s`.
fn duration_ms(text: &str) -> anyhow::Result<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e3)
    } else {
        bail!("duration {text:?}")
    };
    Ok(number.parse::<f64>()? * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrks_report() {
        let report = "Running 10s test @ http://127.0.0.1:1/x\n  2 threads and 16 connections\n\
            \x20 Latency Distribution\n     50%  610.00us\n     75%    1.01ms\n     90%    1.50ms\n     99%    3.25ms\n\
            \x20 201234 requests in 10.00s, 1.00GB read\nRequests/sec:  20123.40\nTransfer/sec:    102.40MB\n";
        let run = parse(report).unwrap();
        assert_eq!((run.rps, run.p99_ms), (20123.40, 3.25));
        assert!(parse(&format!("{report}  Non-2xx or 3xx responses: 12\n")).is_err());
        assert_eq!(duration_ms("850.00us").unwrap(), 0.85);
        assert_eq!(duration_ms("1.5s").unwrap(), 1500.0);
    }
}
