//! The sentence embedder: tokenizer + BERT encoder + pooling, CPU.
//!
//! Mirrors sentence-transformers exactly (truncate, mean-pool over the attention mask, L2 normalise)
//! so vectors agree with PyTorch's; see `tests/parity.rs`. Batches are formed by a token budget
//! after sorting by length. The encoder is the native forward in [`bert`] (packed, unpadded
//! batches; several times faster than candle's on a few cores); candle's `BertModel` remains the
//! fallback for checkpoints the native loader rejects, or when `ROOTLINE_EMBED_BACKEND=candle`.

mod bert;
pub mod cache;
pub mod chunk;
mod kernels;

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

/// The encoder that runs the forward pass.
enum Encoder {
    /// Our own forward on f32 slices (`bert.rs`).
    Native(bert::Bert),
    /// candle-transformers' BERT, for anything the native loader cannot run.
    Candle(Box<BertModel>),
}

/// A loaded sentence-transformers model.
pub struct Embedder {
    model: Encoder,
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
        let want_candle = std::env::var("ROOTLINE_EMBED_BACKEND").is_ok_and(|v| v == "candle");
        let native = if want_candle {
            Err("ROOTLINE_EMBED_BACKEND=candle".to_string())
        } else {
            bert::Bert::load(dir).and_then(|b| {
                if b.hidden() == dim && b.max_positions() >= max {
                    Ok(b)
                } else {
                    Err("config and weights disagree".to_string())
                }
            })
        };
        let model = match native {
            Ok(b) => Encoder::Native(b),
            Err(why) => {
                if !want_candle {
                    tracing::warn!("native encoder unavailable ({why}); using candle's BertModel");
                }
                let weights = dir.join("model.safetensors");
                // SAFETY: the file is memory-mapped read-only; we never write to it while mapped.
                let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
                    .map_err(|e| unavailable("model.safetensors", &e))?;
                Encoder::Candle(Box::new(
                    BertModel::load(vb, &config).map_err(|e| unavailable("weights", &e))?,
                ))
            }
        };
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

    /// One forward pass over a batch; returns L2-normalised pooled vectors.
    fn forward(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        match &self.model {
            Encoder::Native(bert) => self.forward_native(bert, batch),
            Encoder::Candle(model) => self.forward_candle(model, batch),
        }
    }

    /// Native forward: sequences packed end to end (no padding), then pooled per sequence.
    fn forward_native(&self, bert: &bert::Bert, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let lens: Vec<usize> = batch.iter().map(|e| e.len()).collect();
        let ids: Vec<u32> = batch.iter().flat_map(|e| e.get_ids().iter().copied()).collect();
        let hidden = bert.forward(&ids, &lens).map_err(Error::ModelUnavailable)?;
        let h = bert.hidden();
        let mut out = Vec::with_capacity(batch.len());
        let mut row = 0;
        for &len in &lens {
            let rows = &hidden[row * h..(row + len) * h];
            row += len;
            let mut v = vec![0f32; h];
            match self.pooling {
                Pooling::Cls => v.copy_from_slice(&rows[..h.min(rows.len())]),
                Pooling::Mean => {
                    for r in rows.chunks_exact(h) {
                        v.iter_mut().zip(r).for_each(|(a, b)| *a += b);
                    }
                    let n = len.max(1) as f32;
                    v.iter_mut().for_each(|a| *a /= n);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|a| *a /= norm);
            out.push(v);
        }
        Ok(out)
    }

    /// candle forward: one padded batch through `BertModel`.
    fn forward_candle(&self, model: &BertModel, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
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
        let hidden = model.forward(&ids, &types, Some(&mask))?; // (b, len, dim)
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
