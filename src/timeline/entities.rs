//! Entities: impact figures, affected components and error codes named in the report.
//!
//! These are pattern-based on purpose: they must run on any text in linear time, and a
//! reviewer can read the patterns to see exactly what is and is not picked up. Each list is
//! deduplicated (case-insensitively) and kept in order of first appearance.

use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::HashSet;

const MAX_ITEMS: usize = 25;

static PERCENT_IMPACT_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:about|approximately|approx\.|around|roughly|nearly|over|more than|up to|almost|some)[ \t]+)?[0-9]{1,3}(?:\.[0-9]{1,2})?[ \t]?%[ \t]+of[ \t]+(?:(?:our|the|all|their|its|your)[ \t]+)?(?:[A-Za-z][A-Za-z0-9-]*[ \t]+){0,3}[A-Za-z][A-Za-z0-9-]*",
    )
    .unwrap_or_else(|e| panic!("impact pattern must compile: {e}"))
});

static COUNT_IMPACT_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:about|approximately|approx\.|around|roughly|nearly|over|more than|up to|almost|some)[ \t]+)?[0-9][0-9,]{0,12}(?:\.[0-9]+)?[ \t]?(?:k|m|thousand|million)?[ \t]+(?:(?:active|affected|paying|enterprise|end|unique|impacted)[ \t]+)?(?:customers|users|teams|requests|accounts|organizations|organisations|orgs|sites|websites|merchants|tenants|projects|developers|clients|transactions|orders|devices|people|subscribers|members|stores|repositories|builds)\b",
    )
    .unwrap_or_else(|e| panic!("count pattern must compile: {e}"))
});

static COMPONENT_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"\b(?:[A-Za-z][A-Za-z0-9.-]*[ \t]){1,3}(?i:servers?|services?|databases?|db|cluster|gateway|load balancers?|cache|caches|queues?|workers?|endpoints?|pipeline|proxy|cdn|nodes?|instances?|library|libraries|storage|bucket|router|firewall|containers?|pods?|replicas?|broker|scheduler|daemon)\b",
    )
    .unwrap_or_else(|e| panic!("component pattern must compile: {e}"))
});

static IDENT_COMPONENT_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"\b[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*[-_](?:db|api|svc|service|cache|worker|workers|server|proxy|gateway|queue|cluster|redis|postgres|mysql)\b",
    )
    .unwrap_or_else(|e| panic!("identifier pattern must compile: {e}"))
});

static ERROR_CODE_RE: Lazy<Regex> = Lazy::new(|| {
    let alternatives = [
        r"\b(?P<http>(?i:HTTP)[ /-]?(?:(?i:status)[ \t]+)?[1-5][0-9]{2})\b",
        r"\b(?P<bare>[45][0-9]{2})s?[ \t]+(?i:errors?|responses?|status|codes?|bad[ \t]gateway|gateway[ \t]timeout|service[ \t]unavailable|internal[ \t]server[ \t]error|not[ \t]found|too[ \t]many[ \t]requests)\b",
        r"\b(?i:error|status|code)[ \t]+(?P<after>[45][0-9]{2})\b",
        r"\b(?P<class>[45]xx)\b",
        r"\b(?P<vendor>(?:ORA|PLS|TNS|ERR|SQLSTATE|AADSTS|MSB|NU)-?[0-9]{3,6})\b",
        r"\b(?P<errno>E(?:CONNRESET|CONNREFUSED|CONNABORTED|TIMEDOUT|NOSPC|NOMEM|ADDRINUSE|PIPE|NOTFOUND|HOSTUNREACH|NETUNREACH|MFILE|NFILE|ACCES|PERM|AGAIN|NOENT|AI_AGAIN))\b",
        r"\b(?P<signal>SIG(?:KILL|SEGV|TERM|ABRT|BUS)|OOMKilled|CrashLoopBackOff)\b",
    ];
    Regex::new(&alternatives.join("|")).unwrap_or_else(|e| panic!("error code pattern must compile: {e}"))
});

