//! Timeline extraction: incident report text in, timed events, metrics, entities and
//! warnings out.
//!
//! The stage runs as a fixed pipeline so each concern has one owner:
//! [`expr`] finds time and date expressions, [`layout`] decides which of them are timeline
//! entries and what event each names, [`normalize`] dates and zones them, [`phase`] labels
//! them, [`metrics`] derives durations and [`entities`] pulls out impact, components and
//! error codes. [`scoring`] holds the evaluation helpers used by `rootline eval`.
//!
//! The extractor never panics and is linear in the input: every pattern is bounded and runs
//! on the `regex` crate's linear-time engine, and all passes walk the text once.

pub mod entities;
pub mod expr;
pub mod layout;
pub mod metrics;
pub mod normalize;
pub mod phase;
pub mod scoring;
pub mod zones;

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub use phase::Phase;
pub use scoring::{clock_matches, match_counts};

use expr::Expr;
use layout::{Candidate, Layout};
use normalize::Resolved;

/// Everything the timeline stage contributes to an Analysis.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelineReport {
    /// One entry per timed event, in report order.
    pub timeline: Vec<TimelineEntry>,
    /// Incident metrics derived from the timeline.
    pub metrics: Metrics,
    /// Incident date, zone, impact, components and error codes.
    pub entities: Entities,
    /// Inconsistencies found in the report, in plain English.
    pub warnings: Vec<String>,
}

/// One timed event of the incident.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    /// The time exactly as written, with any date or zone written next to it.
    pub time_text: String,
    /// RFC 3339 with offset when date and zone are known, local date-time when only the date
    /// is, `None` otherwise.
    pub timestamp: Option<String>,
    /// What happened at that time.
    pub event: String,
    /// Incident phase of the event.
    pub phase: Phase,
    /// Unicode scalar offset of `time_text` in the report.
    pub start: usize,
    /// Unicode scalar offset just past `time_text`.
    pub end: usize,
}

/// Incident metrics derived from the timeline; a figure that cannot be derived is `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    /// Timestamp of the entry taken as the start of impact.
    pub started: Option<String>,
    /// Timestamp of the first `detected` entry.
    pub detected: Option<String>,
    /// Timestamp of the first `mitigated` entry.
    pub mitigated: Option<String>,
    /// Timestamp of the first `resolved` entry.
    pub resolved: Option<String>,
    /// detected − started, seconds.
    pub time_to_detect_s: Option<i64>,
    /// mitigated − started, seconds.
    pub time_to_mitigate_s: Option<i64>,
    /// resolved − started, seconds.
    pub time_to_resolve_s: Option<i64>,
}

/// Facts named in the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entities {
    /// `YYYY-MM-DD`.
    pub incident_date: Option<String>,
    /// Offset such as `+03:00`.
    pub timezone: Option<String>,
    /// Impact phrases (`40% of users`, `about 3,000 customers`).
    pub impact: Vec<String>,
    /// Services and servers named (`checkout service`, `payments-db`).
    pub components: Vec<String>,
    /// Error codes (`HTTP 500`, `503`, `ORA-00060`, `ECONNRESET`).
    pub error_codes: Vec<String>,
}

