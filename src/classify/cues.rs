//! Lexical cues: which sentences state a cause, and which class's vocabulary a text uses.
//!
//! Embeddings of whole reports drown the one sentence that names the cause in timeline chatter and
//! apologies. These rules weight sentences that *state* a cause ("root cause", "caused by", a
//! "Root Cause" section) far above the rest, and count each class's vocabulary so the head gets a
//! lexical signal next to the embedding. The same counts, alone, make the keyword-tagger baseline
//! `rootline eval` compares against.

use once_cell::sync::Lazy;
use regex::Regex;

use crate::text::Span;

/// The built-in classes, in head order.
pub const CLASSES: [&str; 5] = ["config_change", "dependency_bug", "resource_leak", "deployment", "other"];

/// Phrases that state a cause.
static CAUSAL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(root[- ]?cause[sd]?|rca\b|caused\b|causing\b|cause of|the cause|due to|triggered|trigger(?:ing)? (?:was|event)|because|as a result of|resulted from|result of|traced (?:back )?to|stemm(?:ed|ing) from|originated|culprit|was responsible|led to|the reason|why (?:it|this) happened|contributing factor|we (?:found|determined|identified|discovered) that|turned out|introduced (?:a|an|the)|the issue was|the problem was|failure was)",
    )
    .expect("static regex")
});

/// Headings that open a cause section.
static CAUSE_HEADING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(root[- ]?cause|cause|what happened|what went wrong|why|analysis|diagnosis|details)")
        .expect("static regex")
});

/// Headings that name the cause outright, whatever else they name.
static ROOT_CAUSE_HEADING: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)^(?:the )?(?:root[- ]?causes?|causes?)\b").expect("static regex"));

/// Headings that open sections which rarely state the cause.
static OTHER_HEADING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(timeline|impact|action items?|next steps|follow[- ]?ups?|lessons|prevent|remediation|resolution|update timeline|affected|what we.re doing)")
        .expect("static regex")
});

/// Lines that are timeline entries: a bullet or table cell opening with a clock time or a date,
/// bold or not (`- **09:25 AM**: ...`).
static TIMELINE_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*(?:[-*•|]\s*)?(?:\*\*|__)?(?:\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}|(?:investigating|identified|monitoring|resolved|update|postmortem)\b)")
        .expect("static regex")
});

/// A line that is only a markdown link or a URL.
static LINK_ONLY: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\W*(?:\[[^\]]*\]\([^)]*\)|https?://\S+)\W*$").expect("static regex"));

static BOILERPLATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(apologi[sz]e|sorry|inconvenience|thank you|thanks for|we are committed|we take .* seriously|reach out|contact support|subscribe|will continue to monitor)")
        .expect("static regex")
});

/// Vocabulary per class, in `CLASSES` order.
static CLASS_WORDS: Lazy<[Regex; 5]> = Lazy::new(|| {
    let pats = [
        // config_change
        r"(?i)\b(config(?:uration|s|ured)?|misconfigur\w*|setting|settings|feature[- ]flags?|flag|toggle[sd]?|dns (?:record|entry|change)|bgp|firewall|security group|acl|allow-?list|deny-?list|routing|route[sd]?|load[- ]balancer|nginx|haproxy|parameter|env(?:ironment)? var\w*|terraform|yaml|typo|credential|secret|threshold|limit was (?:set|changed|lowered|raised)|changed the value|value of)\b",
        // dependency_bug
        r"(?i)\b(library|libraries|package|upstream|vendor|third[- ]party|provider|sdk|driver|framework|runtime|jvm|kernel|bug in|cdn|aws|gcp|azure|cloudflare|npm|pypi|crate|dependency|dependencies|incompatib\w*|regression in|their (?:service|api|platform)|partner|gateway provider|saas)\b",
        // resource_leak
        r"(?i)\b(leak\w*|exhaust\w*|out of memory|oom\w*|memory (?:grew|growth|usage|pressure)|connection pool|pool (?:was )?(?:full|saturated)|file descriptors?|too many open files|disk (?:was |became )?full|no space left|inodes?|quota|thread pool|saturat\w*|ephemeral ports?|backlog|ran out of|unbounded|grew (?:steadily|slowly|until))\b",
        // deployment
        r"(?i)\b(deploy\w*|release[sd]?|rollout|rolled out|roll(?:ed)? back|rollback|build|migration|migrat\w+|upgrade[sd]?|canary|shipped|binary|artifact|image tag|new version|hotfix|push(?:ed)? to production|ci/cd|pipeline)\b",
        // other
        r"(?i)\b(hardware|power|outage at the data ?cent(?:er|re)|fib(?:er|re)|cable|ddos|attack\w*|botnet|traffic (?:surge|spike)|surge|certificate (?:had )?expired|expired|human error|accidentally|mistakenly|deleted|disk failure|failed disk|cooling|leap (?:year|day|second)|overflow|race condition|hacked|compromised|flood)\b",
    ];
    pats.map(|p| Regex::new(p).expect("static regex"))
});

