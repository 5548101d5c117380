//! The committed root-cause head: it reproduces the test-split metrics recorded inside it, its
//! evidence always quotes the report, and training on real reports is exactly reproducible.

use std::fs;
use std::path::Path;

use rootline::classify::head::Head;
use rootline::classify::train::{featurize, head_metrics};
use rootline::embed::cache::EmbeddingCache;
use rootline::pipeline::{load_embedder, Analyzer};
use rootline::records::{self, Record};
use rootline::settings::Settings;

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn labelled(p: &str) -> Vec<Record> {
    records::read(&repo(p)).unwrap().map(|r| r.unwrap()).collect()
}

#[test]
fn committed_head_reproduces_its_recorded_test_metrics() {
    let head = Head::load(&repo("models/rootcause-head.safetensors")).unwrap();
    let recorded = &head.meta.record["test"];
    let embedder = load_embedder(&Settings::default()).unwrap();
    let recs = labelled("data/test.jsonl");
    let ex = featurize(&embedder, &EmbeddingCache::new(50_000), &recs, &head.meta.labels, 8192).unwrap();
    let m = head_metrics(&head, &ex);
    assert_eq!(m.n, recorded["n"].as_u64().unwrap() as usize);
    // Float summation order may differ across CPUs; one flipped item of 100 is tolerated.
    assert!(
        (m.accuracy - recorded["accuracy"].as_f64().unwrap()).abs() <= 0.011,
        "{} vs {recorded}",
        m.accuracy
    );
    assert!((m.macro_f1 - recorded["macro_f1"].as_f64().unwrap()).abs() <= 0.02);
    assert!(m.accuracy >= 0.7, "the committed head should be far above chance: {}", m.accuracy);
}

#[test]
fn evidence_quotes_the_report_and_scores_sum_to_one_on_test_reports() {
    let analyzer = Analyzer::load(&Settings::default()).unwrap();
    // Every fourth test report: all voices and classes, at a quarter of the cost.
    let recs: Vec<Record> = labelled("data/test.jsonl").into_iter().step_by(4).collect();
    let items: Vec<(Option<String>, &str)> =
        recs.iter().map(|r| (Some(r.id.clone()), r.text.as_str())).collect();
    for (r, a) in recs.iter().zip(analyzer.analyze_batch(&items)) {
        let a = a.unwrap();
        let rc = &a.root_cause;
        let sum: f32 = rc.scores.0.iter().map(|(_, p)| p).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{}: scores sum {sum}", r.id);
        assert!(!rc.evidence.is_empty(), "{}: no evidence", r.id);
        for e in &rc.evidence {
            let quoted: String = r.text.chars().skip(e.start).take(e.end - e.start).collect();
            assert_eq!(quoted, e.text, "{}", r.id);
            assert!(e.label == rc.label || rc.contributing.contains(&e.label));
        }
    }
}

#[test]
fn training_twice_on_real_reports_writes_identical_heads() {
    let dir = tempfile::tempdir().unwrap();
    let take = |src: &str, n: usize, dst: &str| {
        let lines: Vec<String> =
            fs::read_to_string(repo(src)).unwrap().lines().step_by(9).take(n).map(String::from).collect();
        fs::write(dir.path().join(dst), lines.join("\n") + "\n").unwrap();
    };
    take("data/train.jsonl", 30, "train.jsonl");
    take("data/validation.jsonl", 10, "validation.jsonl");
    // `rootline train --epochs 60 [extra…]` on the sample, writing to `out`.
    let train = |extra: &[&str], out: &Path| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_rootline"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("ROOTLINE_LOG", "warn")
            .args(["train", "--epochs", "60"])
            .args(extra)
            .arg("--data")
            .arg(dir.path().join("train.jsonl"))
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    };
    let mut outs = Vec::new();
    for i in 0..2 {
        let out = dir.path().join(format!("head{i}.safetensors"));
        train(&[], &out);
        outs.push(fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1], "training must be bitwise reproducible");
    let head = Head::load(&dir.path().join("head0.safetensors")).unwrap();
    assert_eq!(head.meta.record["n_train"], 30);
    let fitted = head.meta.record["temperature_fitted_on_validation"].as_f64().unwrap() as f32;
    assert_eq!(head.meta.temperature, fitted, "scale 1 keeps the fitted temperature");

    // The committed head is trained with a temperature scale; the head records both values.
    let wide = dir.path().join("wide.safetensors");
    train(&["--temperature-scale", "1.5"], &wide);
    let wide = Head::load(&wide).unwrap();
    assert_eq!(wide.meta.record["temperature_fitted_on_validation"].as_f64().unwrap() as f32, fitted);
    assert!((wide.meta.temperature - 1.5 * fitted).abs() < 1e-6);
    assert_eq!(wide.meta.record["options"]["temperature_scale"], 1.5);
    assert_eq!(wide.weight, head.weight, "the scale touches calibration, not the fitted weights");
}

#[test]
fn regression_p3_103_chat_note_opening_with_a_channel_name_still_gets_evidence() {
    // p3-103 opened with `#build-infra:`; it was read as a markdown heading, every sentence fell
    // under the evidence floor, and the Analysis quoted nothing.
    let analyzer = Analyzer::load(&Settings::default()).unwrap();
    let text = "#ops-alerts: queue-3 stalled at 02:40, disk full. old snapshots filled /data, removed them";
    let a = analyzer.analyze(None, text).unwrap();
    assert!(!a.root_cause.evidence.is_empty());
    let e = &a.root_cause.evidence[0];
    assert_eq!(text.chars().skip(e.start).take(e.end - e.start).collect::<String>(), e.text);
}

#[test]
fn very_short_reports_carry_a_warning_and_longer_ones_do_not() {
    let analyzer = Analyzer::load(&Settings::default()).unwrap();
    let short = analyzer.analyze(None, "site down").unwrap();
    assert!(short.warnings.iter().any(|w| w.contains("very short (2 words)")), "{:?}", short.warnings);
    let text = "The checkout service failed for 40 minutes on Tuesday. The root cause was a feature flag \
                that an engineer enabled for every region at once instead of one canary region first.";
    let long = analyzer.analyze(None, text).unwrap();
    assert!(!long.warnings.iter().any(|w| w.contains("very short")), "{:?}", long.warnings);
}

#[test]
fn evidence_skips_bold_line_headings() {
    // Student-style write-ups mark sections with bold lines. They are headings: evidence quotes
    // the content under them (the weights themselves are unit-tested in `classify::cues`).
    let analyzer = Analyzer::load(&Settings::default()).unwrap();
    let text = "**Issue Summary:**\nThe grading portal was down for 40 minutes.\n\n**Timeline (UTC):**\n\
- **13:02**: uptime check failed.\n- **13:20**: restarted the app, no change.\n\n\
**Root Cause:**\n\n**What went wrong?**\nThe sessions volume had filled up with orphaned upload \
chunks, so every write failed. We purged the chunks and added a cleanup job.";
    let a = analyzer.analyze(None, text).unwrap();
    assert!(!a.root_cause.evidence.is_empty());
    for e in &a.root_cause.evidence {
        assert!(!e.text.trim().starts_with("**"), "a heading was quoted: {:?}", e.text);
    }
    assert_eq!(a.root_cause.label, "resource_leak", "{:?}", a.root_cause.scores);
}