/// Extracts the timeline, metrics, entities and warnings from one report.
pub fn extract(text: &str) -> TimelineReport {
    if text.trim().is_empty() {
        return TimelineReport::default();
    }
    let times = expr::scan_times(text);
    let dates = expr::scan_dates(text, &times);
    let mut all: Vec<Expr> = times;
    all.extend(dates);
    all.sort_by_key(|e| e.start);
    expr::settle_numeric_order(&mut all);

    let ctx = normalize::document_context(text, &all);
    let lay = layout::find_candidates(text, &all);
    let cands = if lay.structured { dedupe_retellings(&all, lay.candidates) } else { lay.candidates };
    let (norm, norm_warnings) = normalize::resolve(text, &all, &cands, lay.structured, &ctx);

    // Prose often repeats a time ("from 14:30 UTC ... back by 2:30 PM UTC"): keep the
    // first mention of each instant.
    let mut keep = vec![true; cands.len()];
    if !lay.structured {
        let mut seen: HashSet<(chrono::NaiveDateTime, Option<i32>)> = HashSet::new();
        for (i, n) in norm.iter().enumerate() {
            if let Some(r) = &n.resolved {
                if !seen.insert((r.naive, r.offset)) {
                    keep[i] = false;
                }
            }
        }
    }

    let mut offsets = CharOffsets::new(text);
    let mut timeline = Vec::new();
    let mut resolved: Vec<Option<Resolved>> = Vec::new();
    let mut first_zone = None;
    for ((c, n), k) in cands.iter().zip(norm).zip(keep) {
        if !k {
            continue;
        }
        let e = &all[c.expr];
        let phase = phase::classify(&c.event, c.status.as_deref());
        if first_zone.is_none() {
            first_zone = n.zone.as_ref().map(|z| z.offset_string());
        }
        timeline.push(TimelineEntry {
            time_text: text[e.start..e.end].to_string(),
            timestamp: n.timestamp,
            event: c.event.clone(),
            phase,
            start: offsets.chars_at(e.start),
            end: offsets.chars_at(e.end),
        });
        resolved.push(n.resolved);
    }

    let (metrics, metric_warnings) = metrics::compute(&timeline, &resolved);
    let timezone = first_zone
        .or_else(|| ctx.zone_statements.first().map(|(_, z)| z.offset_string()))
        .or_else(|| ctx.consensus_zone.as_ref().map(|z| z.offset_string()));
    let entities = Entities {
        incident_date: ctx.incident_date.map(|d| d.format("%Y-%m-%d").to_string()),
        timezone,
        impact: entities::impact(text),
        components: entities::components(text),
        error_codes: entities::error_codes(text),
    };
    let mut warnings = ctx.warnings.clone();
    for w in norm_warnings.into_iter().chain(metric_warnings) {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    TimelineReport { timeline, metrics, entities, warnings }
}

/// Drops entries that retell an event already listed in an earlier block (same clock time,
/// similar words). Entries of one block are never merged: a list may have two events at the
/// same minute.
fn dedupe_retellings(exprs: &[Expr], cands: Vec<Candidate>) -> Vec<Candidate> {
    const MAX_COMPARE: usize = 16;
    let mut by_key: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
    let mut kept: Vec<Candidate> = Vec::with_capacity(cands.len());
    let mut tokens: Vec<HashSet<String>> = Vec::with_capacity(cands.len());
    for c in cands {
        let e = &exprs[c.expr];
        let key = match (e.clock, e.date) {
            (Some(cl), _) => (cl.hour % 12, cl.minute),
            (None, Some(d)) => (100 + d.month, d.day),
            (None, None) => (999, 0),
        };
        let toks = word_set(&c.event);
        let list = by_key.entry(key).or_default();
        let duplicate = list.iter().rev().take(MAX_COMPARE).any(|&k| {
            kept[k].block != c.block
                && kept[k].layout != Layout::Prose
                && similar(&tokens[k], &toks, &kept[k].event, &c.event)
        });
        if duplicate {
            continue;
        }
        list.push(kept.len());
        tokens.push(toks);
        kept.push(c);
    }
    kept
}

const SIMILAR_STOP: &[&str] = &[
    "the", "and", "was", "were", "our", "for", "with", "that", "this", "from", "had", "has", "have", "are",
    "but", "its", "his", "her", "their", "they", "them", "into", "which",
];

fn word_set(s: &str) -> HashSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| w.to_lowercase())
        .filter(|w| !SIMILAR_STOP.contains(&w.as_str()))
        .take(200)
        .collect()
}

fn similar(a: &HashSet<String>, b: &HashSet<String>, ea: &str, eb: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return ea.trim().eq_ignore_ascii_case(eb.trim());
    }
    let inter = a.intersection(b).count();
    let min = a.len().min(b.len());
    inter * 2 >= min
}

