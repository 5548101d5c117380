//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix.
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
    fn unknown_labels_are_appended_not_dropped() {
        let r = score(&[p("x", "y")], &[]);
        assert_eq!(r.labels, ["x", "y"]);
        assert_eq!(r.accuracy, 0.0);
    }
}
