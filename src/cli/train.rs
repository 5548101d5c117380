//! `rootline train`: featurize labelled reports, fit the head, calibrate on validation, record
//! test metrics in the head, write it.

use std::path::{Path, PathBuf};

use crate::classify::cues;
use crate::classify::train::{self, featurize, head_metrics, TrainOptions};
use crate::embed::cache::EmbeddingCache;
use crate::error::{Error, Result};
use crate::pipeline::load_embedder;
use crate::records::Record;
use crate::settings::Settings;

use super::eval::load_labelled;

/// The label set of a training file: the built-in order when it is the built-in taxonomy.
pub fn label_set(recs: &[Record]) -> Vec<String> {
    let mut found: Vec<String> = recs.iter().filter_map(|r| r.primary.clone()).collect();
    found.sort();
    found.dedup();
    if found.iter().all(|l| cues::CLASSES.contains(&l.as_str())) {
        cues::CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        found
    }
}

fn sibling(data: &Path, name: &str) -> Option<PathBuf> {
    let p = data.with_file_name(name);
    (p.is_file() && p != data).then_some(p)
}

/// `rootline train`.
pub fn run_train(
    s: &Settings,
    data: &Path,
    out: &Path,
    validation: Option<PathBuf>,
    test: Option<PathBuf>,
    opts: TrainOptions,
) -> Result<()> {
    let (mut train_recs, _) = load_labelled(data)?;
    let val_path = validation.or_else(|| sibling(data, "validation.jsonl"));
    let test_path = test.or_else(|| sibling(data, "test.jsonl"));
    let val_recs = match &val_path {
        Some(p) => load_labelled(p)?.0,
        None => {
            // Deterministic hold-out: every fifth example calibrates.
            let (keep, held): (Vec<_>, Vec<_>) =
                train_recs.into_iter().enumerate().partition(|(i, _)| i % 5 != 4);
            train_recs = keep.into_iter().map(|(_, r)| r).collect();
            held.into_iter().map(|(_, r)| r).collect()
        }
    };
    let labels = label_set(&train_recs);
    if labels.len() < 2 {
        return Err(Error::input_file(data, "training data needs at least two labels"));
    }
    let embedder = load_embedder(s)?;
    let cache = EmbeddingCache::new(s.cache_entries.max(100_000));
    eprintln!(
        "rootline: featurizing {} training and {} validation reports",
        train_recs.len(),
        val_recs.len()
    );
    let train_ex = featurize(&embedder, &cache, &train_recs, &labels, s.batch_tokens)?;
    let val_ex = featurize(&embedder, &cache, &val_recs, &labels, s.batch_tokens)?;
    let mut head = train::fit(&train_ex, &labels, embedder.dim(), opts)?;
    let fitted_temperature = train::calibrate(&mut head, &val_ex, opts.temperature_scale);
    head.meta.embedder = embedder.name().to_string();
    head.meta.train_sha256 = crate::fetch::sha256_file(data)?;
    let train_m = head_metrics(&head, &train_ex);
    let val_m = head_metrics(&head, &val_ex);
    let test_m = match &test_path {
        Some(p) => {
            let (recs, _) = load_labelled(p)?;
            Some(head_metrics(&head, &featurize(&embedder, &cache, &recs, &labels, s.batch_tokens)?))
        }
        None => None,
    };
    head.meta.record = serde_json::json!({
        "train_file": data.file_name().map(|n| n.to_string_lossy().into_owned()),
        "n_train": train_ex.len(),
        "n_validation": val_ex.len(),
        "options": opts,
        "temperature_fitted_on_validation": fitted_temperature,
        "train": {"accuracy": train_m.accuracy, "macro_f1": train_m.macro_f1},
        "validation": {"accuracy": val_m.accuracy, "macro_f1": val_m.macro_f1},
        "test": test_m.as_ref().map(|m| serde_json::json!({"accuracy": m.accuracy, "macro_f1": m.macro_f1, "n": m.n})),
    });
    head.save(out)?;
    eprintln!(
        "rootline: wrote {} (labels {:?}, temperature {:.2}, contributing >= {:.2})",
        out.display(),
        labels,
        head.meta.temperature,
        head.meta.contributing_threshold
    );
    eprintln!("train      accuracy {:.3} macro-F1 {:.3}", train_m.accuracy, train_m.macro_f1);
    eprintln!("validation accuracy {:.3} macro-F1 {:.3}", val_m.accuracy, val_m.macro_f1);
    if let Some(m) = test_m {
        eprintln!("test       accuracy {:.3} macro-F1 {:.3}", m.accuracy, m.macro_f1);
    }
    Ok(())
}
