//! Layouts: deciding which time expressions are timeline entries and what event each names.
//!
//! Reports lay out timelines as bullet lists, `TIME - event` / `TIME: event` lines, markdown
//! and tab-separated tables, status-page update series, inline bullet lists inside a
//! paragraph, or plain prose. This module recognises those layouts line by line (one pass over
//! the lines, one pointer over the sorted expressions, so it stays linear), groups entries
//! into blocks (one list, one table, one inline list), and chooses between two modes:
//!
//! * **structured**: when at least two timed entries sit in a list/table/status layout, only
//!   those are entries; times mentioned in the surrounding prose are narrative (used for
//!   AM/PM inference, never emitted), because reports restate their timeline in prose.
//! * **prose**: otherwise every clock time outside code and metadata lines
//!   (`Duration: ...`, `Start time: ...`) is an entry whose event is its sentence.

use once_cell::sync::Lazy;
use regex::Regex;

use super::expr::Expr;

/// How an entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Bullet list or `TIME - event` / `TIME: event` lines.
    List,
    /// Markdown or tab-separated table row.
    Table,
    /// Status-page update (`resolved Mar 02, 2023, 05:41 AM UTC`).
    Status,
    /// Inline bullet list inside a paragraph.
    Inline,
    /// A time mentioned in running text.
    Prose,
}

impl Layout {
    /// Layouts that may continue one another inside a block.
    fn class(self) -> u8 {
        match self {
            Layout::List | Layout::Table | Layout::Status => 0,
            Layout::Inline => 1,
            Layout::Prose => 2,
        }
    }
}

/// A timeline entry before normalisation.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index into the expression list passed to [`find_candidates`].
    pub expr: usize,
    /// What happened, as written (cleaned of markup).
    pub event: String,
    /// How the entry was written.
    pub layout: Layout,
    /// Line index of the time expression.
    pub line: usize,
    /// Last line whose text went into the event.
    pub last_line: usize,
    /// Status word for status-page updates (lower case).
    pub status: Option<String>,
    /// Entries of one list/table/inline list share a block id.
    pub block: usize,
}

/// Result of layout analysis.
#[derive(Debug, Clone, Default)]
pub struct LayoutResult {
    /// Entries in report order.
    pub candidates: Vec<Candidate>,
    /// True when a list/table/status timeline was found (prose times are narrative only).
    pub structured: bool,
}

#[derive(Debug, Clone)]
struct Line {
    start: usize,
    end: usize,
    /// Byte position after bullets, table pipes, heading marks and emphasis.
    content: usize,
    bullet: bool,
    table: bool,
    heading: bool,
    emphasis: bool,
    code: bool,
    blank: bool,
    /// Images, HTML tags and fence lines: never count as text between entries.
    decoration: bool,
    /// A short line without sentence punctuation ("Timeline", "Root Cause"): a plain-text
    /// heading.
    title: bool,
}

const STATUS_WORDS: &[&str] = &[
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "update",
    "updated",
    "postmortem",
    "post-mortem",
    "scheduled",
    "completed",
    "verifying",
    "mitigated",
    "recovering",
];

/// Words that may precede the time of a list item ("- At 14:02 UTC, errors began").
const LEAD_INS: &[&str] = &[
    "at",
    "by",
    "around",
    "about",
    "approx.",
    "approximately",
    "~",
    "circa",
    "@",
    "at around",
    "at about",
    "at approximately",
];

/// `Label: value` lines that state the incident window rather than an event.
static METADATA_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^(?:duration|start(?:ed)?(?:[ _-]?(?:time|date))?|end(?:ed)?(?:[ _-]?(?:time|date))?|date|time[ _-]?window|(?:outage|incident|impact)[ _-]?(?:window|period|duration|start|end)|period|detected at|resolved at|window)\b[^:\n]{0,50}:")
        .unwrap_or_else(|e| panic!("metadata pattern must compile: {e}"))
});

static MD_LINK_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"!?\[([^\]\n]{0,300})\]\([^)\n]{0,500}\)")
        .unwrap_or_else(|e| panic!("link pattern must compile: {e}"))
});