/// How strongly a sentence states a cause, in [0.05, ~6].
pub fn causal_weight(sentence: &str, in_cause_section: bool) -> f32 {
    let t = sentence.trim();
    let core = unemphasised(t);
    // Headings ("Root Cause", "## Impact", "Timeline:", "**What went wrong?**") and bare links
    // carry no cause themselves.
    let heading = is_markdown_heading(t)
        || is_bold_heading(t)
        || (core.len() < 40 && core.ends_with(':'))
        || is_bare_heading(core);
    if heading || LINK_ONLY.is_match(t) {
        return 0.05;
    }
    let mut w = 1.0f32;
    let cues = CAUSAL.find_iter(t).count();
    if cues > 0 {
        w += 2.5 + 0.5 * (cues.min(3) as f32 - 1.0);
    }
    if in_cause_section {
        w += 2.0;
    }
    if TIMELINE_LINE.is_match(t) {
        w *= 0.35;
    }
    if BOILERPLATE.is_match(t) {
        w *= 0.3;
    }
    w
}

/// `## Root cause`, but not a chat channel such as `#build-infra:`.
fn is_markdown_heading(t: &str) -> bool {
    let rest = t.trim_start_matches('#');
    rest.len() < t.len() && (rest.is_empty() || rest.starts_with(' '))
}

/// `text` without the markdown emphasis around it: `**Root Cause:**` reads `Root Cause:`.
fn unemphasised(t: &str) -> &str {
    t.trim_matches(|c| c == '*' || c == '_').trim()
}

/// A line that is one short bold span, such as `**What went wrong?**` or `__Root cause:__`:
/// student write-ups and chat-pasted reports use these instead of `#` headings. A bold lead-in
/// followed by content (`**Root cause**: the pool...`) is not one.
fn is_bold_heading(t: &str) -> bool {
    let Some(inner) = ["**", "__"].iter().find_map(|m| {
        let rest = t.strip_prefix(m)?;
        rest.strip_suffix(':').unwrap_or(rest).strip_suffix(m)
    }) else {
        return false;
    };
    !inner.contains("**") && !inner.contains("__") && inner.split_whitespace().count() <= 8
}

/// A short unpunctuated title line ("Root Cause", "What happened"), as opposed to a terse note
/// ("db pool exhausted") that happens to lack a full stop.
fn is_bare_heading(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    let titled =
        words.iter().all(|w| w.chars().next().is_some_and(|c| c.is_uppercase() || !c.is_alphabetic()));
    words.len() <= 4
        && !t.ends_with(['.', '!', '?'])
        && t.chars().next().is_some_and(char::is_uppercase)
        && (titled || CAUSE_HEADING.is_match(t) || OTHER_HEADING.is_match(t))
}

/// Whether each sentence lies in a section whose heading announces the cause.
pub fn cause_sections(report: &str, sentences: &[Span]) -> Vec<bool> {
    let mut inside = false;
    sentences
        .iter()
        .map(|s| {
            let t = s.text(report).trim();
            let heading_like = is_markdown_heading(t)
                || (t.chars().count() < 60 && (t.ends_with(':') || t.starts_with("**")))
                || (t.chars().count() < 40 && !t.ends_with('.'));
            if heading_like {
                let head = unemphasised(t.trim_start_matches('#').trim());
                // "Root Cause: a bad flag" is a heading and its own content at once; "Root Cause
                // and Resolution" opens a cause section even though it also names a fix.
                if ROOT_CAUSE_HEADING.is_match(head)
                    || (CAUSE_HEADING.is_match(head) && !OTHER_HEADING.is_match(head))
                {
                    inside = true;
                    return true;
                } else if OTHER_HEADING.is_match(head) || is_markdown_heading(t) {
                    inside = false;
                }
            }
            inside
        })
        .collect()
}

/// "The root cause was X", "X caused ...", "caused by X", "due to X": the clause that names the
/// cause, forward (X follows the cue) or backward (X precedes the verb).
static CAUSE_FORWARD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(?:root[- ]?causes?(?: of [^,.;:]{1,60}?)?(?:\s+(?:was|is|were|has been|appears to be|turned out to be)|\s*[:\-–—]|\s+was identified as)|(?:was|were|is) (?:ultimately |mainly |primarily )?(?:caused|triggered|due) (?:by|to)|caused by|triggered by|due to|because of|traced (?:back )?to|stemm(?:ed|ing) from|(?:the )?result of|(?:the )?culprit (?:was|is)|the (?:underlying )?(?:issue|problem|trigger|reason) (?:was|is))\s+",
    )
    .expect("static regex")
});

