//! The model manifest, the installing and verifying of model files by sha256, their download
//! from upstream (`fetch`), and the rebuilding of the recognizer from dlib's own file (`dlib`, `onnx`).

pub mod dlib;
pub mod fetch;
mod onnx;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};

const MANIFEST: &str = include_str!("models.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRole {
    Detector,
    Recognizer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: String,
    pub role: ModelRole,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub licence: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    model: Vec<ModelSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model {0:?}; known: {1}")]
    Unknown(String, String),
    #[error("model {name:?} is a {actual:?}, not a {expected:?}")]
    WrongRole {
        name: String,
        expected: ModelRole,
        actual: ModelRole,
    },
    #[error("model file {path} is missing: run `rollcall models install` (or scripts/setup)")]
    Missing { path: PathBuf },
    #[error(
        "model file {path} is corrupted: sha256 {actual}, expected {expected}; reinstall it with `rollcall models install`"
    )]
    Corrupted {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("reading model file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Every model rollcall knows, from the manifest compiled into the binary.
pub fn manifest() -> Vec<ModelSpec> {
    toml::from_str::<Manifest>(MANIFEST)
        .expect("the embedded models.toml is valid")
        .model
}

pub fn spec(name: &str, role: ModelRole) -> Result<ModelSpec, ModelError> {
    let all = manifest();
    let known = all.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
    let spec = all
        .iter()
        .find(|m| m.name == name)
        .cloned()
        .ok_or_else(|| ModelError::Unknown(name.to_owned(), known))?;
    if spec.role != role {
        return Err(ModelError::WrongRole {
            name: name.to_owned(),
            expected: role,
            actual: spec.role,
        });
    }
    Ok(spec)
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    copy_hashing(&mut std::fs::File::open(path)?, &mut std::io::sink())
}

/// Copies `from` into `to` and returns the sha256 of what went through.
pub fn copy_hashing(from: &mut impl Read, to: &mut impl std::io::Write) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Where a file is written before it is checked and renamed into place.
pub(crate) fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Converts dlib's network file at `dat` into the recognizer's ONNX model at `out`; returns the
/// model's sha256.
pub fn convert_dlib(dat: &Path, out: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(dat).with_context(|| format!("reading {}", dat.display()))?;
    let network =
        dlib::parse(&bytes).with_context(|| format!("{} is not dlib's face-recognition network", dat.display()))?;
    let model = onnx::model_bytes(&network);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let partial = partial_path(out);
    std::fs::write(&partial, &model).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, out)?;
    Ok(hex::encode(Sha256::digest(&model)))
}

impl ModelSpec {
    /// The file of this model in `dir`, after checking that it is there and intact.
    pub fn verified_path(&self, dir: &Path) -> Result<PathBuf, ModelError> {
        let path = dir.join(&self.file);
        if !path.is_file() {
            return Err(ModelError::Missing { path });
        }
        let actual = sha256_file(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        if actual != self.sha256 {
            return Err(ModelError::Corrupted {
                path,
                actual,
                expected: self.sha256.clone(),
            });
        }
        Ok(path)
    }
}

/// What `install` did with one model.
#[derive(Debug, PartialEq, Eq)]
pub enum InstallOutcome {
    AlreadyPresent,
    Installed,
}

/// Copies a model from `from` into `dir` (through a temporary file, verified before it replaces anything).
pub fn install(spec: &ModelSpec, from: &Path, dir: &Path) -> anyhow::Result<InstallOutcome> {
    if spec.verified_path(dir).is_ok() {
        return Ok(InstallOutcome::AlreadyPresent);
    }
    let source = from.join(&spec.file);
    let actual = sha256_file(&source).with_context(|| format!("reading {}", source.display()))?;
    if actual != spec.sha256 {
        anyhow::bail!(ModelError::Corrupted {
            path: source,
            actual,
            expected: spec.sha256.clone()
        });
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = dir.join(format!(".{}.partial", spec.file));
    std::fs::copy(&source, &partial)
        .with_context(|| format!("copying {} to {}", source.display(), partial.display()))?;
    std::fs::rename(&partial, dir.join(&spec.file)).context("moving the verified model into place")?;
    spec.verified_path(dir)?;
    Ok(InstallOutcome::Installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_names_are_unique() {
        let all = manifest();
        assert_eq!(all.len(), 3);
        let mut names: Vec<_> = all.iter().map(|m| &m.name).collect();
        names.dedup();
        assert_eq!(names.len(), 3);
        assert!(spec("dlib_resnet_v1", ModelRole::Recognizer).is_ok());
        assert!(matches!(
            spec("dlib_resnet_v1", ModelRole::Detector),
            Err(ModelError::WrongRole { .. })
        ));
        assert!(matches!(
            spec("nope", ModelRole::Detector),
            Err(ModelError::Unknown(..))
        ));
    }

    #[test]
    fn missing_and_corrupted_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec("yunet_2023mar", ModelRole::Detector).unwrap();
        let err = s.verified_path(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("face_detection_yunet_2023mar.onnx") && err.contains("missing"),
            "{err}"
        );
        std::fs::write(dir.path().join(&s.file), b"garbage").unwrap();
        let err = s.verified_path(dir.path()).unwrap_err().to_string();
        assert!(err.contains("corrupted") && err.contains(&s.sha256), "{err}");
    }

    #[test]
    fn install_refuses_a_corrupted_source() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let s = spec("yunet_2023mar", ModelRole::Detector).unwrap();
        std::fs::write(from.path().join(&s.file), b"garbage").unwrap();
        let err = install(&s, from.path(), to.path()).unwrap_err();
        assert!(format!("{err:#}").contains("corrupted"), "{err:#}");
        assert!(!to.path().join(&s.file).exists());
    }
}
