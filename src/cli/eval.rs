//! `rootline eval`: how good are the labels (and timelines) on a labelled JSONL file, next to a
//! plain keyword tagger on the same items so the lift over keywords is visible.

use std::path::Path;

use serde::Serialize;

use crate::classify::cues;
use crate::classify::head::Head;
use crate::error::{Error, Result};
use crate::metrics::{self, Report};
use crate::pipeline::Analyzer;
use crate::records::{self, Record};
use crate::settings::Settings;

/// Time-entry matching figures against gold `timeline[].time`.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineScore {
    /// Reports with gold times.
    pub reports: usize,
    /// Gold entries matched by an extracted one.
    pub matched: usize,
    /// Extracted entries.
    pub extracted: usize,
    /// Gold entries (timed only).
    pub gold: usize,
    /// matched / gold.
    pub recall: f64,
    /// matched / extracted.
    pub precision: f64,
}

/// rootline and the keyword tagger on the items of one `kind`.
#[derive(Debug, Clone, Serialize)]
pub struct KindScore {
    /// The gold file's `kind` value.
    pub kind: String,
    /// Items of that kind.
    pub n: usize,
    /// rootline's accuracy on them.
    pub accuracy: f64,
    /// rootline's macro-F1 on them (over the classes present).
    pub macro_f1: f64,
    /// The keyword tagger's accuracy on them.
    pub keyword_accuracy: f64,
}

/// One item's answer, so errors can be read item by item and two heads compared on the same items.
#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    /// The record's id.
    pub id: String,
    /// Gold primary label.
    pub gold: String,
    /// rootline's label.
    pub predicted: String,
    /// rootline's confidence in it.
    pub confidence: f32,
    /// The keyword tagger's label.
    pub keyword: String,
}

/// The evaluated head against a second head on the same items (`--compare-head`).
#[derive(Debug, Clone, Serialize)]
pub struct HeadComparison {
    /// The second head's file.
    pub head: String,
    /// The second head's id.
    pub head_id: String,
    /// The second head on all items.
    pub report: Report,
    /// The evaluated head (first) against the second, item by item.
    pub paired: metrics::Paired,
}

/// Everything `eval` prints.
#[derive(Debug, Clone, Serialize)]
pub struct EvalOutput {
    /// rootline on all items.
    pub all: Report,
    /// rootline on items whose gold `confidence` is `high` (when the field exists).
    pub high_confidence: Option<Report>,
    /// The keyword tagger on all items.
    pub keyword_baseline: Report,
    /// The keyword tagger on `high` items.
    pub keyword_baseline_high: Option<Report>,
    /// rootline (first) against the keyword tagger (second), item by item: is the lift more than
    /// the luck of a small set?
    pub keyword_comparison: metrics::Paired,
    /// Whether rootline's confidence means what it says, over all items.
    pub calibration: metrics::Calibration,
    /// Contributing labels against gold `contributing`, on the items whose primary label is
    /// right (on a wrong primary the contributing set answers a different question).
    pub contributing: metrics::SetScore,
    /// Figures per gold `kind` (full report, summary, excerpt...), when the file gives kinds.
    pub by_kind: Vec<KindScore>,
    /// Timeline extraction figures (when gold times exist).
    pub timeline: Option<TimelineScore>,
    /// The second head, when `--compare-head` was given.
    pub head_comparison: Option<HeadComparison>,
    /// Every item's answer, in input order.
    pub items: Vec<ItemResult>,
    /// Records skipped as unreadable.
    pub skipped: usize,
}

/// Loads labelled records, reporting and skipping bad ones; returns them and the skip count.
pub fn load_labelled(path: &Path) -> Result<(Vec<Record>, usize)> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for r in records::read(path)? {
        match r {
            Ok(r) if r.primary.is_some() => out.push(r),
            Ok(r) => {
                skipped += 1;
                eprintln!("rootline: skipped id {}: no `primary` label", r.id)
            }
            Err(bad) => {
                skipped += 1;
                eprintln!("rootline: skipped {bad}")
            }
        }
    }
    if out.is_empty() {
        return Err(Error::input_file(path, "no labelled records (JSONL with `text` and `primary`)"));
    }
    Ok((out, skipped))
}

