//! Normalisation: turning entries written as local clock readings into dated, zoned instants.
//!
//! Reports state the incident date and zone once (a dated title, `All times in CET`,
//! `Timeline (GMT+2)`) and then write bare clock times, often without AM/PM and
//! sometimes past midnight. This module owns the document-level context (incident date, zone
//! statements, date sanity warnings) and the per-block rules that apply it: AM/PM inference
//! from the narrative and from the sequence, day rollover, order checks, and formatting of
//! RFC 3339 timestamps.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::HashMap;

use super::expr::{apply_meridiem, zone_pattern, DateParts, Expr, Meridiem};
use super::layout::{Candidate, Layout};
use super::zones::{parse_zone, Zone};

/// Facts stated once for the whole report.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// First date written (outside deadlines), year filled in.
    pub incident_date: Option<NaiveDate>,
    /// Year of the first date that carries one; fills in dates written without a year.
    pub doc_year: Option<i32>,
    /// Zone statements (`All times are UTC`) with their byte position.
    pub zone_statements: Vec<(usize, Zone)>,
    /// The zone every zoned time in the report agrees on, if they all agree.
    pub consensus_zone: Option<Zone>,
    /// Dates written as short headings ("### March 4"), which date the list below them.
    pub date_headings: Vec<(usize, NaiveDate, bool)>,
    /// Warnings about dates and zones.
    pub warnings: Vec<String>,
}

/// An entry's position in time. `naive` uses a placeholder date when the real one is unknown,
/// so that entries of one block can still be ordered and subtracted.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Local date and time (placeholder date when unknown).
    pub naive: NaiveDateTime,
    /// False when `naive` carries a placeholder date.
    pub date_known: bool,
    /// Zone offset in minutes east of UTC, when known.
    pub offset: Option<i32>,
    /// Block of the entry; placeholder dates only compare within one block.
    pub block: usize,
}

impl Resolved {
    /// Seconds from `self` to `later`, when the two can be compared.
    pub fn seconds_until(&self, later: &Resolved) -> Option<i64> {
        let comparable = (self.date_known && later.date_known)
            || (!self.date_known && !later.date_known && self.block == later.block);
        if !comparable || self.offset.is_some() != later.offset.is_some() {
            return None;
        }
        let a = self.naive - Duration::minutes(i64::from(self.offset.unwrap_or(0)));
        let b = later.naive - Duration::minutes(i64::from(later.offset.unwrap_or(0)));
        Some((b - a).num_seconds())
    }
}

/// Normalised view of one candidate.
#[derive(Debug, Clone, Default)]
pub struct NormEntry {
    /// Formatted timestamp for the entry.
    pub timestamp: Option<String>,
    /// Instant used for ordering and metrics.
    pub resolved: Option<Resolved>,
    /// Zone applied to the entry.
    pub zone: Option<Zone>,
}

static ZONE_STATEMENT_RE: Lazy<Regex> = Lazy::new(|| {
    let z = zone_pattern();
    let p = format!(
        r"(?:(?i:\b(?:all[ \t]+)?(?:times?|timestamps?)\b)[ \t]*\(?[ \t]*(?:(?i:are|is|shown|listed|given|displayed|quoted|reported|written)[ \t]+)?(?:(?i:in|as)[ \t]+)?(?:(?i:local[ \t]+time)[ \t]*)?\(?(?P<z1>{z})|(?i:\blocal[ \t]+time)[ \t]*[|(]?[ \t]*(?P<z2>{z})|(?i:\btimeline)[ \t]*\([ \t]*(?:(?i:local[ \t]+time)[ \t]*)?(?P<z3>{z}))"
    );
    Regex::new(&p).unwrap_or_else(|e| panic!("zone statement pattern must compile: {e}"))
});

static NEXT_DAY_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^[^.\n]{0,25}?\b(?:the[ \t]+)?(?:following|next)[ \t]+(?:morning|day|night|evening|afternoon)\b")
        .unwrap_or_else(|e| panic!("next-day pattern must compile: {e}"))
});

const PLACEHOLDER_YEAR: i32 = 2000;
/// A drop in the clock of at least this much inside a list means the list crossed midnight.
const ROLLOVER_HOURS: i64 = 10;

