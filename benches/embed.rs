//! Embedding throughput (tokens/s) at batch sizes 1, 8 and 32, on short sentences and on
//! 256-token passages. Run with `cargo bench --bench embed`; needs the model (fetched on first use).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rootline::settings::Settings;

const SENTENCES: &[&str] = &[
    "The checkout service returned HTTP 502 for eleven minutes after the config push.",
    "Memory on the ingest workers grew steadily until the OOM killer restarted them.",
    "We rolled back release 4.2.1 and error rates returned to normal.",
    "An upstream payment provider timed out on roughly a third of requests.",
    "The on-call engineer acknowledged the page four minutes later.",
    "Root cause: the connection pool limit was lowered from 200 to 20.",
    "DNS resolution failed for internal hosts after the resolver change.",
    "Disk usage on the log volume reached 100% and writes began to fail.",
];

fn passage(seed: usize) -> String {
    // Deterministic 256-token-ish passage from our own sentences, rotated per seed.
    let mut s = String::new();
    let mut i = seed;
    while s.split_whitespace().count() < 230 {
        s.push_str(SENTENCES[i % SENTENCES.len()]);
        s.push(' ');
        i += 3;
    }
    s
}

fn bench(c: &mut Criterion) {
    let e = rootline::pipeline::load_embedder(&Settings::default()).expect("model");
    let passages: Vec<String> = (0..32).map(passage).collect();
    for (kind, texts) in [
        ("short", (0..32).map(|i| SENTENCES[i % SENTENCES.len()].to_string()).collect::<Vec<_>>()),
        ("passage256", passages),
    ] {
        let mut g = c.benchmark_group(format!("embed_{kind}"));
        g.sample_size(10);
        for &b in &[1usize, 8, 32] {
            let batch: Vec<&str> = texts.iter().take(b).map(String::as_str).collect();
            let tokens: usize = batch.iter().map(|t| e.encode(t).map(|x| x.len()).unwrap_or(0)).sum();
            g.throughput(Throughput::Elements(tokens as u64));
            g.bench_with_input(BenchmarkId::from_parameter(b), &batch, |bn, batch| {
                bn.iter(|| e.embed(batch, usize::MAX).expect("embed"))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