static HTML_TAG_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"<[A-Za-z/][^<>\n]{0,500}>").unwrap_or_else(|e| panic!("tag pattern must compile: {e}"))
});

static INLINE_LABEL_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"[ \t](?:[A-Z][A-Za-z-]*[ \t])?[A-Z][A-Za-z-]*:[ \t]")
        .unwrap_or_else(|e| panic!("inline label pattern must compile: {e}"))
});

const MAX_EVENT_CHARS: usize = 400;
const SENTENCE_WINDOW: usize = 400;

fn build_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut in_code = false;
    let mut start = 0;
    let bytes = text.as_bytes();
    while start <= text.len() {
        let nl = memchr_newline(bytes, start);
        let mut end = nl.unwrap_or(text.len());
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let raw = &text[start..end];
        let trimmed = raw.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        let code = in_code || fence;
        if fence {
            in_code = !in_code;
        }
        let mut line = Line {
            start,
            end,
            content: end,
            bullet: false,
            table: false,
            heading: false,
            emphasis: false,
            code,
            blank: trimmed.is_empty(),
            title: false,
            decoration: fence
                || trimmed.starts_with("<img")
                || trimmed.starts_with("![")
                || (trimmed.starts_with('<') && trimmed.ends_with('>'))
                || trimmed.starts_with("|-")
                || trimmed.starts_with("| -")
                || trimmed.starts_with("|:"),
        };
        strip_markers(text, &mut line);
        line.title = !line.blank && !code && is_title(&text[line.content..line.end]);
        lines.push(line);
        match nl {
            Some(i) => start = i + 1,
            None => break,
        }
    }
    lines
}

fn is_title(s: &str) -> bool {
    let s = s.trim().trim_end_matches([':', '*', '#']);
    let words = s.split_whitespace().count();
    (1..=5).contains(&words)
        && s.chars().next().is_some_and(|c| c.is_uppercase())
        && !s.contains(['.', ',', ';', '!', '?'])
        && !s.chars().any(|c| c.is_ascii_digit())
}

fn memchr_newline(bytes: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..).and_then(|s| s.iter().position(|&b| b == b'\n')).map(|p| p + from)
}

/// Moves `line.content` past leading bullets, numbering, quote marks, table pipes, heading
/// marks and emphasis, remembering which were seen.
fn strip_markers(text: &str, line: &mut Line) {
    let s = &text[line.start..line.end];
    let b = s.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
            *i += 1;
        }
    };
    // A bounded number of rounds: markers nest ("> - **"), but never deeply.
    for _ in 0..6 {
        skip_ws(&mut i);
        let rest = &s[i..];
        if rest.starts_with('>') {
            i += 1;
        } else if rest.starts_with('|') {
            line.table = true;
            i += 1;
        } else if rest.starts_with('#') {
            line.heading = true;
            i += rest.len() - rest.trim_start_matches('#').len();
        } else if let Some(n) = bullet_len(rest) {
            line.bullet = true;
            i += n;
        } else if rest.starts_with("**") || rest.starts_with("__") {
            line.emphasis = true;
            i += 2;
        } else if rest.starts_with(['*', '_', '`'])
            || (rest.starts_with('[') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            // "[14:02] alert fired" brackets a time like emphasis does.
            line.emphasis = true;
            i += 1;
        } else {
            break;
        }
    }
    skip_ws(&mut i);
    line.content = line.start + i;
}

/// Length of a bullet marker at the start of `s` (including the space after it).
fn bullet_len(s: &str) -> Option<usize> {
    for m in ["- ", "* ", "+ ", "• ", "– ", "— ", "-\t", "*\t", "[ ] ", "[x] "] {
        if s.starts_with(m) {
            return Some(m.len());
        }
    }
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if (1..=3).contains(&digits) {
        let after = &s[digits..];
        if after.starts_with(". ") || after.starts_with(") ") {
            return Some(digits + 2);
        }
    }
    None
}

