//! Time and date expressions: finding them in text and parsing what they say.
//!
//! Everything downstream (layouts, normalisation, scoring) works on the [`Expr`] values this
//! module produces, so the rules for what counts as a time live in exactly one place: clock
//! times (`9:04 AM`, `10:00AM`, `8:04 p.m.`, `23:10`, `14:05:33Z`, `8.40 AM`, `8 PM`), dates
//! (`Jul 04, 2023`, `16 th January 2024`, `2024-02-04`, `02/04/2024`...), dates glued to times
//! (`Jul 04, 2023, 06:23 AM UTC`, `4:50PM on March 18th`, ISO date-times) and zones.
//! Things that look like times but are not (versions, ratios, IPs, durations such as
//! `2:30 hours`, out-of-range values such as `25:61`) are rejected here.
//!
//! All patterns use bounded repetition and the `regex` crate's linear-time engine, and the
//! scan restarts strictly forward, so scanning is linear in the input size.

use once_cell::sync::Lazy;
use regex::{Captures, Regex};

use super::zones::{abbreviation_pattern, parse_zone, Zone};

/// AM or PM as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meridiem {
    /// Before noon.
    Am,
    /// After noon.
    Pm,
}

/// A clock reading as written (hour not yet converted to 24-hour form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Hour as written (0-23; 1-12 when AM/PM is written).
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59 (0 when not written).
    pub second: u32,
    /// AM/PM as written.
    pub meridiem: Option<Meridiem>,
    /// `09:03` style: a leading zero says the writer uses a 24-hour clock.
    pub leading_zero: bool,
}

impl Clock {
    /// Hour on a 24-hour clock when AM/PM was written, or the hour as written otherwise.
    pub fn hour24(&self) -> u32 {
        match self.meridiem {
            Some(m) => apply_meridiem(self.hour, m),
            None => self.hour,
        }
    }
}

/// Converts a 12-hour reading to 24-hour form; hours above 12 are already 24-hour.
pub fn apply_meridiem(hour: u32, m: Meridiem) -> u32 {
    if hour > 12 {
        return hour;
    }
    match (m, hour) {
        (Meridiem::Am, 12) => 0,
        (Meridiem::Am, h) => h,
        (Meridiem::Pm, 12) => 12,
        (Meridiem::Pm, h) => h + 12,
    }
}

/// A calendar date as written; the year may be missing (`August 23rd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParts {
    /// Year when written.
    pub year: Option<i32>,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month (first day of a written range).
    pub day: u32,
    /// Set when a numeric date could be read day-first or month-first.
    pub ambiguous_order: bool,
    /// For a numeric date (`12/01/2026`, `12-01-2026`): its separator and whether the first
    /// number was read as the day. Lets [`settle_numeric_order`] apply a writer's order, proven
    /// by one unambiguous date, to their ambiguous ones.
    pub numeric: Option<(char, bool)>,
}

/// Re-reads ambiguous numeric dates in the order the same document proves for their separator.
///
/// A writer who puts `27-02-2026` in one line means `06-05-2026` day-first in the next. When a
/// separator's unambiguous dates prove exactly one order, every ambiguous date with that
/// separator is read that way and no longer flagged; with no proof, or proof both ways, the
/// default reading and its warning stay.
pub fn settle_numeric_order(exprs: &mut [Expr]) {
    for sep in ['/', '-'] {
        let proof = |first_is_day: bool| {
            exprs
                .iter()
                .filter_map(|e| e.date)
                .any(|d| !d.ambiguous_order && d.month != d.day && d.numeric == Some((sep, first_is_day)))
        };
        let order = match (proof(true), proof(false)) {
            (true, false) => true,
            (false, true) => false,
            _ => continue,
        };
        for d in exprs.iter_mut().filter_map(|e| e.date.as_mut()) {
            if let (true, Some((s, day_first))) = (d.ambiguous_order, d.numeric) {
                if s == sep {
                    if day_first != order {
                        std::mem::swap(&mut d.month, &mut d.day);
                    }
                    d.numeric = Some((s, order));
                    d.ambiguous_order = false;
                }
            }
        }
    }
}

