//! The head's learned bag of words: a vocabulary with inverse document frequencies, fitted on the
//! training reports, and the causal-weighted TF-IDF vector of a report.
//!
//! Why it exists: the frozen sentence embeddings encode topic and voice as much as blame, and a
//! head on embeddings alone fitted our own writing far better than real reports. A linear model
//! over words, with each sentence's words counted in proportion to its causal weight (the same
//! weight that pools the embeddings), carried over to real reports much better; models/README.md
//! has the measurements. Words are lowercase ASCII runs (`[a-z][a-z0-9_]+`), so identifiers such
//! as `max_connections` stay one token and numbers alone never become features.

use std::collections::HashMap;

use super::features::SentenceInfo;

/// Causal-weighted term frequencies of one text: each sentence's words count its causal weight.
pub type TermWeights = HashMap<String, f32>;

/// Lowercase word tokens of `text`: a letter followed by letters, digits or underscores.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = chars.next()?;
        if !c.is_ascii_alphabetic() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = chars.peek() {
            if d.is_ascii_alphanumeric() || d == '_' {
                end = i + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        if end - start >= 2 {
            return Some(text[start..end].to_ascii_lowercase());
        }
    })
}

/// Adds `text`'s words to `tf`, each counting `weight`.
pub fn add_terms(tf: &mut TermWeights, text: &str, weight: f32) {
    for t in tokens(text) {
        *tf.entry(t).or_insert(0.0) += weight;
    }
}

/// Term weights of a report: every sentence's words, weighted by its causal weight.
pub fn report_terms(report: &str, infos: &[SentenceInfo]) -> TermWeights {
    let mut tf = TermWeights::new();
    for info in infos {
        add_terms(&mut tf, info.span.text(report), info.weight);
    }
    tf
}

/// A fitted vocabulary: terms in column order and their smoothed inverse document frequencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lexicon {
    terms: Vec<String>,
    idf: Vec<f32>,
    index: HashMap<String, usize>,
}

impl Lexicon {
    /// Builds a lexicon from stored terms and idf values (lengths must match).
    pub fn new(terms: Vec<String>, idf: Vec<f32>) -> Option<Lexicon> {
        if terms.len() != idf.len() {
            return None;
        }
        let index = terms.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        Some(Lexicon { terms, idf, index })
    }

    /// Fits on training documents: every term in at least `min_df` documents, sorted, with
    /// idf = ln((1 + n) / (1 + df)) + 1 so no kept term weighs zero.
    pub fn fit<'a>(docs: impl IntoIterator<Item = &'a TermWeights>, min_df: usize) -> Lexicon {
        let mut df: HashMap<&str, usize> = HashMap::new();
        let mut n = 0usize;
        for d in docs {
            n += 1;
            for (t, &w) in d {
                if w > 0.0 {
                    *df.entry(t.as_str()).or_insert(0) += 1;
                }
            }
        }
        let mut terms: Vec<(&str, usize)> = df.into_iter().filter(|&(_, c)| c >= min_df.max(1)).collect();
        terms.sort_unstable();
        let idf = terms.iter().map(|&(_, c)| ((1.0 + n as f32) / (1.0 + c as f32)).ln() + 1.0).collect();
        let terms = terms.into_iter().map(|(t, _)| t.to_string()).collect();
        Lexicon::new(terms, idf).expect("one idf per term")
    }

    /// Number of terms (feature columns).
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// True when the lexicon has no terms (a head without a bag of words).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Terms in column order.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Inverse document frequencies in column order.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// The L2-normalised sublinear TF-IDF vector of `tf` as sorted `(column, value)` pairs;
    /// unknown words are dropped.
    pub fn vector(&self, tf: &TermWeights) -> Vec<(usize, f32)> {
        let mut v: Vec<(usize, f32)> = tf
            .iter()
            .filter(|&(_, &w)| w > 0.0)
            .filter_map(|(t, &w)| self.index.get(t).map(|&j| (j, (1.0 + w).ln() * self.idf[j])))
            .collect();
        v.sort_unstable_by_key(|&(j, _)| j);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(pairs: &[(&str, f32)]) -> TermWeights {
        pairs.iter().map(|&(t, w)| (t.to_string(), w)).collect()
    }

    #[test]
    fn tokens_are_lowercase_words_and_identifiers() {
        let t: Vec<String> =
            tokens("Raised max_connections to 500; HTTP 502s, v2 rollout, é-tag x").collect();
        assert_eq!(t, ["raised", "max_connections", "to", "http", "v2", "rollout", "tag"]);
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("1234 ... ü").count(), 0);
    }

    #[test]
    fn sentence_weight_scales_term_counts() {
        let mut t = TermWeights::new();
        add_terms(&mut t, "flag flag", 2.5);
        add_terms(&mut t, "flag", 0.3);
        assert!((t["flag"] - 5.3).abs() < 1e-6);
    }

    #[test]
    fn fit_keeps_terms_seen_in_enough_documents() {
        let docs = [tf(&[("leak", 1.0), ("pool", 2.0)]), tf(&[("leak", 0.5)]), tf(&[("flag", 1.0)])];
        let lex = Lexicon::fit(&docs, 2);
        assert_eq!(lex.terms(), ["leak"]);
        assert!((lex.idf()[0] - ((4.0f32 / 3.0).ln() + 1.0)).abs() < 1e-6);
        assert_eq!(Lexicon::fit(&docs, 1).terms(), ["flag", "leak", "pool"]);
    }

    #[test]
    fn vector_is_unit_length_sorted_and_ignores_unknown_words() {
        let docs = [tf(&[("a1", 1.0), ("b1", 1.0)]), tf(&[("a1", 1.0), ("b1", 1.0), ("c1", 1.0)])];
        let lex = Lexicon::fit(&docs, 1);
        let v = lex.vector(&tf(&[("c1", 3.0), ("a1", 1.0), ("zz", 9.0)]));
        assert_eq!(v.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 2]);
        assert!((v.iter().map(|p| p.1 * p.1).sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(v[1].1 > v[0].1, "rarer and more frequent term weighs more");
        assert!(lex.vector(&tf(&[("zz", 1.0)])).is_empty());
    }

    #[test]
    fn new_refuses_mismatched_lengths() {
        assert!(Lexicon::new(vec!["a".into()], vec![]).is_none());
    }
}
