//! The dashboards and alert rules in `dashboards/`, read as Prometheus sees them: every panel
//! query, every alert expression and the signal it watches, and the metric names they mention.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use super::repo;

/// The `dashboards/` directory: Grafana's dashboards and Prometheus's configuration and rules.
pub fn dashboards() -> PathBuf {
    repo().join("dashboards")
}

/// The dashboards' JSON files.
pub fn dashboard_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dashboards().join("grafana"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    files
}

/// Every panel query of every dashboard: (dashboard, panel title, expression).
pub fn panel_queries() -> Vec<(String, String, String)> {
    let mut queries = Vec::new();
    for file in dashboard_files() {
        let board: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = board["title"].as_str().unwrap().to_owned();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap().to_owned();
                queries.push((name.clone(), panel["title"].as_str().unwrap().to_owned(), expr));
            }
        }
    }
    queries
}

/// The alert rules: (name, expression). A small reader for the one file's known shape.
pub fn alert_rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dashboards().join("prometheus/alerts.yml")).unwrap();
    let mut rules = Vec::new();
    let mut name = None;
    for line in text.lines().map(str::trim) {
        if let Some(alert) = line.strip_prefix("- alert: ") {
            name = Some(alert.to_owned());
        } else if let Some(expr) = line.strip_prefix("expr: ") {
            rules.push((name.take().expect("expr after alert"), expr.to_owned()));
        }
    }
    assert!(rules.len() >= 5, "{rules:?}");
    rules
}

/// Grafana's variables, as the dashboards use them, replaced by values Prometheus understands.
pub fn as_prometheus_query(expr: &str) -> String {
    expr.replace("$__rate_interval", "30s").replace("$camera", ".*")
}

/// An alert expression without its final comparison: the signal it watches. An alert that is
/// not firing returns nothing, so the signal is what must have series in a healthy pipeline.
pub fn signal_of(expr: &str) -> String {
    for op in [" > ", " < ", " == ", " != ", " >= ", " <= "] {
        if let Some(at) = expr.rfind(op) {
            let threshold = expr[at + op.len()..].trim();
            if threshold.parse::<f64>().is_ok() {
                return expr[..at].trim().to_owned();
            }
        }
    }
    panic!("alert expression {expr:?} does not end in a comparison with a number");
}

/// The metric names a text mentions (histogram series reduced to their metric).
pub fn metric_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("rollcall_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        // Job names (`rollcall-api`) and dashboard uids are not metrics.
        if base.len() > "rollcall_".len() {
            names.insert(base.to_owned());
        }
        rest = &tail[end..];
    }
    names
}
