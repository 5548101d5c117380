//! Sentence segmentation with offsets back into the report.
//!
//! Everything that points at the report (evidence quotes, chunk windows) needs spans that quote it
//! exactly, so segmentation returns both byte offsets (for slicing) and Unicode scalar offsets (what
//! the JSON contract exposes). Reports mix prose, bullet lists, markdown tables and status-page
//! lines, so a line break ends a sentence when the next line starts a new structural unit (bullet,
//! heading, table row, blank line) or the line itself is one; wrapped prose lines are joined.

/// One sentence-like span of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first character.
    pub byte_start: usize,
    /// Byte offset one past the last character.
    pub byte_end: usize,
    /// Unicode scalar offset of the first character.
    pub start: usize,
    /// Unicode scalar offset one past the last character.
    pub end: usize,
}

impl Span {
    /// The span's text within `report`.
    pub fn text<'a>(&self, report: &'a str) -> &'a str {
        &report[self.byte_start..self.byte_end]
    }
}

/// Words after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "vs", "etc", "mr", "mrs", "ms", "dr", "approx", "inc", "ltd", "no", "fig", "a.m", "p.m",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

fn is_structural_line(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty()
        || t.starts_with('#')
        || t.starts_with('|')
        || t.starts_with("- ")
        || t.starts_with("* ")
        || t.starts_with("• ")
        || t.starts_with('>')
        || t.contains('\t')
        || starts_with_enumeration(t)
        || t.chars().next().is_some_and(|c| c.is_ascii_digit()) && t.contains(':')
}

fn starts_with_enumeration(t: &str) -> bool {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && digits < 3
        && matches!(t.as_bytes().get(digits), Some(b'.') | Some(b')'))
        && t.as_bytes().get(digits + 1) == Some(&b' ')
}

/// Splits a report into sentence spans, trimmed of surrounding whitespace, in order, never empty.
pub fn sentences(report: &str) -> Vec<Span> {
    let mut out = Vec::new();
    // Byte offsets of cut points; spans run between consecutive cuts.
    let mut cuts = vec![0usize];
    let bytes = report.as_bytes();
    let lines: Vec<(usize, &str)> = line_starts(report);
    for (i, &(off, line)) in lines.iter().enumerate() {
        let line_end = off + line.len();
        let next = lines.get(i + 1).map(|(_, l)| *l);
        let short = line.trim().chars().count() < 50;
        let ends_sentence = line.trim_end().ends_with(['.', '!', '?', ':']);
        if is_structural_line(line)
            || next.is_none_or(is_structural_line)
            || short
            || ends_sentence && next.is_some_and(|n| n.trim_start().starts_with(char::is_uppercase))
        {
            cuts.push(line_end);
        }
        cut_within_line(report, off, line_end, &mut cuts);
    }
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.dedup();
    // Spans only move forward, so char offsets are counted incrementally: linear overall.
    let (mut pos_b, mut pos_c) = (0usize, 0usize);
    for w in cuts.windows(2) {
        let piece = &report[w[0]..w[1]];
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        if lead + trail >= piece.len() {
            continue;
        }
        let (bs, be) = (w[0] + lead, w[1] - trail);
        pos_c += report[pos_b..bs].chars().count();
        pos_b = bs;
        let end = pos_c + report[bs..be].chars().count();
        out.push(Span { byte_start: bs, byte_end: be, start: pos_c, end });
    }
    out
}

/// Lines with their byte offsets, without the line terminator.
fn line_starts(report: &str) -> Vec<(usize, &str)> {
    let mut v = Vec::new();
    let mut off = 0;
    for raw in report.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        v.push((off, line));
        off += raw.len();
    }
    v
}

/// Adds cut points after sentence-final punctuation and before inline bullets within one line.
fn cut_within_line(report: &str, from: usize, to: usize, cuts: &mut Vec<usize>) {
    let line = &report[from..to];
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'.' | b'!' | b'?') && i + 1 < b.len() && b[i + 1] == b' ' {
            let rest = line[i + 1..].trim_start();
            let starts_new = rest
                .chars()
                .next()
                .is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit() || ch == '"' || ch == '*');
            if starts_new && !(c == b'.' && ends_with_abbreviation(&line[..i])) {
                cuts.push(from + i + 1);
            }
        } else if c == b' ' && b.get(i + 1) == Some(&b'*') && b.get(i + 2) == Some(&b' ') {
            cuts.push(from + i);
        }
        i += 1;
    }
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    let lower = word.to_ascii_lowercase();
    // Single letters ("J. Smith") and known abbreviations do not end sentences.
    (lower.len() == 1 && lower.chars().all(|c| c.is_ascii_alphabetic()))
        || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(r: &str) -> Vec<&str> {
        sentences(r).iter().map(|s| s.text(r)).collect()
    }

    #[test]
    fn splits_prose_on_sentence_punctuation() {
        let r = "The API failed. Root cause was a bad flag! Did it recur? No.";
        assert_eq!(texts(r), ["The API failed.", "Root cause was a bad flag!", "Did it recur?", "No."]);
    }

    #[test]
    fn keeps_abbreviations_and_versions_together() {
        let r = "We saw errors, e.g. HTTP 502 from v2.14.0 at 8:04 p.m. on Friday. Then it stopped.";
        assert_eq!(
            texts(r),
            ["We saw errors, e.g. HTTP 502 from v2.14.0 at 8:04 p.m. on Friday.", "Then it stopped."]
        );
    }

    #[test]
    fn bullets_tables_and_headings_are_their_own_units() {
        let r = "## Timeline\n- 7:52 change applied\n- 8:01 alerts fired\n| 13:13 | rollback |\nDone.";
        assert_eq!(
            texts(r),
            ["## Timeline", "- 7:52 change applied", "- 8:01 alerts fired", "| 13:13 | rollback |", "Done."]
        );
    }

    #[test]
    fn wrapped_prose_lines_are_joined() {
        let r = "The connection pool was exhausted because the new client\nnever returned connections to it.";
        assert_eq!(texts(r).len(), 1);
    }

    #[test]
    fn inline_star_bullets_split() {
        let r = "Timeline: * 1:20 UTC: identified * 2:00 UTC: mitigated";
        assert_eq!(texts(r), ["Timeline:", "* 1:20 UTC: identified", "* 2:00 UTC: mitigated"]);
    }

    #[test]
    fn char_offsets_quote_the_text_after_non_ascii() {
        let r = "São Paulo — Zürich saw timeouts. Caused by a DNS change. ✓ done";
        for s in sentences(r) {
            let quoted: String = r.chars().skip(s.start).take(s.end - s.start).collect();
            assert_eq!(quoted, s.text(r));
        }
        assert_eq!(sentences(r).len(), 2);
    }

    #[test]
    fn empty_and_blank_reports_have_no_sentences() {
        assert!(sentences("").is_empty());
        assert!(sentences(" \n\n\t ").is_empty());
    }
}
