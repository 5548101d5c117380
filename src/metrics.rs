//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix,
//! and the two figures that say whether the rest of an answer can be trusted: how well confidence
//! is calibrated, and how often the contributing labels are right. Evaluation sets of real reports
//! are small (tens of items), so accuracy comes with a confidence interval and a comparison of two
//! taggers on the same items comes with a paired significance test: a two-report difference on 44
//! reports should not read as progress.
//!
//! Pure and label-set agnostic, so `rootline eval`, `rootline train` (recorded test metrics) and the
//! tests compute figures the same way.

use serde::Serialize;

/// Figures for one class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassScore {
    /// Class name.
    pub label: String,
    /// Precision (0 when nothing was predicted).
    pub precision: f64,
    /// Recall (0 when the class has no gold items).
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Gold items of the class.
    pub support: usize,
}

/// Figures for a set of predictions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Items scored.
    pub n: usize,
    /// Fraction predicted right.
    pub accuracy: f64,
    /// 95% Wilson score interval for the accuracy, `[low, high]`.
    pub accuracy_ci95: [f64; 2],
    /// Unweighted mean F1 over classes with gold support or predictions.
    pub macro_f1: f64,
    /// Per-class figures, in label order.
    pub per_class: Vec<ClassScore>,
    /// Label order of the confusion matrix.
    pub labels: Vec<String>,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// Scores `(gold, predicted)` pairs over `labels` (unknown labels are appended).
pub fn score(pairs: &[(String, String)], labels: &[String]) -> Report {
    let mut labels = labels.to_vec();
    for (g, p) in pairs {
        for l in [g, p] {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
    }
    let idx = |l: &str| labels.iter().position(|x| x == l).unwrap_or(0);
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (g, p) in pairs {
        confusion[idx(g)][idx(p)] += 1;
    }
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let mut per_class = Vec::new();
    let mut f1s = Vec::new();
    for i in 0..k {
        let support: usize = confusion[i].iter().sum();
        let predicted: usize = (0..k).map(|g| confusion[g][i]).sum();
        let tp = confusion[i][i] as f64;
        let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        let recall = if support > 0 { tp / support as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        if support > 0 || predicted > 0 {
            f1s.push(f1);
        }
        per_class.push(ClassScore { label: labels[i].clone(), precision, recall, f1, support });
    }
    Report {
        n: pairs.len(),
        accuracy: if pairs.is_empty() { 0.0 } else { correct as f64 / pairs.len() as f64 },
        accuracy_ci95: wilson_interval(correct, pairs.len()),
        macro_f1: if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 },
        per_class,
        labels,
        confusion,
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  n = {}   accuracy = {:.3}   macro-F1 = {:.3}", self.n, self.accuracy, self.macro_f1)?;
        let [lo, hi] = self.accuracy_ci95;
        writeln!(f, "  accuracy 95% interval (Wilson): {lo:.3} to {hi:.3}")?;
        writeln!(f, "  {:<16} {:>9} {:>7} {:>7} {:>8}", "class", "precision", "recall", "F1", "support")?;
        for c in &self.per_class {
            writeln!(
                f,
                "  {:<16} {:>9.3} {:>7.3} {:>7.3} {:>8}",
                c.label, c.precision, c.recall, c.f1, c.support
            )?;
        }
        let short: Vec<String> = self.labels.iter().map(|l| l.chars().take(6).collect()).collect();
        writeln!(f, "  confusion (rows gold, columns predicted):")?;
        write!(f, "  {:<16}", "")?;
        for s in &short {
            write!(f, " {s:>6}")?;
        }
        writeln!(f)?;
        for (i, row) in self.confusion.iter().enumerate() {
            write!(f, "  {:<16}", self.labels[i])?;
            for v in row {
                write!(f, " {v:>6}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// One confidence bin of a reliability table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CalibrationBin {
    /// Lower bound (exclusive, except the first bin) of the stated confidence.
    pub lo: f64,
    /// Upper bound (inclusive).
    pub hi: f64,
    /// Items whose confidence falls here.
    pub n: usize,
    /// Fraction of them labelled right.
    pub accuracy: f64,
    /// Their mean stated confidence.
    pub mean_confidence: f64,
}

/// Does the stated confidence mean what it says?
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    /// Mean negative log probability of the gold label (lower is better; probabilities are
    /// floored at 1e-6 so one confident miss cannot make it infinite).
    pub nll: f64,
    /// Expected calibration error: the item-weighted mean gap between accuracy and confidence
    /// over the bins.
    pub ece: f64,
    /// Five bins of width 0.2 over [0, 1] (empty bins kept, so tables line up across runs).
    pub bins: Vec<CalibrationBin>,
}

/// One scored item for [`calibration`]: stated confidence of the predicted label, whether the
/// prediction was right, and the probability given to the gold label.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// Confidence of the predicted label.
    pub confidence: f64,
    /// Prediction equals gold.
    pub correct: bool,
    /// Probability assigned to the gold label.
    pub gold_probability: f64,
}

/// Reliability table, ECE and NLL for `items` (all zero when empty).
pub fn calibration(items: &[Scored]) -> Calibration {
    const BINS: usize = 5;
    let mut sums = [(0usize, 0usize, 0f64); BINS];
    let mut nll = 0.0;
    for it in items {
        let c = it.confidence.clamp(0.0, 1.0);
        // A confidence of exactly 0.2 belongs to the first bin: bins are (lo, hi].
        let b = ((c * BINS as f64).ceil() as usize).clamp(1, BINS) - 1;
        sums[b].0 += 1;
        sums[b].1 += usize::from(it.correct);
        sums[b].2 += c;
        nll -= it.gold_probability.max(1e-6).ln();
    }
    let n = items.len().max(1) as f64;
    let mut ece = 0.0;
    let bins = sums
        .iter()
        .enumerate()
        .map(|(i, &(k, right, conf))| {
            let (accuracy, mean_confidence) =
                if k == 0 { (0.0, 0.0) } else { (right as f64 / k as f64, conf / k as f64) };
            ece += k as f64 / n * (accuracy - mean_confidence).abs();
            CalibrationBin {
                lo: i as f64 / BINS as f64,
                hi: (i + 1) as f64 / BINS as f64,
                n: k,
                accuracy,
                mean_confidence,
            }
        })
        .collect();
    Calibration { nll: nll / n, ece, bins }
}

impl std::fmt::Display for Calibration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  NLL = {:.3}   ECE = {:.3}", self.nll, self.ece)?;
        writeln!(f, "  confidence       n  accuracy  mean confidence")?;
        for b in &self.bins {
            writeln!(
                f,
                "  {:.1}-{:.1}  {:>8}  {:>8.3}  {:>15.3}",
                b.lo, b.hi, b.n, b.accuracy, b.mean_confidence
            )?;
        }
        Ok(())
    }
}

/// Set-overlap figures for multi-label answers (contributing labels).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetScore {
    /// Items scored.
    pub n: usize,
    /// Labels both predicted and gold.
    pub true_positives: usize,
    /// Labels predicted but not gold.
    pub false_positives: usize,
    /// Gold labels not predicted.
    pub false_negatives: usize,
    /// tp / (tp + fp), 0 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn), 0 when there is no gold label.
    pub recall: f64,
    /// 2tp / (2tp + fp + fn), micro-averaged over items.
    pub f1: f64,
}