/// Computes every figure for `recs` with a loaded analyzer.
pub fn evaluate(analyzer: &Analyzer, recs: &[Record], skipped: usize) -> Result<EvalOutput> {
    let labels = analyzer.head().meta.labels.clone();
    let mut high = Vec::new();
    let mut kw_high = Vec::new();
    let any_kind = recs.iter().any(|r| r.kind.is_some());
    let mut scored = Vec::new();
    let mut kinds: std::collections::BTreeMap<String, (Vec<(String, String)>, usize)> = Default::default();
    let mut contributing = Vec::new();
    let mut answers = Vec::new();
    let (mut matched, mut extracted, mut gold, mut tl_reports) = (0, 0, 0, 0);
    for chunk in recs.chunks(16) {
        let items: Vec<(Option<String>, &str)> =
            chunk.iter().map(|r| (Some(r.id.clone()), r.text.as_str())).collect();
        for (r, a) in chunk.iter().zip(analyzer.analyze_batch(&items)) {
            let a = a?;
            let g = r.primary.clone().unwrap_or_default();
            let kw = cues::keyword_tag(&r.text).to_string();
            if r.confidence.as_deref() == Some("high") {
                high.push((g.clone(), a.root_cause.label.clone()));
                kw_high.push((g.clone(), kw.clone()));
            }
            let rc = &a.root_cause;
            let correct = rc.label == g;
            scored.push(metrics::Scored {
                confidence: f64::from(rc.confidence),
                correct,
                gold_probability: f64::from(rc.scores.get(&g)),
            });
            if correct {
                let gold_contrib: Vec<String> = r.contributing.iter().filter(|c| **c != g).cloned().collect();
                contributing.push((gold_contrib, rc.contributing.clone()));
            }
            if any_kind {
                // Items without a kind get their own row, so the rows add up to all items.
                let k = r.kind.clone().unwrap_or_else(|| "(none)".into());
                let entry = kinds.entry(k).or_default();
                entry.0.push((g.clone(), rc.label.clone()));
                entry.1 += usize::from(kw == g);
            }
            answers.push(ItemResult {
                id: r.id.clone(),
                gold: g.clone(),
                predicted: rc.label.clone(),
                confidence: rc.confidence,
                keyword: kw,
            });
            if let Some(times) = &r.gold_times {
                let gold_times: Vec<&str> = times.iter().flatten().map(String::as_str).collect();
                if !gold_times.is_empty() {
                    let (m, e, g) = crate::timeline::match_counts(&a.timeline, &gold_times);
                    matched += m;
                    extracted += e;
                    gold += g;
                    tl_reports += 1;
                }
            }
        }
    }
    let any_conf = recs.iter().any(|r| r.confidence.is_some());
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(EvalOutput {
        keyword_comparison: metrics::paired(
            &right(&answers, |i| &i.predicted),
            &right(&answers, |i| &i.keyword),
        ),
        all: metrics::score(&gold_and(&answers, |i| &i.predicted), &labels),
        high_confidence: any_conf.then(|| metrics::score(&high, &labels)),
        keyword_baseline: metrics::score(&gold_and(&answers, |i| &i.keyword), &labels),
        keyword_baseline_high: any_conf.then(|| metrics::score(&kw_high, &labels)),
        calibration: metrics::calibration(&scored),
        contributing: metrics::set_score(&contributing),
        by_kind: kinds
            .into_iter()
            .map(|(kind, (pairs, kw_right))| {
                let r = metrics::score(&pairs, &[]);
                KindScore {
                    kind,
                    n: r.n,
                    accuracy: r.accuracy,
                    macro_f1: r.macro_f1,
                    keyword_accuracy: ratio(kw_right, r.n),
                }
            })
            .collect(),
        timeline: (tl_reports > 0).then(|| TimelineScore {
            reports: tl_reports,
            matched,
            extracted,
            gold,
            recall: ratio(matched, gold),
            precision: ratio(matched, extracted),
        }),
        head_comparison: None,
        items: answers,
        skipped,
    })
}

