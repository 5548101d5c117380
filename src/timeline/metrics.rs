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
//! same list).
//!
//! Mitigation and resolution are the first such entries *at or after* the start: an entry tagged
//! mitigated before impact began is a misread step (an upgrade done during maintenance, a fix
//! from an earlier incident), not the end of this one. A duration that would still be negative
//! is left empty with a warning, never reported: a negative time-to-mitigate in a ticket is
//! always wrong, and downstream averages would swallow it silently.

use super::normalize::Resolved;
use super::phase::Phase;
use super::{Metrics, TimelineEntry};

fn first_of(entries: &[TimelineEntry], phase: Phase) -> Option<usize> {
    entries.iter().position(|e| e.phase == phase)
}

/// Computes [`Metrics`] for `entries`; `resolved[i]` is the instant of `entries[i]`.
pub fn compute(entries: &[TimelineEntry], resolved: &[Option<Resolved>]) -> (Metrics, Vec<String>) {
    let mut warnings = Vec::new();
    let inst = |i: Option<usize>| i.and_then(|i| resolved.get(i)).and_then(|r| r.as_ref());
    // Seconds from entry `a` to entry `b`, when both have comparable instants.
    let between = |a: Option<usize>, b: Option<usize>| inst(a)?.seconds_until(inst(b)?);
    let detected = first_of(entries, Phase::Detected);
    let started = match (first_of(entries, Phase::Started), detected) {
        (Some(s), Some(d)) if s > d => Some(d),
        (Some(s), _) => Some(s),
        (None, d) => d,
    };
    // The first entry of `phase` not before the start; the first of `phase` when none is known
    // to be at or after it.
    let first_after_start = |phase: Phase| -> Option<usize> {
        let mut first = None;
        for i in (0..entries.len()).filter(|&i| entries[i].phase == phase) {
            first.get_or_insert(i);
            if between(started, Some(i)).is_some_and(|x| x >= 0) {
                return Some(i);
            }
        }
        first
    };
    let mitigated = first_after_start(Phase::Mitigated);
    let resolved_i = first_after_start(Phase::Resolved);
    let ts = |i: Option<usize>| i.and_then(|i| entries.get(i)).and_then(|e| e.timestamp.clone());
    let mut duration = |to: Option<usize>, name: &str| -> Option<i64> {
        let s = between(started, to)?;
        if s < 0 {
            warnings.push(format!(
                "{name} is left empty: the report's times put its end before the incident started ({s} s)"
            ));
            return None;
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
    fn a_detection_timed_before_the_start_leaves_time_to_detect_empty() {
        let entries =
            vec![e(Phase::Started, Some("s")), e(Phase::Detected, Some("d")), e(Phase::Resolved, Some("r"))];
        let (m, w) = compute(&entries, &[r(9, 4, true), r(0, 5, true), r(10, 4, true)]);
        assert_eq!(m.started.as_deref(), Some("s"));
        assert_eq!(m.time_to_detect_s, None);
        assert_eq!(m.time_to_resolve_s, Some(3600));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("time_to_detect is left empty"), "{w:?}");
    }

    #[test]
    fn a_mitigation_tagged_before_the_start_is_skipped() {
        // "The log agent was upgraded during maintenance", read as mitigation hours before impact.
        let entries = vec![
            e(Phase::Mitigated, Some("upgrade")),
            e(Phase::Detected, Some("d")),
            e(Phase::Mitigated, Some("rollback")),
            e(Phase::Resolved, Some("r")),
        ];
        let res = vec![r(11, 20, true), r(20, 28, true), r(22, 4, true), r(22, 25, true)];
        let (m, w) = compute(&entries, &res);
        assert_eq!(m.mitigated.as_deref(), Some("rollback"));
        assert_eq!(m.time_to_mitigate_s, Some(5760));
        assert_eq!(m.time_to_resolve_s, Some(7020));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn negative_durations_are_left_empty_with_a_warning() {
        let entries = vec![e(Phase::Mitigated, Some("m")), e(Phase::Detected, Some("d"))];
        let (m, w) = compute(&entries, &[r(0, 26, true), r(0, 41, true)]);
        assert_eq!(m.time_to_detect_s, Some(0));
        assert_eq!(m.time_to_mitigate_s, None);
        assert_eq!(m.mitigated.as_deref(), Some("m"), "the tagged step is still named");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("time_to_mitigate is left empty"), "{w:?}");
    }

    #[test]
    fn incomparable_times_fall_back_to_the_first_tagged_entry() {
        let entries = vec![
            e(Phase::Detected, Some("d")),
            e(Phase::Mitigated, Some("m1")),
            e(Phase::Mitigated, Some("m2")),
        ];
        // Placeholder dates in different blocks cannot be subtracted.
        let other_block = |h, m| {
            let mut x = r(h, m, false);
            if let Some(x) = x.as_mut() {
                x.block = 1;
            }
            x
        };
        let (m, w) = compute(&entries, &[r(9, 0, false), other_block(10, 0), other_block(11, 0)]);
        assert_eq!(m.mitigated.as_deref(), Some("m1"));
        assert_eq!(m.time_to_mitigate_s, None);
        assert!(w.is_empty());
    }
}
