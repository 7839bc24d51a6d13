//! The model manifest, the installing and verifying of model files by sha256, their download
//! from upstream (`fetch`), the rebuilding of the recognizer from dlib's own file (`dlib`, `onnx`),
//! and the model cards that let a site bring a recognizer of its own (`card`).

pub mod card;
mod config;
pub mod dlib;
pub mod fetch;
mod onnx;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use card::{AlignmentTemplate, CardError, ColourOrder, NamedTemplate, RecognizerCard};
pub use config::ModelsConfig;

const MANIFEST: &str = include_str!("models.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRole {
    Detector,
    Recognizer,
}

/// A model rollcall can run: the built-in ones (`models.toml`) and a site's own
/// (`[[models.custom]]` in the configuration, whose `file` may be an absolute path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: String,
    pub role: ModelRole,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    pub sha256: String,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub source: String,
    /// What a recognizer expects and how its embeddings compare; required for recognizers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<RecognizerCard>,
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
    #[error("recognizer {0:?} has no model card: describe its input and metric under [models.custom.card]")]
    NoCard(String),
    #[error("the model card of {name:?} is invalid: {source}")]
    Card { name: String, source: CardError },
    #[error("custom model {0:?} has the name of a built-in model: choose another name")]
    NameTaken(String),
    #[error("custom model {0:?} is listed twice")]
    Duplicate(String),
    #[error("custom model {name:?}: sha256 {sha256:?} is not 64 hexadecimal digits")]
    BadSha256 { name: String, sha256: String },
}

/// Every model rollcall knows, from the manifest compiled into the binary.
pub fn manifest() -> Vec<ModelSpec> {
    toml::from_str::<Manifest>(MANIFEST)
        .expect("the embedded models.toml is valid")
        .model
}

/// The built-in models followed by the site's own (`custom`), after checking the latter.
pub fn catalogue(custom: &[ModelSpec]) -> Result<Vec<ModelSpec>, ModelError> {
    let mut all = manifest();
    for model in custom {
        if all.iter().any(|m| m.name == model.name) {
            return Err(if manifest().iter().any(|m| m.name == model.name) {
                ModelError::NameTaken(model.name.clone())
            } else {
                ModelError::Duplicate(model.name.clone())
            });
        }
        let hex_digits = model.sha256.len() == 64 && model.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_digits {
            return Err(ModelError::BadSha256 {
                name: model.name.clone(),
                sha256: model.sha256.clone(),
            });
        }
        if model.role == ModelRole::Recognizer {
            model.recognizer_card()?;
        }
        let mut model = model.clone();
        model.sha256 = model.sha256.to_ascii_lowercase();
        all.push(model);
    }
    Ok(all)
}

/// A built-in model by name.
pub fn spec(name: &str, role: ModelRole) -> Result<ModelSpec, ModelError> {
    find(manifest(), name, role)
}

/// A model by name among the built-in ones and the site's own.
pub fn resolve(custom: &[ModelSpec], name: &str, role: ModelRole) -> Result<ModelSpec, ModelError> {
    find(catalogue(custom)?, name, role)
}

fn find(all: Vec<ModelSpec>, name: &str, role: ModelRole) -> Result<ModelSpec, ModelError> {
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
    /// The recognizer's card, checked.
    pub fn recognizer_card(&self) -> Result<&RecognizerCard, ModelError> {
        let card = self
            .card
            .as_ref()
            .ok_or_else(|| ModelError::NoCard(self.name.clone()))?;
        card.validate().map_err(|source| ModelError::Card {
            name: self.name.clone(),
            source,
        })?;
        Ok(card)
    }

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
        let dlib = spec("dlib_resnet_v1", ModelRole::Recognizer).unwrap();
        assert_eq!(dlib.recognizer_card().unwrap(), &RecognizerCard::dlib());
    }

    fn site_model(name: &str) -> ModelSpec {
        ModelSpec {
            name: name.into(),
            role: ModelRole::Recognizer,
            file: "/srv/models/site.onnx".into(),
            bytes: None,
            sha256: "AB".repeat(32),
            licence: String::new(),
            source: String::new(),
            card: Some(RecognizerCard::dlib()),
        }
    }

    #[test]
    fn custom_models_join_the_catalogue_once_each_with_a_valid_card() {
        let found = resolve(&[site_model("site")], "site", ModelRole::Recognizer).unwrap();
        assert_eq!(found.sha256, "ab".repeat(32), "hashes compare in lower case");
        assert!(matches!(
            resolve(&[site_model("dlib_resnet_v1")], "x", ModelRole::Recognizer),
            Err(ModelError::NameTaken(name)) if name == "dlib_resnet_v1"
        ));
        assert!(matches!(
            catalogue(&[site_model("a"), site_model("a")]),
            Err(ModelError::Duplicate(name)) if name == "a"
        ));
        let mut cardless = site_model("b");
        cardless.card = None;
        assert!(matches!(catalogue(&[cardless]), Err(ModelError::NoCard(name)) if name == "b"));
        let mut bad = site_model("c");
        bad.card.as_mut().unwrap().dimension = 0;
        assert!(matches!(catalogue(&[bad]), Err(ModelError::Card { .. })));
        let mut short = site_model("d");
        short.sha256 = "abc".into();
        assert!(matches!(catalogue(&[short]), Err(ModelError::BadSha256 { .. })));
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