/// Cleans event text: markdown links to their text, tags and emphasis removed, whitespace
/// collapsed, bounded length.
pub fn clean_event(s: &str) -> String {
    let s = MD_LINK_RE.replace_all(s, "$1");
    let s = HTML_TAG_RE.replace_all(&s, " ");
    let mut out = String::with_capacity(s.len().min(MAX_EVENT_CHARS * 4));
    let mut last_space = true;
    let mut count = 0;
    for c in s.chars() {
        let c = if matches!(c, '*' | '`' | '|') { ' ' } else { c };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                count += 1;
            }
            last_space = true;
        } else {
            out.push(c);
            count += 1;
            last_space = false;
        }
        if count >= MAX_EVENT_CHARS {
            break;
        }
    }
    out.trim()
        .trim_start_matches([':', '-', '–', '—', '>', '=', ',', ';', '_', ' '])
        .trim_end_matches(['_', ' '])
        .trim()
        .to_string()
}

fn is_sep_char(c: char) -> bool {
    matches!(c, ':' | '-' | '–' | '—' | '|' | '>' | '=' | '\t')
}

fn is_closer(c: char) -> bool {
    matches!(c, '*' | '_' | '`' | ')' | ']')
}

/// Skips emphasis closers and spaces; returns the new position.
fn skip_closers(s: &str, mut i: usize, end: usize) -> usize {
    while i < end {
        let Some(c) = s[i..end].chars().next() else {
            break;
        };
        if is_closer(c) || c == ' ' {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    i
}

/// Finds timeline candidates in `text` given every expression (times and standalone dates),
/// sorted by start offset.
pub fn find_candidates(text: &str, exprs: &[Expr]) -> LayoutResult {
    let lines = build_lines(text);
    let mut cands: Vec<Candidate> = Vec::new();
    let mut cand_line = vec![false; lines.len()];
    let mut in_candidate = vec![false; exprs.len()];
    // Index of the first expression of each line.
    let mut first_expr = vec![usize::MAX; lines.len()];
    let mut line_of_expr = vec![0usize; exprs.len()];
    {
        let mut ei = 0;
        for (li, l) in lines.iter().enumerate() {
            while ei < exprs.len() && exprs[ei].start < l.start {
                ei += 1;
            }
            if ei < exprs.len() && exprs[ei].start <= l.end {
                first_expr[li] = ei;
            }
            let mut j = ei;
            while j < exprs.len() && exprs[j].start <= l.end {
                line_of_expr[j] = li;
                j += 1;
            }
            ei = j;
        }
    }

    for li in 0..lines.len() {
        let l = &lines[li];
        if l.code || l.blank || first_expr[li] == usize::MAX {
            continue;
        }
        if let Some(c) = line_candidate(text, &lines, li, exprs, first_expr[li]) {
            cand_line[li] = true;
            in_candidate[c.expr] = true;
            // The end of a range on the same line belongs to this entry.
            let mut j = c.expr + 1;
            while j < exprs.len() && line_of_expr[j] == li {
                if exprs[j].start <= exprs[c.expr].end + 40 {
                    in_candidate[j] = true;
                }
                j += 1;
            }
            cands.push(c);
        }
    }

    // Inline bullet lists inside paragraphs.
    for li in 0..lines.len() {
        let l = &lines[li];
        if l.code || l.blank || first_expr[li] == usize::MAX || cand_line[li] {
            continue;
        }
        let mut found = Vec::new();
        let mut j = first_expr[li];
        while j < exprs.len() && exprs[j].start <= l.end {
            if exprs[j].clock.is_some() && is_inline_item(text, l.start, &exprs[j]) {
                found.push(j);
            }
            j += 1;
        }
        if found.len() < 2 {
            continue;
        }
        for (k, &ei) in found.iter().enumerate() {
            let e = &exprs[ei];
            let mut pos = e.end;
            let s = &text[..l.end];
            pos = skip_closers(s, pos, l.end);
            if let Some(c) = s[pos..].chars().next() {
                if c == ':' || c == '-' || c == '–' {
                    pos += c.len_utf8();
                }
            }
            let stop = match found.get(k + 1) {
                Some(&next) => inline_marker_start(text, l.start, &exprs[next]),
                None => inline_tail_end(text, pos, l.end),
            };
            let event = clean_event(text.get(pos..stop.max(pos)).unwrap_or(""));
            in_candidate[ei] = true;
            cands.push(Candidate {
                expr: ei,
                event,
                layout: Layout::Inline,
                line: li,
                last_line: li,
                status: None,
                block: 0,
            });
        }
    }
    cands.sort_by_key(|c| exprs[c.expr].start);

    let timed = cands.iter().filter(|c| exprs[c.expr].clock.is_some()).count();
    if timed >= 2 {
        assign_blocks(&lines, &mut cands);
        return LayoutResult { candidates: cands, structured: true };
    }

    // Prose mode: every clock time outside code and metadata lines.
    cands.retain(|c| exprs[c.expr].clock.is_some());
    let mut metadata: Vec<Option<bool>> = vec![None; lines.len()];
    for (ei, e) in exprs.iter().enumerate() {
        if e.clock.is_none() || in_candidate[ei] {
            continue;
        }
        let li = line_of_expr[ei];
        let Some(l) = lines.get(li) else { continue };
        let is_meta = *metadata[li].get_or_insert_with(|| METADATA_RE.is_match(&text[l.content..l.end]));
        if l.code || is_meta {
            continue;
        }
        cands.push(Candidate {
            expr: ei,
            event: sentence_around(text, e.start, e.end),
            layout: Layout::Prose,
            line: li,
            last_line: li,
            status: None,
            block: 0,
        });
    }
    cands.sort_by_key(|c| exprs[c.expr].start);
    for (i, c) in cands.iter_mut().enumerate() {
        c.block = i;
    }
    LayoutResult { candidates: cands, structured: false }
}

/// Recognises one line as a timeline entry: optional status word, then a time or date right
/// at the start of the content, then a separator and the event.
fn line_candidate(text: &str, lines: &[Line], li: usize, exprs: &[Expr], first: usize) -> Option<Candidate> {
    let l = &lines[li];
    let s = &text[..l.end];
    let mut pos = l.content;
    let mut status: Option<String> = None;
    let mut ei = first;
    // Skip to the first expression at or after the content start.
    while ei < exprs.len() && exprs[ei].start < pos {
        ei += 1;
    }
    let e = exprs.get(ei)?;
    if e.start > l.end {
        return None;
    }
    if e.start != pos {
        // "investigating Jul 04, 2023, 06:23 AM UTC", "Posted Jul 4, 06:37 UTC"
        let word = text.get(pos..e.start)?.trim();
        let lw = word.to_ascii_lowercase();
        let lw = lw.trim_end_matches([':', '-', '–', ' ']).trim();
        if STATUS_WORDS.contains(&lw) {
            status = Some(lw.to_string());
        } else if !(lw == "posted" || lw == "posted on" || lw == "updated on")
            && !((l.bullet || l.table) && LEAD_INS.contains(&lw))
        {
            return None;
        }
    }
    let date_only = e.clock.is_none();
    pos = e.end;
    pos = skip_closers(s, pos, l.end);
    // A range written on the entry line ("**12:22** to **13:00**"): skip its far end.
    let after = &s[pos..l.end];
    for joiner in ["to ", "until ", "till ", "- ", "– ", "— ", "-", "–"] {
        if let Some(r) = after.strip_prefix(joiner) {
            let r_start = l.end - r.len();
            let mut p = skip_closers(s, r_start, l.end);
            while p < l.end && s[p..].starts_with(['*', '_', '`']) {
                p += 1;
            }
            if let Some(next) = exprs.get(ei + 1) {
                if next.start == p && next.clock.is_some() != date_only {
                    pos = skip_closers(s, next.end, l.end);
                }
            }
            break;
        }
    }
    // Separator.
    let mut had_sep = false;
    while let Some(c) = s[pos..l.end].chars().next() {
        if is_sep_char(c) {
            had_sep = true;
            pos += c.len_utf8();
        } else if c == ' ' || is_closer(c) {
            pos += c.len_utf8();
        } else {
            break;
        }
    }
    let rest = &s[pos..l.end];
    let mut event = clean_event(rest);
    let mut last_line = li;

    if let Some(st) = &status {
        if !event.is_empty() && !had_sep {
            return None;
        }
        let (msg, last) = following_message(text, lines, li);
        last_line = last;
        let msg = if event.is_empty() { msg } else { event.clone() };
        event = if msg.is_empty() { st.clone() } else { format!("{st}: {msg}") };
    } else if event.is_empty() {
        if date_only {
            return None;
        }
        // A time on a line of its own: a heading for the text below, or the stamp of the
        // status message above ("Resolved - ...\nJul 4, 06:37 UTC").
        let (prev, word) = preceding_status(text, lines, li);
        if !prev.is_empty() {
            event = prev;
            status = word;
        } else {
            let (next, last) = following_message(text, lines, li);
            if next.is_empty() {
                return None;
            }
            event = next;
            last_line = last;
        }
    } else {
        let marked = l.bullet || l.table || l.emphasis || l.heading;
        let tabbed = text[e.end..pos].contains('\t');
        if !(had_sep || marked || tabbed) {
            return None;
        }
        if date_only && !(l.bullet || l.table || l.emphasis) {
            return None;
        }
        if l.table {
            event = table_event(rest);
        }
    }
    if event.is_empty() {
        return None;
    }
    let layout = if status.is_some() {
        Layout::Status
    } else if l.table {
        Layout::Table
    } else {
        Layout::List
    };
    Some(Candidate { expr: ei, event, layout, line: li, last_line, status, block: 0 })
}

fn table_event(rest: &str) -> String {
    let cells: Vec<String> = rest.split('|').map(clean_event).filter(|c| !c.is_empty()).collect();
    cells.join("; ")
}

/// The message lines after a status line or a lone time: up to three non-blank lines that do
/// not start a new list item, cut to the first sentence.
fn following_message(text: &str, lines: &[Line], li: usize) -> (String, usize) {
    let mut parts = String::new();
    let mut last = li;
    for (k, l) in lines.iter().enumerate().skip(li + 1).take(3) {
        if l.blank || l.code || l.bullet || l.heading || l.table {
            if parts.is_empty() && l.blank && k == li + 1 {
                continue;
            }
            break;
        }
        if !parts.is_empty() {
            parts.push(' ');
        }
        parts.push_str(&text[l.content..l.end]);
        last = k;
        if parts.len() > MAX_EVENT_CHARS {
            break;
        }
    }
    (first_sentence(&clean_event(&parts)), last)
}

/// For a lone time line: the status message written just above it, if that message starts
/// with a status word ("Resolved - Everything works again."), and that word.
fn preceding_status(text: &str, lines: &[Line], li: usize) -> (String, Option<String>) {
    let mut k = li;
    while k > 0 {
        k -= 1;
        let l = &lines[k];
        if l.blank {
            continue;
        }
        let t = text[l.content..l.end].trim();
        let first_word: String =
            t.chars().take_while(|c| c.is_alphabetic() || *c == '-').collect::<String>().to_ascii_lowercase();
        if STATUS_WORDS.contains(&first_word.as_str()) {
            let msg = t[first_word.len()..].trim_start_matches([' ', '-', '–', '—', ':']).trim();
            let msg = first_sentence(&clean_event(msg));
            return if msg.is_empty() {
                (first_word.clone(), Some(first_word))
            } else {
                (format!("{first_word}: {msg}"), Some(first_word))
            };
        }
        break;
    }
    (String::new(), None)
}

fn first_sentence(s: &str) -> String {
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let next = s[i + c.len_utf8()..].chars().next();
            if next.is_none_or(|n| n.is_whitespace()) && i > 10 {
                end = i + c.len_utf8();
                break;
            }
        }
    }
    s[..end].trim().to_string()
}

