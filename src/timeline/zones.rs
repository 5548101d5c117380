//! Time-zone names and offsets.
//!
//! Reports name zones in many ways (`UTC`, `GMT + 1`, `UTC-05:00`, `+0200`, `CEST`, `EAT`...).
//! This module owns the abbreviation table and the one parser that turns any of those
//! spellings into a fixed offset, so that every other part of the timeline stage agrees on
//! what a zone means. Abbreviations that stand for several zones (IST, BST, CST...) resolve to
//! the most common reading and are marked ambiguous so the caller can warn.

/// A zone as written in the report, resolved to a fixed offset from UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Offset east of UTC in minutes.
    pub offset_minutes: i32,
    /// The name as written, trimmed (e.g. `GMT + 1`, `CEST`).
    pub label: String,
    /// Set when the abbreviation has several common meanings; holds the reading chosen.
    pub ambiguity: Option<&'static str>,
}

impl Zone {
    /// The offset formatted like RFC 3339 (`+03:00`).
    pub fn offset_string(&self) -> String {
        format_offset(self.offset_minutes)
    }
}

/// Formats minutes east of UTC as `+HH:MM`.
pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// (abbreviation, offset in minutes, ambiguity note). Standard-time and daylight names are both
/// listed because reports use whichever was on the wall clock.
const ABBREVIATIONS: &[(&str, i32, Option<&str>)] = &[
    ("UTC", 0, None),
    ("GMT", 0, None),
    ("UT", 0, None),
    ("Z", 0, None),
    ("WET", 0, None),
    ("WEST", 60, None),
    ("CET", 60, None),
    ("CEST", 120, None),
    ("MET", 60, None),
    ("MEST", 120, None),
    ("EET", 120, None),
    ("EEST", 180, None),
    ("MSK", 180, None),
    ("WAT", 60, None),
    ("CAT", 120, None),
    ("SAST", 120, None),
    ("EAT", 180, None),
    ("GST", 240, Some("Gulf Standard Time (+04:00); also South Georgia (-02:00)")),
    ("PKT", 300, None),
    ("IST", 330, Some("India Standard Time (+05:30); also Irish (+01:00) and Israel (+02:00)")),
    ("NPT", 345, None),
    ("ICT", 420, None),
    ("WIB", 420, None),
    ("HKT", 480, None),
    ("SGT", 480, None),
    ("PHT", 480, None),
    ("AWST", 480, None),
    ("JST", 540, None),
    ("KST", 540, None),
    ("ACST", 570, None),
    ("ACDT", 630, None),
    ("AEST", 600, None),
    ("AEDT", 660, None),
    ("NZST", 720, None),
    ("NZDT", 780, None),
    ("BST", 60, Some("British Summer Time (+01:00); also Bangladesh (+06:00)")),
    ("CST", -360, Some("US Central Standard Time (-06:00); also China (+08:00)")),
    ("CDT", -300, None),
    ("AST", -240, Some("Atlantic Standard Time (-04:00); also Arabia (+03:00)")),
    ("ADT", -180, None),
    ("EST", -300, None),
    ("EDT", -240, None),
    ("MST", -420, None),
    ("MDT", -360, None),
    ("PST", -480, None),
    ("PDT", -420, None),
    ("AKST", -540, None),
    ("AKDT", -480, None),
    ("HST", -600, None),
    ("BRT", -180, None),
    ("ART", -180, None),
    ("ET", -300, Some("US Eastern (-05:00, -04:00 in summer); read as standard time")),
    ("CT", -360, Some("US Central (-06:00, -05:00 in summer); read as standard time")),
    ("MT", -420, Some("US Mountain (-07:00, -06:00 in summer); read as standard time")),
    ("PT", -480, Some("US Pacific (-08:00, -07:00 in summer); read as standard time")),
];

/// Regex alternation of the named zones, longest first so `CEST` wins over `CET`.
/// `Z` is excluded: it is only a zone when glued to a time, which the time pattern handles.
pub fn abbreviation_pattern() -> String {
    let mut names: Vec<&str> =
        ABBREVIATIONS.iter().map(|(n, _, _)| *n).filter(|n| *n != "Z" && *n != "UT").collect();
    names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    names.join("|")
}

