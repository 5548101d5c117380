//! Incident phases and the keyword rules that assign one to each timeline entry.
//!
//! Metrics (time to detect, mitigate, resolve) are read off the phases, so the rules favour
//! precision on the phases metrics use. Rules are tried in a fixed priority order because an
//! event often mentions several phases ("root cause found to be a deployment error" is an
//! identification, not a trigger; "rollback failed" is not a mitigation).

use serde::{Deserialize, Serialize};

/// Phase of the incident an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The change, deploy or push that set the incident off.
    Trigger,
    /// Impact began.
    Started,
    /// An alert fired, someone was paged, customers reported it.
    Detected,
    /// On-call acknowledged.
    Acknowledged,
    /// Work to understand the problem.
    Investigating,
    /// Root cause found.
    Identified,
    /// Impact reduced: rollback, workaround, failover, restart, traffic drained.
    Mitigated,
    /// Fully recovered.
    Resolved,
    /// Postmortem or RCA published, post-incident analysis.
    Postmortem,
    /// Anything else.
    Other,
}

const POSTMORTEM: &[&str] = &[
    "postmortem",
    "post-mortem",
    "post mortem",
    "post-incident",
    "post incident",
    "retrospective",
    "root cause analysis",
    "rca ",
    "rca published",
    "incident report published",
];
const MITIGATION_ACTIONS: &[&str] = &[
    "rollback",
    "roll back",
    "rolled back",
    "rolling back",
    "revert",
    "workaround",
    "work around",
    "failover",
    "fail over",
    "failed over",
    "restart",
    "reboot",
    "drain",
    "mitigat",
    "hotfix",
    "hot fix",
    "temporary fix",
    "fix deployed",
    "fix was deployed",
    "fix was implemented",
    "fix implemented",
    "fix was applied",
    "fix applied",
    "patched",
    "monkey-patch",
    "scaled",
    "scale out",
    "scale up",
    "stabiliz",
    "stabilis",
    "disabled",
    "turned off",
    "freed up",
    "renewed",
    "reloaded",
    "upgraded",
    "uninstalled",
    "optimiz",
    "recovery",
    "recovering",
    "began to recover",
    "begin to recover",
    "traffic shifted",
    "shifted traffic",
    "rerouted",
    "blocked",
    "purged",
    "increased memory",
    "increased the",
    "killed",
];
const FAILED: &[&str] = &[
    "unsuccessful",
    "failed attempt",
    "attempt failed",
    "fails",
    "failed to",
    "did not",
    "didn't",
    "not effective",
    "ineffective",
    "no effect",
    "without success",
    "was not successful",
    "failed configuration",
    "failed rollback",
    "rollback failed",
    "revert failed",
];
const RESOLVED: &[&str] = &[
    "resolved",
    "issue resolution",
    "incident resolution",
    "immediate resolution",
    "fully restored",
    "fully recovered",
    "full recovery",
    "full service",
    "back to normal",
    "returned to normal",
    "normal operation",
    "all clear",
    "100% of traffic",
    "back online",
    "fully operational",
    "incident closed",
    "closed the incident",
    "service restored",
    "services restored",
    "restored service",
    "restoring service",
    "running again",
    "back up",
    "comes back",
    "came back",
    "healthy again",
    "recovered",
    "operations resumed",
    "operational again",
    "stable again",
    "no further errors",
    "now fine",
    "now healthy",
    "traffic has resumed",
    "service has resumed",
    "services have resumed",
    "requests have resumed",
    "appeared resumed",
    "resumed normal",
];
const IDENTIFIED: &[&str] = &[
    "root cause",
    "identified",
    "identification",
    "identify the",
    "found the",
    "found that",
    "found out",
    "discovered",
    "uncovered",
    "culprit",
    "pinpointed",
    "determined",
    "traced",
    "realized",
    "realised",
    "cause was",
    "caused by",
];
const ACKNOWLEDGED: &[&str] = &["acknowledg", "acked", "ack'd", "responded to the page", "took ownership"];
const DETECTED: &[&str] = &[
    "alert",
    "paged",
    "pager",
    "noticed",
    "notices",
    "notice ",
    "detected",
    "detection",
    "reported",
    "reports",
    "notified",
    "reached out",
    "complain",
    "flagged",
    "first error",
    "first recorded error",
    "alarm",
    "became aware",
    "learned",
    "learn about",
    "observed",
    "spotted",
    "monitoring",
    "red flag",
    "informed of",
    "was informed",
    "were informed",
];
const INVESTIGATING: &[&str] = &[
    "investigat",
    "diagnos",
    "looking into",
    "look into",
    "debug",
    "analy",
    "checked",
    "checking",
    "check ",
    "escalat",
    "declared",
    "mobiliz",
    "mobilis",
    "triage",
    "war room",
    "suspect",
    "explored",
    "assumption",
    "examin",
    "review",
    "inspect",
    "tried",
    "attempt",
    "working on",
    "engaged",
    "involved",
    "poking around",
    "sherlock",
];
const STARTED_STRONG: &[&str] = &[
    "outage began",
    "outage begins",
    "outage started",
    "outage starts",
    "outage start",
    "impact began",
    "impact started",
    "impact begins",
    "errors began",
    "errors started",
    "errors begin",
    "began failing",
    "begin failing",
    "started failing",
    "start failing",
    "began experiencing",
    "begins experiencing",
    "began returning",
    "started returning",
    "went down",
    "goes down",
    "go down",
    "stopped working",
    "stopped creating",
    "stopped serving",
    "stopped responding",
    "crash",
    "incident began",
    "issue began",
    "issue started",
    "service outage",
    "server outage",
];
const TRIGGER: &[&str] = &[
    "deploy",
    "release",
    "rolled out",
    "rollout",
    "roll out",
    "push",
    "configuration change",
    "config change",
    "change set",
    "changeset",
    "migration",
    "upgrade",
    "merged",
    "published",
    "shipped",
    "change applied",
    "applied",
    "modification",
    "implemented",
    "installed",
    "pull request",
    "commit",
    "maintenance",
];
const STARTED_WEAK: &[&str] = &[
    "down",
    "degrad",
    "unavailable",
    "unresponsive",
    "spike",
    "elevated",
    "error",
    "failing",
    "failure",
    "outage",
    "saturat",
    "overwhelm",
    "latency",
    "timeout",
    "timed out",
    "hang",
    "broke",
    "slow",
    "exhaust",
    "leak",
    "oom",
    "compromised",
];

