//! Fitting and calibrating the head with candle-nn.
//!
//! Softmax regression on standardised features, full-batch AdamW from zero weights: the problem is
//! convex, so zero initialisation plus full batches makes training exactly reproducible without
//! depending on an RNG. Temperature and the contributing threshold are then fitted on the
//! validation split only, never on the data being evaluated.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::head::{softmax, Head, HeadMeta, FEATURES_VERSION};
use crate::embed::cache::EmbeddingCache;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::metrics;
use crate::records::Record;

/// One labelled report in feature space.
#[derive(Debug, Clone)]
pub struct Example {
    /// Report features (see `features.rs`).
    pub features: Vec<f32>,
    /// Index of the primary label.
    pub label: usize,
    /// Indices of contributing labels.
    pub contributing: Vec<usize>,
}

/// Training knobs; defaults were chosen on the validation split (see models/README.md).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct TrainOptions {
    /// Full-batch optimisation steps.
    pub epochs: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// L2 penalty on the weights (not the bias).
    pub l2: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { epochs: 400, lr: 0.02, l2: 0.01 }
    }
}

/// Fits an uncalibrated head (temperature 1).
pub fn fit(train: &[Example], labels: &[String], dim: usize, opts: TrainOptions) -> Result<Head> {
    let n = train.len();
    if n == 0 {
        return Err(Error::InvalidInput("no training examples".into()));
    }
    let w = train[0].features.len();
    let k = labels.len();
    // Standardisation statistics from the training split only.
    let mut mean = vec![0f32; w];
    for e in train {
        for (m, x) in mean.iter_mut().zip(&e.features) {
            *m += x / n as f32;
        }
    }
    let mut std = vec![0f32; w];
    for e in train {
        for ((s, x), m) in std.iter_mut().zip(&e.features).zip(&mean) {
            *s += (x - m) * (x - m) / n as f32;
        }
    }
    // A floor keeps near-constant features from exploding when they vary at inference time.
    let std: Vec<f32> = std.into_iter().map(|v| v.sqrt().max(1e-3)).collect();
    let dev = Device::Cpu;
    let xs: Vec<f32> = train
        .iter()
        .flat_map(|e| e.features.iter().zip(&mean).zip(&std).map(|((x, m), s)| (x - m) / s))
        .collect();
    let x = Tensor::from_vec(xs, (n, w), &dev)?;
    let y = Tensor::from_vec(train.iter().map(|e| e.label as u32).collect::<Vec<_>>(), n, &dev)?;
    let wv = Var::zeros((k, w), DType::F32, &dev)?;
    let bv = Var::zeros(k, DType::F32, &dev)?;
    let mut opt = AdamW::new(
        vec![wv.clone(), bv.clone()],
        ParamsAdamW { lr: opts.lr, weight_decay: 0.0, ..Default::default() },
    )?;
    for _ in 0..opts.epochs {
        let logits = x.matmul(&wv.as_tensor().t()?)?.broadcast_add(bv.as_tensor())?;
        let ce = candle_nn::loss::cross_entropy(&logits, &y)?;
        let reg = (wv.as_tensor().sqr()?.sum_all()? * (opts.l2 as f64 / 2.0))?;
        opt.backward_step(&(ce + reg)?)?;
    }
    let weight = wv.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let bias = bv.as_tensor().to_vec1::<f32>()?;
    Ok(Head {
        meta: HeadMeta {
            labels: labels.to_vec(),
            temperature: 1.0,
            dim,
            features: FEATURES_VERSION.into(),
            embedder: String::new(),
            contributing_threshold: 0.25,
            abstain_below: 0.0,
            train_sha256: String::new(),
            record: serde_json::Value::Null,
        },
        weight,
        bias,
        mean,
        std,
        id: String::new(),
    })
}

/// Mean negative log-likelihood of `examples` under `head` at temperature `t`.
pub fn nll(head: &Head, examples: &[Example], t: f32) -> f32 {
    let total: f32 =
        examples.iter().map(|e| -softmax(&head.logits(&e.features), t)[e.label].max(1e-12).ln()).sum();
    total / examples.len().max(1) as f32
}

