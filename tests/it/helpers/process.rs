//! The `rollcall` binary as a child process: commands with the test's store, cameras and
//! configuration, stages started and stopped with signals, and their output.

use std::path::Path;
use std::process::{Command, Output};

use rollcall::config::Config;

use super::{config, face, repo};

/// The rollcall binary, with its store and cameras in `work`.
pub fn rollcall(work: &Path) -> Command {
    let config = config(work);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    cmd.current_dir(repo())
        .env("ROLLCALL__STORE__URL", &config.store.url)
        .env("ROLLCALL__INGEST__CAMERAS_DIR", &config.ingest.cameras_dir)
        .env_remove("ROLLCALL_CONFIG")
        .env("RUST_LOG", "warn");
    cmd
}

/// The configuration as environment variables, for stages started as child processes.
pub fn config_env(config: &Config) -> Vec<(String, String)> {
    let t = &config.kafka.topics;
    let options = config
        .kafka
        .options
        .iter()
        .map(|(k, v)| (format!("ROLLCALL__KAFKA__OPTIONS__{k}"), v.clone()));
    let mut env = vec![
        ("ROLLCALL__BUS__KIND".into(), "kafka".into()),
        ("ROLLCALL__KAFKA__BROKERS".into(), config.kafka.brokers.clone()),
        ("ROLLCALL__KAFKA__TOPICS__FRAMES".into(), t.frames.clone()),
        ("ROLLCALL__KAFKA__TOPICS__ATTENDANCE".into(), t.attendance.clone()),
        ("ROLLCALL__KAFKA__TOPICS__UNKNOWN".into(), t.unknown.clone()),
        ("ROLLCALL__KAFKA__TOPICS__FRAMES_DLQ".into(), t.frames_dlq.clone()),
        (
            "ROLLCALL__KAFKA__TOPICS__ATTENDANCE_DLQ".into(),
            t.attendance_dlq.clone(),
        ),
        ("ROLLCALL__KAFKA__TOPICS__UNKNOWN_DLQ".into(), t.unknown_dlq.clone()),
        (
            "ROLLCALL__KAFKA__REVIEW_GROUP".into(),
            config.kafka.review_group.clone(),
        ),
        (
            "ROLLCALL__KAFKA__RECOGNIZE_GROUP".into(),
            config.kafka.recognize_group.clone(),
        ),
        (
            "ROLLCALL__KAFKA__PROJECT_GROUP".into(),
            config.kafka.project_group.clone(),
        ),
        (
            "ROLLCALL__PROJECT__LINGER_MS".into(),
            config.project.linger_ms.to_string(),
        ),
        ("ROLLCALL__STORE__URL".into(), config.store.url.clone()),
        (
            "ROLLCALL__RECOGNIZE__MODE".into(),
            serde_json::to_value(config.recognize.mode)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        (
            "ROLLCALL__INGEST__CAMERAS_DIR".into(),
            config.ingest.cameras_dir.display().to_string(),
        ),
        (
            "ROLLCALL__RECOGNIZE__WORKERS".into(),
            config.recognize.workers.to_string(),
        ),
        (
            "ROLLCALL__RECOGNIZE__COOLDOWN_SECS".into(),
            config.recognize.cooldown_secs.to_string(),
        ),
    ];
    env.extend(options);
    if let Some(url) = &config.redis.url {
        env.push(("ROLLCALL__REDIS__URL".into(), url.clone()));
    }
    if let Some(url) = &config.nats.url {
        env.push(("ROLLCALL__NATS__URL".into(), url.clone()));
        env.push((
            "ROLLCALL__NATS__SUBJECT_PREFIX".into(),
            config.nats.subject_prefix.clone(),
        ));
    }
    env
}

/// `rollcall <name>` over `config`, its output piped.
pub fn stage(work: &Path, config: &Config, name: &str) -> Command {
    let mut cmd = rollcall(work);
    cmd.envs(config_env(config)).env("RUST_LOG", "info").arg(name);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// Starts a stage as a child process logging to a file of its own, `<name>-<generation>.log` in
/// `work` (a pipe nobody reads would fill up and stall it).
pub fn spawn_stage(work: &Path, config: &Config, name: &str, generation: u32) -> std::process::Child {
    let log = work.join(format!("{name}-{generation}.log"));
    let file = std::fs::File::create(&log).unwrap();
    stage(work, config, name)
        .env("RUST_LOG", "info,rollcall=debug")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap()
}

/// How long a stage may take to stop after SIGTERM: its drain deadline and closing its Kafka
/// consumers fit well inside.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Stops `child` with SIGTERM and waits for it; a stage that does not stop in `STOP_WITHIN`
/// is killed and fails the test, rather than hang it.
pub fn terminate(child: std::process::Child) -> Output {
    let pid = child.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term.success());
    let (done, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output().unwrap()));
    match exited.recv_timeout(STOP_WITHIN) {
        Ok(output) => output,
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            let output = exited.recv().unwrap();
            panic!(
                "process {pid} did not stop within {STOP_WITHIN:?} of SIGTERM:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// Runs `rollcall identify` on one photo with `var` set to `value`; returns its stderr after checking it failed.
pub fn identify_fails_with(work: &Path, var: &str, value: &Path) -> String {
    let out = rollcall(work)
        .env(var, value)
        .arg("identify")
        .arg(face("face_recognition/obama/obama.jpg"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `rollcall models <args>` with its models in `models_dir`.
pub fn models_command(work: &Path, models_dir: &Path, args: &[&str]) -> Output {
    rollcall(work)
        .env("ROLLCALL__MODELS__DIR", models_dir)
        .arg("models")
        .args(args)
        .output()
        .unwrap()
}

/// A command's stdout then stderr, as text.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `rollcall eval --json` over the shared photos, checked to succeed.
pub fn eval_json(work: &Path) -> serde_json::Value {
    let out = rollcall(work)
        .arg("eval")
        .arg(super::faces())
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