/// One time or date expression found in the text. Offsets are byte offsets into the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the expression.
    pub end: usize,
    /// `None` for a date on its own.
    pub clock: Option<Clock>,
    /// Date written with the time, or the date itself.
    pub date: Option<DateParts>,
    /// Zone written with the time.
    pub zone: Option<Zone>,
}

const WS: &str = r"[ \t\u{a0}]{1,3}";
const MONTH: &str = r"(?:(?i:jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)|Mar|MAR|May|MAY)\b\.?";
const DAYNUM: &str = r"[0-3]?[0-9](?:[ ]?(?:st|nd|rd|th)\b)?";
const YEAR: &str = r"(?:19|20)[0-9]{2}\b";

fn date_pattern() -> String {
    let day_range = format!(r"{DAYNUM}(?:[ ]?[-–][ ]?{DAYNUM})?\b");
    let a = format!(r"\b{MONTH}{WS}(?:the{WS})?{day_range}(?:,?{WS}{YEAR})?");
    let b = format!(r"\b(?:the{WS})?{DAYNUM}\b{WS}(?:of{WS})?{MONTH}(?:,?{WS}{YEAR})?");
    let c = r"\b(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]";
    let d = r"\b[0-3]?[0-9][/.-][0-3]?[0-9][/.-](?:19|20)[0-9]{2}\b";
    format!("(?:{a}|{b}|{c}|{d})")
}

fn zone_body() -> String {
    format!(
        r"(?:(?:UTC|GMT)(?:[ ]?[+\-−][ ]?[0-9]{{1,2}}(?::?[0-5][0-9])?)?\b|[+\-][0-9]{{4}}\b|(?:{})\b)",
        abbreviation_pattern()
    )
}

/// Full time-expression pattern. Groups: `pre` (date before the time), `sep`, `clock` parts
/// (`h`,`m`,`s` / `dh`,`dm` / `hh`), `mer*` (meridiem), `zone`, `post` (date after "on").
static TIME_RE: Lazy<Regex> = Lazy::new(|| {
    let date = date_pattern();
    let mer = r"(?:[AaPp]\.[ ]?[Mm]\.|[AaPp]\.?[Mm]\b)";
    let clock = format!(
        r"(?:(?P<h>[0-9]{{1,2}}):(?P<m>[0-5][0-9])(?::(?P<s>[0-5][0-9])(?:\.[0-9]{{1,9}})?)?(?:[ ]?(?P<mer1>{mer}))?|(?P<dh>[0-9]{{1,2}})\.(?P<dm>[0-5][0-9])[ ]?(?P<mer2>{mer})|(?P<hh>[0-9]{{1,2}})[ ]?(?P<mer3>{mer}))"
    );
    let zone =
        format!(r"(?P<zone>Z\b|[+\-][0-9]{{2}}:[0-5][0-9]|[ ]?\([ ]?{zb}[ ]?\)|[ ]?{zb})", zb = zone_body());
    let pattern = format!(
        r"(?:(?P<pre>{date})(?P<sep>T|{WS}[-–]{WS}|,?{WS}(?:(?:at|@|~){WS}|~)?|,))?(?P<clock>{clock}){zone}?(?P<post>{WS}on{WS}(?:the{WS})?{date})?"
    );
    Regex::new(&pattern).unwrap_or_else(|e| panic!("time pattern must compile: {e}"))
});

static DATE_RE: Lazy<Regex> =
    Lazy::new(|| Regex::new(&date_pattern()).unwrap_or_else(|e| panic!("date pattern must compile: {e}")));