/// Words that end an impact phrase ("100% of traffic routed to..." → "100% of traffic").
const IMPACT_STOP: &[&str] = &[
    "was",
    "were",
    "is",
    "are",
    "in",
    "on",
    "at",
    "for",
    "to",
    "from",
    "with",
    "who",
    "that",
    "which",
    "and",
    "or",
    "but",
    "during",
    "by",
    "back",
    "could",
    "did",
    "had",
    "have",
    "has",
    "experienced",
    "restored",
    "failed",
    "saw",
    "got",
    "across",
    "while",
    "when",
    "as",
    "due",
    "being",
    "been",
    "be",
    "received",
    "directed",
    "towards",
    "toward",
    "using",
    "via",
    "of",
    "the",
    "a",
    "an",
    "this",
    "it",
    "will",
    "would",
    "can",
    "cannot",
    "could",
    "should",
    "may",
    "might",
    "must",
    "not",
    "still",
    "also",
];

/// Modifiers that do not name a component ("the server", "our database").
const COMPONENT_STOP: &[&str] = &[
    "the",
    "a",
    "an",
    "our",
    "their",
    "its",
    "this",
    "that",
    "these",
    "those",
    "all",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "from",
    "with",
    "and",
    "or",
    "by",
    "was",
    "were",
    "is",
    "are",
    "be",
    "been",
    "some",
    "any",
    "each",
    "every",
    "new",
    "old",
    "affected",
    "same",
    "main's",
    "which",
    "when",
    "while",
    "into",
    "onto",
    "as",
    "one",
    "two",
    "three",
    "multiple",
    "many",
    "several",
    "various",
    "other",
    "another",
    "more",
    "most",
    "few",
    "both",
    "restart",
    "restarted",
    "restarting",
    "rebooted",
    "the",
    "your",
    "my",
    "his",
    "her",
    "we",
    "they",
    "it",
    "not",
    "no",
    "did",
    "has",
    "had",
    "have",
    "after",
    "before",
    "then",
    "than",
    "so",
    "because",
    "up",
    "down",
    "out",
    "over",
    "under",
    "between",
    "through",
    "across",
    "us",
    "entire",
    "whole",
    "primary",
    "secondary",
    "production",
    "prod",
    "upstream",
    "downstream",
    "local",
    "remote",
    "internal",
    "external",
    "existing",
    "single",
    "first",
    "second",
    "last",
    "main's",
    "such",
    "like",
    "also",
    "only",
    "just",
    "via",
    "if",
    "would",
    "could",
    "should",
    "will",
    "can",
    "may",
    "might",
    "must",
    "shall",
    "let",
    "lets",
    "used",
    "using",
    "use",
    "per",
    "across",
    "without",
    "within",
    "including",
];

/// Verbs and comparatives that often precede a component noun without naming it
/// ("reduces database", "give workers", "better queue").
const COMPONENT_VERBS: &[&str] = &[
    "create",
    "creates",
    "give",
    "gives",
    "mean",
    "means",
    "require",
    "requires",
    "reduce",
    "reduces",
    "increase",
    "increases",
    "check",
    "checks",
    "monitor",
    "monitors",
    "merge",
    "merges",
    "enable",
    "enables",
    "make",
    "makes",
    "run",
    "runs",
    "hit",
    "hits",
    "add",
    "adds",
    "take",
    "takes",
    "return",
    "returns",
    "affect",
    "affects",
    "impact",
    "impacts",
    "cause",
    "causes",
    "restart",
    "restarts",
    "deploy",
    "deploys",
    "scale",
    "scales",
    "kill",
    "kills",
    "hold",
    "holds",
    "keep",
    "keeps",
    "send",
    "sends",
    "call",
    "calls",
    "load",
    "loads",
    "update",
    "updates",
    "serve",
    "serves",
    "reach",
    "reaches",
    "always",
    "never",
    "often",
    "better",
    "worse",
    "larger",
    "smaller",
    "faster",
    "slower",
    "higher",
    "lower",
    "less",
    "complete",
    "rapid",
    "manageable",
    "possible",
    "healthy",
    "temporary",
    "dedicated",
    "additional",
    "isolated",
    "stale",
    "hungry",
    "existing",
    "whole",
    "full",
    "partial",
    "separate",
    "specific",
    "typical",
    "critical",
    "major",
    "minor",
    "about",
    "restore",
    "optimize",
    "optimise",
    "evaluate",
    "patch",
    "schedule",
    "address",
    "fix",
    "own",
    "appropriate",
    "inaccessible",
    "dependent",
    "even",
    "great",
    "fast",
    "slow",
    "severe",
    "sporadic",
    "inefficient",
    "unoptimized",
    "senior",
    "bad",
    "good",
    "sudo",
    "against",
];

