//! Parity: candle embeddings agree with PyTorch sentence-transformers (cosine > 0.999) on the
//! reference texts, including one longer than the 256-token window (pins truncation).
//!
//! The fixture holds the reference numbers copied from the team's shared reference set.

use rootline::embed::{cosine, Embedder};
use rootline::settings::Settings;

#[derive(serde::Deserialize)]
struct Item {
    text: String,
    tokens_untruncated: usize,
    embedding: Vec<f32>,
}

#[derive(serde::Deserialize)]
struct Fixture {
    items: Vec<Item>,
}

fn fixture() -> Fixture {
    let raw =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/minilm-reference.json"))
            .unwrap();
    serde_json::from_str(&raw).unwrap()
}

fn embedder() -> Embedder {
    rootline::pipeline::load_embedder(&Settings::default()).expect("model loads (fetched on first use)")
}

#[test]
fn every_reference_vector_agrees_batched() {
    let fx = fixture();
    let e = embedder();
    let texts: Vec<&str> = fx.items.iter().map(|i| i.text.as_str()).collect();
    let got = e.embed(&texts, 8192).unwrap();
    for (item, v) in fx.items.iter().zip(&got) {
        assert_eq!(v.len(), 384);
        let c = cosine(v, &item.embedding);
        assert!(c > 0.999, "cosine {c} for {:?}", &item.text[..item.text.len().min(40)]);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}

#[test]
fn batching_and_padding_do_not_change_vectors() {
    let fx = fixture();
    let e = embedder();
    let texts: Vec<&str> = fx.items.iter().map(|i| i.text.as_str()).collect();
    let batched = e.embed(&texts, 8192).unwrap();
    // Tiny budget: every text alone, no padding at all.
    let single = e.embed(&texts, 1).unwrap();
    for (a, b) in batched.iter().zip(&single) {
        assert!(cosine(a, b) > 0.99999);
    }
}

#[test]
fn tokenizer_counts_match_reference_lengths() {
    let fx = fixture();
    let e = embedder();
    for item in &fx.items {
        // The reference counts include [CLS] and [SEP].
        assert_eq!(e.count_tokens(&item.text).unwrap() + 2, item.tokens_untruncated, "{}", item.text);
        assert!(e.encode(&item.text).unwrap().len() <= 256);
    }
}

#[test]
fn regression_concurrent_short_batches_do_not_reenter_scratch_buffers() {
    // Short inputs split matmuls across rayon inside a task that held thread-local scratch
    // buffers; a worker that stole a second task while waiting panicked with "already borrowed".
    let fx = fixture();
    let e = std::sync::Arc::new(embedder());
    let texts: Vec<String> = fx.items.iter().map(|i| i.text.clone()).collect();
    let want = e.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>(), 8192).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (e, texts) = (e.clone(), texts.clone());
            std::thread::spawn(move || {
                (0..5)
                    .flat_map(|_| {
                        texts
                            .iter()
                            .map(|t| e.embed(&[t.as_str()], 8192).unwrap().remove(0))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        let got = h.join().expect("no panic under concurrency");
        for (i, v) in got.iter().enumerate() {
            assert!(cosine(v, &want[i % want.len()]) > 0.99999);
        }
    }
}