/// Micro-averaged overlap of `(gold, predicted)` label sets (names or indices).
pub fn set_score<T: PartialEq>(pairs: &[(Vec<T>, Vec<T>)]) -> SetScore {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (gold, pred) in pairs {
        tp += pred.iter().filter(|p| gold.contains(p)).count();
        fp += pred.iter().filter(|p| !gold.contains(p)).count();
        fn_ += gold.iter().filter(|g| !pred.contains(g)).count();
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    SetScore {
        n: pairs.len(),
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
    }
}

impl std::fmt::Display for SetScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "  n = {}   precision = {:.3}   recall = {:.3}   F1 = {:.3}   ({} right, {} wrong, {} missed)",
            self.n,
            self.precision,
            self.recall,
            self.f1,
            self.true_positives,
            self.false_positives,
            self.false_negatives
        )
    }
}

/// 95% Wilson score interval for `k` successes in `n` trials. Unlike the normal approximation it
/// stays inside [0, 1] and is honest at small `n` and at accuracies near 0 or 1; `[0, 1]` when
/// `n` is 0.
pub fn wilson_interval(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
    // At 0 or n successes the bound is exactly 0 or 1; rounding would otherwise leave 1 - 1e-16.
    let lo = if k == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k >= n { 1.0 } else { (centre + half).min(1.0) };
    [lo, hi]
}

/// Two taggers compared item by item on the same gold labels.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Paired {
    /// Items scored.
    pub n: usize,
    /// Items only the first tagger gets right.
    pub only_first_right: usize,
    /// Items only the second tagger gets right.
    pub only_second_right: usize,
    /// Exact two-sided McNemar p-value: the chance of a split of the disagreements at least this
    /// lopsided if both taggers were equally good. Items both get right or both get wrong say
    /// nothing about which is better, so only the disagreements count.
    pub p_value: f64,
}

/// Compares two taggers' right/wrong flags on the same items (the shorter list sets `n`).
pub fn paired(first_right: &[bool], second_right: &[bool]) -> Paired {
    let (mut b, mut c) = (0usize, 0usize);
    for (&x, &y) in first_right.iter().zip(second_right) {
        b += usize::from(x && !y);
        c += usize::from(y && !x);
    }
    Paired {
        n: first_right.len().min(second_right.len()),
        only_first_right: b,
        only_second_right: c,
        p_value: mcnemar_exact(b, c),
    }
}