fn placeholder_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(PLACEHOLDER_YEAR, 1, 1).unwrap_or_default()
}

fn push_unique(warnings: &mut Vec<String>, w: String) {
    if !warnings.contains(&w) && warnings.len() < 50 {
        warnings.push(w);
    }
}

/// Reads the document-level facts from every expression (times and standalone dates, sorted).
pub fn document_context(text: &str, exprs: &[Expr]) -> Context {
    let mut ctx =
        Context { doc_year: exprs.iter().find_map(|e| e.date.and_then(|d| d.year)), ..Context::default() };
    // The incident date is the first date written outside deadlines.
    let first = exprs.iter().filter(|e| e.date.is_some() && !is_deadline(text, e.start)).find_map(|e| {
        let d = e.date?;
        NaiveDate::from_ymd_opt(d.year.or(ctx.doc_year)?, d.month, d.day)
    });
    ctx.incident_date = first;

    for c in ZONE_STATEMENT_RE.captures_iter(text) {
        let m = c.name("z1").or_else(|| c.name("z2")).or_else(|| c.name("z3"));
        if let Some(m) = m {
            if let Some(z) = parse_zone(m.as_str()) {
                ctx.zone_statements.push((m.start(), z));
            }
        }
        if ctx.zone_statements.len() > 1000 {
            break;
        }
    }
    let mut zones = exprs.iter().filter_map(|e| e.zone.as_ref());
    if let Some(z0) = zones.next() {
        if zones.all(|z| z.offset_minutes == z0.offset_minutes) {
            ctx.consensus_zone = Some(z0.clone());
        }
    }

    for e in exprs.iter().filter(|e| e.clock.is_none()) {
        if let Some(d) = e.date {
            if is_short_line(text, e.start, e.end) {
                let (nd, known) = date_of(d, &ctx);
                ctx.date_headings.push((e.start, nd, known));
            }
        }
    }

    // Date sanity warnings.
    let mut seen = 0;
    // One ambiguity warning per calendar date, however many entries repeat it.
    let mut ambiguous_seen: Vec<(Option<i32>, u32, u32)> = Vec::new();
    for e in exprs {
        let Some(d) = e.date else { continue };
        let written = &text[e.start..e.end];
        let key = (d.year, d.month, d.day);
        if d.ambiguous_order && seen < 20 && !ambiguous_seen.contains(&key) {
            ambiguous_seen.push(key);
            seen += 1;
            push_unique(
                &mut ctx.warnings,
                format!(
                    "date '{}' is ambiguous (day/month order); read as {}",
                    date_text(text, e),
                    describe(d)
                ),
            );
        }
        if let (Some(inc), Some(y)) = (ctx.incident_date, d.year) {
            if let Some(nd) = NaiveDate::from_ymd_opt(y, d.month, d.day) {
                if (nd - inc).num_days().abs() > 31 && !is_deadline(text, e.start) && seen < 20 {
                    seen += 1;
                    push_unique(
                        &mut ctx.warnings,
                        format!(
                            "date '{}' in the body disagrees with the incident date {}",
                            date_text(text, e),
                            inc.format("%Y-%m-%d")
                        ),
                    );
                }
            }
        }
        let _ = written;
    }
    for z in exprs.iter().filter_map(|e| e.zone.as_ref()).chain(ctx.zone_statements.iter().map(|(_, z)| z)) {
        if let Some(note) = z.ambiguity {
            push_unique(&mut ctx.warnings, format!("time zone '{}' is ambiguous: read as {}", z.label, note));
        }
    }
    ctx
}

/// True when the expression sits on a short line of its own (a heading), judged within a
/// bounded window so the check stays O(1).
fn is_short_line(text: &str, start: usize, end: usize) -> bool {
    const WINDOW: usize = 80;
    let bytes = text.as_bytes();
    let lo = start.saturating_sub(WINDOW);
    let line_start = match bytes[lo..start].iter().rposition(|&b| b == b'\n') {
        Some(i) => lo + i + 1,
        None if lo == 0 => 0,
        None => return false,
    };
    let hi = (end + WINDOW).min(text.len());
    let line_end = match bytes[end..hi].iter().position(|&b| b == b'\n') {
        Some(i) => end + i,
        None if hi == text.len() => text.len(),
        None => return false,
    };
    let line = text.get(line_start..line_end).unwrap_or("");
    line.split_whitespace().count() <= 6 && !line.trim_end().ends_with(['.', ','])
}