/// True when the expression is preceded by an inline bullet (`* `, `• `) in running text and
/// followed by a separator.
fn is_inline_item(text: &str, line_start: usize, e: &Expr) -> bool {
    let before = &text[line_start..e.start];
    let trimmed = before.trim_end_matches([' ', '\t']);
    let Some(marker) = trimmed.chars().next_back() else {
        return false;
    };
    if !(marker == '*' || marker == '•') || trimmed.len() == before.len() {
        return false;
    }
    let pre = &trimmed[..trimmed.len() - marker.len_utf8()];
    if !(pre.is_empty() || pre.ends_with([' ', '\t'])) {
        return false;
    }
    let after = text[e.end..].trim_start_matches([' ', '*']);
    after.starts_with([':', '-', '–'])
}

fn inline_marker_start(text: &str, line_start: usize, e: &Expr) -> usize {
    let before = &text[line_start..e.start];
    let trimmed = before.trim_end_matches([' ', '\t']).trim_end_matches(['*', '•']);
    line_start + trimmed.len()
}

/// End of the last item of an inline list: the next "Label:" heading-like phrase or the end
/// of its sentence, whichever comes first.
fn inline_tail_end(text: &str, from: usize, line_end: usize) -> usize {
    let window_end = floor_boundary(text, (from + SENTENCE_WINDOW).min(line_end));
    let s = &text[from..window_end];
    let mut end = window_end;
    if let Some(m) = INLINE_LABEL_RE.find(s) {
        end = end.min(from + m.start());
    }
    for (i, c) in s.char_indices() {
        if matches!(c, '.' | '!' | '?') && s[i + 1..].starts_with(' ') {
            end = end.min(from + i + 1);
            break;
        }
    }
    end
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The sentence (bounded to a window around the time) that contains `start..end`.
pub fn sentence_around(text: &str, start: usize, end: usize) -> String {
    let lo = floor_boundary(text, start.saturating_sub(SENTENCE_WINDOW));
    let hi = ceil_boundary(text, end + SENTENCE_WINDOW);
    let before = &text[lo..start];
    let mut s = lo;
    let bb = before.as_bytes();
    let mut i = bb.len();
    while i > 0 {
        i -= 1;
        let c = bb[i];
        if c == b'\n' {
            s = lo + i + 1;
            break;
        }
        if matches!(c, b'.' | b'!' | b'?') && bb.get(i + 1).is_some_and(|n| *n == b' ') {
            s = lo + i + 1;
            break;
        }
    }
    let after = &text[end..hi];
    let ab = after.as_bytes();
    let mut e = hi;
    for (i, &c) in ab.iter().enumerate() {
        if c == b'\n' {
            e = end + i;
            break;
        }
        if matches!(c, b'.' | b'!' | b'?')
            && ab.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\n' || *n == b'\r')
        {
            e = end + i + 1;
            break;
        }
    }
    let e = ceil_boundary(text, e);
    let s = floor_boundary(text, s);
    clean_event(text.get(s..e).unwrap_or(""))
}

/// Splits candidates into blocks: a new block starts at a change of layout family, at a
/// heading, or after more than four lines of other text.
fn assign_blocks(lines: &[Line], cands: &mut [Candidate]) {
    let mut block = 0;
    let mut prev: Option<(u8, usize, usize)> = None; // (class, line, last_line)
    for c in cands.iter_mut() {
        let class = c.layout.class();
        if let Some((pc, pline, plast)) = prev {
            let mut new_block = pc != class;
            if class == 1 && c.line != pline {
                new_block = true;
            }
            if !new_block && c.line > plast {
                let between = &lines[plast + 1..c.line];
                let text_lines = between.iter().filter(|l| !l.blank && !l.decoration && !l.code).count();
                if text_lines >= 3 || between.iter().any(|l| l.heading || l.title) {
                    new_block = true;
                }
            }
            if new_block {
                block += 1;
            }
        }
        c.block = block;
        prev = Some((class, c.line, c.last_line.max(c.line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::expr::{scan_dates, scan_times};

    fn run(text: &str) -> (LayoutResult, Vec<Expr>) {
        let times = scan_times(text);
        let dates = scan_dates(text, &times);
        let mut all = times;
        all.extend(dates);
        all.sort_by_key(|e| e.start);
        (find_candidates(text, &all), all)
    }

    fn entries(text: &str) -> Vec<(String, String)> {
        let (r, all) = run(text);
        r.candidates
            .iter()
            .map(|c| {
                let e = &all[c.expr];
                (text[e.start..e.end].to_string(), c.event.clone())
            })
            .collect()
    }

    #[test]
    fn bullet_list_with_colons_and_dashes() {
        let t = "## Timeline\n- 7:52 : change applied\n- 8:15: alerts fired\n* 1:20 UTC: identified\n+ 9:27 - all traffic restored\n";
        let e = entries(t);
        assert_eq!(
            e,
            vec![
                ("7:52".into(), "change applied".into()),
                ("8:15".into(), "alerts fired".into()),
                ("1:20 UTC".into(), "identified".into()),
                ("9:27".into(), "all traffic restored".into()),
            ]
        );
    }

    #[test]
    fn plain_time_lines() {
        let t = "Timeline\n6:35 AM:  Flag flipped\n8:12 AM - Errors begin\n10:20 AM EAT – escalated\n";
        let e = entries(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].1, "Flag flipped");
        assert_eq!(e[2].0, "10:20 AM EAT");
    }

    #[test]
    fn bold_times_without_separator() {
        let t = "- **10:21** We shipped a patch\n- **10:58** A user reported breakage\n- *08:14* Began the schema change\n";
        let e = entries(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0], ("10:21".into(), "We shipped a patch".into()));
        assert_eq!(e[2].0, "08:14");
    }

    #[test]
    fn markdown_and_tab_tables() {
        let t = "| Time | Event |\n|---|---|\n| 2020-11-04 13:13 | Applied the new config |\n| 2020-11-04 13:20 | Errors began | sev1 |\n";
        let e = entries(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].0, "2020-11-04 13:13");
        assert_eq!(e[0].1, "Applied the new config");
        assert_eq!(e[1].1, "Errors began; sev1");
        let t2 = "Time (GMT + 2)\tSteps\n8:35 AM\tPatch rollout begins\n9:50AM\tErrors begin\n";
        let e2 = entries(t2);
        assert_eq!(e2.len(), 2);
        assert_eq!(e2[1], ("9:50AM".into(), "Errors begin".into()));
        let t3 = "|11:05 PM: | Deploy begins |\n|11:15 PM: | Errors begin |\n";
        assert_eq!(entries(t3)[0], ("11:05 PM".into(), "Deploy begins".into()));
    }

    #[test]
    fn status_page_updates() {
        let t = "Update timeline\n- investigating Mar 02, 2023, 05:12 AM UTC\nWe see elevated errors and are looking into it.\n- resolved Mar 02, 2023, 05:41 AM UTC\nEverything works again.\n";
        let (r, all) = run(t);
        assert!(r.structured);
        assert_eq!(r.candidates.len(), 2);
        let c = &r.candidates[0];
        assert_eq!(&t[all[c.expr].start..all[c.expr].end], "Mar 02, 2023, 05:12 AM UTC");
        assert_eq!(c.event, "investigating: We see elevated errors and are looking into it.");
        assert_eq!(c.layout, Layout::Status);
        assert_eq!(r.candidates[1].status.as_deref(), Some("resolved"));
    }

    #[test]
    fn statuspage_stamp_below_message() {
        let t = "Resolved - Everything works again.\nMar 2, 2023 - 05:41 UTC\n\nMonitoring - A fix has been rolled out.\nMar 2, 2023 - 05:30 UTC\n";
        let e = entries(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].0, "Mar 2, 2023 - 05:41 UTC");
        assert_eq!(e[0].1, "resolved: Everything works again.");
        assert_eq!(e[1].1, "monitoring: A fix has been rolled out.");
        let (r, _) = run(t);
        assert!(r.candidates.iter().all(|c| c.layout == Layout::Status));
        assert_eq!(r.candidates[1].status.as_deref(), Some("monitoring"));
    }

    #[test]
    fn inline_bullets_in_a_paragraph() {
        let t = "We had an outage. Timeline: * 4:10 UTC: Alert fired * 4:35 UTC: Cause found in cache layer * 5:05 UTC: Fix shipped Follow Up: more work.";
        let e = entries(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0], ("4:10 UTC".into(), "Alert fired".into()));
        assert_eq!(e[1].1, "Cause found in cache layer");
        assert_eq!(e[2].1, "Fix shipped");
    }

    #[test]
    fn prose_only_reports() {
        let t = "At 9:04 AM the monitoring system alerted the on-call rota. By 10:30 AM the fix was out.";
        let (r, all) = run(t);
        assert!(!r.structured);
        assert_eq!(r.candidates.len(), 2);
        assert_eq!(r.candidates[0].event, "At 9:04 AM the monitoring system alerted the on-call rota.");
        assert_eq!(&t[all[r.candidates[1].expr].start..all[r.candidates[1].expr].end], "10:30 AM");
    }

    #[test]
    fn prose_is_narrative_when_a_list_exists() {
        let t = "From 8:12 AM to 10:45 PM requests failed.\n\nTimeline\n- 8:12 AM: Errors begin\n- 10:45 PM: Back online\n\nAt 8:12 AM the pagers went off.";
        let e = entries(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].1, "Errors begin");
    }

    #[test]
    fn metadata_lines_are_not_events() {
        let t = "Duration: May 3, 2022, 12:15 GMT\nThe site was slow.";
        assert!(entries(t).is_empty());
        let t2 = "- **Start Time:** March 2, 2026, 08:10 (UTC)\n- **End Time:** March 2, 2026, 09:20 (UTC)\n";
        assert!(entries(t2).is_empty());
    }

    #[test]
    fn date_only_list_entries() {
        let t = "- **Sep 1-3** - Sporadic disk alerts\n- **Sep 4 19:12** - Incident opened\n- **Sep 4 20:05** - Cause pinned down\n- **Sep 6** - Old snapshots pruned\n";
        let e = entries(t);
        let times: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(times, vec!["Sep 1-3", "Sep 4 19:12", "Sep 4 20:05", "Sep 6"]);
    }

    #[test]
    fn ranges_on_list_lines_are_one_entry() {
        let t =
            "- **14:07** Raised severity\n- **14:07** to **14:50** We read logs\n- **14:50** Told users\n";
        let e = entries(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].1, "We read logs");
    }

    #[test]
    fn heading_time_takes_next_line() {
        let t = "**16:40 UTC: First Alarm**\nAlerts fired.\n\n### 16:55 UTC\nTriage began.\n";
        let e = entries(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].1, "First Alarm");
        assert_eq!(e[1].1, "Triage began.");
    }

    #[test]
    fn bracketed_and_lead_in_list_times() {
        let t = "[14:02] Alert fired\n[14:10] Rolled back\n";
        let e = entries(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0], ("14:02".into(), "Alert fired".into()));
        let t2 = "1. At 14:02 UTC, errors began\n2. Around 14:20 UTC - rollback started\n";
        let e2 = entries(t2);
        assert_eq!(e2.len(), 2);
        assert_eq!(e2[0], ("14:02 UTC".into(), "errors began".into()));
        assert_eq!(e2[1].1, "rollback started");
    }

    #[test]
    fn code_blocks_are_ignored() {
        let t = "```\n12:01:02 ERROR boom\n12:01:03 ERROR boom\n```\nAt 12:05 we restarted.";
        let e = entries(t);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "12:05");
    }

    #[test]
    fn hard_wrapped_prose_is_not_a_list() {
        let t = "We saw failures around 08:40 and at\n08:55, we disabled the flag.";
        let (r, _) = run(t);
        assert!(!r.structured);
        assert_eq!(r.candidates.len(), 2);
    }

    #[test]
    fn blocks_split_at_headings() {
        let t =
            "## Timeline\n- 9:00 AM: detected\n- 9:05 AM: paged\n## Retelling\n- 9:00 AM: detected again\n";
        let (r, _) = run(t);
        let blocks: Vec<usize> = r.candidates.iter().map(|c| c.block).collect();
        assert_eq!(blocks, vec![0, 0, 1]);
    }

    #[test]
    fn sentence_bounds() {
        let t = "First one. At 9:04 AM it broke! Then more.";
        let i = t.find("9:04").unwrap_or(0);
        assert_eq!(sentence_around(t, i, i + 7), "At 9:04 AM it broke!");
    }

    #[test]
    fn clean_event_strips_markup() {
        assert_eq!(clean_event(" - [Ops saw](https://x.y/z) **three** alarms |"), "Ops saw three alarms");
    }
}
