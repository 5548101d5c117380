//! The Analysis: the JSON shape every command and route returns (see CONTRACT.md).
//!
//! Pure data. Field order follows the contract so output reads the same as its examples.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::timeline::{Entities, Metrics, TimelineEntry};

/// Everything rootline says about one report.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Caller's id, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The root cause with calibrated scores and quoted evidence.
    pub root_cause: RootCause,
    /// Every timestamped event, in report order.
    pub timeline: Vec<TimelineEntry>,
    /// Incident metrics derived from the timeline.
    pub metrics: Metrics,
    /// Date, zone, impact, components and error codes named by the report.
    pub entities: Entities,
    /// Inconsistencies a careful reader would raise.
    pub warnings: Vec<String>,
    /// Which models produced this.
    pub model: ModelInfo,
}

/// The classification part of an Analysis.
#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    /// Primary cause.
    pub label: String,
    /// Calibrated probability of `label`.
    pub confidence: f32,
    /// Calibrated probability of every label, summing to 1, in the head's label order.
    pub scores: Scores,
    /// Further labels the report clearly involves.
    pub contributing: Vec<String>,
    /// Sentences that drove each reported label.
    pub evidence: Vec<Evidence>,
}

/// Label → probability, serialised as a JSON object in label order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores(pub Vec<(String, f32)>);

impl Scores {
    /// The probability of `label`, 0 when unknown.
    pub fn get(&self, label: &str) -> f32 {
        self.0.iter().find(|(l, _)| l == label).map(|(_, p)| *p).unwrap_or(0.0)
    }
}

impl Serialize for Scores {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One quoted sentence: `text` equals the report's characters `start..end` (Unicode scalars).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    /// The label this sentence supports.
    pub label: String,
    /// The sentence, exactly as in the report.
    pub text: String,
    /// Unicode scalar offset of the first character.
    pub start: usize,
    /// Unicode scalar offset one past the last character.
    pub end: usize,
    /// How strongly the sentence supports the label (probability x causal weight, in 0..1).
    pub score: f32,
}

/// Model provenance.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Embedding model name.
    pub embedder: String,
    /// Classifier head id (`rootcause-` + hash prefix of the head file).
    pub head: String,
}
