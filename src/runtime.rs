//! Loading the ONNX Runtime shared library from the configured path, once per process.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

/// The runtime build rollcall is tested with, and the hash of its shared library in the PyPI wheel.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";
pub const ONNXRUNTIME_LIB_SHA256: &str = "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3";

const INSTALL_HINT: &str = "run `scripts/setup` (it installs onnxruntime 1.31.1 from the PyPI wheel into .rollcall/lib) \
     or point runtime.onnxruntime_lib / ROLLCALL__RUNTIME__ONNXRUNTIME_LIB at libonnxruntime.so.1.31.1";

#[derive(Debug, thiserror::Error, Clone)]
pub enum RuntimeError {
    #[error("ONNX Runtime library not found at {path}: {INSTALL_HINT}")]
    Missing { path: PathBuf },
    #[error(
        "ONNX Runtime library at {path} has sha256 {actual}, expected {ONNXRUNTIME_LIB_SHA256} (onnxruntime {ONNXRUNTIME_VERSION}): {INSTALL_HINT}"
    )]
    WrongLibrary { path: PathBuf, actual: String },
    #[error("ONNX Runtime library at {path} could not be loaded: {message}")]
    Load { path: PathBuf, message: String },
    #[error("ONNX Runtime was already loaded from {loaded}, cannot switch to {requested} in the same process")]
    AlreadyLoaded { loaded: PathBuf, requested: PathBuf },
}

static ENVIRONMENT: OnceLock<Result<(PathBuf, Environment), RuntimeError>> = OnceLock::new();

/// Loads the library (checking its hash) the first time; later calls return the same environment.
pub fn environment(lib: &Path) -> Result<&'static Environment, RuntimeError> {
    let requested = std::path::absolute(lib).unwrap_or_else(|_| lib.to_path_buf());
    let loaded = ENVIRONMENT.get_or_init(|| load(&requested).map(|env| (requested.clone(), env)));
    match loaded {
        Ok((path, env)) if *path == requested => Ok(env),
        Ok((path, _)) => Err(RuntimeError::AlreadyLoaded {
            loaded: path.clone(),
            requested,
        }),
        Err(e) => Err(e.clone()),
    }
}

fn load(path: &Path) -> Result<Environment, RuntimeError> {
    if !path.is_file() {
        return Err(RuntimeError::Missing {
            path: path.to_path_buf(),
        });
    }
    let actual = crate::models::sha256_file(path).map_err(|e| RuntimeError::Load {
        path: path.into(),
        message: e.to_string(),
    })?;
    if actual != ONNXRUNTIME_LIB_SHA256 {
        return Err(RuntimeError::WrongLibrary {
            path: path.to_path_buf(),
            actual,
        });
    }
    let builder = ort::init_from(path).map_err(|e| RuntimeError::Load {
        path: path.into(),
        message: e.to_string(),
    })?;
    builder.with_name("rollcall").build().map_err(|e| RuntimeError::Load {
        path: path.into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_says_how_to_install() {
        let err = load(Path::new("/nonexistent/libonnxruntime.so")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("not found") && msg.contains("scripts/setup"), "{msg}");
    }

    #[test]
    fn wrong_library_is_rejected_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::write(&fake, b"not a library").unwrap();
        let err = load(&fake).unwrap_err();
        assert!(matches!(err, RuntimeError::WrongLibrary { .. }), "{err}");
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Path of `libonnxruntime.so.1.31.1`, installed by `scripts/setup`.
    pub onnxruntime_lib: PathBuf,
    /// Threads per ONNX Runtime session; workers run in parallel, so one each keeps cores busy without contention.
    pub intra_threads: usize,
}