/// True when one of `words` occurs at the start of a word in `t` ("acked" must not match
/// "packed"); keywords are prefixes, so "investigat" matches "investigating".
fn any(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        t.match_indices(w).any(|(i, _)| t[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Assigns a phase from the event's words; `status` is the status-page word, if any, which
/// takes precedence because the author chose it.
pub fn classify(event: &str, status: Option<&str>) -> Phase {
    match status {
        Some("investigating") => return Phase::Investigating,
        Some("identified") => return Phase::Identified,
        Some("monitoring" | "mitigated" | "recovering" | "verifying") => return Phase::Mitigated,
        Some("resolved" | "completed") => return Phase::Resolved,
        Some("postmortem" | "post-mortem") => return Phase::Postmortem,
        _ => {}
    }
    let t = format!("{} ", event.to_lowercase());
    if any(&t, POSTMORTEM) {
        return Phase::Postmortem;
    }
    let mitigation_words = any(&t, MITIGATION_ACTIONS);
    if mitigation_words && any(&t, FAILED) {
        return Phase::Investigating;
    }
    if any(&t, RESOLVED) && !t.contains("not resolve") && !t.contains("unresolved") {
        return Phase::Resolved;
    }
    if any(&t, IDENTIFIED) {
        return Phase::Identified;
    }
    if mitigation_words {
        return Phase::Mitigated;
    }
    if any(&t, ACKNOWLEDGED) {
        return Phase::Acknowledged;
    }
    if any(&t, DETECTED) {
        return Phase::Detected;
    }
    if any(&t, STARTED_STRONG) {
        return Phase::Started;
    }
    if any(&t, INVESTIGATING) {
        return Phase::Investigating;
    }
    if any(&t, TRIGGER) {
        return Phase::Trigger;
    }
    if any(&t, STARTED_WEAK) {
        return Phase::Started;
    }
    Phase::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Phase {
        classify(s, None)
    }

    #[test]
    fn triggers() {
        assert_eq!(p("Feature flag push started"), Phase::Trigger);
        assert_eq!(p("Release 4.2 rollout begins"), Phase::Trigger);
        assert_eq!(p("Load balancer rule change applied"), Phase::Trigger);
        assert_eq!(p("Kernel upgrade begins"), Phase::Trigger);
        assert_eq!(p("Database migration kicked off"), Phase::Trigger);
    }

    #[test]
    fn started() {
        assert_eq!(p("Outage began in eu-west"), Phase::Started);
        assert_eq!(p("Checkout outage started"), Phase::Started);
        assert_eq!(p("Errors began on checkout"), Phase::Started);
        assert_eq!(p("Replica began experiencing lag after the deploy"), Phase::Started);
        assert_eq!(p("Cache node crashed"), Phase::Started);
    }

    #[test]
    fn detected_and_acknowledged() {
        assert_eq!(p("Alert fired for the SRE rota"), Phase::Detected);
        assert_eq!(p("Customers reported failures"), Phase::Detected);
        assert_eq!(p("Support noticed a ticket spike"), Phase::Detected);
        assert_eq!(p("Platform team member informed of an ingress problem by a tenant"), Phase::Detected);
        assert_eq!(p("On-call acknowledgement received"), Phase::Acknowledged);
        assert_eq!(p("On-call acked the page"), Phase::Acknowledged);
    }

    #[test]
    fn investigating_and_identified() {
        assert_eq!(p("Investigation and diagnosis"), Phase::Investigating);
        assert_eq!(p("Escalated to the DBA team"), Phase::Investigating);
        assert_eq!(p("Root cause found: a bad query"), Phase::Identified);
        assert_eq!(p("Incident identification"), Phase::Identified);
    }

    #[test]
    fn mitigation_and_failed_mitigation() {
        assert_eq!(p("Rollback of the flag succeeded"), Phase::Mitigated);
        assert_eq!(p("Restarting web nodes"), Phase::Mitigated);
        assert_eq!(p("Traffic drained from the region"), Phase::Mitigated);
        assert_eq!(p("Failover to the replica"), Phase::Mitigated);
        assert_eq!(p("Failed rollback of the flag"), Phase::Investigating);
        assert_eq!(p("Unsuccessful revert of the patch"), Phase::Investigating);
        assert_eq!(p("Rolled back; errors did not stop"), Phase::Investigating);
    }

    #[test]
    fn resolved_and_postmortem() {
        assert_eq!(p("All traffic back online"), Phase::Resolved);
        assert_eq!(p("Service fully restored"), Phase::Resolved);
        assert_eq!(p("All clear"), Phase::Resolved);
        // Recovery told by its observer is not a detection, though it names monitoring.
        assert_eq!(p("Monitoring shows the log shipper is now fine"), Phase::Resolved);
        assert_eq!(p("Checked that normal traffic has resumed and told the customer"), Phase::Resolved);
        assert_eq!(p("We resumed the deploy after the freeze"), Phase::Trigger);
        assert_eq!(p("The rollout has resumed"), Phase::Trigger, "a resumed change is no recovery");
        assert_eq!(p("Post-incident review written up"), Phase::Postmortem);
        assert_eq!(p("Postmortem published"), Phase::Postmortem);
        assert_eq!(p("Customer emails sent"), Phase::Other);
    }

    #[test]
    fn status_words_win() {
        assert_eq!(classify("investigating: elevated errors", Some("investigating")), Phase::Investigating);
        assert_eq!(classify("resolved: done", Some("resolved")), Phase::Resolved);
        assert_eq!(classify("monitoring: fix out", Some("monitoring")), Phase::Mitigated);
        assert_eq!(classify("update: rollback done", Some("update")), Phase::Mitigated);
    }

    #[test]
    fn keywords_match_word_starts_only() {
        assert_eq!(p("The team packed up for the night"), Phase::Other);
        assert_eq!(p("Escalated to the infra team for resolution"), Phase::Investigating);
        assert_eq!(p("Notice from a user that pages are blank"), Phase::Detected);
    }

    #[test]
    fn serialises_snake_case() {
        assert_eq!(serde_json::to_string(&Phase::Postmortem).unwrap_or_default(), "\"postmortem\"");
        assert_eq!(serde_json::to_string(&Phase::Acknowledged).unwrap_or_default(), "\"acknowledged\"");
    }
}
