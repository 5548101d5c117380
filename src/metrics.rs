//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix,
//! and the two figures that say whether the rest of an answer can be trusted: how well confidence
//! is calibrated, and how often the contributing labels are right.
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
        macro_f1: if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 },
        per_class,
        labels,
        confusion,
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  n = {}   accuracy = {:.3}   macro-F1 = {:.3}", self.n, self.accuracy, self.macro_f1)?;
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
