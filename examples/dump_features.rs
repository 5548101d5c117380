//! Research aid: writes each report's head inputs (the dense features and the causal-weighted word
//! counts that `rootline train` fits) as JSONL,
//! so regularisation and feature-block choices can be compared offline on the validation split
//! without re-embedding. Not part of the product.
//!
//! `cargo run --release --example dump_features -- IN.jsonl OUT.jsonl`

use std::io::Write;

use rootline::classify;
use rootline::embed::cache::EmbeddingCache;
use rootline::settings::Settings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = (&args[1], &args[2]);
    let embedder = rootline::pipeline::load_embedder(&Settings::default())?;
    let cache = EmbeddingCache::new(0);
    let recs: Vec<_> = rootline::records::read(std::path::Path::new(input))?.filter_map(Result::ok).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for chunk in recs.chunks(16) {
        let texts: Vec<&str> = chunk.iter().map(|r| r.text.as_str()).collect();
        for (r, p) in chunk.iter().zip(classify::prepare(&embedder, &cache, &texts, 8192)?) {
            let line = serde_json::json!({"id": r.id, "features": p.features, "terms": p.terms});
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
