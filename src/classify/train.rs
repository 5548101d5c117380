//! Fitting and calibrating the head with candle-nn.
//!
//! Softmax regression on standardised features plus a bag of words, full-batch AdamW from zero
//! weights: the problem is convex, so zero initialisation plus full batches makes training exactly
//! reproducible without depending on an RNG. The vocabulary is fitted on the training split.
//! Temperature and the contributing threshold are then fitted on the validation split only, never
//! on the data being evaluated.
//!
//! One L2 penalty covers both parts; the bag of words is multiplied by `lexical_scale` first,
//! which is the same as penalising its weights `lexical_scale²` times less. Strongly regularised
//! embeddings next to a lightly regularised bag of words was the best mix on validation.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::head::{softmax, Head, HeadMeta, FEATURES_VERSION};
use super::lexicon::{Lexicon, TermWeights};
use crate::embed::cache::EmbeddingCache;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::metrics;
use crate::records::Record;

/// One labelled report in feature space.
#[derive(Debug, Clone)]
pub struct Example {
    /// Dense report features (see `features.rs`).
    pub features: Vec<f32>,
    /// Causal-weighted word counts (see `lexicon.rs`).
    pub terms: TermWeights,
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
    /// Multiplier on the unit-length TF-IDF vector before fitting (see the module docs).
    pub lexical_scale: f32,
    /// A word joins the vocabulary when it occurs in at least this many training reports; 0
    /// turns the bag of words off.
    pub min_df: usize,
    /// Multiplier on the temperature fitted on the validation split, applied before the
    /// abstention and contributing thresholds are fitted. 1 keeps the fitted value. Above 1
    /// softens the probabilities: for when the validation split is easier than the reports the
    /// head will read, as team-written text is easier than real reports (models/README.md).
    pub temperature_scale: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 400,
            lr: 0.02,
            l2: 0.25,
            lexical_scale: 100.0,
            min_df: 2,
            temperature_scale: 1.0,
        }
    }
}

/// Fits an uncalibrated head (temperature 1).
pub fn fit(train: &[Example], labels: &[String], dim: usize, opts: TrainOptions) -> Result<Head> {
    let n = train.len();
    if n == 0 {
        return Err(Error::InvalidInput("no training examples".into()));
    }
    let dw = train[0].features.len();
    let lexicon = match opts.min_df {
        0 => Lexicon::default(),
        m => Lexicon::fit(train.iter().map(|e| &e.terms), m),
    };
    let w = dw + lexicon.len();
    let k = labels.len();
    // Standardisation statistics from the training split only.
    let mut mean = vec![0f32; dw];
    for e in train {
        for (m, x) in mean.iter_mut().zip(&e.features) {
            *m += x / n as f32;
        }
    }
    let mut std = vec![0f32; dw];
    for e in train {
        for ((s, x), m) in std.iter_mut().zip(&e.features).zip(&mean) {
            *s += (x - m) * (x - m) / n as f32;
        }
    }
    // A floor keeps near-constant features from exploding when they vary at inference time.
    let mut std: Vec<f32> = std.into_iter().map(|v| v.sqrt().max(1e-3)).collect();
    // The bag of words is scaled, not centred (see `Head::logits`): mean 0, std 1/scale.
    mean.resize(w, 0.0);
    std.resize(w, 1.0 / opts.lexical_scale.max(1e-6));
    let dev = Device::Cpu;
    let mut xs = vec![0f32; n * w];
    for (row, e) in xs.chunks_mut(w).zip(train) {
        for (((z, x), m), s) in row.iter_mut().zip(&e.features).zip(&mean).zip(&std) {
            *z = (x - m) / s;
        }
        for (j, v) in lexicon.vector(&e.terms) {
            row[dw + j] = v / std[dw + j];
        }
    }
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
        lexicon,
        id: String::new(),
    })
}

/// Mean negative log-likelihood of `examples` under `head` at temperature `t`.
pub fn nll(head: &Head, examples: &[Example], t: f32) -> f32 {
    let total: f32 = examples
        .iter()
        .map(|e| -softmax(&head.logits(&e.features, &e.terms), t)[e.label].max(1e-12).ln())
        .sum();
    total / examples.len().max(1) as f32
}

/// How much validation macro-F1 abstention must add before it is switched on (about one report
/// in a hundred).
pub const ABSTAIN_MIN_GAIN: f64 = 0.01;