fn date_text<'a>(text: &'a str, e: &Expr) -> &'a str {
    text.get(e.start..e.end).unwrap_or("")
}

fn describe(d: DateParts) -> String {
    let month = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    .get(d.month.saturating_sub(1) as usize)
    .copied()
    .unwrap_or("?");
    match d.year {
        Some(y) => format!("{month} {}, {y}", d.day),
        None => format!("{month} {}", d.day),
    }
}

/// Deadlines ("Due: Feb 28") are not the incident date.
fn is_deadline(text: &str, start: usize) -> bool {
    let mut lo = start.saturating_sub(16);
    while lo > 0 && !text.is_char_boundary(lo) {
        lo -= 1;
    }
    let before = text[lo..start].to_ascii_lowercase();
    ["due", "deadline", "target", "eta", "by end of"].iter().any(|w| before.contains(w))
}

fn date_of(d: DateParts, ctx: &Context) -> (NaiveDate, bool) {
    let year = d.year.or(ctx.doc_year);
    match year.and_then(|y| NaiveDate::from_ymd_opt(y, d.month, d.day)) {
        Some(nd) => (nd, true),
        None => {
            (NaiveDate::from_ymd_opt(PLACEHOLDER_YEAR, d.month, d.day).unwrap_or(placeholder_date()), false)
        }
    }
}

/// Zone for a prose time written without one: the zone every zoned time in the report uses,
/// else the nearest statement. Prose states zones for asides ("screenshots are in UTC+2"), so
/// the writer's own habit wins there.
fn prose_zone(ctx: &Context, pos: usize) -> Option<Zone> {
    ctx.consensus_zone.clone().or_else(|| statement_zone(ctx, pos))
}

fn statement_zone(ctx: &Context, pos: usize) -> Option<Zone> {
    // Statements are in text order: binary search keeps this O(log n) per entry.
    let before = ctx.zone_statements.partition_point(|(p, _)| *p < pos);
    before
        .checked_sub(1)
        .and_then(|i| ctx.zone_statements.get(i))
        .or_else(|| ctx.zone_statements.first())
        .map(|(_, z)| z.clone())
        .or_else(|| ctx.consensus_zone.clone())
}

/// Formats a resolved instant as the contract asks: offset when known, local otherwise,
/// nothing without a real date.
pub fn format_timestamp(r: &Resolved) -> Option<String> {
    if !r.date_known {
        return None;
    }
    let base = r.naive.format("%Y-%m-%dT%H:%M:%S").to_string();
    Some(match r.offset {
        Some(o) => format!("{base}{}", super::zones::format_offset(o)),
        None => base,
    })
}

/// Resolves every candidate. `exprs` holds all expressions sorted by start; candidates are in
/// report order. Returns one [`NormEntry`] per candidate plus warnings.
pub fn resolve(
    text: &str,
    exprs: &[Expr],
    cands: &[Candidate],
    structured: bool,
    ctx: &Context,
) -> (Vec<NormEntry>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut out = vec![NormEntry::default(); cands.len()];
    if structured {
        let narrative = narrative_meridiems(exprs, cands);
        let env = BlockEnv { text, exprs, ctx, narrative: &narrative };
        let mut i = 0;
        let mut prev_end = 0;
        while i < cands.len() {
            let mut j = i + 1;
            while j < cands.len() && cands[j].block == cands[i].block {
                j += 1;
            }
            // A date heading between the previous block and this one dates this block.
            let first = exprs[cands[i].expr].start;
            let k = ctx.date_headings.partition_point(|(p, _, _)| *p < first);
            let base = k
                .checked_sub(1)
                .and_then(|k| ctx.date_headings.get(k))
                .filter(|(p, _, _)| *p >= prev_end)
                .map(|(_, d, known)| (*d, *known))
                .or(ctx.incident_date.map(|d| (d, true)));
            resolve_block(&env, &cands[i..j], &mut out[i..j], base, &mut warnings);
            prev_end = exprs[cands[j - 1].expr].end;
            i = j;
        }
    } else {
        resolve_prose(text, exprs, cands, &mut out, ctx);
    }
    for e in out.iter_mut() {
        e.timestamp = e.resolved.as_ref().and_then(format_timestamp);
    }
    let dated = out.iter().filter(|e| e.resolved.is_some()).count();
    if dated > 0 && out.iter().all(|e| e.timestamp.is_none()) {
        push_unique(&mut warnings, "no incident date found; timeline timestamps are left empty".to_string());
    }
    let undated_known = out.iter().filter(|e| e.timestamp.is_some() && e.zone.is_none()).count();
    if undated_known > 0 {
        push_unique(
            &mut warnings,
            "no time zone found; timestamps are local times without an offset".to_string(),
        );
    }
    (out, warnings)
}

