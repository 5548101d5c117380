//! Bulk commands: `label` and `embed`, streaming records in and JSONL out.
//!
//! Output is appended and flushed batch by batch, so a killed run keeps everything it finished;
//! `label --resume` drops a torn last line and skips ids already written. Bad records are reported
//! on stderr with their location and skipped; the exit status is then 2 though all good records
//! were written.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::pipeline::{load_embedder, Analyzer};
use crate::records::{self, BadRecord, Record};
use crate::settings::Settings;

/// Counts how many records an input holds, for the progress bar (cheap: folders list, files count
/// lines; CSV over-counts multi-line fields, which only makes the bar finish early).
fn estimate_total(input: &Path) -> Option<u64> {
    match records::detect_format(input).ok()? {
        records::Format::Folder => Some(fs::read_dir(input).ok()?.count() as u64),
        records::Format::Jsonl | records::Format::Csv => {
            let f = File::open(input).ok()?;
            Some(BufReader::new(f).split(b'\n').count() as u64)
        }
    }
}

fn progress(total: Option<u64>) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    // stderr() draws only on a terminal, so logs and CI output stay clean.
    pb.set_draw_target(ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

fn report_bad(pb: &ProgressBar, bad: &BadRecord, skipped: &mut usize) {
    *skipped += 1;
    pb.suspend(|| eprintln!("rootline: skipped {bad}"));
}

/// Opens the output for appending after resume bookkeeping; returns the ids already there.
fn open_output(output: &Path, resume: bool) -> Result<(BufWriter<File>, HashSet<String>)> {
    let unwritable =
        |e: std::io::Error| Error::Unwritable { path: output.to_path_buf(), reason: e.to_string() };
    let mut done = HashSet::new();
    if resume && output.exists() {
        let mut f = OpenOptions::new().read(true).write(true).open(output).map_err(unwritable)?;
        let mut keep = 0u64;
        let mut reader = BufReader::new(&mut f);
        let mut line = Vec::new();
        let mut pos = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(unwritable)?;
            if n == 0 {
                break;
            }
            pos += n as u64;
            // A line without its newline is the torn write of a killed run: drop it.
            if line.last() != Some(&b'\n') {
                break;
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) {
                if let Some(id) = v.get("id").and_then(|i| i.as_str()) {
                    done.insert(id.to_string());
                }
            }
            keep = pos;
        }
        drop(reader);
        f.set_len(keep).map_err(unwritable)?;
        f.seek(SeekFrom::End(0)).map_err(unwritable)?;
        return Ok((BufWriter::new(f), done));
    }
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(unwritable)?;
    }
    let f = File::create(output).map_err(unwritable)?;
    Ok((BufWriter::new(f), done))
}

/// `rootline label`.
pub fn run_label(s: &Settings, input: &Path, output: &Path, resume: bool, chunk: usize) -> Result<()> {
    let recs = records::read(input)?;
    let total = estimate_total(input);
    let (mut out, done) = open_output(output, resume)?;
    let analyzer = Analyzer::load(s)?;
    let pb = progress(total);
    let started = Instant::now();
    let mut seen: HashSet<String> = HashSet::new();
    let (mut skipped, mut written, mut resumed) = (0usize, 0usize, 0usize);
    let mut per_label: BTreeMap<String, usize> = BTreeMap::new();
    let mut pending: Vec<Record> = Vec::new();
    let mut flush =
        |pending: &mut Vec<Record>, out: &mut BufWriter<File>, skipped: &mut usize| -> Result<()> {
            if pending.is_empty() {
                return Ok(());
            }
            let items: Vec<(Option<String>, &str)> =
                pending.iter().map(|r| (Some(r.id.clone()), r.text.as_str())).collect();
            for (rec, res) in pending.iter().zip(analyzer.analyze_batch(&items)) {
                match res {
                    Ok(a) => {
                        *per_label.entry(a.root_cause.label.clone()).or_default() += 1;
                        serde_json::to_writer(&mut *out, &a).map_err(|e| Error::Internal(e.to_string()))?;
                        out.write_all(b"\n")?;
                        written += 1;
                    }
                    Err(e) => report_bad(
                        &pb,
                        &BadRecord { location: format!("id {}", rec.id), reason: e.to_string() },
                        skipped,
                    ),
                }
            }
            out.flush()?;
            pb.inc(pending.len() as u64);
            pending.clear();
            Ok(())
        };
    for rec in recs {
        match rec {
            Err(bad) => {
                pb.inc(1);
                report_bad(&pb, &bad, &mut skipped)
            }
            Ok(r) if done.contains(&r.id) => {
                resumed += 1;
                pb.inc(1);
            }
            Ok(r) if !seen.insert(r.id.clone()) => {
                pb.inc(1);
                report_bad(
                    &pb,
                    &BadRecord {
                        location: format!("id {}", r.id),
                        reason: "duplicate id; first kept".into(),
                    },
                    &mut skipped,
                )
            }
            Ok(r) => {
                pending.push(r);
                if pending.len() >= chunk.max(1) {
                    flush(&mut pending, &mut out, &mut skipped)?;
                }
            }
        }
    }
    flush(&mut pending, &mut out, &mut skipped)?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let labels: Vec<String> = per_label.iter().map(|(l, n)| format!("{l}={n}")).collect();
    eprintln!(
        "rootline: labelled {written} reports in {secs:.1} s ({:.2} reports/s); {}; {resumed} already done; {skipped} skipped",
        written as f64 / secs,
        if labels.is_empty() { "no labels".to_string() } else { labels.join(" ") }
    );
    finish(written + resumed, skipped, input)
}

/// Exit policy for bulk commands: no usable record at all, or any skipped, is bad input (exit 2).
fn finish(good: usize, skipped: usize, input: &Path) -> Result<()> {
    if good == 0 && skipped == 0 {
        return Err(Error::input_file(input, "input holds no records"));
    }
    if skipped > 0 {
        return Err(Error::input_file(input, format!("{skipped} bad record(s) skipped; {good} written")));
    }
    Ok(())
}

/// `rootline embed`.
pub fn run_embed(s: &Settings, input: &Path, output: &Path) -> Result<()> {
    if records::detect_format(input)? != records::Format::Jsonl {
        return Err(Error::input_file(input, "embed reads JSONL ({\"id\",\"text\"} a line)"));
    }
    let recs = records::read(input)?;
    let (mut out, _) = open_output(output, false)?;
    let embedder = load_embedder(s)?;
    let pb = progress(estimate_total(input));
    let (mut skipped, mut written) = (0usize, 0usize);
    let mut pending: Vec<Record> = Vec::new();
    let mut flush = |pending: &mut Vec<Record>, out: &mut BufWriter<File>| -> Result<()> {
        let texts: Vec<&str> = pending.iter().map(|r| r.text.as_str()).collect();
        let vecs = embedder.embed(&texts, s.batch_tokens)?;
        for (r, v) in pending.iter().zip(vecs) {
            serde_json::to_writer(&mut *out, &serde_json::json!({"id": r.id, "embedding": v}))
                .map_err(|e| Error::Internal(e.to_string()))?;
            out.write_all(b"\n")?;
            written += 1;
        }
        out.flush()?;
        pb.inc(pending.len() as u64);
        pending.clear();
        Ok(())
    };
    for rec in recs {
        match rec {
            Err(bad) => report_bad(&pb, &bad, &mut skipped),
            Ok(r) => {
                pending.push(r);
                if pending.len() >= 64 {
                    flush(&mut pending, &mut out)?;
                }
            }
        }
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut out)?;
    }
    pb.finish_and_clear();
    finish(written, skipped, input)
}
