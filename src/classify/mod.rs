//! Root-cause classification of whole reports: sentence embeddings pooled by causal weight, lexical
//! cues, a calibrated head, and the evidence sentences behind each label.
//!
//! `prepare` does the expensive part (segmenting and embedding every sentence, deduplicated across
//! a batch and cached by content hash); `classify` is cheap and pure given a prepared report.

pub mod cues;
pub mod features;
pub mod head;
pub mod lexicon;
pub mod train;

use std::collections::HashMap;
use std::sync::Arc;

use crate::analysis::{Evidence, RootCause, Scores};
use crate::embed::cache::{self, EmbeddingCache};
use crate::embed::Embedder;
use crate::error::Result;
use crate::text::{self, Span};
use features::{Phrase, SentenceInfo};
use head::Head;
use lexicon::TermWeights;

/// A report made ready for the head: its sentences, their cue facts and embeddings, and features.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Sentence facts in report order.
    pub infos: Vec<SentenceInfo>,
    /// One embedding per sentence.
    pub embeddings: Vec<Arc<[f32]>>,
    /// Embeddings of each sentence's cause phrases (parallel to `infos[i].phrases`).
    pub phrase_embeddings: Vec<Vec<Arc<[f32]>>>,
    /// The report's dense feature vector.
    pub features: Vec<f32>,
    /// The report's causal-weighted word counts, for the head's bag of words.
    pub terms: TermWeights,
}

/// Segments and embeds many reports at once, so their sentences share padded batches.
pub fn prepare(
    embedder: &Embedder,
    cache: &EmbeddingCache,
    reports: &[&str],
    batch_tokens: usize,
) -> Result<Vec<Prepared>> {
    let per_report: Vec<Vec<Span>> = reports.iter().map(|r| text::sentences(r)).collect();
    let per_infos: Vec<Vec<SentenceInfo>> =
        reports.iter().zip(&per_report).map(|(r, spans)| features::sentence_infos(r, spans)).collect();
    // Deduplicate sentence texts across the batch and against the cache.
    let mut todo: Vec<&str> = Vec::new();
    let mut todo_index: HashMap<cache::Key, usize> = HashMap::new();
    for ((r, spans), infos) in reports.iter().zip(&per_report).zip(&per_infos) {
        // Every cause phrase goes through the model too, on its own.
        let phrases = infos.iter().flat_map(|i| i.phrase_texts(r));
        for t in spans.iter().map(|s| s.text(r)).chain(phrases) {
            let k = cache::key(t);
            if cache.get(&k).is_none() && !todo_index.contains_key(&k) {
                todo_index.insert(k, todo.len());
                todo.push(t);
            }
        }
    }
    let fresh = embedder.embed(&todo, batch_tokens)?;
    let fresh: Vec<Arc<[f32]>> = fresh.into_iter().map(Arc::from).collect();
    for (t, v) in todo.iter().zip(&fresh) {
        cache.put(cache::key(t), v.clone());
    }
    let dim = embedder.dim();
    Ok(reports
        .iter()
        .zip(per_report)
        .zip(per_infos)
        .map(|((r, spans), infos)| {
            let lookup = |t: &str| {
                let k = cache::key(t);
                match todo_index.get(&k) {
                    Some(&i) => fresh[i].clone(),
                    // Cached before this call; an eviction since then falls back to zeros,
                    // which only happens under cache thrash and weakens, not breaks, the result.
                    None => cache.get(&k).unwrap_or_else(|| Arc::from(vec![0f32; dim])),
                }
            };
            let embeddings: Vec<Arc<[f32]>> = spans.iter().map(|s| lookup(s.text(r))).collect();
            let phrase_embeddings: Vec<Vec<Arc<[f32]>>> =
                infos.iter().map(|i| i.phrase_texts(r).map(lookup).collect()).collect();
            let refs: Vec<&[f32]> = embeddings.iter().map(|e| &e[..]).collect();
            let phrases = phrase_features(r, &infos, &phrase_embeddings);
            let features = features::build(&refs, &infos, &phrases, dim);
            let terms = lexicon::report_terms(r, &infos);
            Prepared { infos, embeddings, phrase_embeddings, features, terms }
        })
        .collect())
}