/// Anchored date parser with a named group per written form.
static DATE_PARTS_RE: Lazy<Regex> = Lazy::new(|| {
    let p = format!(
        r"^(?:{MONTH_CAP}{WS}(?:the{WS})?(?P<ad>[0-3]?[0-9])(?:[ ]?(?:st|nd|rd|th))?(?:[ ]?[-–][ ]?[0-3]?[0-9](?:[ ]?(?:st|nd|rd|th))?)?(?:,?{WS}(?P<ay>(?:19|20)[0-9]{{2}}))?|(?:the{WS})?(?P<bd>[0-3]?[0-9])(?:[ ]?(?:st|nd|rd|th))?{WS}(?:of{WS})?{MONTH_CAP_B}(?:,?{WS}(?P<by>(?:19|20)[0-9]{{2}}))?|(?P<cy>(?:19|20)[0-9]{{2}})-(?P<cm>[01][0-9])-(?P<cd>[0-3][0-9])|(?P<d1>[0-3]?[0-9])(?P<s1>[/.-])(?P<d2>[0-3]?[0-9])(?P<s2>[/.-])(?P<dy>(?:19|20)[0-9]{{2}}))$",
        MONTH_CAP = r"(?P<am>[A-Za-z]+)\.?",
        MONTH_CAP_B = r"(?P<bm>[A-Za-z]+)\.?",
    );
    Regex::new(&p).unwrap_or_else(|e| panic!("date parts pattern must compile: {e}"))
});

/// Words after a number that make it a duration rather than a clock time.
static DURATION_AFTER_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^[ \t]?(?i:h|hrs?|hours?|mins?|minutes?|s|secs?|seconds?|ms)\b")
        .unwrap_or_else(|e| panic!("duration pattern must compile: {e}"))
});