/// Verbs after which the cause precedes ("a bad flag caused the outage").
static CAUSE_BACKWARD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\s+(?:caused|triggered|led to|resulted in|brought down|took down|exhausted|broke)\b")
        .expect("static regex")
});

/// An auxiliary right before the verb: "the outage was | caused by".
static PASSIVE_TAIL: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b(?:was|were|is|are|been|be|being|get|got)\s*$").expect("static regex"));

/// "This caused", "which led to": a pronoun names no cause of its own.
static PRONOUN: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)^\s*(?:this|that|it|which|these|they|what|the change|the issue|the problem)\s*$")
        .expect("static regex")
});

/// Where a cause clause stops: end of clause, or a relative clause that tells consequences.
static CLAUSE_END: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)[.;!?\n]|,\s|\s(?:which|that|who|so|and then|causing|leading|resulting|when|while|after|before)\s|\s[-–—]\s")
        .expect("static regex")
});

/// Longest cause phrase kept, in words: enough for "a stale upstream hostname left in the
/// payments proxy settings", short enough that consequences do not creep in.
const PHRASE_WORDS: usize = 14;

/// The phrases of `sentence` that name a cause, as byte ranges into it, each with a weight (2 for
/// "the root cause was ...", 1 otherwise). At most three.
pub fn cause_phrases(sentence: &str) -> Vec<(std::ops::Range<usize>, f32)> {
    let mut out = Vec::new();
    for m in CAUSE_FORWARD.find_iter(sentence) {
        let rest = &sentence[m.end()..];
        let end = CLAUSE_END.find(rest).map_or(rest.len(), |e| e.start());
        let r = clip_words(sentence, m.end(), m.end() + end, false);
        let strong = m.as_str().to_ascii_lowercase().contains("root");
        if !r.is_empty() {
            out.push((r, if strong { 2.0 } else { 1.0 }));
        }
    }
    for m in CAUSE_BACKWARD.find_iter(sentence) {
        let before = &sentence[..m.start()];
        // Passive "was caused by X" is the forward pattern's; here the subject is the effect.
        let passive = PASSIVE_TAIL.is_match(before) || sentence[m.end()..].trim_start().starts_with("by ");
        if passive {
            continue;
        }
        // Back to the previous clause boundary: sentence start, a comma, a semicolon or a colon.
        let start = before.rfind([',', ';', ':', '\n', '(']).map_or(0, |i| i + 1);
        let r = clip_words(sentence, start, m.start(), true);
        let phrase = &sentence[r.clone()];
        // "This caused", "which led to": a pronoun carries no cause of its own.
        if !r.is_empty() && !PRONOUN.is_match(phrase) {
            out.push((r, 1.0));
        }
    }
    out.sort_by_key(|(r, _)| r.start);
    out.dedup_by(|a, b| a.0.start < b.0.end && b.0.start < a.0.end);
    out.truncate(3);
    out
}

/// Trims `text[start..end]` to whitespace-trimmed bounds and at most [`PHRASE_WORDS`] words (the
/// last words when `keep_end`, as for a cause that precedes its verb).
fn clip_words(text: &str, start: usize, end: usize, keep_end: bool) -> std::ops::Range<usize> {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    let (mut s, mut e) = (start + lead, end - trail);
    if s >= e {
        return s..s;
    }
    let words: Vec<(usize, &str)> =
        text[s..e].split_whitespace().map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w)).collect();
    if words.len() > PHRASE_WORDS {
        if keep_end {
            s = words[words.len() - PHRASE_WORDS].0;
        } else {
            let (pos, w) = words[PHRASE_WORDS - 1];
            e = pos + w.len();
        }
    }
    s..e
}

/// Occurrences of each class's vocabulary in `text`.
pub fn class_counts(text: &str) -> [u32; 5] {
    let mut c = [0u32; 5];
    for (i, re) in CLASS_WORDS.iter().enumerate() {
        c[i] = re.find_iter(text).count() as u32;
    }
    c
}

