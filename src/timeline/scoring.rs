//! Scoring helpers for `rootline eval`: does an extracted time agree with a gold time?
//!
//! Gold times are written as in the report (`9:04 AM`, `11:05 PM:`, `12:22 to 13:00`,
//! `Sep 1-3`), so comparison is on what the clock says, not on the text: the first clock
//! reading of each side must agree on hour and minute, AM/PM applied when written, and a
//! 12-hour reading without AM/PM matches either half of the day. Date-only gold entries match
//! date-only extractions of the same month and day.

use super::expr::{parse_date, scan_dates, scan_times, Clock};
use super::TimelineEntry;

fn first_clock(s: &str) -> Option<Clock> {
    scan_times(s).into_iter().find_map(|e| e.clock)
}

/// 24-hour readings a clock may stand for.
fn readings(c: &Clock) -> Vec<u32> {
    if c.meridiem.is_some() || c.hour > 12 || c.hour == 0 || c.leading_zero {
        vec![c.hour24()]
    } else if c.hour == 12 {
        vec![12, 0]
    } else {
        vec![c.hour, c.hour + 12]
    }
}

fn first_date(s: &str) -> Option<(u32, u32)> {
    let times = scan_times(s);
    times
        .iter()
        .find_map(|e| e.date)
        .or_else(|| scan_dates(s, &times).into_iter().find_map(|e| e.date))
        .or_else(|| parse_date(s))
        .map(|d| (d.month, d.day))
}

fn normalise_text(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

/// True when an extracted `time_text` and a gold time say the same clock time (or, when
/// neither has a clock, the same date or the same text).
pub fn clock_matches(extracted_time_text: &str, gold_time: &str) -> bool {
    match (first_clock(extracted_time_text), first_clock(gold_time)) {
        (Some(a), Some(b)) => {
            if a.minute != b.minute {
                return false;
            }
            let ra = readings(&a);
            let rb = readings(&b);
            ra.iter().any(|h| rb.contains(h))
        }
        (None, None) => match (first_date(extracted_time_text), first_date(gold_time)) {
            (Some(a), Some(b)) => a == b,
            _ => {
                let a = normalise_text(extracted_time_text);
                !a.is_empty() && a == normalise_text(gold_time)
            }
        },
        _ => false,
    }
}

/// Greedy one-to-one matching of extracted entries to gold times; returns
/// `(matched, n_extracted, n_gold)`. Gold times that are empty or `null` are ignored (untimed
/// steps). Exact text matches are paired first so that a looser clock match cannot steal a
/// gold entry that another extraction states verbatim.
pub fn match_counts(extracted: &[TimelineEntry], gold_times: &[&str]) -> (usize, usize, usize) {
    let gold: Vec<&str> = gold_times
        .iter()
        .copied()
        .filter(|g| {
            let t = g.trim();
            !t.is_empty() && !t.eq_ignore_ascii_case("null")
        })
        .collect();
    let mut used_gold = vec![false; gold.len()];
    let mut used_ext = vec![false; extracted.len()];
    let mut matched = 0;
    let norm_gold: Vec<String> = gold.iter().map(|g| normalise_text(g)).collect();
    for (i, e) in extracted.iter().enumerate() {
        let ne = normalise_text(&e.time_text);
        if let Some(j) = (0..gold.len()).find(|&j| !used_gold[j] && norm_gold[j] == ne) {
            used_gold[j] = true;
            used_ext[i] = true;
            matched += 1;
        }
    }
    for (i, e) in extracted.iter().enumerate() {
        if used_ext[i] {
            continue;
        }
        if let Some(j) = (0..gold.len()).find(|&j| !used_gold[j] && clock_matches(&e.time_text, gold[j])) {
            used_gold[j] = true;
            used_ext[i] = true;
            matched += 1;
        }
    }
    (matched, extracted.len(), gold.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Phase;

    fn entry(t: &str) -> TimelineEntry {
        TimelineEntry {
            time_text: t.to_string(),
            timestamp: None,
            event: String::new(),
            phase: Phase::Other,
            start: 0,
            end: t.chars().count(),
        }
    }

    #[test]
    fn same_clock_different_writing() {
        assert!(clock_matches("9:04 AM", "9:04 AM"));
        assert!(clock_matches("10:00AM", "10:00 AM"));
        assert!(clock_matches("11:05 PM", "11:05 PM:"));
        assert!(clock_matches("Jul 04, 2023, 06:23 AM UTC", "06:23 AM"));
        assert!(clock_matches("1:00 PM", "13:00"));
        assert!(clock_matches("8:04 p.m.", "20:04"));
    }

    #[test]
    fn twelve_hour_without_ampm_matches_either() {
        assert!(clock_matches("8:04", "8:04 PM"));
        assert!(clock_matches("8:04", "8:04 AM"));
        assert!(clock_matches("1:00", "13:00"));
        assert!(!clock_matches("09:00", "9:00 PM"));
    }

    #[test]
    fn mismatches() {
        assert!(!clock_matches("9:04 AM", "9:04 PM"));
        assert!(!clock_matches("9:04", "9:05"));
        assert!(!clock_matches("Sep 6", "6:00"));
        assert!(!clock_matches("", "9:00"));
    }

    #[test]
    fn ranges_and_dates() {
        assert!(clock_matches("12:22", "12:22 to 13:00"));
        assert!(clock_matches("Sep 1-3", "Sep 1-3"));
        assert!(clock_matches("Sep 6", "September 6"));
        assert!(!clock_matches("Sep 6", "Sep 7"));
        assert!(clock_matches("4:50PM on October 18th", "4:50PM on October 18th"));
    }

    #[test]
    fn greedy_counts() {
        let ext = vec![entry("9:50AM"), entry("9:50AM"), entry("9:58AM"), entry("3:00 PM")];
        let (m, n, g) = match_counts(&ext, &["9:50AM", "9:50AM", "9:58AM", "11:00 AM"]);
        assert_eq!((m, n, g), (3, 4, 4));
    }

    #[test]
    fn null_gold_ignored() {
        let ext = vec![entry("8 PM")];
        assert_eq!(match_counts(&ext, &["", "null"]), (0, 1, 0));
    }

    #[test]
    fn exact_text_pairs_first() {
        let ext = vec![entry("12:22"), entry("12:22"), entry("13:00")];
        let gold = ["12:22", "12:22 to 13:00", "13:00"];
        assert_eq!(match_counts(&ext, &gold), (3, 3, 3));
    }
}