/// Month name (any case, full or abbreviated) → 1..=12.
pub fn month_number(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let key = lower.get(..3)?;
    let n = match key {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(n)
}

fn valid_day(year: Option<i32>, month: u32, day: u32) -> bool {
    // Without a year, allow Feb 29 by checking against a leap year.
    chrono::NaiveDate::from_ymd_opt(year.unwrap_or(2024), month, day).is_some()
}

/// Parses a date as matched by the date pattern. `None` if it is not a real calendar date
/// (`31/02/2024`).
pub fn parse_date(text: &str) -> Option<DateParts> {
    let c = DATE_PARTS_RE.captures(text.trim())?;
    let num = |name: &str| -> Option<u32> { c.name(name).and_then(|m| m.as_str().parse().ok()) };
    let year = |name: &str| -> Option<i32> { c.name(name).and_then(|m| m.as_str().parse().ok()) };
    let (y, m, d, amb, numeric) = if let Some(am) = c.name("am") {
        (year("ay"), month_number(am.as_str())?, num("ad")?, false, None)
    } else if let Some(bm) = c.name("bm") {
        (year("by"), month_number(bm.as_str())?, num("bd")?, false, None)
    } else if c.name("cy").is_some() {
        (year("cy"), num("cm")?, num("cd")?, false, None)
    } else {
        let a = num("d1")?;
        let b = num("d2")?;
        let s1 = c.name("s1")?.as_str();
        let s2 = c.name("s2")?.as_str();
        if s1 != s2 {
            return None;
        }
        let y = year("dy");
        // Dotted dates are day-first by convention; slashed ones are read month-first and dashed
        // ones (`12-01-2026`, common in European write-ups) day-first, unless that is impossible.
        // Slashed and dashed dates are flagged when both readings are real dates.
        let day_first = s1 != "/" || a > 12;
        let (m, d) = if day_first { (b, a) } else { (a, b) };
        let sep = s1.chars().next();
        let ambiguous = s1 != "." && a <= 12 && b <= 12 && a != b;
        if !valid_day(y, m, d) {
            if s1 != "." && valid_day(y, d, m) {
                let numeric = sep.map(|c| (c, !day_first));
                return Some(DateParts { year: y, month: d, day: m, ambiguous_order: false, numeric });
            }
            return None;
        }
        (y, m, d, ambiguous, sep.map(|c| (c, day_first)))
    };
    if !(1..=12).contains(&m) || !valid_day(y, m, d) {
        return None;
    }
    Some(DateParts { year: y, month: m, day: d, ambiguous_order: amb, numeric })
}

fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

fn next_char_boundary(text: &str, i: usize) -> usize {
    let mut j = i + 1;
    while j < text.len() && !text.is_char_boundary(j) {
        j += 1;
    }
    j.min(text.len())
}

fn meridiem_of(s: &str) -> Option<Meridiem> {
    match s.trim_start().chars().next()? {
        'a' | 'A' => Some(Meridiem::Am),
        'p' | 'P' => Some(Meridiem::Pm),
        _ => None,
    }
}

/// Builds an [`Expr`] from a regex match, or explains (by returning `None`) why the match is
/// not a time: out-of-range values, glued to other digits, or followed by a duration unit.
fn expr_from_captures(text: &str, c: &Captures) -> Option<Expr> {
    let whole = c.get(0)?;
    let clock_m = c.name("clock")?;
    let start = whole.start();
    // A time glued to a preceding letter, digit or separator is part of something else
    // (a version, an IP address, a file:line reference).
    if let Some(prev) = char_before(text, start) {
        if prev.is_alphanumeric() || matches!(prev, ':' | '.' | '/' | '_' | '$' | '#') {
            return None;
        }
    }
    let (hour, minute, second, meridiem, leading_zero) = if let Some(h) = c.name("h") {
        let hour: u32 = h.as_str().parse().ok()?;
        let minute: u32 = c.name("m")?.as_str().parse().ok()?;
        let second: u32 = c.name("s").and_then(|s| s.as_str().parse().ok()).unwrap_or(0);
        let mer = c.name("mer1").and_then(|m| meridiem_of(m.as_str()));
        (hour, minute, second, mer, h.as_str().len() == 2 && h.as_str().starts_with('0'))
    } else if let Some(h) = c.name("dh") {
        let hour: u32 = h.as_str().parse().ok()?;
        let minute: u32 = c.name("dm")?.as_str().parse().ok()?;
        let mer = c.name("mer2").and_then(|m| meridiem_of(m.as_str()));
        (hour, minute, 0, mer, false)
    } else {
        let h = c.name("hh")?;
        let hour: u32 = h.as_str().parse().ok()?;
        let mer = c.name("mer3").and_then(|m| meridiem_of(m.as_str()));
        (hour, 0, 0, mer, false)
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if meridiem.is_some() && hour == 0 {
        return None;
    }
    let mut zone_m = c.name("zone").map(|z| (z.start(), z.as_str()));
    let mut truncated = false;
    // "1:20 UTC - 5:30 UTC" is a range, not UTC-5: a spaced sign followed by a clock time
    // belongs to the next expression.
    if let Some((zs, zt)) = zone_m {
        let after = text.get(zs + zt.len()..).unwrap_or("");
        let mut ac = after.chars();
        let clock_follows = ac.next() == Some(':') && ac.next().is_some_and(|d| d.is_ascii_digit());
        let sign = zt.find(['+', '-', '\u{2212}']);
        let spaced_clock = sign.is_some_and(|i| {
            (zt[..i].ends_with(' ') || zt[i..].chars().nth(1) == Some(' ')) && zt[i..].contains(':')
        });
        if clock_follows || spaced_clock {
            if let Some(i) = sign {
                let kept = zt[..i].trim_end();
                zone_m = if kept.trim().is_empty() { None } else { Some((zs, kept)) };
                truncated = true;
            }
        }
    }
    let after_clock = zone_m.map(|(s, t)| s + t.len()).unwrap_or(clock_m.end());
    let rest = text.get(after_clock..).unwrap_or("");
    let mut rc = rest.chars();
    match (rc.next(), rc.next()) {
        (Some(d), _) if d.is_ascii_digit() => return None,
        (Some(':'), Some(d)) | (Some('.'), Some(d)) if d.is_ascii_digit() => return None,
        (Some(a), _) if a.is_alphanumeric() && zone_m.is_none() && meridiem.is_none() => return None,
        _ => {}
    }
    if zone_m.is_none() && DURATION_AFTER_RE.is_match(rest) {
        return None;
    }
    let zone = zone_m.and_then(|(_, z)| parse_zone(z));
    if zone_m.is_some() && zone.is_none() {
        return None;
    }
    let pre = c.name("pre").and_then(|m| parse_date(m.as_str()));
    let post = c.name("post").and_then(|m| {
        let s = m.as_str().trim_start();
        let s = s.strip_prefix("on").unwrap_or(s).trim_start();
        let s = s.strip_prefix("the").unwrap_or(s);
        parse_date(s)
    });
    if c.name("pre").is_some() && pre.is_none() {
        return None;
    }
    let mut end = whole.end();
    let date = if truncated {
        end = after_clock;
        pre
    } else if c.name("post").is_some() {
        if post.is_none() {
            end = after_clock;
        }
        pre.or(post)
    } else {
        pre
    };
    Some(Expr { start, end, clock: Some(Clock { hour, minute, second, meridiem, leading_zero }), date, zone })
}

/// A zone in parentheses just after a time wrapped in emphasis (`**09:50** (CEST)`): it
/// applies to the time although markup keeps it out of the time's text.
static TRAILING_ZONE_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(&format!(r"^[*_`]{{1,3}}[ ]?\([ ]?(?P<z>{})[ ]?\)", zone_body()))
        .unwrap_or_else(|e| panic!("trailing zone pattern must compile: {e}"))
});