/// AM/PM written next to times outside the timeline: (hour as written, minute) → reading.
fn narrative_meridiems(exprs: &[Expr], cands: &[Candidate]) -> HashMap<(u32, u32), Option<Meridiem>> {
    let mut in_cand = vec![false; exprs.len()];
    for c in cands {
        if let Some(x) = in_cand.get_mut(c.expr) {
            *x = true;
        }
    }
    let mut map: HashMap<(u32, u32), Option<Meridiem>> = HashMap::new();
    for (i, e) in exprs.iter().enumerate() {
        if in_cand[i] {
            continue;
        }
        let Some(c) = e.clock else { continue };
        let Some(m) = c.meridiem else { continue };
        if c.hour > 12 {
            continue;
        }
        map.entry((c.hour, c.minute))
            .and_modify(|v| {
                if *v != Some(m) {
                    *v = None;
                }
            })
            .or_insert(Some(m));
    }
    map
}

fn meridiem_word(m: Meridiem) -> &'static str {
    match m {
        Meridiem::Am => "AM",
        Meridiem::Pm => "PM",
    }
}

/// What every block of one report shares while being resolved.
struct BlockEnv<'a> {
    text: &'a str,
    exprs: &'a [Expr],
    ctx: &'a Context,
    narrative: &'a HashMap<(u32, u32), Option<Meridiem>>,
}