/// Parses a zone as written: a named abbreviation, `UTC`/`GMT` with an optional signed
/// offset (`GMT+3`, `GMT + 1`, `UTC-05:00`, `UTC+0530`), or a bare numeric offset (`+0200`,
/// `+03:00`). Surrounding parentheses and pipes are ignored. Returns `None` for anything else
/// and for offsets beyond ±14 hours, which no real zone uses.
pub fn parse_zone(text: &str) -> Option<Zone> {
    let label =
        text.trim().trim_matches(|c: char| c == '(' || c == ')' || c == '|' || c.is_whitespace()).to_string();
    if label.is_empty() {
        return None;
    }
    let compact: String =
        label.chars().filter(|c| !c.is_whitespace()).map(|c| if c == '\u{2212}' { '-' } else { c }).collect();
    let upper = compact.to_ascii_uppercase();
    // Split a leading name from a signed numeric part.
    let split = upper.find(['+', '-']).unwrap_or(upper.len());
    let (name, num) = upper.split_at(split);
    let (base, ambiguity) = if name.is_empty() {
        (0, None)
    } else {
        let (_, off, amb) = ABBREVIATIONS.iter().find(|(n, _, _)| *n == name)?;
        (*off, *amb)
    };
    if num.is_empty() {
        return Some(Zone { offset_minutes: base, label, ambiguity });
    }
    // Only UTC/GMT (or nothing) may carry an explicit offset: "CET+1" is not a convention.
    if !(name.is_empty() || name == "UTC" || name == "GMT" || name == "UT") {
        return None;
    }
    let offset = parse_signed_offset(num)?;
    Some(Zone { offset_minutes: offset, label, ambiguity: None })
}

/// `+3`, `-05:00`, `+0530`, `+03` → minutes; `None` if malformed or beyond ±14:00.
fn parse_signed_offset(s: &str) -> Option<i32> {
    let mut chars = s.chars();
    let sign = match chars.next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let rest: &str = chars.as_str();
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h, m)
    } else if rest.len() == 4 {
        rest.split_at(2)
    } else {
        (rest, "0")
    };
    if h.is_empty() || h.len() > 2 || m.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(s: &str) -> Option<i32> {
        parse_zone(s).map(|z| z.offset_minutes)
    }

    #[test]
    fn utc_family() {
        assert_eq!(off("UTC"), Some(0));
        assert_eq!(off("GMT"), Some(0));
        assert_eq!(off("Z"), Some(0));
        assert_eq!(off("(UTC)"), Some(0));
    }

    #[test]
    fn signed_offsets() {
        assert_eq!(off("GMT+3"), Some(180));
        assert_eq!(off("GMT + 1"), Some(60));
        assert_eq!(off("UTC-05:00"), Some(-300));
        assert_eq!(off("UTC+03:00"), Some(180));
        assert_eq!(off("+0200"), Some(120));
        assert_eq!(off("-0530"), Some(-330));
        assert_eq!(off("UTC+2"), Some(120));
        assert_eq!(off("|GMT+3|"), Some(180));
        assert_eq!(off("UTC\u{2212}4"), Some(-240));
    }

    #[test]
    fn abbreviations() {
        assert_eq!(off("EAT"), Some(180));
        assert_eq!(off("CET"), Some(60));
        assert_eq!(off("CEST"), Some(120));
        assert_eq!(off("PST"), Some(-480));
        assert_eq!(off("PDT"), Some(-420));
        assert_eq!(off("EST"), Some(-300));
        assert_eq!(off("EDT"), Some(-240));
        assert_eq!(off("JST"), Some(540));
        assert_eq!(off("AEST"), Some(600));
    }

    #[test]
    fn ambiguous_abbreviations_are_marked() {
        for name in ["IST", "BST", "CST"] {
            let z = parse_zone(name).expect("known zone");
            assert!(z.ambiguity.is_some(), "{name} should be ambiguous");
        }
        assert!(parse_zone("CEST").and_then(|z| z.ambiguity).is_none());
        assert_eq!(off("IST"), Some(330));
    }

    #[test]
    fn rejects_nonsense() {
        assert_eq!(off("XYZ"), None);
        assert_eq!(off("GMT+99"), None);
        assert_eq!(off("CET+1"), None);
        assert_eq!(off(""), None);
        assert_eq!(off("+"), None);
        assert_eq!(off("UTC+1:99"), None);
    }

    #[test]
    fn formats_offsets() {
        assert_eq!(format_offset(180), "+03:00");
        assert_eq!(format_offset(-330), "-05:30");
        assert_eq!(format_offset(0), "+00:00");
    }

    #[test]
    fn pattern_prefers_longer_names() {
        let p = abbreviation_pattern();
        let cest = p.find("CEST").expect("CEST listed");
        let cet = p.find("CET|").or_else(|| p.find("CET")).expect("CET listed");
        assert!(cest < cet);
    }
}
