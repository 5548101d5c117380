//! The root-cause head: a calibrated softmax-regression layer over report features (pooled
//! embeddings and cues, plus a bag of words from its own [`Lexicon`]), stored as safetensors with
//! its label names, vocabulary and calibration inside, so any label set round-trips.
//!
//! Plain `Vec<f32>` maths on purpose: the dense part is ~4k multiply-adds and the bag of words is
//! sparse (a few hundred terms per report), far below the cost of a candle dispatch, and keeping
//! it tensor-free lets evidence scoring run per sentence for free.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::lexicon::{Lexicon, TermWeights};
use crate::error::{Error, Result};

/// Metadata stored in the safetensors header next to the tensors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadMeta {
    /// Class names, in logit order.
    pub labels: Vec<String>,
    /// Softmax temperature fitted on the validation split (1.0 = uncalibrated).
    pub temperature: f32,
    /// Embedding width the head expects.
    pub dim: usize,
    /// Feature layout version (see `features.rs`), so a stale head is refused, not misread.
    pub features: String,
    /// Embedder the head was trained on.
    pub embedder: String,
    /// A label is called contributing when its probability reaches this.
    pub contributing_threshold: f32,
    /// When the best probability is below this and the label set has `other`, the answer is
    /// `other`: no class is convincing, and a confident wrong label is worse than "none of these".
    /// Fitted on the validation split; 0 turns it off.
    #[serde(default)]
    pub abstain_below: f32,
    /// sha256 of the training file.
    pub train_sha256: String,
    /// Free-form training record (sizes, seed, metrics) for the model card.
    pub record: serde_json::Value,
}

/// Current feature layout identifier.
pub const FEATURES_VERSION: &str = "wmean+phrase+lex17+bow/v5";

/// A loaded classifier head.
#[derive(Debug, Clone)]
pub struct Head {
    /// Metadata (labels, temperature, provenance).
    pub meta: HeadMeta,
    /// Row-major `[labels x width]` weights, applied to standardised features.
    pub weight: Vec<f32>,
    /// One bias per label.
    pub bias: Vec<f32>,
    /// Feature means used for standardisation.
    pub mean: Vec<f32>,
    /// Feature standard deviations used for standardisation.
    pub std: Vec<f32>,
    /// The bag-of-words vocabulary; its columns follow the dense features in `weight`, `mean` and
    /// `std` (mean 0 there: the sparse vector is scaled, never centred). Empty: no bag of words.
    pub lexicon: Lexicon,
    /// Short identifier reported in `model.head`.
    pub id: String,
}

impl Head {
    /// Feature width: dense features plus one column per lexicon term.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// Calibrated probabilities for one report's dense features and term weights; always sums
    /// to 1.
    pub fn probabilities(&self, features: &[f32], terms: &TermWeights) -> Vec<f32> {
        let logits = self.logits(features, terms);
        softmax(&logits, self.meta.temperature)
    }

    /// The predicted label index for calibrated probabilities: the most probable label, or `other`
    /// when nothing reaches [`HeadMeta::abstain_below`].
    pub fn decide(&self, probs: &[f32]) -> usize {
        let best = super::argmax(probs);
        match self.meta.labels.iter().position(|l| l == "other") {
            Some(other) if probs[best] < self.meta.abstain_below => other,
            _ => best,
        }
    }

    /// Raw (uncalibrated) logits.
    pub fn logits(&self, features: &[f32], terms: &TermWeights) -> Vec<f32> {
        let w = self.width();
        // Shapes are checked at load and fixed by `fit`; saturating and `get` keep a hand-built
        // head with mismatched parts from panicking.
        let dense = w.saturating_sub(self.lexicon.len());
        let z: Vec<f32> = features
            .iter()
            .take(dense)
            .zip(self.mean.iter().zip(&self.std))
            .map(|(x, (m, s))| (x - m) / s)
            .collect();
        let bow: Vec<(usize, f32)> = self
            .lexicon
            .vector(terms)
            .into_iter()
            .filter_map(|(j, v)| self.std.get(dense + j).map(|s| (dense + j, v / s)))
            .collect();
        (0..self.meta.labels.len())
            .map(|k| {
                let row = &self.weight[k * w..(k + 1) * w];
                self.bias[k]
                    + row.iter().zip(&z).map(|(a, b)| a * b).sum::<f32>()
                    + bow.iter().map(|&(j, v)| row.get(j).map_or(0.0, |a| a * v)).sum::<f32>()
            })
            .collect()
    }

