//! Incident metrics derived from the phased timeline.
//!
//! Rule for the start of the incident (documented because reports rarely say it plainly):
//! `started` is the first entry whose phase is `started` (impact began). When no entry before
//! the first `detected` entry says impact began, that detected entry stands in for it, so
//! time-to-detect is then 0 and the other durations are measured from detection. (Impact
//! words that only appear after detection usually describe symptoms found while
//! investigating, not the start.) A trigger (deploy, config push) is never
//! taken as the start: changes often sit harmlessly for hours before impact.
//!
//! Durations are computed from the resolved instants, not the formatted timestamps, so they
//! are available even when the report never states a date (both ends must then come from the
//! same list). A negative duration is kept and reported in a warning.

use super::normalize::Resolved;
use super::phase::Phase;
use super::{Metrics, TimelineEntry};

fn first_of(entries: &[TimelineEntry], phase: Phase) -> Option<usize> {
    entries.iter().position(|e| e.phase == phase)
}

/// Computes [`Metrics`] for `entries`; `resolved[i]` is the instant of `entries[i]`.
pub fn compute(entries: &[TimelineEntry], resolved: &[Option<Resolved>]) -> (Metrics, Vec<String>) {
    let mut warnings = Vec::new();
    let detected = first_of(entries, Phase::Detected);
    let started = match (first_of(entries, Phase::Started), detected) {
        (Some(s), Some(d)) if s > d => Some(d),
        (Some(s), _) => Some(s),
        (None, d) => d,
    };
    let mitigated = first_of(entries, Phase::Mitigated);
    let resolved_i = first_of(entries, Phase::Resolved);
    let ts = |i: Option<usize>| i.and_then(|i| entries.get(i)).and_then(|e| e.timestamp.clone());
    let inst = |i: Option<usize>| i.and_then(|i| resolved.get(i)).and_then(|r| r.as_ref());
    let mut duration = |to: Option<usize>, name: &str| -> Option<i64> {
        let a = inst(started)?;
        let b = inst(to)?;
        let s = a.seconds_until(b)?;
        if s < 0 {
            warnings.push(format!(
                "{name} is negative ({s} s): the report's times put it before the incident started"
            ));
        }
        Some(s)
    };
    let m = Metrics {
        started: ts(started),
        detected: ts(detected),
        mitigated: ts(mitigated),
        resolved: ts(resolved_i),
        time_to_detect_s: duration(detected, "time_to_detect"),
        time_to_mitigate_s: duration(mitigated, "time_to_mitigate"),
        time_to_resolve_s: duration(resolved_i, "time_to_resolve"),
    };
    (m, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn e(phase: Phase, ts: Option<&str>) -> TimelineEntry {
        TimelineEntry {
            time_text: String::new(),
            timestamp: ts.map(str::to_string),
            event: String::new(),
            phase,
            start: 0,
            end: 0,
        }
    }

    fn r(h: u32, m: u32, known: bool) -> Option<Resolved> {
        Some(Resolved {
            naive: NaiveDate::from_ymd_opt(2024, 1, 1)
                .and_then(|d| d.and_hms_opt(h, m, 0))
                .unwrap_or_default(),
            date_known: known,
            offset: Some(0),
            block: 0,
        })
    }

    #[test]
    fn durations_from_started() {
        let entries = vec![
            e(Phase::Trigger, Some("a")),
            e(Phase::Started, Some("b")),
            e(Phase::Detected, Some("c")),
            e(Phase::Mitigated, Some("d")),
            e(Phase::Resolved, Some("f")),
        ];
        let res = vec![r(8, 0, true), r(9, 0, true), r(9, 10, true), r(10, 0, true), r(11, 0, true)];
        let (m, w) = compute(&entries, &res);
        assert_eq!(m.started.as_deref(), Some("b"));
        assert_eq!(m.time_to_detect_s, Some(600));
        assert_eq!(m.time_to_mitigate_s, Some(3600));
        assert_eq!(m.time_to_resolve_s, Some(7200));
        assert!(w.is_empty());
    }

    #[test]
    fn detected_stands_in_for_started() {
        let entries = vec![e(Phase::Trigger, None), e(Phase::Detected, None), e(Phase::Resolved, None)];
        let res = vec![r(8, 0, false), r(9, 0, false), r(9, 30, false)];
        let (m, _) = compute(&entries, &res);
        assert_eq!(m.time_to_detect_s, Some(0));
        assert_eq!(m.time_to_resolve_s, Some(1800));
        assert_eq!(m.started, None);
    }

    #[test]
    fn started_after_detection_defers_to_detection() {
        let entries = vec![e(Phase::Detected, Some("d")), e(Phase::Started, Some("s"))];
        let (m, _) = compute(&entries, &[r(9, 0, true), r(9, 30, true)]);
        assert_eq!(m.started.as_deref(), Some("d"));
        assert_eq!(m.time_to_detect_s, Some(0));
    }

    #[test]
    fn no_start_no_durations() {
        let entries = vec![e(Phase::Trigger, None), e(Phase::Resolved, None)];
        let (m, _) = compute(&entries, &[r(8, 0, true), r(9, 0, true)]);
        assert_eq!(m.time_to_resolve_s, None);
    }

    #[test]
    fn negative_durations_warn() {
        let entries = vec![e(Phase::Started, None), e(Phase::Detected, None)];
        let (m, w) = compute(&entries, &[r(9, 4, true), r(0, 5, true)]);
        assert_eq!(m.time_to_detect_s, Some(-32340));
        assert_eq!(w.len(), 1);
    }
}