/// The cause phrases of every sentence as feature inputs.
fn phrase_features<'a>(
    report: &str,
    infos: &[SentenceInfo],
    embeddings: &'a [Vec<Arc<[f32]>>],
) -> Vec<Phrase<'a>> {
    infos.iter().zip(embeddings).flat_map(|(info, embs)| sentence_phrases(report, info, embs)).collect()
}

/// One sentence's cause phrases as feature inputs, weighted by the sentence's causal weight.
fn sentence_phrases<'a, 'i>(
    report: &'i str,
    info: &'i SentenceInfo,
    embeddings: &'a [Arc<[f32]>],
) -> impl Iterator<Item = Phrase<'a>> + 'i
where
    'a: 'i,
{
    info.phrases.iter().zip(embeddings).map(move |((r, w), e)| Phrase {
        embedding: &e[..],
        weight: w * info.weight,
        counts: cues::class_counts(&report[r.clone()]),
    })
}

/// Names the root cause of a prepared report and quotes its evidence.
pub fn classify(head: &Head, report: &str, prepared: &Prepared) -> RootCause {
    let probs = head.probabilities(&prepared.features, &prepared.terms);
    let labels = &head.meta.labels;
    let best = head.decide(&probs);
    let label = labels[best].clone();
    let contributing: Vec<String> = labels
        .iter()
        .zip(&probs)
        .enumerate()
        .filter(|&(i, (l, &p))| i != best && l != "other" && p >= head.meta.contributing_threshold)
        .map(|(_, (l, _))| l.clone())
        .collect();
    let candidates = sentence_probabilities(head, report, prepared);
    let mut evidence = Vec::new();
    for l in std::iter::once(&label).chain(&contributing) {
        let k = labels.iter().position(|x| x == l).unwrap_or(best);
        let max = if *l == label { 3 } else { 1 };
        evidence.extend(evidence_for(head, report, prepared, &candidates, k, max));
    }
    RootCause {
        confidence: probs[best],
        scores: Scores(labels.iter().cloned().zip(probs.iter().copied()).collect()),
        label,
        contributing,
        evidence,
    }
}

/// Every quotable sentence with its class probabilities under the head, scored once and shared
/// by the primary and contributing labels. Headings and bare links are never quoted, unless the
/// report has nothing else.
fn sentence_probabilities(head: &Head, report: &str, p: &Prepared) -> Vec<(usize, Vec<f32>)> {
    let floor = if p.infos.iter().any(|i| i.weight > 0.2) { 0.2 } else { f32::NEG_INFINITY };
    p.infos
        .iter()
        .zip(&p.embeddings)
        .enumerate()
        .filter(|(_, (info, _))| info.weight > floor)
        .map(|(i, (info, e))| {
            let phrases: Vec<Phrase<'_>> = sentence_phrases(report, info, &p.phrase_embeddings[i]).collect();
            let info = std::slice::from_ref(info);
            let f = features::build(&[&e[..]], info, &phrases, head.meta.dim);
            (i, head.probabilities(&f, &lexicon::report_terms(report, info)))
        })
        .collect()
}

/// The sentences that most support class `k`: per-sentence probability of `k` times causal weight.
fn evidence_for(
    head: &Head,
    report: &str,
    p: &Prepared,
    candidates: &[(usize, Vec<f32>)],
    k: usize,
    max: usize,
) -> Vec<Evidence> {
    let max_w = p.infos.iter().map(|i| i.weight).fold(0f32, f32::max).max(1e-6);
    let mut scored: Vec<(f32, usize)> =
        candidates.iter().map(|(i, probs)| (probs[k] * (p.infos[*i].weight / max_w).sqrt(), *i)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top = scored.first().map(|s| s.0).unwrap_or(0.0);
    scored
        .into_iter()
        .take(max)
        .filter(|(s, _)| *s >= 0.5 * top)
        .map(|(score, i)| {
            let span = p.infos[i].span;
            Evidence {
                label: head.meta.labels[k].clone(),
                text: span.text(report).to_string(),
                start: span.start,
                end: span.end,
                score: (score * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}
