//! `analyze`: one report (or many) in, Analysis out. The only place the stages meet.
//!
//! Knows nothing of HTTP or the CLI. Batch analysis prepares all reports together so their
//! sentences share padded model batches; each report still succeeds or fails on its own.

use std::path::Path;

use crate::analysis::{Analysis, ModelInfo};
use crate::classify::{self, head::Head};
use crate::embed::cache::EmbeddingCache;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::{fetch, timeline};

/// Below this confidence the Analysis carries a warning that the cause is uncertain.
const UNCERTAIN_BELOW: f32 = 0.5;

/// Below this many words the Analysis carries a warning that the cause was read from too little
/// text. The head's calibration data has almost nothing this short (1 of 880 validation and test
/// reports), so its confidence there means little: "site down" gets `other` at 0.99.
pub const SHORT_REPORT_WORDS: usize = 20;

/// The loaded models plus the knobs that shape a run.
pub struct Analyzer {
    embedder: Embedder,
    head: Head,
    cache: EmbeddingCache,
    batch_tokens: usize,
    max_text_chars: usize,
}

/// Loads the embedder named by the settings, fetching the default model on first use.
pub fn load_embedder(settings: &Settings) -> Result<Embedder> {
    let (dir, is_default) = settings.model_dir();
    fetch::ensure_model(&dir, is_default)?;
    Embedder::load(&dir, settings.max_tokens)
}

/// A head trained on another embedding width cannot read this embedder's vectors.
fn check_dims(head: &Head, embedder: &Embedder) -> Result<()> {
    if head.meta.dim != embedder.dim() {
        return Err(Error::ModelUnavailable(format!(
            "head expects {}-d embeddings but the model gives {}",
            head.meta.dim,
            embedder.dim()
        )));
    }
    Ok(())
}

impl Analyzer {
    /// Loads embedder and head as the settings say.
    pub fn load(settings: &Settings) -> Result<Self> {
        let embedder = load_embedder(settings)?;
        let head = Head::load(&settings.head)?;
        Self::new(embedder, head, settings)
    }

    /// Assembles an analyzer from already loaded parts.
    pub fn new(embedder: Embedder, head: Head, settings: &Settings) -> Result<Self> {
        check_dims(&head, &embedder)?;
        Ok(Analyzer {
            embedder,
            head,
            cache: EmbeddingCache::new(settings.cache_entries),
            batch_tokens: settings.batch_tokens,
            max_text_chars: settings.max_text_chars,
        })
    }

    /// Puts another head in place and returns the previous one. The embedder and its cache stay,
    /// so a second head scores reports already seen without embedding them again.
    pub fn swap_head(&mut self, head: Head) -> Result<Head> {
        check_dims(&head, &self.embedder)?;
        Ok(std::mem::replace(&mut self.head, head))
    }

    /// The embedder, for `/v1/embed` and `rootline embed`.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The head, for label names and provenance.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Checks a report against the text limits.
    pub fn validate(&self, text: &str) -> Result<()> {
        validate_text(text, self.max_text_chars)
    }

    /// Analyzes one report.
    pub fn analyze(&self, id: Option<String>, text: &str) -> Result<Analysis> {
        self.analyze_batch(&[(id, text)]).pop().unwrap_or_else(|| Err(Error::Internal("empty batch".into())))
    }

    /// Analyzes many reports, sharing model batches; results are in input order.
    pub fn analyze_batch(&self, items: &[(Option<String>, &str)]) -> Vec<Result<Analysis>> {
        let checks: Vec<Result<()>> = items.iter().map(|(_, t)| self.validate(t)).collect();
        let valid: Vec<&str> =
            items.iter().zip(&checks).filter(|(_, c)| c.is_ok()).map(|((_, t), _)| *t).collect();
        let prepared = match classify::prepare(&self.embedder, &self.cache, &valid, self.batch_tokens) {
            Ok(p) => p,
            Err(e) => {
                let msg = e.to_string();
                return items
                    .iter()
                    .zip(checks)
                    .map(|(_, c)| c.and_then(|_| Err(Error::Internal(msg.clone()))))
                    .collect();
            }
        };
        let mut prepared = prepared.into_iter();
        items
            .iter()
            .zip(checks)
            .map(|((id, text), check)| {
                check?;
                let p = prepared.next().ok_or_else(|| Error::Internal("prepared count".into()))?;
                Ok(self.assemble(id.clone(), text, &p))
            })
            .collect()
    }

    fn assemble(&self, id: Option<String>, text: &str, p: &classify::Prepared) -> Analysis {
        let root_cause = classify::classify(&self.head, text, p);
        let tl = timeline::extract(text);
        let mut warnings = tl.warnings;
        let words = text.split_whitespace().count();
        if words < SHORT_REPORT_WORDS {
            warnings.push(format!(
                "report is very short ({words} words): the root cause is read from a few words, and its \
                 confidence is not calibrated for text this short"
            ));
        }
        if root_cause.confidence < UNCERTAIN_BELOW {
            warnings.push(format!(
                "root cause is uncertain: '{}' at confidence {:.2}",
                root_cause.label, root_cause.confidence
            ));
        }
        Analysis {
            id,
            root_cause,
            timeline: tl.timeline,
            metrics: tl.metrics,
            entities: tl.entities,
            warnings,
            model: ModelInfo { embedder: self.embedder.name().to_string(), head: self.head.id.clone() },
        }
    }
}

/// Rejects empty, whitespace-only and over-long reports.
pub fn validate_text(text: &str, max_chars: usize) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::EmptyText);
    }
    // Byte length bounds char count from above, so the exact count is needed only near the limit.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(Error::TooLarge(format!("report has more than {max_chars} characters")));
    }
    Ok(())
}

/// Reads a report file (or stdin for `-`) as UTF-8 text.
pub fn read_report(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| Error::input_file("<stdin>", e))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Error::input_file(path, e))?;
    }
    String::from_utf8(bytes).map_err(|_| Error::input_file(path, "not valid UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_oversized_texts_are_rejected() {
        assert_eq!(validate_text(" \n\t", 10).unwrap_err().meta().code, "empty_text");
        assert_eq!(validate_text("ééééééééééé", 10).unwrap_err().meta().code, "too_large");
        assert!(validate_text("éééé", 10).is_ok());
    }
}