fn push_dedup(out: &mut Vec<String>, seen: &mut HashSet<String>, item: String) {
    if out.len() >= MAX_ITEMS || item.is_empty() {
        return;
    }
    let key = item.to_lowercase();
    if seen.insert(key) {
        out.push(item);
    }
}

/// Impact phrases: percentages of something and counts of users/customers/requests.
pub fn impact(text: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for m in PERCENT_IMPACT_RE.find_iter(text) {
        let s = m.as_str();
        // Cut at the first stop word after "of [determiner]".
        let Some(of_pos) = s.to_ascii_lowercase().find(" of ") else {
            continue;
        };
        let head = &s[..of_pos + 4];
        let mut words: Vec<&str> = Vec::new();
        for (i, w) in s[of_pos + 4..].split_whitespace().enumerate() {
            let lw = w.to_ascii_lowercase();
            let determiner = matches!(lw.as_str(), "our" | "the" | "all" | "their" | "its" | "your");
            if i == 0 && determiner {
                words.push(w);
                continue;
            }
            let verb_like = lw.ends_with("ed") || lw.ends_with("ing");
            if IMPACT_STOP.contains(&lw.as_str()) || (verb_like && !words.is_empty()) {
                break;
            }
            words.push(w);
        }
        while words.last().is_some_and(|w| IMPACT_STOP.contains(&w.to_ascii_lowercase().as_str())) {
            words.pop();
        }
        if words.is_empty() {
            continue;
        }
        found.push((m.start(), format!("{}{}", head, words.join(" "))));
        if found.len() > 4 * MAX_ITEMS {
            break;
        }
    }
    for m in COUNT_IMPACT_RE.find_iter(text) {
        // Years and times are not impact counts.
        let digits: String = m.as_str().chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() == 4 && (digits.starts_with("19") || digits.starts_with("20")) {
            continue;
        }
        if text[..m.start()].ends_with(['.', ':', '/', '-', '%']) {
            continue;
        }
        found.push((m.start(), m.as_str().to_string()));
        if found.len() > 8 * MAX_ITEMS {
            break;
        }
    }
    in_text_order(found)
}

/// Phrases found at byte positions, put in text order with duplicates dropped.
fn in_text_order(mut found: Vec<(usize, String)>) -> Vec<String> {
    found.sort_by_key(|(p, _)| *p);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (_, s) in found {
        push_dedup(&mut out, &mut seen, s);
    }
    out
}