/// Finds every clock-time expression (with any date and zone written next to it), in order.
pub fn scan_times(text: &str) -> Vec<Expr> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let Some(c) = TIME_RE.captures_at(text, pos) else {
            break;
        };
        let Some(whole) = c.get(0) else { break };
        match expr_from_captures(text, &c) {
            Some(mut e) => {
                // A numeric offset glued to a plain time is more likely a range ("12:22-13:00"):
                // keep it only on ISO date-times.
                if let Some(z) = c.name("zone") {
                    let zs = z.as_str();
                    let glued_numeric = zs.starts_with(['+', '-']) && zs.contains(':');
                    let iso = c.name("sep").map(|s| s.as_str() == "T").unwrap_or(false);
                    if glued_numeric && !iso {
                        e.zone = None;
                        e.end = z.start();
                    }
                }
                if e.zone.is_none() {
                    if let Some(z) =
                        TRAILING_ZONE_RE.captures(text.get(e.end..).unwrap_or("")).and_then(|c| c.name("z"))
                    {
                        e.zone = parse_zone(z.as_str());
                    }
                }
                pos = e.end.max(next_char_boundary(text, whole.start()));
                out.push(e);
            }
            None => {
                // Retry just past the start: a shorter match inside may still be a time.
                let date_end = c.name("sep").map(|s| s.end());
                pos = match date_end {
                    Some(d) if d > whole.start() => d,
                    _ => next_char_boundary(text, whole.start()),
                };
            }
        }
    }
    out
}

