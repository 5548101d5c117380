//! The sentence embedder: tokenizer + BERT encoder + pooling, on candle, CPU.
//!
//! Mirrors sentence-transformers exactly (truncate, mean-pool over the attention mask, L2 normalise)
//! so vectors agree with PyTorch's; see `tests/parity.rs`. Batches are formed by a token budget
//! after sorting by length, so each batch is padded only to its own longest member.

pub mod cache;
pub mod chunk;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// How token vectors become one sentence vector (sentence-transformers' `1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over the attention mask (all-MiniLM-L6-v2).
    Mean,
    /// The first (`[CLS]`) token.
    Cls,
}

/// A loaded sentence-transformers model.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    /// Same tokenizer without truncation, for counting tokens of text longer than a window.
    counter: Tokenizer,
    device: Device,
    max_tokens: usize,
    pooling: Pooling,
    dim: usize,
    name: String,
}

/// Reads an optional JSON file of a model folder.
fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::ModelUnavailable(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::ModelUnavailable(format!("{}: {e}", path.display()))),
    }
}

impl Embedder {
    /// Loads a BERT-family sentence-transformers folder. `max_tokens` caps the window; the model's
    /// own `max_seq_length` and position table cap it further.
    pub fn load(dir: &Path, max_tokens: usize) -> Result<Self> {
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            Error::ModelUnavailable(format!("{}: {what}: {e}", dir.display()))
        };
        let config_raw =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| unavailable("config.json", &e))?;
        let config: BertConfig =
            serde_json::from_str(&config_raw).map_err(|e| unavailable("config.json", &e))?;
        let dim = config.hidden_size;
        let mut max = max_tokens.min(config.max_position_embeddings).max(8);
        if let Some(st) = read_json(&dir.join("sentence_bert_config.json"))? {
            if let Some(m) = st.get("max_seq_length").and_then(|v| v.as_u64()) {
                max = max.min(m as usize);
            }
        }
        let pooling = match read_json(&dir.join("1_Pooling/config.json"))? {
            Some(p) if p.get("pooling_mode_cls_token").and_then(|v| v.as_bool()) == Some(true) => {
                Pooling::Cls
            }
            _ => Pooling::Mean,
        };
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| unavailable("tokenizer.json", &e))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max, ..Default::default() }))
            .map_err(|e| unavailable("tokenizer truncation", &e))?;
        tokenizer.with_padding(None);
        let mut counter = tokenizer.clone();
        counter.with_truncation(None).map_err(|e| unavailable("tokenizer truncation", &e))?;
        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        // SAFETY: the file is memory-mapped read-only; we never write to it while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
            .map_err(|e| unavailable("model.safetensors", &e))?;
        let model = BertModel::load(vb, &config).map_err(|e| unavailable("weights", &e))?;
        let name =
            dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "embedder".into());
        Ok(Embedder { model, tokenizer, counter, device, max_tokens: max, pooling, dim, name })
    }

    /// Embedding width (384 for MiniLM).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Tokens per window after which text is truncated.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The model folder's name, reported in every Analysis.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tokenizes one text (with special tokens, truncated to the window).
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        self.tokenizer
            .encode(text, true)
            .map_err(|e| Error::InvalidInput(format!("tokenizer rejected text: {e}")))
    }

    /// Token count of `text` without truncation (special tokens excluded): used to pack windows.
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        let enc = self
            .counter
            .encode_fast(text, false)
            .map_err(|e| Error::InvalidInput(format!("tokenizer rejected text: {e}")))?;
        Ok(enc.len())
    }

    /// Embeds any number of texts; batches by `batch_tokens` (sequences x longest), in input order.
    pub fn embed(&self, texts: &[&str], batch_tokens: usize) -> Result<Vec<Vec<f32>>> {
        let encodings = texts.iter().map(|t| self.encode(t)).collect::<Result<Vec<_>>>()?;
        self.embed_encodings(&encodings, batch_tokens)
    }

    /// Embeds already-tokenized texts, sorted by length into padded batches of at most
    /// `batch_tokens` padded tokens, and returns vectors in input order.
    pub fn embed_encodings(&self, encodings: &[Encoding], batch_tokens: usize) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut out = vec![Vec::new(); encodings.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted ascending, so the last member of a batch is its longest.
            let mut end = start + 1;
            while end < order.len() && (end + 1 - start) * encodings[order[end]].len() <= batch_tokens.max(1)
            {
                end += 1;
            }
            let batch: Vec<&Encoding> = order[start..end].iter().map(|&i| &encodings[i]).collect();
            for (k, v) in self.forward(&batch)?.into_iter().enumerate() {
                out[order[start + k]] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// One padded forward pass; returns L2-normalised pooled vectors.
    fn forward(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let b = batch.len();
        let len = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; b * len];
        let mut mask = vec![0u32; b * len];
        for (r, enc) in batch.iter().enumerate() {
            let n = enc.len();
            ids[r * len..r * len + n].copy_from_slice(enc.get_ids());
            mask[r * len..r * len + n].iter_mut().for_each(|m| *m = 1);
        }
        let ids = Tensor::from_vec(ids, (b, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // (b, len, dim)
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (b, len, 1)
                let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (b, dim)
                let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (b, 1)
                summed.broadcast_div(&counts)?
            }
        };
        let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
        let normed = pooled.broadcast_div(&norms)?;
        Ok(normed.to_vec2::<f32>()?)
    }
}

/// Cosine similarity of two vectors (1.0 for identical directions).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