/// Scores a second head on the items `first` was computed on and pairs the two answers. The
/// analyzer keeps its embedder and cache, so the reports are not embedded again; its own head is
/// back in place afterwards.
fn compare_heads(
    analyzer: &mut Analyzer,
    first: &EvalOutput,
    recs: &[Record],
    (path, other): (&Path, Head),
) -> Result<HeadComparison> {
    let own = analyzer.swap_head(other)?;
    let second = evaluate(analyzer, recs, 0);
    let other_head = analyzer.swap_head(own)?;
    let second = second?;
    Ok(HeadComparison {
        head: path.display().to_string(),
        head_id: other_head.id,
        paired: metrics::paired(
            &right(&first.items, |i| &i.predicted),
            &right(&second.items, |i| &i.predicted),
        ),
        report: second.all,
    })
}

/// Whether each item's answer (as `answer` picks it) matches its gold label.
fn right(items: &[ItemResult], answer: impl Fn(&ItemResult) -> &String) -> Vec<bool> {
    items.iter().map(|i| i.gold == *answer(i)).collect()
}

/// `(gold, answer)` pairs for [`metrics::score`].
fn gold_and(items: &[ItemResult], answer: impl Fn(&ItemResult) -> &String) -> Vec<(String, String)> {
    items.iter().map(|i| (i.gold.clone(), answer(i).clone())).collect()
}

/// One line of a paired comparison, naming the two taggers.
fn print_paired(first: &str, second: &str, c: &metrics::Paired) {
    println!(
        "  paired on {} items: only {first} right on {}, only {second} right on {}; exact McNemar p = {:.3}",
        c.n, c.only_first_right, c.only_second_right, c.p_value
    );
}

/// `rootline eval`.
pub fn run_eval(s: &Settings, data: &Path, json: bool, compare_head: Option<&Path>) -> Result<()> {
    let (recs, skipped) = load_labelled(data)?;
    let mut analyzer = Analyzer::load(s)?;
    // Loaded before the first pass, so an unusable second head fails at once.
    let other = compare_head.map(|p| Head::load(p).map(|h| (p, h))).transpose()?;
    let mut out = evaluate(&analyzer, &recs, skipped)?;
    if let Some(other) = other {
        out.head_comparison = Some(compare_heads(&mut analyzer, &out, &recs, other)?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Error::Internal(e.to_string()))?);
        return Ok(());
    }
    println!("rootline ({}, {}) on {}", analyzer.embedder().name(), analyzer.head().id, data.display());
    print!("{}", out.all);
    if let Some(h) = &out.high_confidence {
        println!("\nrootline, items with confidence == high:");
        print!("{h}");
    }
    println!("\nkeyword tagger baseline:");
    print!("{}", out.keyword_baseline);
    if let Some(h) = &out.keyword_baseline_high {
        println!("\nkeyword tagger, items with confidence == high:");
        print!("{h}");
    }
    println!(
        "\nlift over keywords: accuracy {:+.3}, macro-F1 {:+.3}",
        out.all.accuracy - out.keyword_baseline.accuracy,
        out.all.macro_f1 - out.keyword_baseline.macro_f1
    );
    print_paired("rootline", "keywords", &out.keyword_comparison);
    if !out.by_kind.is_empty() {
        println!("\nby kind:");
        println!(
            "  {:<16} {:>5} {:>9} {:>9} {:>17}",
            "kind", "n", "accuracy", "macro-F1", "keyword accuracy"
        );
        for k in &out.by_kind {
            println!(
                "  {:<16} {:>5} {:>9.3} {:>9.3} {:>17.3}",
                k.kind, k.n, k.accuracy, k.macro_f1, k.keyword_accuracy
            );
        }
    }
    println!("\ncalibration of rootline's confidence, all items:");
    print!("{}", out.calibration);
    println!("\ncontributing labels, items whose primary label is right:");
    print!("{}", out.contributing);
    if let Some(t) = &out.timeline {
        println!(
            "\ntimeline: {} reports, {} gold times, {} extracted, {} matched: recall {:.3}, precision {:.3}",
            t.reports, t.gold, t.extracted, t.matched, t.recall, t.precision
        );
    }
    if let Some(c) = &out.head_comparison {
        println!("\ncompared with head {} ({}):", c.head_id, c.head);
        print!("{}", c.report);
        print_paired(&analyzer.head().id, &c.head_id, &c.paired);
    }
    if out.skipped > 0 {
        println!("\n{} records skipped", out.skipped);
    }
    Ok(())
}