/// Two-sided exact binomial test of `b` against `c` with p = 1/2, summed in log space so that
/// thousands of disagreements neither overflow nor underflow to a wrong answer.
fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let tail = b.min(c);
    let mut ln_term = -(n as f64) * std::f64::consts::LN_2; // ln C(n, 0) / 2^n
    let mut sum = 0.0;
    for i in 0..=tail {
        sum += ln_term.exp();
        ln_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    (2.0 * sum).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(g: &str, q: &str) -> (String, String) {
        (g.into(), q.into())
    }

    #[test]
    fn hand_computed_example() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let r = score(&[p("a", "a"), p("a", "b"), p("b", "b"), p("b", "b")], &labels);
        assert_eq!(r.accuracy, 0.75);
        assert_eq!(r.confusion, vec![vec![1, 1], vec![0, 2]]);
        let a = &r.per_class[0];
        assert_eq!((a.precision, a.recall), (1.0, 0.5));
        let b = &r.per_class[1];
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12);
        let expected_macro = (2.0 / 3.0 + 0.8) / 2.0;
        assert!((r.macro_f1 - expected_macro).abs() < 1e-12);
    }

    #[test]
    fn calibration_by_hand() {
        let it = |confidence, correct, gold_probability| Scored { confidence, correct, gold_probability };
        // Two items at 0.9 (one right), one at 0.3 (right), one exactly on a bin edge (0.2).
        let c =
            calibration(&[it(0.9, true, 0.9), it(0.9, false, 0.05), it(0.3, true, 0.3), it(0.2, false, 0.1)]);
        assert_eq!(c.bins.iter().map(|b| b.n).collect::<Vec<_>>(), [1, 1, 0, 0, 2]);
        assert_eq!(c.bins[4].accuracy, 0.5);
        assert!((c.bins[4].mean_confidence - 0.9).abs() < 1e-12);
        // |0.5-0.9|*2/4 + |1-0.3|/4 + |0-0.2|/4
        assert!((c.ece - (0.2 + 0.175 + 0.05)).abs() < 1e-12, "{}", c.ece);
        let nll = -(0.9f64.ln() + 0.05f64.ln() + 0.3f64.ln() + 0.1f64.ln()) / 4.0;
        assert!((c.nll - nll).abs() < 1e-12);
        // A zero gold probability is floored, not infinite.
        assert!(calibration(&[it(1.0, false, 0.0)]).nll.is_finite());
        assert_eq!(calibration(&[]).ece, 0.0);
    }

    #[test]
    fn wilson_interval_by_hand() {
        // 34 of 44 (dev's size): centre 0.7508, half-width 0.1207.
        let [lo, hi] = wilson_interval(34, 44);
        assert!((lo - 0.6301).abs() < 1e-4 && (hi - 0.8716).abs() < 1e-4, "{lo} {hi}");
        // Never outside [0, 1], and still informative at 0 of 10.
        let [lo, hi] = wilson_interval(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4);
        assert_eq!(wilson_interval(10, 10)[1], 1.0);
        assert_eq!(wilson_interval(0, 0), [0.0, 1.0]);
        // More items, narrower interval at the same accuracy.
        let w = |k, n| {
            let [a, b] = wilson_interval(k, n);
            b - a
        };
        assert!(w(340, 440) < w(34, 44) / 3.0);
    }

    #[test]
    fn paired_test_by_hand() {
        // 14 against 2 disagreements: p = 2 * (C(16,0) + C(16,1) + C(16,2)) / 2^16 = 274 / 65536.
        let first: Vec<bool> = (0..20).map(|i| i < 18).collect();
        let second: Vec<bool> = (0..20).map(|i| !(4..18).contains(&i)).collect();
        let c = paired(&first, &second);
        assert_eq!((c.n, c.only_first_right, c.only_second_right), (20, 14, 2));
        assert!((c.p_value - 274.0 / 65536.0).abs() < 1e-12, "{}", c.p_value);
        // An even split, or no disagreement at all, is no evidence either way.
        assert_eq!(paired(&[true, false], &[false, true]).p_value, 1.0);
        assert_eq!(paired(&[true, true], &[true, true]).p_value, 1.0);
        // Thousands of disagreements stay finite and exact enough: 1400 against 1600.
        let a: Vec<bool> = (0..3000).map(|i| i < 1400).collect();
        let b: Vec<bool> = a.iter().map(|x| !x).collect();
        let p = paired(&a, &b).p_value;
        assert!((p - 2.7856e-4).abs() < 1e-7, "{p}");
    }

    #[test]
    fn set_score_by_hand() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = set_score(&[(v(&["a"]), v(&["a", "b"])), (v(&["c"]), v(&[])), (v(&[]), v(&[]))]);
        assert_eq!((s.true_positives, s.false_positives, s.false_negatives), (1, 1, 1));
        assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
        assert_eq!(set_score::<usize>(&[]).f1, 0.0);
    }

    #[test]
    fn unknown_labels_are_appended_not_dropped() {
        let r = score(&[p("x", "y")], &[]);
        assert_eq!(r.labels, ["x", "y"]);
        assert_eq!(r.accuracy, 0.0);
    }
}