/// Finds dates that stand on their own (not part of a time expression in `times`).
pub fn scan_dates(text: &str, times: &[Expr]) -> Vec<Expr> {
    let mut out = Vec::new();
    let mut ti = 0;
    for m in DATE_RE.find_iter(text) {
        while ti < times.len() && times[ti].end <= m.start() {
            ti += 1;
        }
        if ti < times.len() && times[ti].start < m.end() {
            continue;
        }
        if let Some(prev) = char_before(text, m.start()) {
            if prev.is_ascii_digit() || matches!(prev, '.' | '/' | '-') {
                continue;
            }
        }
        // ISO dates glued to more digits are identifiers, not dates.
        if text[m.end()..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        if let Some(d) = parse_date(m.as_str()) {
            out.push(Expr { start: m.start(), end: m.end(), clock: None, date: Some(d), zone: None });
        }
    }
    out
}

/// Regex for a zone name or offset, usable inside other patterns (no captures).
pub fn zone_pattern() -> String {
    zone_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(s: &str) -> Vec<String> {
        scan_times(s).iter().map(|e| s[e.start..e.end].to_string()).collect()
    }

    fn one(s: &str) -> Expr {
        let v = scan_times(s);
        assert_eq!(v.len(), 1, "expected one time in {s:?}, got {v:?}");
        v[0].clone()
    }

    fn hm(e: &Expr) -> (u32, u32) {
        let c = e.clock.expect("clock");
        (c.hour24(), c.minute)
    }

    #[test]
    fn twelve_hour_forms() {
        assert_eq!(hm(&one("at 9:04 AM the")), (9, 4));
        assert_eq!(hm(&one("10:00AM Server")), (10, 0));
        assert_eq!(hm(&one("by 8:04 p.m. in")), (20, 4));
        assert_eq!(hm(&one("12:05 AM: x")), (0, 5));
        assert_eq!(hm(&one("12:30 PM: x")), (12, 30));
        assert_eq!(hm(&one("7.25 AM GMT - x")), (7, 25));
        assert_eq!(hm(&one("at 6 PM (GMT + 2)")), (18, 0));
        assert_eq!(hm(&one("around 11am GMT + 2")), (11, 0));
        assert_eq!(hm(&one("4:50PM on")), (16, 50));
    }

    #[test]
    fn twenty_four_hour_forms() {
        assert_eq!(hm(&one("23:10 x")), (23, 10));
        let e = one("at 14:05:33Z.");
        assert_eq!(hm(&e), (14, 5));
        assert_eq!(e.clock.map(|c| c.second), Some(33));
        assert_eq!(e.zone.map(|z| z.offset_minutes), Some(0));
        assert!(one("*09:03* x").clock.map(|c| c.leading_zero).unwrap_or(false));
    }

    #[test]
    fn zones_attached() {
        assert_eq!(times("06:23 AM UTC x"), vec!["06:23 AM UTC"]);
        assert_eq!(times("- 1:20 UTC: x"), vec!["1:20 UTC"]);
        assert_eq!(times("16:25 GMT+2 --> x"), vec!["16:25 GMT+2"]);
        assert_eq!(times("9:10 AM EAT - x"), vec!["9:10 AM EAT"]);
        assert_eq!(times("at 07:10 (GMT). P"), vec!["07:10 (GMT)"]);
        assert_eq!(times("at 13:00 +0200 x"), vec!["13:00 +0200"]);
        assert_eq!(times("2:35 PM (UTC+04:00)"), vec!["2:35 PM (UTC+04:00)"]);
        let e = one("10:00 UTC-05:00 x");
        assert_eq!(e.zone.map(|z| z.offset_minutes), Some(-300));
        assert_eq!(one("2:00 PM CEST").zone.map(|z| z.offset_minutes), Some(120));
    }

    #[test]
    fn zone_after_emphasis_applies_without_joining_the_text() {
        let s = "Near **08:40** (CEST), we shipped";
        let e = one(s);
        assert_eq!(&s[e.start..e.end], "08:40");
        assert_eq!(e.zone.map(|z| z.offset_minutes), Some(120));
    }

    #[test]
    fn dates_attached() {
        let s = "- investigating Jul 04, 2023, 06:23 AM UTC";
        assert_eq!(times(s), vec!["Jul 04, 2023, 06:23 AM UTC"]);
        let e = one(s);
        assert_eq!(
            e.date,
            Some(DateParts { year: Some(2023), month: 7, day: 4, ambiguous_order: false, numeric: None })
        );
        assert_eq!(times("| 2020-11-04 13:13 | x |"), vec!["2020-11-04 13:13"]);
        assert_eq!(times("ISO 2024-02-04T19:52:00+03:00 end"), vec!["2024-02-04T19:52:00+03:00"]);
        assert_eq!(times("**Apr 9 21:42** - x"), vec!["Apr 9 21:42"]);
        assert_eq!(times("* Oct 12 ~ 4:10 PM: x"), vec!["Oct 12 ~ 4:10 PM"]);
        assert_eq!(times("On Oct 9th 2019 8:17AM PST, x"), vec!["Oct 9th 2019 8:17AM PST"]);
        assert_eq!(times("At 4:50PM on March 18th, x"), vec!["4:50PM on March 18th"]);
        assert_eq!(times("at 2:16 PM UTC on October 23rd, x"), vec!["2:16 PM UTC on October 23rd"]);
        assert_eq!(times("Tuesday, May 13th at 10:48 UTC until"), vec!["May 13th at 10:48 UTC"]);
        assert_eq!(times("- Sept 3, 2021, 6:05 AM (UTC): x"), vec!["Sept 3, 2021, 6:05 AM (UTC)"]);
    }

    #[test]
    fn ranges_give_two_expressions() {
        assert_eq!(times("between 9:00 AM and 11:30 AM EAT"), vec!["9:00 AM", "11:30 AM EAT"]);
        assert_eq!(times("1:20 UTC - 5:30 UTC"), vec!["1:20 UTC", "5:30 UTC"]);
        assert_eq!(times("12:22 to 13:00"), vec!["12:22", "13:00"]);
        assert_eq!(times("12:22-13:00"), vec!["12:22", "13:00"]);
    }

    #[test]
    fn non_times_rejected() {
        for s in [
            "version 2.14.0 shipped",
            "a 3:1 ratio",
            "score 3:2",
            "host 10.0.0.1:8080",
            "curl 0:80",
            "lasting 14m",
            "took 2 hours",
            "HTTP 500",
            "in 2023 we",
            "99:99",
            "25:61",
            "24:30",
            "lib.rs:42:57",
            "v1:20",
            "for 2:30 hours",
            "1.257.1",
            "0 AM",
            "13.5 PM",
            "ratio 16:9",
            "at 12:345",
        ] {
            assert!(times(s).is_empty(), "{s:?} gave {:?}", times(s));
        }
    }

    #[test]
    fn date_forms() {
        let d = |s: &str| parse_date(s).map(|d| (d.year, d.month, d.day));
        assert_eq!(d("Jul 04, 2023"), Some((Some(2023), 7, 4)));
        assert_eq!(d("Dec 1, 2022"), Some((Some(2022), 12, 1)));
        assert_eq!(d("16 th January 2024"), Some((Some(2024), 1, 16)));
        assert_eq!(d("June 6th, 2024"), Some((Some(2024), 6, 6)));
        assert_eq!(d("4 July 2023"), Some((Some(2023), 7, 4)));
        assert_eq!(d("2024-02-04"), Some((Some(2024), 2, 4)));
        assert_eq!(d("05.09.2022"), Some((Some(2022), 9, 5)));
        assert_eq!(d("the 7 th of October 2019"), Some((Some(2019), 10, 7)));
        assert_eq!(d("May the 9th, 2021"), Some((Some(2021), 5, 9)));
        assert_eq!(d("Sep 1-3"), Some((None, 9, 1)));
        assert_eq!(d("April 17th"), Some((None, 4, 17)));
        assert_eq!(d("31/02/2024"), None);
        assert_eq!(d("Feb 30, 2023"), None);
        assert_eq!(d("25/12/2023"), Some((Some(2023), 12, 25)));
        assert_eq!(d("25-12-2023"), Some((Some(2023), 12, 25)));
        assert_eq!(d("12-01-2026"), Some((Some(2026), 1, 12)));
        assert_eq!(d("03-15-2024"), Some((Some(2024), 3, 15)), "month-first when day-first is impossible");
        assert_eq!(d("31-02-2024"), None);
        assert_eq!(d("12-01/2026"), None, "mixed separators");
    }

    #[test]
    fn dashed_dates_are_day_first_and_flag_ambiguity() {
        let a = parse_date("11-01-2026").expect("date");
        assert_eq!((a.month, a.day), (1, 11));
        assert!(a.ambiguous_order);
        assert!(!parse_date("28-11-2025").expect("date").ambiguous_order);
    }

    #[test]
    fn one_unambiguous_date_settles_the_order_of_the_others() {
        // (month, day, still ambiguous) of every date in `s` once the order is settled.
        let settled = |s: &str| -> Vec<(u32, u32, bool)> {
            let mut e = scan_times(s);
            let d = scan_dates(s, &e);
            e.extend(d);
            e.sort_by_key(|x| x.start);
            settle_numeric_order(&mut e);
            e.iter().filter_map(|x| x.date).map(|d| (d.month, d.day, d.ambiguous_order)).collect()
        };
        assert_eq!(
            settled("- 27-02-2026 image switched\n- 06-05-2026 00:58 onset"),
            [(2, 27, false), (5, 6, false)]
        );
        // Slashes default to month-first, so a day-first proof flips them.
        assert_eq!(settled("On 25/12/2023 and at 02/04/2024 10:00"), [(12, 25, false), (4, 2, false)]);
        // No proof: the default reading stays flagged; proof for one separator leaves the other.
        assert_eq!(settled("02/04/2024 10:00 and 28-11-2025"), [(2, 4, true), (11, 28, false)]);
        // Proof both ways settles nothing.
        assert!(settled("25/12/2023, 12/25/2023 and 02/04/2024 10:00").iter().any(|d| d.2));
    }

    #[test]
    fn regression_dashed_date_before_a_clock_time_is_part_of_the_entry() {
        // The company-postmortem layout that broke it: `DD-MM-YYYY HH:MM UTC – event`.
        let s = "- 12-01-2026 09:52 UTC – Support tickets about failed logins start arriving";
        let e = one(s);
        assert_eq!(&s[e.start..e.end], "12-01-2026 09:52 UTC");
        let date = e.date.expect("date");
        assert_eq!((date.year, date.month, date.day), (Some(2026), 1, 12));
        let s = "- **06-05-2026 ~08:50** – On-call spots the gateway errors.";
        assert_eq!(&s[one(s).start..one(s).end], "06-05-2026 ~08:50");
    }

    #[test]
    fn slashed_dates_flag_ambiguity() {
        let a = parse_date("02/04/2024").expect("date");
        assert!(a.ambiguous_order);
        assert_eq!((a.month, a.day), (2, 4));
        assert!(!parse_date("03/03/2021").expect("date").ambiguous_order);
        assert!(!parse_date("25/12/2023").expect("date").ambiguous_order);
    }

    #[test]
    fn standalone_dates() {
        let s = "On June 6th, 2024, from 9:10 AM to 11:20 AM EAT, and 4 July 2023.";
        let t = scan_times(s);
        let d = scan_dates(s, &t);
        let texts: Vec<&str> = d.iter().map(|e| &s[e.start..e.end]).collect();
        assert_eq!(texts, vec!["June 6th, 2024", "4 July 2023"]);
        // US order with a day past 19 (`10/24/2023`) is a date too.
        let s = "Reported on 10/24/2023 by support.";
        let d = scan_dates(s, &[]);
        assert_eq!(d.len(), 1);
        let parts = d[0].date.expect("date");
        assert_eq!((parts.month, parts.day, parts.ambiguous_order), (10, 24, false));
        // "May" as a modal verb and month-year pairs are not dates.
        assert!(scan_dates("it may 5 times; in May 2024", &[]).is_empty());
    }

    #[test]
    fn non_ascii_text_keeps_byte_offsets_valid() {
        let s = "São Paulo — at 9:04 AM the alert fired";
        let e = one(s);
        assert_eq!(&s[e.start..e.end], "9:04 AM");
    }
}
