//! `docker-compose` run on the repository's `docker-compose.yml` (Compose's own check, no Docker
//! engine needed), with the API keys the stack requires.

use std::process::Command;

use super::repo;

/// The API keys the compose file requires, with values only for the check.
pub const COMPOSE_KEYS: [(&str, &str); 2] = [
    ("ROLLCALL_ADMIN_KEY", "an-admin-key-only-for-this-check"),
    ("ROLLCALL_READER_KEY", "a-reader-key-only-for-this-check"),
];

/// `docker-compose -f docker-compose.yml <args>` with exactly the API keys in `keys` set.
pub fn compose(args: &[&str], keys: &[(&str, &str)]) -> std::process::Output {
    Command::new("docker-compose")
        .current_dir(repo())
        .args(["-f", "docker-compose.yml"])
        .args(args)
        .env_remove("ROLLCALL_ADMIN_KEY")
        .env_remove("ROLLCALL_READER_KEY")
        .envs(keys.iter().copied())
        .output()
        .expect("docker-compose (Debian's package) must be installed")
}

/// The non-empty lines of a successful command's output, trimmed.
pub fn lines(out: &std::process::Output) -> Vec<String> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}
