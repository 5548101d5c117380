//! Timeline extraction (placeholder types until the extractor lands).
use serde::{Deserialize, Serialize};

/// Everything the timeline stage contributes to an Analysis.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelineReport {
    pub timeline: Vec<TimelineEntry>,
    pub metrics: Metrics,
    pub entities: Entities,
    pub warnings: Vec<String>,
}
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    pub time_text: String,
    pub timestamp: Option<String>,
    pub event: String,
    pub phase: String,
    pub start: usize,
    pub end: usize,
}
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub started: Option<String>,
    pub detected: Option<String>,
    pub mitigated: Option<String>,
    pub resolved: Option<String>,
    pub time_to_detect_s: Option<i64>,
    pub time_to_mitigate_s: Option<i64>,
    pub time_to_resolve_s: Option<i64>,
}
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entities {
    pub incident_date: Option<String>,
    pub timezone: Option<String>,
    pub impact: Vec<String>,
    pub components: Vec<String>,
    pub error_codes: Vec<String>,
}
pub fn extract(_text: &str) -> TimelineReport {
    TimelineReport::default()
}
pub fn match_counts(extracted: &[TimelineEntry], gold: &[&str]) -> (usize, usize, usize) {
    (0, extracted.len(), gold.len())
}
