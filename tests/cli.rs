//! End-to-end tests of the `rootline` binary: real model, real files, real processes.
//!
//! Covers the bad-input contract (one stderr line, exit 2, nothing lost), the Analysis shape and
//! its evidence offsets, bulk labelling in every input format, and resume after a kill.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rootline"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("ROOTLINE_LOG", "warn").env_remove("RUST_LOG");
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name)
}

/// Runs and returns (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_error(code: i32, stderr: &str, want: &str) {
    assert_eq!(code, 2, "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got: {stderr}");
    assert!(lines[0].contains(want), "{} lacks {want}", lines[0]);
    assert!(!stderr.contains("panicked"));
}

fn chars(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

/// Checks an Analysis against the contract and the report it came from.
fn check_analysis(a: &Value, report: &str) {
    let rc = &a["root_cause"];
    let labels = ["config_change", "dependency_bug", "resource_leak", "deployment", "other"];
    assert!(labels.contains(&rc["label"].as_str().unwrap()));
    let sum: f64 = rc["scores"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "scores sum to {sum}");
    let ev = rc["evidence"].as_array().unwrap();
    assert!(!ev.is_empty() && ev.len() <= 3 * (1 + rc["contributing"].as_array().unwrap().len()));
    for e in ev {
        let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(chars(report, s, t), e["text"].as_str().unwrap());
    }
    for e in a["timeline"].as_array().unwrap() {
        let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(chars(report, s, t), e["time_text"].as_str().unwrap());
    }
    assert!(a["metrics"].is_object() && a["entities"].is_object() && a["warnings"].is_array());
    assert_eq!(a["model"]["embedder"], "all-MiniLM-L6-v2");
}

#[test]
fn analyze_names_the_cause_quotes_evidence_and_extracts_the_timeline() {
    let path = fixture("bgp-filter-change.md");
    let report = fs::read_to_string(&path).unwrap();
    let (code, out, err) = run(bin().arg("analyze").arg(&path));
    assert_eq!(code, 0, "{err}");
    let a: Value = serde_json::from_str(&out).unwrap();
    check_analysis(&a, &report);
    assert_eq!(a["root_cause"]["label"], "config_change", "{}", a["root_cause"]);
    let tl = a["timeline"].as_array().unwrap();
    assert_eq!(tl.len(), 6);
    assert_eq!(tl[0]["timestamp"], "2025-09-18T10:12:00+01:00");
    assert_eq!(a["metrics"]["time_to_resolve_s"].as_i64(), Some(44 * 60));
}

#[test]
fn train_refuses_a_non_positive_temperature_scale() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "-1", "NaN"] {
        let (c, _, e) = run(bin()
            .args(["train", "--data", "data/train.jsonl", &format!("--temperature-scale={bad}"), "--out"])
            .arg(dir.path().join("h.safetensors")));
        assert_one_line_error(c, &e, "--temperature-scale");
        assert!(!dir.path().join("h.safetensors").exists());
    }
}

#[test]
fn analyze_reads_stdin() {
    let report = fs::read_to_string(fixture("sqlite-wal-growth.txt")).unwrap();
    let mut child =
        bin().arg("analyze").arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), report.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_analysis(&a, &report);
    assert_eq!(a["root_cause"]["label"], "resource_leak", "{}", a["root_cause"]);
}

#[test]
fn analyze_bad_inputs_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "  \n").unwrap();
    let junk = dir.path().join("junk.bin");
    fs::write(&junk, [0xffu8, 0xfe, 0x00, 0x81]).unwrap();
    let (c, _, e) = run(bin().arg("analyze").arg(dir.path().join("missing.txt")));
    assert_one_line_error(c, &e, "missing.txt");
    let (c, _, e) = run(bin().arg("analyze").arg(&empty));
    assert_one_line_error(c, &e, "empty");
    let (c, _, e) = run(bin().arg("analyze").arg(&junk));
    assert_one_line_error(c, &e, "UTF-8");
}

#[test]
fn embed_writes_normalised_vectors_and_skips_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    fs::write(&input, "{\"id\":\"a\",\"text\":\"disk full on db-1\"}\nthis is not json\n{\"id\":\"b\",\"text\":\"rollback of 2.3\"}\n").unwrap();
    let (code, _, err) = run(bin().args(["embed", "--input"]).arg(&input).arg("--output").arg(&output));
    assert_eq!(code, 2, "a skipped line makes the exit status 2: {err}");
    assert!(err.contains("line 2"), "{err}");
    let rows: Vec<Value> =
        fs::read_to_string(&output).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["id"], "b");
    let v: Vec<f64> = rows[0]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(v.len(), 384);
    assert!((v.iter().map(|x| x * x).sum::<f64>().sqrt() - 1.0).abs() < 1e-4);
}