fn resolve_block(
    env: &BlockEnv,
    cands: &[Candidate],
    out: &mut [NormEntry],
    base: Option<(NaiveDate, bool)>,
    warnings: &mut Vec<String>,
) {
    let (text, exprs, ctx, narrative) = (env.text, env.exprs, env.ctx, env.narrative);
    let clocks: Vec<_> = cands.iter().map(|c| exprs[c.expr].clock).collect();
    // UTC/GMT times are conventionally written on a 24-hour clock.
    let utc_written = cands.iter().any(|c| {
        exprs[c.expr]
            .zone
            .as_ref()
            .is_some_and(|z| z.label.starts_with("UTC") || z.label.starts_with("GMT") || z.label == "Z")
    });
    let has_24h = utc_written
        || clocks
            .iter()
            .flatten()
            .any(|c| c.meridiem.is_none() && (c.hour >= 13 || c.hour == 0 || c.leading_zero));
    let written_mer = clocks.iter().flatten().any(|c| c.meridiem.is_some());

    // Step 1: AM/PM from the writing, then from the narrative.
    let mut hours: Vec<Option<u32>> = Vec::with_capacity(cands.len());
    let mut unresolved: Vec<bool> = Vec::with_capacity(cands.len());
    let mut inferred_any = false;
    for c in clocks.iter() {
        match c {
            None => {
                hours.push(None);
                unresolved.push(false);
            }
            Some(c) if c.meridiem.is_some() || has_24h || c.hour == 0 || c.hour > 12 => {
                hours.push(Some(c.hour24()));
                unresolved.push(false);
            }
            Some(c) => match narrative.get(&(c.hour, c.minute)).copied().flatten() {
                Some(m) => {
                    hours.push(Some(apply_meridiem(c.hour, m)));
                    unresolved.push(false);
                    inferred_any = true;
                }
                None => {
                    hours.push(Some(c.hour));
                    unresolved.push(true);
                }
            },
        }
    }
    let twelve_hour_evidence = written_mer || inferred_any;
    if !twelve_hour_evidence && !has_24h && unresolved.iter().filter(|u| **u).count() >= 2 {
        push_unique(
            warnings,
            "timeline times have no AM/PM; read as a 24-hour clock where the order allows".to_string(),
        );
    }

    // Step 2: walk the block in order, fixing dates, the remaining AM/PM and rollover.
    let (mut cur_date, mut date_known) = base.unwrap_or((placeholder_date(), false));
    let mut prev: Option<NaiveDateTime> = None;
    let mut prev_zone: Option<Zone> = None;
    let block = cands.first().map(|c| c.block).unwrap_or(0);
    for (k, c) in cands.iter().enumerate() {
        let e = &exprs[c.expr];
        let written = &text[e.start..e.end];
        let explicit_date = e.date.map(|d| date_of(d, ctx));
        if let Some((d, known)) = explicit_date {
            cur_date = d;
            date_known = known;
        }
        let zone = e.zone.clone().or_else(|| prev_zone.clone()).or_else(|| statement_zone(ctx, e.start));
        prev_zone = zone.clone();
        out[k].zone = zone.clone();
        let Some(mut hour) = hours[k] else {
            continue;
        };
        let Some(clock) = e.clock else { continue };
        if unresolved[k] {
            let plain = hour;
            let alt = if plain == 12 { 0 } else { plain + 12 };
            let minute = clock.minute;
            let at = |h: u32| cur_date.and_hms_opt(h, minute, clock.second);
            let choice = match prev {
                None => plain,
                Some(p) => {
                    let fits = |h: u32| at(h).is_some_and(|t| t >= p);
                    let gap = |h: u32| at(h).map(|t| (t - p).num_minutes()).unwrap_or(i64::MAX);
                    if twelve_hour_evidence {
                        match (fits(plain), fits(alt)) {
                            (true, true) => {
                                if gap(plain) <= gap(alt) {
                                    plain
                                } else {
                                    alt
                                }
                            }
                            (false, true) => alt,
                            _ => plain,
                        }
                    } else if fits(plain) {
                        plain
                    } else if fits(alt) {
                        alt
                    } else {
                        plain
                    }
                }
            };
            if twelve_hour_evidence || choice != plain {
                let m = if choice >= 12 { Meridiem::Pm } else { Meridiem::Am };
                push_unique(
                    warnings,
                    format!(
                        "AM/PM of timeline entry '{written}' was guessed as {} from the surrounding entries",
                        meridiem_word(m)
                    ),
                );
            }
            hour = choice;
        }
        let Some(t) = NaiveTime::from_hms_opt(hour, clock.minute, clock.second) else {
            continue;
        };
        let mut dt = cur_date.and_time(t);
        if let Some(p) = prev {
            if dt < p {
                let drop = p - dt;
                if explicit_date.is_none() && drop >= Duration::hours(ROLLOVER_HOURS) {
                    cur_date = cur_date.succ_opt().unwrap_or(cur_date);
                    dt = cur_date.and_time(t);
                } else if c.layout != Layout::Status {
                    push_unique(
                        warnings,
                        format!("timeline entry '{written}' is earlier than the entry before it"),
                    );
                }
            }
        }
        prev = Some(dt);
        out[k].resolved =
            Some(Resolved { naive: dt, date_known, offset: zone.as_ref().map(|z| z.offset_minutes), block });
    }
}