    /// Loads a head written by [`Head::save`].
    pub fn load(path: &Path) -> Result<Head> {
        let bad = |why: String| Error::ModelUnavailable(format!("head {}: {why}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let (_, st_meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let meta_json = st_meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("rootline"))
            .ok_or_else(|| bad("no rootline metadata; not a head written by `rootline train`".into()))?;
        let meta: HeadMeta = serde_json::from_str(meta_json).map_err(|e| bad(e.to_string()))?;
        if meta.features != FEATURES_VERSION {
            return Err(bad(format!(
                "feature layout {} but this build computes {FEATURES_VERSION}; retrain with `rootline train`",
                meta.features
            )));
        }
        let tensors =
            candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| bad(e.to_string()))?;
        let get = |name: &str| -> Result<Vec<f32>> {
            tensors
                .get(name)
                .ok_or_else(|| bad(format!("missing tensor {name}")))?
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| bad(e.to_string()))
        };
        let (weight, bias, mean, std) = (get("weight")?, get("bias")?, get("mean")?, get("std")?);
        let terms: Vec<String> = match tensors.get(TERMS_TENSOR) {
            None => Vec::new(),
            Some(t) => {
                let bytes = t.to_vec1::<u8>().map_err(|e| bad(e.to_string()))?;
                let text = String::from_utf8(bytes).map_err(|e| bad(format!("terms: {e}")))?;
                text.split('\n').filter(|s| !s.is_empty()).map(String::from).collect()
            }
        };
        let idf = if terms.is_empty() { Vec::new() } else { get("idf")? };
        let lexicon =
            Lexicon::new(terms, idf).ok_or_else(|| bad("one idf value per term expected".into()))?;
        let k = meta.labels.len();
        let w = mean.len();
        if k < 2
            || bias.len() != k
            || weight.len() != k * w
            || std.len() != w
            || w != super::features::width(meta.dim) + lexicon.len()
        {
            return Err(bad("tensor shapes disagree with the metadata".into()));
        }
        let id = format!("rootcause-{}", &crate::fetch::sha256_file(path)?[..12]);
        Ok(Head { meta, weight, bias, mean, std, lexicon, id })
    }

    /// Writes the head as safetensors with its metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        let k = self.meta.labels.len();
        let w = self.width();
        let mut map = HashMap::new();
        map.insert("weight".to_string(), Tensor::from_vec(self.weight.clone(), (k, w), &Device::Cpu)?);
        map.insert("bias".to_string(), Tensor::from_vec(self.bias.clone(), k, &Device::Cpu)?);
        map.insert("mean".to_string(), Tensor::from_vec(self.mean.clone(), w, &Device::Cpu)?);
        map.insert("std".to_string(), Tensor::from_vec(self.std.clone(), w, &Device::Cpu)?);
        if !self.lexicon.is_empty() {
            let idf = self.lexicon.idf().to_vec();
            map.insert("idf".to_string(), Tensor::from_vec(idf, self.lexicon.len(), &Device::Cpu)?);
            // Terms are `[a-z0-9_]` runs, so a newline never occurs inside one. They go in a byte
            // tensor rather than a second metadata key: safetensors writes tensors in a fixed
            // order but metadata in hash-map order, and training must be byte-reproducible.
            let bytes = self.lexicon.terms().join("\n").into_bytes();
            let n = bytes.len();
            map.insert(TERMS_TENSOR.to_string(), Tensor::from_vec(bytes, n, &Device::Cpu)?);
        }
        let meta = serde_json::to_string(&self.meta).map_err(|e| Error::Internal(e.to_string()))?;
        let info: HashMap<String, String> = [("rootline".to_string(), meta)].into();
        let bytes = safetensors::serialize(map.iter().map(|(k, v)| (k.as_str(), v)), Some(info))
            .map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Unwritable { path: dir.into(), reason: e.to_string() })?;
        }
        // Write then rename: a crash mid-write never leaves a truncated head in place.
        let tmp = path.with_extension("safetensors.tmp");
        std::fs::write(&tmp, bytes)
            .map_err(|e| Error::Unwritable { path: tmp.clone(), reason: e.to_string() })?;
        std::fs::rename(&tmp, path)
            .map_err(|e| Error::Unwritable { path: path.into(), reason: e.to_string() })?;
        Ok(())
    }
}

