//! Robustness properties of the classifier's text path (sentence spans, causal weights, cause
//! sections and phrases, class vocabulary, word terms, model windows, the dense features): for any
//! input it never panics, every span quotes the report, and every number the head sees is finite.
//!
//! These parts run on every report before the model does, so a panic or a NaN here would take down
//! a bulk run or poison a label; the model itself is not needed to check them.

mod common;

use proptest::prelude::*;
use rootline::classify::{cues, features, lexicon};
use rootline::embed::chunk;
use rootline::text::{self, Span};

const LABELS: [&str; 5] = ["config_change", "dependency_bug", "resource_leak", "deployment", "other"];

/// Fragments that exercise the cue patterns: headings in several markups, causal openers, clause
/// ends, bullets, tables, bold lines, CRLF and non-ASCII text. Proptest glues them together with
/// arbitrary text.
const FRAGMENTS: &[&str] = &[
    "## Root Cause\n",
    "**Root Cause and Resolution:**\n",
    "**What went wrong?**\n",
    "Root cause: ",
    "The root cause was ",
    "caused by ",
    "was triggered by a ",
    " due to ",
    "because ",
    ", which ",
    " - ",
    "\n\n",
    "\r\n",
    "\n- ",
    "\n1. ",
    "| 10:02 | deploy | done |\n",
    "# Timeline\n",
    "## Action items\n",
    "**09:25 AM**: ",
    "connection pool exhausted",
    "a library upgrade",
    "feature flag",
    "e.g. ",
    "Mr. ",
    "...",
    "?!",
    "\t",
    "Ursache: Konfigurationsfehler. ",
    "根本原因是配置错误。",
    "🔥 ",
    "é",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    common::fragment_soup(FRAGMENTS, "[a-zA-Z .,:*#|\n-]{0,30}")
}

/// Checks every invariant of the text path on `report`.
fn check(report: &str) {
    let spans = text::sentences(report);
    let chars = report.chars().count();
    let mut prev_end = 0;
    for s in &spans {
        assert!(s.byte_start < s.byte_end && s.byte_end <= report.len(), "bad span {s:?}");
        assert!(report.is_char_boundary(s.byte_start) && report.is_char_boundary(s.byte_end));
        assert!(s.byte_start >= prev_end, "spans overlap or go backwards: {spans:?}");
        prev_end = s.byte_end;
        // Scalar offsets agree with byte offsets, so evidence quoted by `start..end` is the span.
        assert_eq!(report[..s.byte_start].chars().count(), s.start);
        assert_eq!(s.start + s.text(report).chars().count(), s.end);
        assert!(s.end <= chars);
        assert!(!s.text(report).trim().is_empty(), "empty sentence {s:?}");
    }

    let sections = cues::cause_sections(report, &spans);
    assert_eq!(sections.len(), spans.len());
    let infos = features::sentence_infos(report, &spans);
    assert_eq!(infos.len(), spans.len());
    for (info, span) in infos.iter().zip(&spans) {
        assert!(info.weight.is_finite() && info.weight > 0.0, "weight {}", info.weight);
        assert!(info.phrases.len() <= 3);
        for (r, w) in &info.phrases {
            assert!(w.is_finite() && *w > 0.0);
            assert!(
                span.byte_start <= r.start && r.start < r.end && r.end <= span.byte_end,
                "phrase {r:?} outside {span:?}"
            );
            assert!(report.is_char_boundary(r.start) && report.is_char_boundary(r.end));
        }
    }

    let terms = lexicon::report_terms(report, &infos);
    assert!(terms.values().all(|w| w.is_finite() && *w >= 0.0));
    assert!(LABELS.contains(&cues::keyword_tag(report)));

    // Unit embeddings stand in for the model: the pooling must stay finite whatever the weights.
    let dim = 4;
    let unit = [0.5f32; 4];
    let embeddings: Vec<&[f32]> = spans.iter().map(|_| &unit[..]).collect();
    let phrases: Vec<features::Phrase<'_>> = infos
        .iter()
        .flat_map(|i| i.phrases.iter().map(move |(r, w)| (r.clone(), w * i.weight)))
        .map(|(r, weight)| features::Phrase {
            embedding: &unit[..],
            weight,
            counts: cues::class_counts(&report[r]),
        })
        .collect();
    let f = features::build(&embeddings, &infos, &phrases, dim);
    assert_eq!(f.len(), features::width(dim));
    assert!(f.iter().all(|x| x.is_finite()), "non-finite feature in {f:?}");

    // Windows cover every sentence exactly once, in order, whatever the token counts.
    let counts: Vec<usize> = spans.iter().map(|s| s.text(report).len() % 300).collect();
    let windows = chunk::windows(&spans, &counts, 64);
    let mut next = 0;
    for w in &windows {
        assert_eq!(w.first, next);
        assert!(w.last > w.first && w.last <= spans.len());
        assert_eq!(
            w.span,
            Span { end: spans[w.last - 1].end, byte_end: spans[w.last - 1].byte_end, ..spans[w.first] }
        );
        next = w.last;
    }
    assert_eq!(next, spans.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_keeps_the_invariants(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn cue_fragment_soup_keeps_the_invariants(s in fragment_soup()) {
        check(&s);
    }

    #[test]
    fn long_repetitive_lines_keep_the_invariants(n in 1usize..=200, piece in prop::sample::select(FRAGMENTS)) {
        check(&piece.repeat(n));
    }
}

#[test]
fn degenerate_inputs_keep_the_invariants() {
    for s in [
        "",
        " ",
        "\n",
        "\r\n\r\n",
        ".",
        "**",
        "****",
        "# ",
        "|",
        "- ",
        "1. ",
        "Root cause:",
        "because",
        "\u{feff}",
        "\u{0}",
    ] {
        check(s);
    }
}

#[test]
fn a_megabyte_report_keeps_the_invariants() {
    // The body-size limit allows 1 MiB; every cue pass over it must stay linear enough to finish.
    let block = "## Root Cause\nThe root cause was a feature flag, which exhausted the connection pool - see below.\n\
                 **What went wrong?**\n- 09:25 AM: deploy of build 2024.1 🚀 | a | b |\nNo newline here e.g. Mr. Smith said so... ";
    let s = block.repeat((1 << 20) / block.len() + 1);
    check(&s);
    check(&s.replace('\n', " "));
}