/// Affected components: a named service/server/database phrase or a hyphenated identifier
/// such as `payments-db`.
pub fn components(text: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for m in COMPONENT_RE.find_iter(text) {
        let words: Vec<&str> = m.as_str().split_whitespace().collect();
        let Some((head, mods)) = words.split_last() else {
            continue;
        };
        // Keep the modifiers nearest the head, stopping at the first function word.
        let mut kept: Vec<&str> = Vec::new();
        for w in mods.iter().rev() {
            let lw = w.to_ascii_lowercase();
            if COMPONENT_STOP.contains(&lw.as_str())
                || COMPONENT_VERBS.contains(&lw.as_str())
                || lw.ends_with("ing")
                || lw.ends_with("ly")
                || lw.ends_with("ed")
                || w.ends_with(['.', ',', ';', ':', '!', '?', ')', '('])
                || lw.chars().count() < 2
            {
                break;
            }
            if !w.chars().any(|c| c.is_alphabetic()) {
                break;
            }
            kept.push(w);
        }
        if kept.is_empty() {
            continue;
        }
        kept.reverse();
        let phrase = format!("{} {}", kept.join(" "), head);
        let phrase = phrase.trim_matches(|c: char| c == '.' || c == '-').to_string();
        found.push((m.start(), phrase));
        if found.len() > 8 * MAX_ITEMS {
            break;
        }
    }
    for m in IDENT_COMPONENT_RE.find_iter(text) {
        if text[..m.start()].ends_with(['/', '.', '@']) {
            continue;
        }
        found.push((m.start(), m.as_str().to_string()));
        if found.len() > 16 * MAX_ITEMS {
            break;
        }
    }
    in_text_order(found)
}

/// Error codes: HTTP statuses (`HTTP 500`, `503 errors`), vendor codes (`ORA-00060`), errno
/// names (`ECONNRESET`) and kill signals. HTTP statuses are deduplicated by number.
pub fn error_codes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for c in ERROR_CODE_RE.captures_iter(text) {
        let (key, shown) = if let Some(m) = c.name("http") {
            let num: String = m.as_str().chars().filter(|c| c.is_ascii_digit()).collect();
            (num.clone(), format!("HTTP {num}"))
        } else if let Some(m) = c.name("bare").or_else(|| c.name("after")) {
            (m.as_str().to_string(), m.as_str().to_string())
        } else if let Some(m) = c
            .name("class")
            .or_else(|| c.name("vendor"))
            .or_else(|| c.name("errno"))
            .or_else(|| c.name("signal"))
        {
            (m.as_str().to_ascii_lowercase(), m.as_str().to_string())
        } else {
            continue;
        };
        if out.len() >= MAX_ITEMS {
            break;
        }
        if seen.insert(key) {
            out.push(shown);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_phrases() {
        let t = "The outage affected approximately 35% of our users. 100% of traffic was back by noon. About 2,400 customers saw errors; 60% of API requests failed.";
        assert_eq!(
            impact(t),
            vec![
                "approximately 35% of our users",
                "100% of traffic",
                "About 2,400 customers",
                "60% of API requests"
            ]
        );
    }

    #[test]
    fn impact_ignores_non_impact_numbers() {
        assert!(impact("Memory use hit 92% because of caches. In 2023 users were fine.").is_empty());
        assert_eq!(impact("affecting 212 teams"), vec!["212 teams"]);
    }

    #[test]
    fn component_phrases() {
        let t = "A bad DNS entry on the authentication server took down the Main API server. The checkout service and payments-db were affected; the server restarted.";
        assert_eq!(
            components(t),
            vec!["authentication server", "Main API server", "checkout service", "payments-db"]
        );
    }

    #[test]
    fn components_dedupe_case_insensitively() {
        let t = "The Web Server failed. Later the web server recovered.";
        assert_eq!(components(t), vec!["Web Server"]);
    }

    #[test]
    fn error_code_forms() {
        let t = "Clients saw an http 500 response, then 502 Bad Gateway and 503 errors. Oracle raised ORA-00060; sockets saw ECONNRESET. Later HTTP 500 again and 5xx spikes.";
        assert_eq!(error_codes(t), vec!["HTTP 500", "502", "503", "ORA-00060", "ECONNRESET", "5xx"]);
    }

    #[test]
    fn error_codes_skip_plain_numbers() {
        assert!(error_codes("We have 500 customers and 404 servers were fine? no: port 503.").is_empty());
    }
}