/// Fits temperature (validation NLL, then multiplied by `temperature_scale`), the abstention
/// threshold (validation macro-F1) and the contributing threshold (validation F1 of contributing
/// labels) in place. Returns the temperature the validation split alone chose.
pub fn calibrate(head: &mut Head, val: &[Example], temperature_scale: f32) -> f32 {
    if val.is_empty() {
        return head.meta.temperature;
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
    // The thresholds below are fitted at the temperature the head will answer with.
    head.meta.temperature = best.1 * temperature_scale.max(1e-3);
    // Abstention: the smallest threshold with the best validation macro-F1, and only when that
    // beats answering without it by ABSTAIN_MIN_GAIN. A threshold that rescues one or two
    // validation reports is noise, and on unfamiliar real reports (whose confidence runs lower
    // than on our own writing) it turned correct answers into `other` (models/README.md).
    let off = head_metrics(head, val).macro_f1;
    let mut best_abstain = (off, 0.0f32);
    for step in 5..=12 {
        head.meta.abstain_below = 0.05 * step as f32;
        let f1 = head_metrics(head, val).macro_f1;
        if f1 > best_abstain.0 + 1e-6 {
            best_abstain = (f1, head.meta.abstain_below);
        }
    }
    head.meta.abstain_below = if best_abstain.0 >= off + ABSTAIN_MIN_GAIN { best_abstain.1 } else { 0.0 };
    let other = head.meta.labels.iter().position(|l| l == "other");
    let scored: Vec<(Vec<f32>, usize)> = val
        .iter()
        .map(|e| {
            let p = head.probabilities(&e.features, &e.terms);
            let best_k = head.decide(&p);
            (p, best_k)
        })
        .collect();
    let mut best_f1 = (-1.0f64, 0.25f32);
    // Log-spaced from 0.005 to 0.6: a head with a sharp temperature puts runner-up classes at a
    // few percent, so a linear grid starting at 0.05 could not reach its best threshold.
    for step in 0..=40 {
        let th = 0.005 * 120f32.powf(step as f32 / 40.0);
        // Contributing labels never repeat the primary, and `other` is never one.
        let eligible = |k: usize, best_k: usize| k != best_k && Some(k) != other;
        let pairs: Vec<(Vec<usize>, Vec<usize>)> = scored
            .iter()
            .zip(val)
            .map(|((p, best_k), e)| {
                let gold =
                    (0..p.len()).filter(|&k| eligible(k, *best_k) && e.contributing.contains(&k)).collect();
                let predicted = (0..p.len()).filter(|&k| eligible(k, *best_k) && p[k] >= th).collect();
                (gold, predicted)
            })
            .collect();
        let f1 = metrics::set_score(&pairs).f1;
        if f1 > best_f1.0 {
            best_f1 = (f1, th);
        }
    }
    head.meta.contributing_threshold = best_f1.1;
    best.1
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
            out.push(Example { features: p.features, terms: p.terms, label, contributing });
        }
    }
    Ok(out)
}

/// Accuracy/macro-F1 of a head on examples.
pub fn head_metrics(head: &Head, ex: &[Example]) -> metrics::Report {
    let pairs: Vec<(String, String)> = ex
        .iter()
        .map(|e| {
            let p = head.probabilities(&e.features, &e.terms);
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
            Example { features: f, terms: TermWeights::new(), label, contributing: vec![] }
        };
        let ex = vec![mk(1.0, 0.1, 0), mk(0.9, 0.0, 0), mk(0.1, 1.0, 1), mk(0.0, 0.8, 1)];
        (ex, vec!["a".into(), "b".into()])
    }

    #[test]
    fn fits_a_separable_toy_problem() {
        let (ex, labels) = toy();
        let head = fit(&ex, &labels, 2, TrainOptions::default()).unwrap();
        for e in &ex {
            assert_eq!(super::super::argmax(&head.probabilities(&e.features, &e.terms)), e.label);
        }
    }

    #[test]
    fn the_bag_of_words_separates_reports_the_dense_features_cannot() {
        let mk = |words: &str, label: usize| {
            let mut terms = TermWeights::new();
            super::super::lexicon::add_terms(&mut terms, words, 1.0);
            Example {
                features: vec![0.5; super::super::features::width(2)],
                terms,
                label,
                contributing: vec![],
            }
        };
        let ex = vec![
            mk("flag flipped in the console", 0),
            mk("flag edited by hand", 0),
            mk("heap grew until oom", 1),
            mk("heap kept growing", 1),
        ];
        let labels = vec!["a".to_string(), "b".to_string()];
        let opts = TrainOptions { min_df: 1, ..TrainOptions::default() };
        let head = fit(&ex, &labels, 2, opts).unwrap();
        assert!(head.lexicon.terms().contains(&"heap".to_string()));
        for e in &ex {
            assert_eq!(super::super::argmax(&head.probabilities(&e.features, &e.terms)), e.label);
        }
        let off = fit(&ex, &labels, 2, TrainOptions { min_df: 0, ..opts }).unwrap();
        assert!(off.lexicon.is_empty());
        assert_eq!(off.width(), super::super::features::width(2));
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
        let mut head =
            fit(&ex, &labels, 2, TrainOptions { epochs: 600, lr: 0.1, l2: 0.0, ..TrainOptions::default() })
                .unwrap();
        let before = nll(&head, &ex, 1.0);
        let fitted = calibrate(&mut head, &ex, 1.0);
        assert_eq!(head.meta.temperature, fitted);
        assert!(nll(&head, &ex, head.meta.temperature) <= before + 1e-6);
    }

    #[test]
    fn temperature_scale_widens_the_fitted_temperature_and_softens_answers() {
        let (ex, labels) = toy();
        let opts = TrainOptions { epochs: 600, lr: 0.1, l2: 0.0, ..TrainOptions::default() };
        let mut plain = fit(&ex, &labels, 2, opts).unwrap();
        let mut wide = plain.clone();
        let fitted = calibrate(&mut plain, &ex, 1.0);
        let fitted_wide = calibrate(&mut wide, &ex, 1.5);
        assert_eq!(fitted, fitted_wide);
        assert!((wide.meta.temperature - 1.5 * fitted).abs() < 1e-6);
        for e in &ex {
            let p = plain.probabilities(&e.features, &e.terms);
            let q = wide.probabilities(&e.features, &e.terms);
            let (bp, bq) = (super::super::argmax(&p), super::super::argmax(&q));
            assert_eq!(bp, bq, "a temperature never changes the ranking");
            assert!(q[bq] <= p[bp] + 1e-6, "wider temperature, lower top probability: {q:?} vs {p:?}");
            assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}
