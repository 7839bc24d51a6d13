//! The API fuzzed from its own OpenAPI document by an independent fuzzer (schemathesis, from
//! PyPI): 30 examples per operation, checked for server errors, status codes, content types,
//! response schemas and headers, invalid data accepted, and authentication ignored. 0 failures.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_any_operation() {
    // The fuzzer sends thousands of requests, many without a key: no limit of ours should
    // answer 429 in place of what the operation would say.
    let api = Api::start_with(|config| {
        config.api.rate_limit_per_minute = 10_000_000;
        config.api.auth_failures_per_minute = 10_000_000;
    })
    .await;
    let seed = std::env::var("ROLLCALL_FUZZ_SEED").unwrap_or_else(|_| "20261201".into());
    let checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "missing_required_header",
        "unsupported_method",
    ]
    .join(",");
    let base = api.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("schemathesis")
            .args(["run", &format!("{base}/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {ADMIN_KEY}")])
            .args(["--checks", &checks, "--max-examples", "30", "--seed", &seed])
            .args(["--workers", "1", "--no-shrink", "--wait-for-schema", "10"])
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis (scripts/test installs it from PyPI)")
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("46/46"), "every operation was selected:\n{said}");
    api.stop().await;
}
