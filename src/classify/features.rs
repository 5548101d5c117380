//! Turns a report's sentence embeddings and lexical cues into the head's feature vector.
//!
//! Layout (dim = embedding width): `[cause-weighted mean of sentences (dim) | plain mean of
//! sentences (dim) | the report's first window embedded whole (dim) | cause-weighted
//! class-vocabulary rates (5) | log whole-report vocabulary counts (5) | has-causal-sentence (1)]`.
//! The same function scores single sentences (for evidence: the sentence stands in for the whole
//! report too), so evidence and label share one model. Each block was kept because it raised
//! accuracy on the validation split (models/README.md).

use super::cues;
use crate::text::Span;

/// Per-sentence facts the features are built from.
#[derive(Debug, Clone)]
pub struct SentenceInfo {
    /// Where the sentence is in the report.
    pub span: Span,
    /// How strongly it states a cause (see [`cues::causal_weight`]).
    pub weight: f32,
    /// Class vocabulary counts within the sentence.
    pub counts: [u32; 5],
}

/// Extra (non-embedding) features appended after the two pooled embeddings.
pub const EXTRA: usize = 11;

/// Feature width for an embedding width `dim`.
pub fn width(dim: usize) -> usize {
    3 * dim + EXTRA
}

/// Computes sentence infos for a report.
pub fn sentence_infos(report: &str, spans: &[Span]) -> Vec<SentenceInfo> {
    let sections = cues::cause_sections(report, spans);
    spans
        .iter()
        .zip(sections)
        .map(|(s, in_section)| {
            let t = s.text(report);
            SentenceInfo {
                span: *s,
                weight: cues::causal_weight(t, in_section),
                counts: cues::class_counts(t),
            }
        })
        .collect()
}

/// Builds the feature vector from sentence embeddings (one per info, same order) and the
/// embedding of the report's first window.
pub fn build(embeddings: &[&[f32]], infos: &[SentenceInfo], whole: &[f32], dim: usize) -> Vec<f32> {
    let mut f = vec![0f32; width(dim)];
    if embeddings.is_empty() {
        return f;
    }
    f[2 * dim..3 * dim].copy_from_slice(&whole[..dim]);
    let weights: Vec<f32> = infos.iter().map(|i| i.weight).collect();
    let wsum: f32 = weights.iter().sum::<f32>().max(1e-6);
    let n = embeddings.len() as f32;
    for (e, &w) in embeddings.iter().zip(&weights) {
        for k in 0..dim {
            f[k] += e[k] * w / wsum;
            f[dim + k] += e[k] / n;
        }
    }
    normalise(&mut f[..dim]);
    normalise(&mut f[dim..2 * dim]);
    let extra = &mut f[3 * dim..];
    let mut totals = [0f32; 5];
    for (info, &w) in infos.iter().zip(&weights) {
        for c in 0..5 {
            extra[c] += info.counts[c] as f32 * w / wsum;
            totals[c] += info.counts[c] as f32;
        }
    }
    for c in 0..5 {
        extra[c] = (1.0 + extra[c]).ln();
        extra[5 + c] = (1.0 + totals[c]).ln();
    }
    extra[10] = if infos.iter().any(|i| i.weight > 2.0) { 1.0 } else { 0.0 };
    f
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::sentences;

    #[test]
    fn cause_sentence_dominates_weighted_mean() {
        let r = "- 09:00 alert fired. The root cause was a bad DNS change.";
        let spans = sentences(r);
        let infos = sentence_infos(r, &spans);
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 1.0];
        let f = build(&[&a, &b], &infos, &[0.6, 0.8], 2);
        assert!(f[1] > 0.95, "weighted mean should lean to the causal sentence: {f:?}");
        assert!((f[2] - f[3]).abs() < 1e-6, "plain mean is even");
        assert_eq!(&f[4..6], &[0.6, 0.8]);
        assert_eq!(f.len(), width(2));
        assert_eq!(f[3 * 2 + 10], 1.0);
    }

    #[test]
    fn empty_report_gives_zero_features() {
        assert!(build(&[], &[], &[0.0; 4], 4).iter().all(|&x| x == 0.0));
    }
}
