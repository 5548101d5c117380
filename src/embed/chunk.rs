//! Packs a report's sentences into model windows of at most `max_tokens` tokens.
//!
//! A report is longer than the encoder's window; embedding its first 256 tokens would miss the
//! root-cause section that usually comes late. Windows are whole sentences (a sentence longer than
//! the window becomes its own, truncated, window), each with offsets back into the report.

use crate::text::Span;

/// A run of consecutive sentences that fits one model window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Index of the first sentence in the window.
    pub first: usize,
    /// One past the index of the last sentence.
    pub last: usize,
    /// Covering span (from the first sentence's start to the last one's end).
    pub span: Span,
}

/// Greedily packs sentences (with their token counts, special tokens excluded) into windows whose
/// content fits `max_tokens` minus the two special tokens.
pub fn windows(sentences: &[Span], token_counts: &[usize], max_tokens: usize) -> Vec<Window> {
    let budget = max_tokens.saturating_sub(2).max(1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < sentences.len() {
        let mut used = token_counts.get(i).copied().unwrap_or(0);
        let mut j = i + 1;
        while j < sentences.len() && used + token_counts.get(j).copied().unwrap_or(0) <= budget {
            used += token_counts[j];
            j += 1;
        }
        let (a, b) = (sentences[i], sentences[j - 1]);
        let span = Span { byte_start: a.byte_start, byte_end: b.byte_end, start: a.start, end: b.end };
        out.push(Window { first: i, last: j, span });
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::sentences;

    #[test]
    fn packs_until_budget_then_starts_a_new_window() {
        let r = "One two. Three four. Five six. Seven eight.";
        let s = sentences(r);
        let w = windows(&s, &[3, 3, 3, 3], 8); // budget 6: two sentences a window
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].span.text(r), "One two. Three four.");
        assert_eq!(w[1].span.text(r), "Five six. Seven eight.");
    }

    #[test]
    fn oversized_sentence_is_its_own_window() {
        let r = "Short. A very long sentence indeed. Short again.";
        let s = sentences(r);
        let w = windows(&s, &[2, 500, 2], 256);
        assert_eq!(w.iter().map(|w| (w.first, w.last)).collect::<Vec<_>>(), [(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn no_sentences_no_windows() {
        assert!(windows(&[], &[], 256).is_empty());
    }
}
