//! Research aid: dumps each report's sentences with their cue facts and embeddings as JSONL, so
//! head designs can be compared offline without re-embedding. Not part of the product.
//!
//! `cargo run --release --example dump_sentences -- IN.jsonl OUT.jsonl`

use std::io::Write;

use rootline::classify::{cues, features};
use rootline::settings::Settings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = (&args[1], &args[2]);
    let embedder = rootline::pipeline::load_embedder(&Settings::default())?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for rec in rootline::records::read(std::path::Path::new(input))? {
        let Ok(r) = rec else { continue };
        let spans = rootline::text::sentences(&r.text);
        let infos = features::sentence_infos(&r.text, &spans);
        let sections = cues::cause_sections(&r.text, &spans);
        let texts: Vec<&str> = spans.iter().map(|s| s.text(&r.text)).collect();
        let embs = embedder.embed(&texts, 8192)?;
        let ptexts: Vec<&str> = infos.iter().flat_map(|i| i.phrase_texts(&r.text)).collect();
        let pembs = embedder.embed(&ptexts, 8192)?;
        let mut pit = ptexts.iter().zip(&pembs);
        let sents: Vec<_> = infos
            .iter()
            .zip(&embs)
            .zip(&sections)
            .map(|((i, e), sec)| {
                let phrases: Vec<_> = i
                    .phrases
                    .iter()
                    .map(|(_, w)| {
                        let (t, pe) = pit.next().expect("one embedding per phrase");
                        serde_json::json!({"text": t, "w": w, "counts": cues::class_counts(t), "emb": pe})
                    })
                    .collect();
                serde_json::json!({"text": i.span.text(&r.text), "weight": i.weight, "counts": i.counts,
                                   "section": sec, "emb": e, "phrases": phrases})
            })
            .collect();
        let line = serde_json::json!({"id": r.id, "primary": r.primary, "contributing": r.contributing,
            "confidence": r.confidence, "text": r.text, "sentences": sents});
        writeln!(out, "{line}")?;
    }
    Ok(())
}