#[test]
fn embed_bad_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let empty = dir.path().join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let junk = dir.path().join("junk.jsonl");
    fs::write(&junk, [0u8, 159, 146, 150, 0xff, 0xfe, 7, 8]).unwrap();
    let (c, _, e) =
        run(bin().args(["embed", "--input"]).arg(dir.path().join("nope.jsonl")).arg("--output").arg(&out));
    assert_one_line_error(c, &e, "nope.jsonl");
    let (c, _, e) = run(bin().args(["embed", "--input"]).arg(&empty).arg("--output").arg(&out));
    assert_one_line_error(c, &e, "no records");
    let (c, _, e) = run(bin().args(["embed", "--input"]).arg(&junk).arg("--output").arg(&out));
    assert_eq!(c, 2);
    assert!(e.contains("line 1") && !e.contains("panicked"), "{e}");
}

#[test]
fn fetch_model_into_unwritable_folder_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a folder must be: unwritable even for root, unlike chmod.
    let blocker = dir.path().join("models");
    fs::write(&blocker, "not a folder").unwrap();
    let (c, _, e) = run(bin().arg("--model-dir").arg(blocker.join("all-MiniLM-L6-v2")).arg("fetch-model"));
    assert_one_line_error(c, &e, "cannot write");
}

#[test]
fn explicit_model_dir_that_is_not_a_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _, e) =
        run(bin().arg("--model-dir").arg(dir.path()).arg("analyze").arg(fixture("sqlite-wal-growth.txt")));
    assert_eq!(c, 1, "{e}");
    assert!(e.contains("not a sentence-transformers folder"), "{e}");
}

fn ids_in(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn label_reads_jsonl_csv_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let report = fs::read_to_string(fixture("sqlite-wal-growth.txt")).unwrap();
    let csv = dir.path().join("in.csv");
    let quoted = report.replace('"', "\"\"");
    fs::write(&csv, format!("id,text\nC-1,\"{quoted}\"\nC-2,\nC-3,\"Fibre cut between the two data centres, 40 minutes down.\"\n")).unwrap();
    let out = dir.path().join("csv.jsonl");
    let (code, _, err) = run(bin().args(["label", "--input"]).arg(&csv).arg("--output").arg(&out));
    assert_eq!(code, 2, "one empty record was skipped: {err}");
    assert!(err.contains("line 4") || err.contains("C-2"), "{err}");
    assert_eq!(ids_in(&out), ["C-1", "C-3"]);

    let folder = dir.path().join("reports");
    fs::create_dir(&folder).unwrap();
    fs::copy(fixture("bgp-filter-change.md"), folder.join("INC-7731.md")).unwrap();
    fs::copy(fixture("sqlite-wal-growth.txt"), folder.join("OPS-5512.txt")).unwrap();
    let out = dir.path().join("folder.jsonl");
    let (code, _, err) = run(bin().args(["label", "--input"]).arg(&folder).arg("--output").arg(&out));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("labelled 2 reports"), "summary line: {err}");
    assert_eq!(ids_in(&out), ["INC-7731", "OPS-5512"]);
    for line in fs::read_to_string(&out).unwrap().lines() {
        let a: Value = serde_json::from_str(line).unwrap();
        let src = if a["id"] == "INC-7731" { "bgp-filter-change.md" } else { "sqlite-wal-growth.txt" };
        check_analysis(&a, &fs::read_to_string(fixture(src)).unwrap());
    }
}