/// The keyword-tagger baseline: the class whose vocabulary occurs most (causal sentences count
/// triple), `other` when no vocabulary occurs.
pub fn keyword_tag(report: &str) -> &'static str {
    let sents = crate::text::sentences(report);
    let mut score = [0f32; 5];
    for s in &sents {
        let t = s.text(report);
        let boost = if CAUSAL.is_match(t) { 3.0 } else { 1.0 };
        for (i, n) in class_counts(t).iter().enumerate() {
            score[i] += *n as f32 * boost;
        }
    }
    let (best, val) =
        score.iter().enumerate().fold((4usize, 0f32), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc });
    if val == 0.0 {
        "other"
    } else {
        CLASSES[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::sentences;

    #[test]
    fn causal_sentences_outweigh_chatter() {
        let cause = causal_weight("The root cause was a feature flag enabled for all regions.", false);
        let chatter = causal_weight("- 09:04 alerts fired for the checkout service", false);
        let sorry = causal_weight("We apologize for the inconvenience this caused.", false);
        assert!(cause > 3.0 * chatter, "{cause} vs {chatter}");
        assert!(cause > 2.0 * sorry);
        assert!(causal_weight("Root Cause", true) < 0.1, "a bare heading is not a cause");
        assert!(causal_weight("database connections exhausted", false) >= 1.0, "terse notes keep weight");
        assert!(
            causal_weight("#build-infra: runner died, disk full.", false) >= 1.0,
            "a channel is no heading"
        );
        assert!(causal_weight("[Example](https://example.com/postmortem).", false) < 0.1);
    }

    #[test]
    fn bold_lines_are_headings_not_causes() {
        for h in
            ["**Root Cause:**", "**What went wrong?**", "__Root cause__:", "**Root Cause and Resolution:**"]
        {
            assert!(causal_weight(h, true) < 0.1, "{h}");
        }
        // A bold lead-in with its content is a sentence, and a strong one.
        assert!(causal_weight("**Root cause**: the worker pool was never drained.", true) > 3.0);
        assert!(causal_weight("- **Root Cause:** disk filled with core dumps.", false) > 3.0);
        // A bold clock time still opens a timeline entry, which is chatter even when it says "caused".
        let bold_entry = causal_weight("- **10:05 AM**: restart caused a brief blip.", false);
        assert!(bold_entry < causal_weight("A restart caused a brief blip.", false) * 0.5, "{bold_entry}");
    }

    #[test]
    fn bold_and_mixed_cause_headings_open_a_cause_section() {
        let r =
            "**Summary**\nSite down.\n**Root Cause and Resolution:**\nA disk filled up.\n**Timeline**\nlater";
        let s = sentences(r);
        let inside = cause_sections(r, &s);
        let marked: Vec<_> = s.iter().zip(&inside).filter(|(_, &i)| i).map(|(s, _)| s.text(r)).collect();
        assert_eq!(marked, ["**Root Cause and Resolution:**", "A disk filled up."]);
    }

    #[test]
    fn cause_section_spans_until_next_heading() {
        let r = "## Summary\nAPI down.\n## Root Cause\nA bad flag.\nIt was on.\n## Timeline\n- 9:00 alert";
        let s = sentences(r);
        let inside = cause_sections(r, &s);
        let marked: Vec<_> = s.iter().zip(&inside).filter(|(_, &i)| i).map(|(s, _)| s.text(r)).collect();
        assert_eq!(marked, ["## Root Cause", "A bad flag.", "It was on."]);
    }

    fn phrases(s: &str) -> Vec<&str> {
        cause_phrases(s).into_iter().map(|(r, _)| &s[r]).collect()
    }

    #[test]
    fn cause_phrases_find_the_clause_that_names_the_cause() {
        assert_eq!(
            phrases(
                "The root cause was a stale proxy hostname, which let a retry bug in the client surface."
            ),
            ["a stale proxy hostname"]
        );
        assert_eq!(
            phrases("Root cause: pool size lowered to 20 in the Helm values."),
            ["pool size lowered to 20 in the Helm values"]
        );
        assert_eq!(phrases("Checkout failed due to an expired certificate."), ["an expired certificate"]);
        assert_eq!(
            phrases("At 09:10, a bad BGP announcement caused the outage."),
            ["a bad BGP announcement"]
        );
        assert_eq!(
            cause_phrases("The root cause was a flag.")[0].1,
            2.0,
            "root-cause statements weigh double"
        );
    }

    #[test]
    fn cause_phrases_skip_pronouns_and_stay_short() {
        assert!(phrases("This caused a second outage.").is_empty());
        assert!(phrases("We paged the on-call engineer.").is_empty());
        let long = "The outage was caused by a very long chain of small unrelated events that kept on going and going for many words more than fit";
        let p = phrases(long);
        assert_eq!(p.len(), 1);
        assert!(p[0].split_whitespace().count() <= PHRASE_WORDS, "{p:?}");
        // Non-ASCII text keeps char boundaries.
        assert_eq!(phrases("Ausfall due to Überlast im Netz."), ["Überlast im Netz"]);
    }

    #[test]
    fn keyword_tagger_prefers_causal_vocabulary() {
        let r = "We deployed at noon. The root cause was a memory leak that exhausted the heap.";
        assert_eq!(keyword_tag(r), "resource_leak");
        assert_eq!(keyword_tag("Nothing to see."), "other");
    }
}