/// Converts increasing byte offsets to char offsets in one forward pass.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets { text, byte: 0, chars: 0 }
    }

    fn chars_at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            // Out-of-order request: restart (never happens for entries in report order).
            self.byte = 0;
            self.chars = 0;
        }
        let end = byte.min(self.text.len());
        if let Some(s) = self.text.get(self.byte..end) {
            self.chars += s.chars().count();
            self.byte = end;
        }
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(text: &str, e: &TimelineEntry) -> String {
        text.chars().skip(e.start).take(e.end - e.start).collect()
    }

    fn times(r: &TimelineReport) -> Vec<&str> {
        r.timeline.iter().map(|e| e.time_text.as_str()).collect()
    }

    const POSTMORTEM: &str = "# Search outage on Nov 3, 2021\n\nFrom 8:12 AM to 10:45 PM (GMT+4), 60% of API requests failed with HTTP 500 errors.\n\nTimeline (local time GMT+4)\n\n6:35 AM: Feature flag push started\n8:12 AM: Outage began in the search tier\n8:20 AM: Alert fired for the SRE rota\n8:23 AM: On-call acknowledged\n3:20 PM: Failed rollback of the flag\n7:50 PM: Rollback of the flag succeeded\n9:30 PM: Restarting web nodes\n10:45 PM: All traffic back online\n\nRoot cause\n\nAt 6:35 AM a flag gave the authentication server a bad DNS entry.\n";

    #[test]
    fn full_report() {
        let r = extract(POSTMORTEM);
        assert_eq!(
            times(&r),
            vec!["6:35 AM", "8:12 AM", "8:20 AM", "8:23 AM", "3:20 PM", "7:50 PM", "9:30 PM", "10:45 PM"]
        );
        let phases: Vec<Phase> = r.timeline.iter().map(|e| e.phase).collect();
        assert_eq!(
            phases,
            vec![
                Phase::Trigger,
                Phase::Started,
                Phase::Detected,
                Phase::Acknowledged,
                Phase::Investigating,
                Phase::Mitigated,
                Phase::Mitigated,
                Phase::Resolved
            ]
        );
        assert_eq!(r.timeline[0].timestamp.as_deref(), Some("2021-11-03T06:35:00+04:00"));
        assert_eq!(r.metrics.started.as_deref(), Some("2021-11-03T08:12:00+04:00"));
        assert_eq!(r.metrics.time_to_detect_s, Some(480));
        assert_eq!(r.metrics.time_to_mitigate_s, Some(41880));
        assert_eq!(r.metrics.time_to_resolve_s, Some(52380));
        assert_eq!(r.entities.incident_date.as_deref(), Some("2021-11-03"));
        assert_eq!(r.entities.timezone.as_deref(), Some("+04:00"));
        assert!(r.entities.error_codes.contains(&"HTTP 500".to_string()));
        assert!(r.entities.impact.contains(&"60% of API requests".to_string()));
        assert!(r.entities.components.contains(&"authentication server".to_string()));
        for e in &r.timeline {
            assert_eq!(quote(POSTMORTEM, e), e.time_text);
        }
    }

    #[test]
    fn offsets_with_non_ascii_prefix() {
        let t =
            "São Paulo — at 9:04 AM the monitoring system alerted. Ünïcödé 🚀 at 10:15 AM we rolled back.";
        let r = extract(t);
        assert_eq!(times(&r), vec!["9:04 AM", "10:15 AM"]);
        for e in &r.timeline {
            assert_eq!(quote(t, e), e.time_text);
        }
        assert_eq!(r.timeline[0].start, 15);
    }

    #[test]
    fn retold_timeline_is_deduplicated() {
        let t = "Postmortem\n\nTimeline\n\n8:20 AM EAT - Disk alarms fired on the storage nodes, paging the on-call.\n8:26 AM EAT - Our on-call engineer began digging into the disks.\n\nRoot cause\n\nA runaway log.\n\nFunny version\n\nTimeline\n\n8:20 AM EAT - Disk alarms fired on the storage nodes, paging the on-call. Coffee flew.\n8:26 AM EAT - Our on-call engineer began digging into the disks, sighing.\n8:51 AM EAT - A new event only in the retelling.\n";
        let r = extract(t);
        assert_eq!(times(&r), vec!["8:20 AM EAT", "8:26 AM EAT", "8:51 AM EAT"]);
    }

    #[test]
    fn same_minute_events_in_one_list_are_kept() {
        let t = "Time (GMT + 2)\tSteps\n9:50AM\tErrors begin\n9:50AM\tAlert fired to on-call\n9:58AM\tOn-call acked\n";
        let r = extract(t);
        assert_eq!(times(&r), vec!["9:50AM", "9:50AM", "9:58AM"]);
    }

    #[test]
    fn prose_repeats_collapse() {
        let t = "Between March 12 and March 17, 2025 ingestion lagged. From March 12, 4:27 PM UTC ingestion degraded. By March 17, 5:12 AM UTC we recovered.\n- Window: approximately March 12, 16:27 UTC\n- Recovery: until March 17, 05:12 UTC\n";
        let r = extract(t);
        assert_eq!(times(&r), vec!["March 12, 4:27 PM UTC", "March 17, 5:12 AM UTC"]);
    }

    #[test]
    fn status_page_series() {
        let t = "Globex had an incident on Mar 02, 2023 affecting the Main API server.\nUpdate timeline\n- investigating Mar 02, 2023, 05:12 AM UTC\nWe are seeing elevated API errors.\n- resolved Mar 02, 2023, 05:41 AM UTC\nEverything works again.\n- postmortem Mar 02, 2023, 09:30 AM UTC\nOn 2 March 2023 a cache node filled up. Timeline: * 4:10 UTC: Alert fired * 4:35 UTC: Investigation began * 5:05 UTC: Fix shipped Follow Up: the node was split between 4:10 UTC - 5:05 UTC.\n";
        let r = extract(t);
        assert_eq!(
            times(&r),
            vec![
                "Mar 02, 2023, 05:12 AM UTC",
                "Mar 02, 2023, 05:41 AM UTC",
                "Mar 02, 2023, 09:30 AM UTC",
                "4:10 UTC",
                "4:35 UTC",
                "5:05 UTC"
            ]
        );
        assert_eq!(r.timeline[0].event, "investigating: We are seeing elevated API errors.");
        assert_eq!(r.timeline[0].phase, Phase::Investigating);
        assert_eq!(r.timeline[2].phase, Phase::Postmortem);
        assert_eq!(r.timeline[3].timestamp.as_deref(), Some("2023-03-02T04:10:00+00:00"));
        assert!(r.entities.components.contains(&"Main API server".to_string()));
    }

    #[test]
    fn reverse_chronological_status_page() {
        let t = "Resolved - Everything works again.\nMar 2, 2023 - 05:41 UTC\n\nMonitoring - A fix has been rolled out.\nMar 2, 2023 - 05:30 UTC\n\nInvestigating - We are looking into API errors.\nMar 2, 2023 - 05:12 UTC\n";
        let r = extract(t);
        assert_eq!(r.timeline.len(), 3);
        let phases: Vec<Phase> = r.timeline.iter().map(|e| e.phase).collect();
        assert_eq!(phases, vec![Phase::Resolved, Phase::Mitigated, Phase::Investigating]);
        assert!(r.warnings.iter().all(|w| !w.contains("earlier than")), "{:?}", r.warnings);
        assert_eq!(r.timeline[2].timestamp.as_deref(), Some("2023-03-02T05:12:00+00:00"));
    }

    #[test]
    fn negative_metric_is_left_empty_with_warning() {
        let t = "Nov 3, 2021 (local time GMT+4)\n6:35 AM: Feature flag push started\n8:12 AM: Outage began\n12:07 AM: Alert fired to on-call\n";
        let r = extract(t);
        assert_eq!(r.metrics.time_to_detect_s, None);
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("time_to_detect is left empty") && w.contains("-29100 s")));
        assert!(r
            .warnings
            .iter()
            .any(|w| w == "timeline entry '12:07 AM' is earlier than the entry before it"));
    }

    #[test]
    fn prose_hour_only_times() {
        let t = "The outage started at 6 PM (GMT + 2) on 2024-05-02 and ended at 9 PM (GMT + 2).";
        let r = extract(t);
        assert_eq!(times(&r), vec!["6 PM (GMT + 2) on 2024-05-02", "9 PM (GMT + 2)"]);
        assert_eq!(r.timeline[1].timestamp.as_deref(), Some("2024-05-02T21:00:00+02:00"));
    }

    #[test]
    fn scoring_reexports_work_on_extracted_entries() {
        let r = extract("- 11:05 PM: Deploy\n- 11:15 PM: Errors begin\n");
        assert!(clock_matches(&r.timeline[0].time_text, "11:05 PM:"));
        assert_eq!(match_counts(&r.timeline, &["11:05 PM:", "11:15 PM:", ""]), (2, 2, 2));
    }

    #[test]
    fn non_times_make_no_entries() {
        let t = "We upgraded to 2.14.0 with a 3:1 ratio, the score was 2:1, host 10.0.0.12:8080 returned HTTP 500 for 2 hours in 2023. It lasted 45 minutes.";
        let r = extract(t);
        assert!(r.timeline.is_empty(), "{:?}", r.timeline);
    }

    #[test]
    fn empty_and_whitespace() {
        assert_eq!(extract(""), TimelineReport::default());
        assert_eq!(extract("  \n\t "), TimelineReport::default());
    }

    #[test]
    fn serialises_as_contract() {
        let r = extract("On 2024-02-04, all times UTC.\n- 10:00: Deploy started\n- 10:05: Errors began\n");
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(v["timeline"][0]["phase"], "trigger");
        assert_eq!(v["timeline"][1]["phase"], "started");
        assert_eq!(v["timeline"][0]["timestamp"], "2024-02-04T10:00:00+00:00");
        assert_eq!(v["entities"]["timezone"], "+00:00");
        assert_eq!(v["entities"]["incident_date"], "2024-02-04");
    }

    #[test]
    fn char_offsets_forward_pass() {
        let t = "aé🚀b";
        let mut o = CharOffsets::new(t);
        assert_eq!(o.chars_at(0), 0);
        assert_eq!(o.chars_at(1), 1);
        assert_eq!(o.chars_at(3), 2);
        assert_eq!(o.chars_at(7), 3);
        assert_eq!(o.chars_at(1), 1);
    }
}