#[test]
fn label_resume_after_kill_yields_each_id_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    let base = fs::read_to_string(fixture("sqlite-wal-growth.txt")).unwrap();
    let mut lines = String::new();
    for i in 0..24 {
        // Distinct texts so nothing is served from the cache between runs.
        let text = format!("{base}\nVariant {i}: the affected node was worker-{i}.");
        lines.push_str(&serde_json::json!({"id": format!("R-{i:02}"), "text": text}).to_string());
        lines.push('\n');
    }
    fs::write(&input, lines).unwrap();
    let mut child = bin()
        .args(["label", "--chunk", "1", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ids_in(&output).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = ids_in(&output).len();
    assert!((3..24).contains(&before), "killed mid-run after {before} records");
    // Simulate the torn final write a kill can leave behind.
    let mut f = fs::OpenOptions::new().append(true).open(&output).unwrap();
    std::io::Write::write_all(&mut f, b"{\"id\":\"R-99\",\"root_cau").unwrap();
    drop(f);
    let (code, _, err) =
        run(bin().args(["label", "--resume", "--input"]).arg(&input).arg("--output").arg(&output));
    assert_eq!(code, 0, "{err}");
    let mut ids = ids_in(&output);
    assert_eq!(ids.len(), 24, "each id exactly once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24);
    assert!(fs::read_to_string(&output).unwrap().lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
}

#[test]
fn eval_prints_metrics_and_the_keyword_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gold.jsonl");
    let mut s = String::new();
    for (name, label) in
        [("bgp-filter-change.md", "config_change"), ("sqlite-wal-growth.txt", "resource_leak")]
    {
        let text = fs::read_to_string(fixture(name)).unwrap();
        s.push_str(
            &serde_json::json!({"id": name, "text": text, "primary": label, "confidence": "high",
                "kind": if name.ends_with(".md") { Some("full") } else { None }})
            .to_string(),
        );
        s.push('\n');
    }
    fs::write(&data, s).unwrap();
    // Compared with itself, a head disagrees on nothing: the comparison must pair the same items.
    let (code, out, err) = run(bin()
        .args(["eval", "--json", "--compare-head", "models/rootcause-head.safetensors", "--data"])
        .arg(&data));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["all"]["n"], 2);
    let items: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(items, ["bgp-filter-change.md", "sqlite-wal-growth.txt"], "items in input order");
    let cmp = &v["head_comparison"];
    assert_eq!(cmp["report"]["accuracy"], v["all"]["accuracy"]);
    assert_eq!(
        (cmp["paired"]["only_first_right"].as_u64(), cmp["paired"]["only_second_right"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(cmp["paired"]["p_value"], 1.0);
    // A second head that is not a head fails before any scoring, as one line, with no output.
    let (code, out, err) = run(bin()
        .args(["eval", "--compare-head"])
        .arg(fixture("bgp-filter-change.md"))
        .arg("--data")
        .arg(&data));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.is_empty() && err.trim().lines().count() == 1 && err.contains("bgp-filter-change.md"),
        "{err}"
    );
    assert_eq!(v["all"]["accuracy"], 1.0);
    // Two of two right: the Wilson interval is [0.342, 1], wide because two items prove little.
    let ci = v["all"]["accuracy_ci95"].as_array().unwrap();
    assert!((ci[0].as_f64().unwrap() - 0.342).abs() < 0.001 && ci[1] == 1.0, "{ci:?}");
    let cmp = &v["keyword_comparison"];
    assert_eq!(cmp["n"], 2);
    assert_eq!(cmp["only_second_right"], 0, "rootline is right on both, so keywords cannot win one");
    assert!(cmp["p_value"].as_f64().unwrap() > 0.4, "at most two disagreements cannot be significant");
    assert_eq!(v["high_confidence"]["n"], 2);
    assert!(v["keyword_baseline"]["accuracy"].is_number());
    assert_eq!(v["all"]["confusion"].as_array().unwrap().len(), 5);
    // Both right, so every item sits in a bin with accuracy 1 and NLL is -ln of the confidences.
    let bins = v["calibration"]["bins"].as_array().unwrap();
    assert_eq!(bins.iter().map(|b| b["n"].as_u64().unwrap()).sum::<u64>(), 2);
    assert!(bins.iter().filter(|b| b["n"] != 0).all(|b| b["accuracy"] == 1.0));
    let nll = v["calibration"]["nll"].as_f64().unwrap();
    assert!(nll > 0.0 && nll < 0.7, "two right answers cost little: {nll}");
    assert_eq!(v["contributing"]["n"], 2, "both primaries right, so both score contributing labels");
    // One item has a kind, one has none: two rows that add up to all items.
    let kinds: Vec<(&str, u64)> = v["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["n"].as_u64().unwrap()))
        .collect();
    assert_eq!(kinds, [("(none)", 1), ("full", 1)]);
}

#[test]
fn help_lists_every_contract_command() {
    let (code, out, _) = run(bin().arg("--help"));
    assert_eq!(code, 0);
    for c in ["analyze", "label", "embed", "eval", "train", "fetch-model"] {
        assert!(out.contains(c), "--help lacks {c}");
    }
    let (code, _, err) = run(bin().arg("no-such-command"));
    assert_eq!(code, 2, "{err}");
}
