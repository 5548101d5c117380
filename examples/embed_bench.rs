//! Times `Embedder::embed` on a JSONL corpus at a fixed batch size and prints one JSON line.
//!
//! The rootline half of `bench/vs-pytorch.sh`: an example binary rather than a CLI subcommand so
//! the benchmark needs no change to the user-facing command line. Texts are embedded in input
//! order, `--batch` at a time, exactly as sentence-transformers' `encode(batch_size=...)` would
//! see them, and the whole corpus is timed `--runs` times (the median is reported).
//!
//! Usage: `embed_bench --input FILE.jsonl --batch N [--runs R] [--warmup W] [--model-dir DIR]
//! [--max-tokens N] [--vectors OUT.jsonl]`

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rootline::embed::Embedder;

struct Args {
    input: PathBuf,
    batch: usize,
    runs: usize,
    warmup: usize,
    model_dir: PathBuf,
    max_tokens: usize,
    vectors: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        input: PathBuf::new(),
        batch: 32,
        runs: 3,
        warmup: 1,
        model_dir: PathBuf::from("models/all-MiniLM-L6-v2"),
        max_tokens: 256,
        vectors: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => a.input = val()?.into(),
            "--batch" => a.batch = val()?.parse()?,
            "--runs" => a.runs = val()?.parse()?,
            "--warmup" => a.warmup = val()?.parse()?,
            "--model-dir" => a.model_dir = val()?.into(),
            "--max-tokens" => a.max_tokens = val()?.parse()?,
            "--vectors" => a.vectors = Some(val()?.into()),
            other => bail!("unknown flag {other}"),
        }
    }
    if a.input.as_os_str().is_empty() {
        bail!("--input FILE.jsonl is required");
    }
    Ok(a)
}

/// CPU seconds (user + system) this process has used so far, from /proc; None off Linux. On a
/// shared machine, tokens per CPU-second is steadier than wall-clock throughput.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Peak resident set (VmHWM) of this process in MiB, from /proc; None off Linux.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let file = std::fs::File::open(&args.input).with_context(|| args.input.display().to_string())?;
    let mut texts = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        texts.push(v["text"].as_str().context("each line needs a \"text\" string")?.to_string());
    }
    let embedder = Embedder::load(&args.model_dir, args.max_tokens)?;
    let tokens: usize =
        texts.iter().map(|t| embedder.encode(t).map(|e| e.len())).sum::<rootline::error::Result<usize>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batch = args.batch.max(1);
    let run_once = || -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(batch) {
            // No token budget: the batch is exactly `batch` texts, like sentence-transformers.
            out.extend(embedder.embed(chunk, usize::MAX)?);
        }
        Ok(out)
    };
    for _ in 0..args.warmup {
        run_once()?;
    }
    let cpu0 = cpu_seconds();
    let mut secs = Vec::with_capacity(args.runs);
    let mut vectors = Vec::new();
    for _ in 0..args.runs.max(1) {
        let t = Instant::now();
        vectors = run_once()?;
        secs.push(t.elapsed().as_secs_f64());
    }
    let cpu_per_run = cpu_seconds().zip(cpu0).map(|(b, a)| (b - a) / secs.len() as f64);
    secs.sort_by(|a, b| a.total_cmp(b));
    let median = secs[secs.len() / 2];
    if let Some(path) = &args.vectors {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        for v in &vectors {
            writeln!(w, "{}", serde_json::to_string(v)?)?;
        }
    }
    let report = serde_json::json!({
        "engine": "rootline",
        "texts": texts.len(),
        "batch": batch,
        "tokens": tokens,
        "runs": secs,
        "median_s": median,
        "tokens_per_s": tokens as f64 / median,
        "cpu_s_per_run": cpu_per_run,
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{report}");
    Ok(())
}
