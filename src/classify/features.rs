//! Turns a report's sentence embeddings and lexical cues into the head's feature vector.
//!
//! Layout (dim = embedding width): `[cause-weighted mean of sentences (dim) | weighted mean of the
//! cause phrases (dim) | cause-weighted class-vocabulary rates (5) | log whole-report vocabulary
//! counts (5) | has-causal-sentence (1) | class vocabulary within cause phrases (5) |
//! has-cause-phrase (1)]`. An unweighted mean of all sentences and an embedding of the report's
//! first window used to be blocks too; dropping them raised validation accuracy (models/README.md):
//! in long reports they mostly encode timeline chatter. The cause-phrase block exists because a
//! sentence such as "the root cause was a proxy setting we edited, which made a retry bug in the
//! client library surface" pools to a blend of both classes; the phrase the author puts after
//! "root cause was" is the one they blame.
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
    /// Phrases naming a cause (byte ranges into the report) and their weights, from
    /// [`cues::cause_phrases`].
    pub phrases: Vec<(std::ops::Range<usize>, f32)>,
}

impl SentenceInfo {
    /// The texts of this sentence's cause phrases.
    pub fn phrase_texts<'s, 'a: 's>(&'s self, report: &'a str) -> impl Iterator<Item = &'a str> + 's {
        self.phrases.iter().map(move |(r, _)| &report[r.clone()])
    }
}

/// One cause phrase as the features see it: its embedding and its weight (phrase weight times its
/// sentence's causal weight).
pub struct Phrase<'a> {
    /// Embedding of the phrase text.
    pub embedding: &'a [f32],
    /// Weight in the pooled phrase block.
    pub weight: f32,
    /// Class vocabulary counts within the phrase.
    pub counts: [u32; 5],
}

/// Extra (non-embedding) features appended after the pooled embeddings.
pub const EXTRA: usize = 17;

/// Feature width for an embedding width `dim`.
pub fn width(dim: usize) -> usize {
    2 * dim + EXTRA
}

/// Computes sentence infos for a report.
pub fn sentence_infos(report: &str, spans: &[Span]) -> Vec<SentenceInfo> {
    let sections = cues::cause_sections(report, spans);
    spans
        .iter()
        .zip(sections)
        .map(|(s, in_section)| {
            let t = s.text(report);
            let phrases = cues::cause_phrases(t)
                .into_iter()
                .map(|(r, w)| (s.byte_start + r.start..s.byte_start + r.end, w))
                .collect();
            SentenceInfo {
                span: *s,
                weight: cues::causal_weight(t, in_section),
                counts: cues::class_counts(t),
                phrases,
            }
        })
        .collect()
}

/// Builds the feature vector from sentence embeddings (one per info, same order) and the report's
/// cause phrases.
pub fn build(embeddings: &[&[f32]], infos: &[SentenceInfo], phrases: &[Phrase<'_>], dim: usize) -> Vec<f32> {
    let mut f = vec![0f32; width(dim)];
    if embeddings.is_empty() {
        return f;
    }
    let weights: Vec<f32> = infos.iter().map(|i| i.weight).collect();
    let wsum: f32 = weights.iter().sum::<f32>().max(1e-6);
    for (e, &w) in embeddings.iter().zip(&weights) {
        for (x, v) in f[..dim].iter_mut().zip(e.iter()) {
            *x += v * w / wsum;
        }
    }
    normalise(&mut f[..dim]);
    let extra = &mut f[2 * dim..];
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
    let psum: f32 = phrases.iter().map(|p| p.weight).sum();
    if psum > 0.0 {
        let mut counts = [0f32; 5];
        for p in phrases {
            for (x, v) in f[dim..2 * dim].iter_mut().zip(p.embedding.iter()) {
                *x += v * p.weight / psum;
            }
            for (acc, &n) in counts.iter_mut().zip(&p.counts) {
                *acc += n as f32 * p.weight / psum;
            }
        }
        normalise(&mut f[dim..2 * dim]);
        let extra = &mut f[2 * dim..];
        for (x, n) in extra[11..16].iter_mut().zip(counts) {
            *x = (1.0 + n).ln();
        }
        extra[16] = 1.0;
    }
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
        let f = build(&[&a, &b], &infos, &[], 2);
        assert!(f[1] > 0.95, "weighted mean should lean to the causal sentence: {f:?}");
        assert_eq!(f.len(), width(2));
        assert_eq!(f[2 * 2 + 10], 1.0);
        assert_eq!(&f[2..4], &[0.0, 0.0], "no phrases given, phrase block empty");
        assert_eq!(f[2 * 2 + 16], 0.0);
    }

    #[test]
    fn phrase_block_pools_by_weight() {
        let r = "The root cause was a bad DNS change.";
        let infos = sentence_infos(r, &sentences(r));
        assert_eq!(infos[0].phrase_texts(r).collect::<Vec<_>>(), ["a bad DNS change"]);
        let (p, q) = ([1.0f32, 0.0], [0.0f32, 1.0]);
        let phrases = [
            Phrase { embedding: &p, weight: 3.0, counts: [1, 0, 0, 0, 0] },
            Phrase { embedding: &q, weight: 1.0, counts: [0; 5] },
        ];
        let f = build(&[&p], &infos, &phrases, 2);
        assert!(f[2] > 0.9 && f[3] > 0.0 && f[3] < f[2], "{f:?}");
        assert!((f[2 * 2 + 11] - (1.0f32 + 0.75).ln()).abs() < 1e-6);
        assert_eq!(f[2 * 2 + 16], 1.0);
    }

    #[test]
    fn empty_report_gives_zero_features() {
        assert!(build(&[], &[], &[], 4).iter().all(|&x| x == 0.0));
    }
}