/// Fits temperature (validation NLL), the abstention threshold (validation macro-F1) and the
/// contributing threshold (validation F1 of contributing labels) in place.
pub fn calibrate(head: &mut Head, val: &[Example]) {
    if val.is_empty() {
        return;
    }
    let mut best = (f32::INFINITY, 1.0f32);
    for i in 0..=80 {
        // Log-spaced grid from 0.2 to 8.
        let t = 0.2f32 * 40f32.powf(i as f32 / 80.0);
        let l = nll(head, val, t);
        if l < best.0 {
            best = (l, t);
        }
    }
    head.meta.temperature = best.1;
    // Abstention: the smallest threshold with the best validation macro-F1 (ties keep it off), so
    // it only engages when answering `other` for unconvincing reports measurably helps.
    let mut best_abstain = (head_metrics(head, val).macro_f1, 0.0f32);
    for step in 5..=12 {
        head.meta.abstain_below = 0.05 * step as f32;
        let f1 = head_metrics(head, val).macro_f1;
        if f1 > best_abstain.0 + 1e-6 {
            best_abstain = (f1, head.meta.abstain_below);
        }
    }
    head.meta.abstain_below = best_abstain.1;
    let other = head.meta.labels.iter().position(|l| l == "other");
    let mut best_f1 = (-1.0f32, 0.25f32);
    for step in 1..=12 {
        let th = 0.05 * step as f32;
        let (mut tp, mut fp, mut fnn) = (0f32, 0f32, 0f32);
        for e in val {
            let p = head.probabilities(&e.features);
            let best_k = head.decide(&p);
            for (k, &pk) in p.iter().enumerate() {
                if k == best_k || Some(k) == other {
                    continue;
                }
                let predicted = pk >= th;
                let gold = e.contributing.contains(&k);
                match (predicted, gold) {
                    (true, true) => tp += 1.0,
                    (true, false) => fp += 1.0,
                    (false, true) => fnn += 1.0,
                    _ => {}
                }
            }
        }
        let f1 = if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fnn) };
        if f1 > best_f1.0 {
            best_f1 = (f1, th);
        }
    }
    head.meta.contributing_threshold = best_f1.1;
}

/// Featurizes records into examples for `labels`; unknown labels are an input error.
pub fn featurize(
    embedder: &Embedder,
    cache: &EmbeddingCache,
    recs: &[Record],
    labels: &[String],
    batch_tokens: usize,
) -> Result<Vec<Example>> {
    let index = |l: &str, id: &str| {
        labels.iter().position(|x| x == l).ok_or_else(|| {
            Error::InvalidInput(format!("record {id}: label `{l}` is not in the training label set"))
        })
    };
    let mut out = Vec::with_capacity(recs.len());
    for chunk in recs.chunks(32) {
        let texts: Vec<&str> = chunk.iter().map(|r| r.text.as_str()).collect();
        for (r, p) in chunk.iter().zip(super::prepare(embedder, cache, &texts, batch_tokens)?) {
            let label = index(r.primary.as_deref().unwrap_or(""), &r.id)?;
            let contributing = r.contributing.iter().filter_map(|c| index(c, &r.id).ok()).collect();
            out.push(Example { features: p.features, label, contributing });
        }
    }
    Ok(out)
}

/// Accuracy/macro-F1 of a head on examples.
pub fn head_metrics(head: &Head, ex: &[Example]) -> metrics::Report {
    let pairs: Vec<(String, String)> = ex
        .iter()
        .map(|e| {
            let p = head.probabilities(&e.features);
            (head.meta.labels[e.label].clone(), head.meta.labels[head.decide(&p)].clone())
        })
        .collect();
    metrics::score(&pairs, &head.meta.labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<Example>, Vec<String>) {
        // Two separable clusters in a 2-d embedding (both pooled blocks carry them).
        let mk = |a: f32, b: f32, label: usize| {
            let mut f = vec![0f32; super::super::features::width(2)];
            f[0] = a;
            f[1] = b;
            f[2] = a;
            f[3] = b;
            Example { features: f, label, contributing: vec![] }
        };
        let ex = vec![mk(1.0, 0.1, 0), mk(0.9, 0.0, 0), mk(0.1, 1.0, 1), mk(0.0, 0.8, 1)];
        (ex, vec!["a".into(), "b".into()])
    }

    #[test]
    fn fits_a_separable_toy_problem() {
        let (ex, labels) = toy();
        let head = fit(&ex, &labels, 2, TrainOptions::default()).unwrap();
        for e in &ex {
            assert_eq!(super::super::argmax(&head.probabilities(&e.features)), e.label);
        }
    }

    #[test]
    fn training_is_bitwise_deterministic() {
        let (ex, labels) = toy();
        let a = fit(&ex, &labels, 2, TrainOptions::default()).unwrap();
        let b = fit(&ex, &labels, 2, TrainOptions::default()).unwrap();
        assert_eq!(a.weight, b.weight);
        assert_eq!(a.bias, b.bias);
    }

    #[test]
    fn calibration_lowers_validation_nll() {
        let (ex, labels) = toy();
        let mut head = fit(&ex, &labels, 2, TrainOptions { epochs: 600, lr: 0.1, l2: 0.0 }).unwrap();
        let before = nll(&head, &ex, 1.0);
        calibrate(&mut head, &ex);
        assert!(nll(&head, &ex, head.meta.temperature) <= before + 1e-6);
    }
}