fn resolve_prose(text: &str, exprs: &[Expr], cands: &[Candidate], out: &mut [NormEntry], ctx: &Context) {
    // Walk all expressions in order so each time inherits the last date written before it.
    let mut last_date: Option<(NaiveDate, bool)> = None;
    let mut ei = 0;
    for (k, c) in cands.iter().enumerate() {
        while ei < c.expr && ei < exprs.len() {
            if let Some(d) = exprs[ei].date {
                last_date = Some(date_of(d, ctx));
            }
            ei += 1;
        }
        let e = &exprs[c.expr];
        let Some(clock) = e.clock else { continue };
        let (mut date, known) = match e.date {
            Some(d) => date_of(d, ctx),
            None => last_date.or(ctx.incident_date.map(|d| (d, true))).unwrap_or((placeholder_date(), false)),
        };
        if e.date.is_some() {
            last_date = Some((date, known));
        } else if NEXT_DAY_RE.is_match(text.get(e.end..).unwrap_or("")) {
            date = date.succ_opt().unwrap_or(date);
        }
        let zone = e.zone.clone().or_else(|| prose_zone(ctx, e.start));
        out[k].zone = zone.clone();
        let Some(t) = NaiveTime::from_hms_opt(clock.hour24(), clock.minute, clock.second) else {
            continue;
        };
        out[k].resolved = Some(Resolved {
            naive: date.and_time(t),
            date_known: known,
            offset: zone.as_ref().map(|z| z.offset_minutes),
            block: c.block,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::expr::{scan_dates, scan_times};
    use crate::timeline::layout::find_candidates;

    type Normalised = (Vec<(String, Option<String>)>, Vec<String>, Context);

    fn norm(text: &str) -> Normalised {
        let times = scan_times(text);
        let dates = scan_dates(text, &times);
        let mut all = times;
        all.extend(dates);
        all.sort_by_key(|e| e.start);
        let ctx = document_context(text, &all);
        let lay = find_candidates(text, &all);
        let (n, w) = resolve(text, &all, &lay.candidates, lay.structured, &ctx);
        let v = lay
            .candidates
            .iter()
            .zip(n)
            .map(|(c, n)| (text[all[c.expr].start..all[c.expr].end].to_string(), n.timestamp))
            .collect();
        let mut warns = ctx.warnings.clone();
        warns.extend(w);
        (v, warns, ctx)
    }

    fn ts(text: &str) -> Vec<Option<String>> {
        norm(text).0.into_iter().map(|x| x.1).collect()
    }

    #[test]
    fn date_and_zone_statement_give_offsets() {
        let t = "Outage on Nov 3, 2021\n\nTimeline (local time GMT+4)\n6:35 AM: flag flipped\n8:12 AM: errors begin\n";
        assert_eq!(
            ts(t),
            vec![Some("2021-11-03T06:35:00+04:00".into()), Some("2021-11-03T08:12:00+04:00".into())]
        );
    }

    #[test]
    fn all_times_in_statements() {
        for (stmt, off) in [
            ("All times in CET.", "+01:00"),
            ("times are UTC", "+00:00"),
            ("All times in EST", "-05:00"),
            ("Time (GMT + 1)", "+01:00"),
            ("## Timeline (CEST)", "+02:00"),
            ("Timeline (times in GMT)", "+00:00"),
        ] {
            let t = format!("Report dated 4 July 2023.\n{stmt}\n- 10:00: a\n- 10:05: b\n");
            let v = ts(&t);
            assert_eq!(v[0], Some(format!("2023-07-04T10:00:00{off}")), "{stmt}");
        }
    }

    #[test]
    fn explicit_zone_beats_statement() {
        let t = "June 6th, 2024. Times are UTC.\n- 8:20 AM EAT: a\n- 8:25 AM EAT: b\n";
        assert_eq!(ts(t)[0], Some("2024-06-06T08:20:00+03:00".into()));
    }

    #[test]
    fn date_only_gives_local_time() {
        let t = "Report for 2024-02-04\n- 7:52: a\n- 8:04: b\n";
        assert_eq!(ts(t)[0], Some("2024-02-04T07:52:00".into()));
    }

    #[test]
    fn no_date_gives_null() {
        let t = "- 7:52 UTC: a\n- 8:04 UTC: b\n";
        assert_eq!(ts(t), vec![None, None]);
    }

    #[test]
    fn iso_and_zone_combinations() {
        let cases = [
            ("2024-02-04T19:52:00+03:00", "2024-02-04T19:52:00+03:00"),
            ("2020-11-04 13:13", "2020-11-04T13:13:00"),
            ("2024-02-04 14:05:33Z", "2024-02-04T14:05:33+00:00"),
            ("Jul 04, 2023, 06:23 AM UTC", "2023-07-04T06:23:00+00:00"),
            ("Jan 5, 2024, 8:04 p.m. PST", "2024-01-05T20:04:00-08:00"),
            ("16 th January 2024 11:40AM GMT + 1", "2024-01-16T11:40:00+01:00"),
            ("June 6th, 2024, 8:20 AM EAT", "2024-06-06T08:20:00+03:00"),
            ("4 July 2023 1:20 UTC-05:00", "2023-07-04T01:20:00-05:00"),
            ("2023-03-01 13:00 +0200", "2023-03-01T13:00:00+02:00"),
            ("March 3, 2023 11:00 CEST", "2023-03-03T11:00:00+02:00"),
            ("March 3, 2023 11:00 JST", "2023-03-03T11:00:00+09:00"),
        ];
        for (written, want) in cases {
            let t = format!("- {written}: a\n- {written}: b\n");
            assert_eq!(ts(&t)[0], Some(want.to_string()), "{written}");
        }
    }

    #[test]
    fn rollover_past_midnight() {
        let t =
            "Date: May 7, 2025\n- 11:20 PM UTC: cause found\n- 1:40 AM: escalated\n- 3:05 AM: all clear\n";
        assert_eq!(
            ts(t),
            vec![
                Some("2025-05-07T23:20:00+00:00".into()),
                Some("2025-05-08T01:40:00+00:00".into()),
                Some("2025-05-08T03:05:00+00:00".into())
            ]
        );
        let t24 = "On 2023-05-01 (all times UTC)\n- 23:10: a\n- 00:20: b\n";
        assert_eq!(ts(t24)[1], Some("2023-05-02T00:20:00+00:00".into()));
    }

    #[test]
    fn small_backwards_step_is_a_warning_not_a_rollover() {
        let t = "Nov 3, 2021 (local time GMT+4)\n6:35 AM: flag flipped\n8:12 AM: errors begin\n12:07 AM: alert fired\n3:20 PM: rollback\n";
        let (v, w, _) = norm(t);
        assert_eq!(v[2].1, Some("2021-11-03T00:07:00+04:00".into()));
        assert!(
            w.contains(&"timeline entry '12:07 AM' is earlier than the entry before it".to_string()),
            "{w:?}"
        );
        assert_eq!(v[3].1, Some("2021-11-03T15:20:00+04:00".into()));
    }

    #[test]
    fn ampm_inferred_from_narrative() {
        let t = "On March 4th, 2024 at 7:10 p.m. logins failed.\n### Timeline:\n- 6:48 : flag flipped\n- 7:10 : errors\n- 7:33: revert failed\n- 8:02 : revert\n- 8:45 : healthy\n### Cause\nAt 6:48 p.m. a flag flipped; by 8:45 p.m. all was well.\n";
        let (v, w, _) = norm(t);
        let got: Vec<String> = v.iter().map(|x| x.1.clone().unwrap_or_default()).collect();
        assert_eq!(
            got,
            vec![
                "2024-03-04T18:48:00",
                "2024-03-04T19:10:00",
                "2024-03-04T19:33:00",
                "2024-03-04T20:02:00",
                "2024-03-04T20:45:00"
            ]
        );
        assert!(w.iter().any(|x| x.contains("'7:33' was guessed as PM")), "{w:?}");
        assert!(!w.iter().any(|x| x.contains("'6:48'")), "{w:?}");
    }

    #[test]
    fn twelve_hour_list_without_ampm_crosses_noon() {
        let t = "Incident on 2024-01-10.\n- 10:30: a\n- 11:45: b\n- 1:15: c\n";
        let (v, w, _) = norm(t);
        assert_eq!(v[2].1, Some("2024-01-10T13:15:00".into()));
        assert!(w.iter().any(|x| x.contains("'1:15' was guessed as PM")));
    }

    #[test]
    fn twenty_four_hour_lists_are_left_alone() {
        let t = "2024-01-10, all times UTC\n- 08:14: a\n- 12:51: b\n- 13:22: c\n";
        let (v, w, _) = norm(t);
        assert_eq!(v[0].1, Some("2024-01-10T08:14:00+00:00".into()));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn explicit_dates_carry_forward() {
        let t = "Downtime of April 11th, 2022\nTimeline (times are UTC)\n- *April 11th, 10:41* stopped\n- *April 13th, 05:15* checked\n- 06:00 more\n";
        let v = ts(t);
        assert_eq!(v[0], Some("2022-04-11T10:41:00+00:00".into()));
        assert_eq!(v[2], Some("2022-04-13T06:00:00+00:00".into()));
    }

    #[test]
    fn date_headings_date_the_list_below() {
        let t = "# Outage of March 3, 2024\n\n### March 3\n- 23:40 UTC: deploy\n- 23:55 UTC: errors\n\n### March 4\n- 00:10 UTC: rollback\n- 01:00 UTC: resolved\n";
        let v = ts(t);
        assert_eq!(v[0], Some("2024-03-03T23:40:00+00:00".into()));
        assert_eq!(v[2], Some("2024-03-04T00:10:00+00:00".into()));
        assert_eq!(v[3], Some("2024-03-04T01:00:00+00:00".into()));
    }

    #[test]
    fn prose_dates_and_next_morning() {
        let t = "# Intrusion on June 14th, 2023\nAt 3:05 AM UTC on June 14th, images were pushed. At 2:50 PM UTC on June 13th, they probed keys. Hours later, at 3:05 AM UTC next morning, they acted.";
        let (v, _, _) = norm(t);
        assert_eq!(v[0].1, Some("2023-06-14T03:05:00+00:00".into()));
        assert_eq!(v[1].1, Some("2023-06-13T14:50:00+00:00".into()));
        assert_eq!(v[2].1, Some("2023-06-14T03:05:00+00:00".into()));
    }

    #[test]
    fn disagreeing_and_ambiguous_dates_warn() {
        let t = "Outage on 02/04/2024.\nThis happened on the 7 th of October 2019.\n";
        let (_, w, ctx) = norm(t);
        assert_eq!(ctx.incident_date, NaiveDate::from_ymd_opt(2024, 2, 4));
        assert!(w.iter().any(|x| x.contains("ambiguous (day/month order)")), "{w:?}");
        assert!(w.iter().any(|x| x.contains("disagrees with the incident date 2024-02-04")), "{w:?}");
    }

    #[test]
    fn deadlines_do_not_disagree() {
        let t = "Outage on March 2, 2026.\n- Fix cron (Due: April 20, 2026)\n";
        let (_, w, _) = norm(t);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn ambiguous_zone_warns() {
        let t = "On 2024-03-01\n- 10:00 IST: a\n- 10:05 IST: b\n";
        let (v, w, _) = norm(t);
        assert_eq!(v[0].1, Some("2024-03-01T10:00:00+05:30".into()));
        assert!(w.iter().any(|x| x.contains("'IST' is ambiguous")));
    }

    #[test]
    fn year_filled_from_other_dates() {
        let t = "Between October 5 and October 9, 2026 we had lag.\n- October 6, 9:12 PM UTC: cause found\n- October 8, 2:41 PM UTC: healthy\n";
        let (v, _, ctx) = norm(t);
        assert_eq!(ctx.incident_date, NaiveDate::from_ymd_opt(2026, 10, 5));
        assert_eq!(v[0].1, Some("2026-10-06T21:12:00+00:00".into()));
    }

    #[test]
    fn seconds_between_resolved() {
        let a = Resolved {
            naive: NaiveDate::from_ymd_opt(2024, 1, 1)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default(),
            date_known: true,
            offset: Some(60),
            block: 0,
        };
        let b = Resolved {
            naive: NaiveDate::from_ymd_opt(2024, 1, 1)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default(),
            date_known: true,
            offset: Some(0),
            block: 1,
        };
        assert_eq!(a.seconds_until(&b), Some(3600));
        let c = Resolved { offset: None, ..b.clone() };
        assert_eq!(a.seconds_until(&c), None);
    }
}
