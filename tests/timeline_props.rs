//! Robustness properties of the timeline extractor: it never panics, finishes quickly on
//! large inputs, and every entry's offsets quote the report.
//!
//! The two timed tests guard against quadratic work with a bound far above the linear cost
//! (seconds against milliseconds), not against slowness; speed is measured in `benches/`.

mod common;

use proptest::prelude::*;
use rootline::timeline::*;
use std::time::{Duration, Instant};

fn quotes(text: &str, r: &TimelineReport) {
    let chars: Vec<char> = text.chars().collect();
    for e in &r.timeline {
        assert!(e.start <= e.end && e.end <= chars.len(), "offsets out of range: {e:?}");
        let quoted: String = chars[e.start..e.end].iter().collect();
        assert_eq!(quoted, e.time_text, "offsets must quote time_text");
    }
}

fn check(text: &str) -> TimelineReport {
    let r = extract(text);
    quotes(text, &r);
    // The report must serialise (no NaN-like states, no invalid strings).
    assert!(serde_json::to_string(&r).is_ok());
    r
}

/// Fragments that exercise every recogniser; proptest glues them with arbitrary text.
const FRAGMENTS: &[&str] = &[
    "9:04 AM",
    "10:00AM",
    "8:04 p.m.",
    "23:10",
    "06:23 AM UTC",
    "1:20 UTC",
    "14:05:33Z",
    "2024-02-04T19:52:00+03:00",
    "2020-11-04 13:13",
    "Jul 04, 2023",
    "Dec 1, 2022",
    "16 th January 2024",
    "June 6th, 2024",
    "4 July 2023",
    "2024-02-04",
    "02/04/2024",
    "GMT+3",
    "GMT + 1",
    "UTC-05:00",
    "+0200",
    "CEST",
    "IST",
    "between 9:00 AM and 11:30 AM EAT",
    "1:20 UTC - 5:30 UTC",
    "12:22 to 13:00",
    "14m",
    "2 hours",
    "99:99",
    "31/02/2024",
    "25:61",
    "- ",
    "* ",
    "| ",
    "\t",
    "\n",
    "**",
    "`",
    "### ",
    "investigating ",
    "resolved ",
    ": ",
    " - ",
    "Timeline: ",
    "All times in CET.",
    "São Paulo — ",
    "🚀",
    "HTTP 500",
    "ORA-00060",
    "40% of users",
    "payments-db",
    "2.14.0",
    "3:1",
    "10.0.0.1:8080",
    "```\n",
    "the following morning",
    "Posted ",
    "(UTC)",
    "~ ",
    "12:05 AM",
    "at ",
    "On ",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    common::fragment_soup(FRAGMENTS, "[0-9:. APMUTC/-]{0,12}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn fragment_soup_never_panics(s in fragment_soup()) {
        check(&s);
    }

    #[test]
    fn scoring_never_panics(a in any::<String>(), b in any::<String>()) {
        let _ = clock_matches(&a, &b);
        let r = extract(&a);
        let (m, n, g) = match_counts(&r.timeline, &[b.as_str()]);
        prop_assert!(m <= n && m <= g);
    }

    #[test]
    fn digit_runs_never_panic(n in 1usize..400, sep in prop::sample::select(vec![":", ".", "/", "-", " "])) {
        let digits = "9".repeat(n);
        let s = format!("- {digits}{sep}{digits} AM: event\n{digits}{sep}{digits}{sep}{digits}\n");
        check(&s);
    }
}

#[test]
fn out_of_range_values_make_no_entries() {
    for s in ["99:99", "25:61", "31/02/2024", "- 99:99: x\n- 25:61: y\n", "24:00 AM", "13:60"] {
        let r = check(s);
        assert!(r.timeline.is_empty(), "{s:?} gave {:?}", r.timeline);
    }
}

#[test]
fn ten_thousand_digit_number() {
    let big = "7".repeat(10_000);
    let s = format!("At {big}:{big} and {big}.{big} PM on {big}/{big}/{big}, - {big}:30: x");
    check(&s);
}

fn megabyte_report() -> String {
    let block = "## Timeline (times are UTC)\n- 9:04 AM: São Paulo — the monitoring system alerted 40% of users 🚀\n| 2020-11-04 13:13 | Applied config to payments-db |\n- investigating Jul 04, 2023, 06:23 AM UTC\nWe see HTTP 500 errors.\nTimeline: * 1:20 UTC: identified * 2:00 UTC: mitigated Details: ok.\nBy 8:04 p.m. on June 7th, 2024 the rollback finished; version 2.14.0, ratio 3:1.\n";
    let mut s = String::with_capacity(1 << 20);
    while s.len() < (1 << 20) {
        s.push_str(block);
    }
    s
}

#[test]
fn one_megabyte_of_timeline_finishes_quickly() {
    let s = megabyte_report();
    let t0 = Instant::now();
    let r = check(&s);
    let took = t0.elapsed();
    assert!(!r.timeline.is_empty());
    // Generous bound for unoptimised builds on a slow machine; linear work takes well under it.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn one_megabyte_without_newlines_finishes_quickly() {
    let unit = "at 9:04 AM São Paulo — Jul 04, 2023 - 5:30 UTC 99:99 2.14.0 * 1:20 UTC: x ";
    let s = unit.repeat((1 << 20) / unit.len() + 1);
    let t0 = Instant::now();
    check(&s);
    assert!(t0.elapsed() < Duration::from_secs(20), "took {:?}", t0.elapsed());
}

#[test]
fn one_megabyte_of_pathological_whitespace_and_digits() {
    let mut s = String::from("Jul");
    s.push_str(&" ".repeat(300_000));
    s.push_str(&"1".repeat(300_000));
    s.push_str(&":".repeat(100_000));
    s.push_str(&"*".repeat(100_000));
    s.push_str(&"- ".repeat(100_000));
    let t0 = Instant::now();
    check(&s);
    assert!(t0.elapsed() < Duration::from_secs(20), "took {:?}", t0.elapsed());
}
