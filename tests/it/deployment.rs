//! The deployable stack: `docker-compose.yml` passes Compose's own check (`docker-compose
//! config`, no Docker engine needed), and the README explains every service, image, port and volume.

use std::collections::BTreeSet;

use crate::helpers::{COMPOSE_KEYS, compose, lines, repo};

#[test]
fn the_compose_file_is_valid_and_the_readme_explains_all_of_it() {
    let resolved = lines(&compose(&["config"], &COMPOSE_KEYS));
    let services: BTreeSet<String> = lines(&compose(&["config", "--services"], &COMPOSE_KEYS))
        .into_iter()
        .collect();
    let volumes: BTreeSet<String> = lines(&compose(&["config", "--volumes"], &COMPOSE_KEYS))
        .into_iter()
        .collect();
    let images: BTreeSet<String> = resolved
        .iter()
        .filter_map(|l| l.strip_prefix("image: "))
        .map(String::from)
        .collect();
    let ports: BTreeSet<String> = resolved
        .iter()
        .filter_map(|l| l.strip_prefix("- published: "))
        .map(String::from)
        .collect();
    let expected: BTreeSet<String> = [
        "kafka",
        "postgres",
        "redis",
        "nats",
        "migrate",
        "topics",
        "ingest",
        "recognize",
        "project",
        "api",
        "prometheus",
        "grafana",
        "jaeger",
    ]
    .map(String::from)
    .into();
    assert_eq!(services, expected);
    assert_eq!((images.len(), ports.len()), (8, 9), "{images:?} {ports:?}");

    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("## The deployable stack")
        .nth(1)
        .expect("a README section on the stack")
        .split("\n## ")
        .next()
        .unwrap();
    let unexplained: Vec<String> = services
        .iter()
        .chain(&volumes)
        .chain(&images)
        .map(|name| format!("`{name}`"))
        .chain(ports.iter().cloned())
        .filter(|needle| !section.contains(needle.as_str()))
        .collect();
    assert!(
        unexplained.is_empty(),
        "the README's stack section does not explain {unexplained:?}"
    );

    // The API keys are required: Compose refuses to start the stack without them.
    let without_keys = compose(&["config", "-q"], &[]);
    assert!(!without_keys.status.success());
    let said = String::from_utf8_lossy(&without_keys.stderr);
    assert!(said.contains("set ROLLCALL_ADMIN_KEY"), "{said}");
}

#[test]
fn the_prometheus_configuration_scrapes_every_rollcall_service() {
    let config = std::fs::read_to_string(repo().join("dashboards/prometheus/prometheus.yml")).unwrap();
    let compose = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap();
    // The API serves its metrics on the metrics listener too, never on its public address.
    for (service, port) in [("ingest", 9464), ("recognize", 9464), ("project", 9464), ("api", 9464)] {
        assert!(config.contains(&format!("\"{service}:{port}\"")), "{service}");
        assert!(compose.contains(&format!("\n  {service}:\n")), "{service}");
    }
    assert!(compose.contains("ROLLCALL__TELEMETRY__METRICS_LISTEN: 0.0.0.0:9464"));
}