/// Tensor (u8) holding the lexicon's terms as UTF-8, newline-separated, in column order.
const TERMS_TENSOR: &str = "terms";

/// Numerically stable softmax with temperature.
pub fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| ((l - max) / t).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_temperature_flattens() {
        let p = softmax(&[2.0, 1.0, 0.0], 1.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let flat = softmax(&[2.0, 1.0, 0.0], 4.0);
        assert!(flat[0] < p[0]);
        let huge = softmax(&[1e30, -1e30], 1.0);
        assert!(huge.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn save_load_round_trip_keeps_labels_numbers_and_lexicon() {
        let dim = 2;
        let lexicon = Lexicon::new(vec!["flag".into(), "leak".into()], vec![1.5, 2.0]).unwrap();
        let w = super::super::features::width(dim) + lexicon.len();
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let head = Head {
            meta: HeadMeta {
                labels: labels.clone(),
                temperature: 1.5,
                dim,
                features: FEATURES_VERSION.into(),
                embedder: "test".into(),
                contributing_threshold: 0.2,
                abstain_below: 0.3,
                train_sha256: "00".into(),
                record: serde_json::json!({"n": 1}),
            },
            weight: (0..3 * w).map(|i| i as f32 * 0.01).collect(),
            bias: vec![0.1, 0.2, 0.3],
            mean: vec![0.0; w],
            std: vec![1.0; w],
            lexicon,
            id: String::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.safetensors");
        head.save(&p).unwrap();
        let back = Head::load(&p).unwrap();
        assert_eq!(back.meta, head.meta);
        assert_eq!(back.weight, head.weight);
        assert_eq!(back.lexicon, head.lexicon);
        assert!(back.id.starts_with("rootcause-"));
        let terms: TermWeights = [("leak".to_string(), 2.0)].into();
        let probs = back.probabilities(&vec![1.0; w], &terms);
        assert_eq!(probs.len(), 3);
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_ne!(back.logits(&vec![1.0; w], &terms), back.logits(&vec![1.0; w], &TermWeights::new()));
        // Byte-identical on every save: hash-map order must not leak into the file (each map
        // gets its own random seed, so a few saves would catch it).
        let first = std::fs::read(&p).unwrap();
        for i in 0..6 {
            let q = dir.path().join(format!("again{i}.safetensors"));
            back.save(&q).unwrap();
            assert_eq!(std::fs::read(&q).unwrap(), first, "save {i} differs");
        }
    }

    #[test]
    fn abstains_to_other_only_below_the_threshold() {
        let labels: Vec<String> = ["config_change", "deployment", "other"].map(String::from).to_vec();
        let mut head = Head {
            meta: HeadMeta {
                labels,
                temperature: 1.0,
                dim: 2,
                features: FEATURES_VERSION.into(),
                embedder: String::new(),
                contributing_threshold: 0.25,
                abstain_below: 0.4,
                train_sha256: String::new(),
                record: serde_json::Value::Null,
            },
            weight: vec![],
            bias: vec![],
            mean: vec![],
            std: vec![],
            lexicon: Lexicon::default(),
            id: String::new(),
        };
        assert_eq!(head.decide(&[0.38, 0.35, 0.27]), 2, "nothing convincing: other");
        assert_eq!(head.decide(&[0.55, 0.25, 0.20]), 0);
        head.meta.abstain_below = 0.0;
        assert_eq!(head.decide(&[0.38, 0.35, 0.27]), 0, "0 turns abstention off");
        head.meta.labels = ["a", "b", "c"].map(String::from).to_vec();
        head.meta.abstain_below = 0.9;
        assert_eq!(head.decide(&[0.38, 0.35, 0.27]), 0, "a label set without `other` never abstains");
    }

    #[test]
    fn garbage_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.safetensors");
        std::fs::write(&p, b"not a head").unwrap();
        assert_eq!(Head::load(&p).unwrap_err().meta().code, "model_unavailable");
    }
}
