//! The native BERT encoder: a forward pass on plain f32 slices with the `gemm` crate, tuned for a
//! few CPU cores.
//!
//! Why not candle's `BertModel`: profiled at 256-token batches, most of its time went to thread
//! pool spinning between many small parallel ops, fresh allocations per op (page faults),
//! transposes + contiguous copies in attention, and scalar libm `expf`/`erf`. This module:
//! - packs the batch: sequences are laid end to end with no padding, so every matmul does only
//!   real tokens' work and attention needs no mask (padding keys get zero weight in PyTorch too, so
//!   vectors are the same);
//! - fuses Q, K and V into one matmul, and reads per-head slices with strides (no transposes);
//! - runs everything after attention (output projection, Add & Norm, the feed-forward block, the
//!   second Add & Norm and the next layer's QKV projection) per block of rows while it is in cache,
//!   one rayon task per block with single-threaded gemm, so each layer has just two parallel
//!   phases instead of a fork-join per op;
//! - keeps per-thread scratch buffers across calls instead of allocating per op.
//!
//! It loads any BERT-family sentence-transformers checkpoint (config.json sizes, weight names with
//! or without a `bert.` prefix); anything it does not understand is an error, and the caller falls
//! back to candle.

use std::cell::RefCell;
use std::path::Path;

use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use super::kernels::{self, Activation};

/// Sizes and options read from a BERT `config.json`.
#[derive(Debug, Clone)]
pub struct BertConfig {
    hidden: usize,
    heads: usize,
    layers: usize,
    intermediate: usize,
    eps: f32,
    max_positions: usize,
    act: Activation,
}

impl BertConfig {
    /// Parses the fields the forward needs; rejects what it cannot run exactly (e.g. relative
    /// position embeddings) so the caller can fall back.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let num = |k: &str| {
            v.get(k).and_then(|x| x.as_u64()).map(|x| x as usize).ok_or(format!("config.json: no {k}"))
        };
        let act = match v.get("hidden_act").and_then(|x| x.as_str()).unwrap_or("gelu") {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => return Err(format!("hidden_act {other} not supported natively")),
        };
        match v.get("position_embedding_type").and_then(|x| x.as_str()) {
            None | Some("absolute") => {}
            Some(other) => return Err(format!("position_embedding_type {other} not supported natively")),
        }
        let c = BertConfig {
            hidden: num("hidden_size")?,
            heads: num("num_attention_heads")?,
            layers: num("num_hidden_layers")?,
            intermediate: num("intermediate_size")?,
            eps: v.get("layer_norm_eps").and_then(|x| x.as_f64()).unwrap_or(1e-12) as f32,
            max_positions: num("max_position_embeddings")?,
            act,
        };
        if c.heads == 0 || c.hidden % c.heads != 0 {
            return Err(format!("hidden_size {} not divisible by {} heads", c.hidden, c.heads));
        }
        Ok(c)
    }
}

/// One linear layer, weight stored transposed (`in x out`, row-major) for the gemm.
struct Linear {
    w: Vec<f32>,
    b: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

struct Layer {
    qkv: Linear,
    out: Linear,
    ln1: (Vec<f32>, Vec<f32>),
    ffn_in: Linear,
    ffn_out: Linear,
    ln2: (Vec<f32>, Vec<f32>),
}

/// A loaded BERT encoder.
pub struct Bert {
    cfg: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_ln: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

/// Reads tensors by name from a safetensors file, tolerating a `bert.` prefix and the old
/// `gamma`/`beta` LayerNorm names.
struct Weights<'a> {
    st: SafeTensors<'a>,
    prefix: &'static str,
}

impl Weights<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let alts = [
            name.to_string(),
            name.replace("LayerNorm.weight", "LayerNorm.gamma"),
            name.replace("LayerNorm.bias", "LayerNorm.beta"),
        ];
        let t = alts
            .iter()
            .find_map(|n| self.st.tensor(&format!("{}{n}", self.prefix)).ok())
            .ok_or_else(|| format!("weight {}{name} missing", self.prefix))?;
        if t.shape() != shape {
            return Err(format!("weight {name}: shape {:?}, expected {shape:?}", t.shape()));
        }
        let d = t.data();
        let v: Vec<f32> = match t.dtype() {
            Dtype::F32 => d.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => {
                d.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
            }
            Dtype::BF16 => {
                d.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
            }
            other => return Err(format!("weight {name}: dtype {other:?} not supported")),
        };
        Ok(v)
    }

    /// A PyTorch `nn.Linear` (`out x in` weight), transposed to `in x out`.
    fn linear(&self, name: &str, n_in: usize, n_out: usize) -> Result<Linear, String> {
        let w = self.get(&format!("{name}.weight"), &[n_out, n_in])?;
        let b = self.get(&format!("{name}.bias"), &[n_out])?;
        Ok(Linear { w: transpose(&w, n_out, n_in), b, n_in, n_out })
    }

    fn norm(&self, name: &str, n: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
        Ok((self.get(&format!("{name}.weight"), &[n])?, self.get(&format!("{name}.bias"), &[n])?))
    }
}

fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

impl Bert {
    /// Loads `config.json` and `model.safetensors` from a sentence-transformers folder.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let raw = std::fs::read(dir.join("config.json")).map_err(|e| format!("config.json: {e}"))?;
        let json: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| format!("config.json: {e}"))?;
        let cfg = BertConfig::from_json(&json)?;
        let bytes =
            std::fs::read(dir.join("model.safetensors")).map_err(|e| format!("model.safetensors: {e}"))?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| format!("model.safetensors: {e}"))?;
        let prefix = if st.tensor("bert.embeddings.word_embeddings.weight").is_ok() { "bert." } else { "" };
        let w = Weights { st, prefix };
        let h = cfg.hidden;
        let word_t =
            w.st.tensor(&format!("{prefix}embeddings.word_embeddings.weight"))
                .map_err(|e| format!("word embeddings: {e}"))?;
        let vocab = *word_t.shape().first().ok_or("word embeddings: empty shape")?;
        let word = w.get("embeddings.word_embeddings.weight", &[vocab, h])?;
        let position = w.get("embeddings.position_embeddings.weight", &[cfg.max_positions, h])?;
        let tt =
            w.st.tensor(&format!("{prefix}embeddings.token_type_embeddings.weight"))
                .map_err(|e| format!("token type embeddings: {e}"))?;
        let types = *tt.shape().first().ok_or("token type embeddings: empty shape")?;
        let mut token_type0 = w.get("embeddings.token_type_embeddings.weight", &[types, h])?;
        token_type0.truncate(h);
        let emb_ln = w.norm("embeddings.LayerNorm", h)?;
        let mut layers = Vec::with_capacity(cfg.layers);
        for l in 0..cfg.layers {
            let p = format!("encoder.layer.{l}");
            let (q, k, v) = (
                w.linear(&format!("{p}.attention.self.query"), h, h)?,
                w.linear(&format!("{p}.attention.self.key"), h, h)?,
                w.linear(&format!("{p}.attention.self.value"), h, h)?,
            );
            // Fused QKV: row i of the `in x 3h` weight is [q_i | k_i | v_i].
            let mut qkv_w = Vec::with_capacity(h * 3 * h);
            for i in 0..h {
                for m in [&q, &k, &v] {
                    qkv_w.extend_from_slice(&m.w[i * h..(i + 1) * h]);
                }
            }
            let qkv_b = [q.b, k.b, v.b].concat();
            layers.push(Layer {
                qkv: Linear { w: qkv_w, b: qkv_b, n_in: h, n_out: 3 * h },
                out: w.linear(&format!("{p}.attention.output.dense"), h, h)?,
                ln1: w.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                ffn_in: w.linear(&format!("{p}.intermediate.dense"), h, cfg.intermediate)?,
                ffn_out: w.linear(&format!("{p}.output.dense"), cfg.intermediate, h)?,
                ln2: w.norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Bert { cfg, word, position, token_type0, emb_ln, layers })
    }

    /// Hidden size (the embedding width before pooling).
    pub fn hidden(&self) -> usize {
        self.cfg.hidden
    }

    /// Longest sequence the position table allows.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_positions
    }

    /// Runs the encoder over sequences laid end to end: `ids` holds every sequence's tokens,
    /// `lens` their lengths. Returns the last hidden state, `ids.len() x hidden`, row-major.
    pub fn forward(&self, ids: &[u32], lens: &[usize]) -> Result<Vec<f32>, String> {
        let (h, t) = (self.cfg.hidden, ids.len());
        if lens.iter().sum::<usize>() != t {
            return Err("sequence lengths do not add up to the token count".into());
        }
        if let Some(&l) = lens.iter().find(|&&l| l > self.cfg.max_positions) {
            return Err(format!("sequence of {l} tokens exceeds {} positions", self.cfg.max_positions));
        }
        let vocab = self.word.len() / h;
        if let Some(&bad) = ids.iter().find(|&&i| i as usize >= vocab) {
            return Err(format!("token id {bad} outside the vocabulary"));
        }
        let mut positions = Vec::with_capacity(t);
        let mut starts = Vec::with_capacity(lens.len());
        for &l in lens {
            starts.push(positions.len());
            positions.extend(0..l);
        }
        let block = rows_per_task(t);
        let mut hidden = vec![0f32; t * h];
        let mut qkv = vec![0f32; t * 3 * h];
        let mut ctx = vec![0f32; t * h];

        // Embeddings + LayerNorm, then layer 0's QKV projection, per block of rows.
        hidden.par_chunks_mut(block * h).zip(qkv.par_chunks_mut(block * 3 * h)).enumerate().for_each(
            |(bi, (hs, qs))| {
                let first = bi * block;
                for (r, row) in hs.chunks_exact_mut(h).enumerate() {
                    let (id, pos) = (ids[first + r] as usize, positions[first + r]);
                    let (we, pe) = (&self.word[id * h..(id + 1) * h], &self.position[pos * h..(pos + 1) * h]);
                    for (((x, a), b), c) in row.iter_mut().zip(we).zip(pe).zip(&self.token_type0) {
                        *x = a + b + c;
                    }
                }
                kernels::layer_norm(hs, &self.emb_ln.0, &self.emb_ln.1, self.cfg.eps);
                linear(hs, &self.layers[0].qkv, qs);
                kernels::add_bias(qs, &self.layers[0].qkv.b);
            },
        );

        for (li, layer) in self.layers.iter().enumerate() {
            self.attention(&qkv, &mut ctx, &starts, lens);
            let next = self.layers.get(li + 1);
            hidden
                .par_chunks_mut(block * h)
                .zip(qkv.par_chunks_mut(block * 3 * h))
                .zip(ctx.par_chunks(block * h))
                .for_each(|((hs, qs), cs)| self.post_attention(layer, next, hs, qs, cs));
        }
        Ok(hidden)
    }

    /// Everything between one layer's attention and the next layer's attention, for a block of
    /// rows: hs <- LN2(FFN(LN1(ctx·Wo + bo + hs)) + ...), then the next layer's QKV into `qs`.
    fn post_attention(
        &self,
        layer: &Layer,
        next: Option<&Layer>,
        hs: &mut [f32],
        qs: &mut [f32],
        cs: &[f32],
    ) {
        let (h, rows) = (self.cfg.hidden, hs.len() / self.cfg.hidden);
        with_scratch(|s| {
            let (a, inter) = s.take(rows * h, rows * self.cfg.intermediate);
            linear(cs, &layer.out, a);
            kernels::add_layer_norm(a, &layer.out.b, hs, &layer.ln1.0, &layer.ln1.1, self.cfg.eps);
            linear(a, &layer.ffn_in, inter);
            kernels::bias_act(inter, &layer.ffn_in.b, self.cfg.act);
            linear(inter, &layer.ffn_out, hs);
            kernels::add_layer_norm(hs, &layer.ffn_out.b, a, &layer.ln2.0, &layer.ln2.1, self.cfg.eps);
            if let Some(n) = next {
                linear(hs, &n.qkv, qs);
                kernels::add_bias(qs, &n.qkv.b);
            }
        });
    }

    /// Multi-head self-attention of every sequence, reading Q, K and V out of the fused `qkv`
    /// rows by stride and writing each head's output into its columns of `ctx`.
    fn attention(&self, qkv: &[f32], ctx: &mut [f32], starts: &[usize], lens: &[usize]) {
        let (h, heads) = (self.cfg.hidden, self.cfg.heads);
        let d = h / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let ctx_ptr = SendPtr(ctx.as_mut_ptr());
        let ctx_len = ctx.len();
        (0..lens.len() * heads).into_par_iter().for_each(|item| {
            let (s, hd) = (item / heads, item % heads);
            let (start, len) = (starts[s], lens[s]);
            if len == 0 {
                return;
            }
            let rs = 3 * h;
            let base = start * rs + hd * d;
            let q = &qkv[base..base + (len - 1) * rs + d];
            let k = &qkv[base + h..base + h + (len - 1) * rs + d];
            let v = &qkv[base + 2 * h..base + 2 * h + (len - 1) * rs + d];
            with_scratch(|sc| {
                let (scores, _) = sc.take(len * len, 0);
                // scores = scale · Q Kᵀ: K read column-wise (row stride 1, column stride 3h).
                matmul(len, len, d, scores, len, q, rs, k, 1, rs, scale);
                kernels::softmax_rows(scores, len);
                let off = start * h + hd * d;
                assert!(off + (len - 1) * h + d <= ctx_len);
                // SAFETY: every (sequence, head) item writes only rows start..start+len, columns
                // hd·d..hd·d+d of `ctx`: disjoint from every other item, in bounds by the assert,
                // and `ctx` outlives this parallel loop. A raw pointer because safe slices cannot
                // express a strided column block; splitting per head would cost a copy.
                unsafe {
                    gemm_raw(len, d, len, ctx_ptr.get().add(off), h, scores, len, v, rs, 1, 1.0);
                }
            });
        });
    }
}

/// Below this many rows a matmul is split across threads by output columns instead of by rows:
/// gemm runs at a third of its speed on 8-row blocks (measured: ~16 vs ~50 GFLOP/s per core), and
/// a column split also halves the weights each core streams.
const COLUMN_SPLIT_ROWS: usize = 64;

/// Rows per parallel task: small enough that a block's intermediates stay in L2 and both cores get
/// work, large enough to amortise gemm's packing (128 beat 64, 256 and 512 by 5-20% in tokens per
/// CPU-second on 8 x 256-token batches). Short inputs are one task (see
/// [`COLUMN_SPLIT_ROWS`]).
fn rows_per_task(tokens: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    if tokens < COLUMN_SPLIT_ROWS || threads == 1 {
        return tokens.clamp(1, 128);
    }
    tokens.div_ceil(threads).clamp(1, 128)
}

/// `out = x · W` for a block of rows (bias is applied by the caller's fused epilogue).
fn linear(x: &[f32], lin: &Linear, out: &mut [f32]) {
    let rows = x.len() / lin.n_in;
    let threads = rayon::current_num_threads();
    if rows >= COLUMN_SPLIT_ROWS || threads < 2 || lin.n_out < 64 {
        matmul(rows, lin.n_out, lin.n_in, out, lin.n_out, x, lin.n_in, &lin.w, lin.n_out, 1, 1.0);
        return;
    }
    assert!(out.len() >= rows * lin.n_out);
    let parts = threads.min(lin.n_out / 32);
    // Column blocks in multiples of 16 so gemm's 16-wide microkernel has no ragged edges inside.
    let width = lin.n_out.div_ceil(parts).next_multiple_of(16);
    let dst = SendPtr(out.as_mut_ptr());
    (0..parts).into_par_iter().for_each(|p| {
        let j0 = (p * width).min(lin.n_out);
        let n = (lin.n_out - j0).min(width);
        if n == 0 {
            return;
        }
        // SAFETY: part p writes only columns j0..j0+n of the rows x n_out `out` (bounds asserted
        // above), disjoint from every other part, and `out` outlives the parallel loop.
        unsafe {
            gemm_raw(
                rows,
                n,
                lin.n_in,
                dst.get().add(j0),
                lin.n_out,
                x,
                lin.n_in,
                &lin.w[j0..],
                lin.n_out,
                1,
                1.0,
            );
        }
    });
}

/// `dst[m x n] = scale · lhs[m x k] · rhs[k x n]`, row-major `dst` and `lhs` with the given row
/// strides, `rhs` element (i, j) at `rhs[i·rhs_rs + j·rhs_cs]`. Bounds-checked, single-threaded.
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    scale: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * dst_rs + n <= dst.len());
    // SAFETY: the assert above bounds dst; gemm_raw checks lhs and rhs against their slices.
    unsafe { gemm_raw(m, n, k, dst.as_mut_ptr(), dst_rs, lhs, lhs_rs, rhs, rhs_rs, rhs_cs, scale) }
}

/// The one call into `gemm`: `dst = scale · lhs · rhs` (dst overwritten), no threading of its own
/// (the caller parallelises over row blocks), so there is no pool spinning between calls.
///
/// # Safety
/// `dst` must be valid for writes at `i·dst_rs + j` for i < m, j < n, and not aliased by another
/// thread's writes to those elements during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    scale: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!((m - 1) * lhs_rs + k <= lhs.len(), "lhs out of bounds");
        assert!((k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len(), "rhs out of bounds");
    }
    // SAFETY: lhs/rhs reads are in bounds by the asserts; dst validity is the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            false,
            lhs.as_ptr(),
            1,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// A raw pointer that may cross into rayon tasks; see the SAFETY notes where it is used.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used to hand disjoint regions of one buffer to parallel tasks (`attention`,
// `linear`).
unsafe impl Send for SendPtr {}
// SAFETY: as above; the pointer itself is never written through by two tasks at the same place.
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// Method access so closures capture the whole (Send) wrapper, not the raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Per-thread scratch reused across calls: allocating megabytes per op meant fresh pages (and page
/// faults) every time.
#[derive(Default)]
struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

impl Scratch {
    fn take(&mut self, na: usize, nb: usize) -> (&mut [f32], &mut [f32]) {
        if self.a.len() < na {
            self.a.resize(na, 0.0);
        }
        if self.b.len() < nb {
            self.b.resize(nb, 0.0);
        }
        (&mut self.a[..na], &mut self.b[..nb])
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers, moved out of the thread-local for the duration.
/// A borrow must not be held across `f`: `linear` may fork into rayon, and a worker that waits on
/// a fork steals other tasks, which may reach here again on the same thread (a nested
/// `borrow_mut` would panic). The re-entrant caller simply finds empty buffers and allocates.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut s = SCRATCH.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let out = f(&mut s);
    SCRATCH.with(|c| *c.borrow_mut() = s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_naive_with_strides() {
        let (m, n, k) = (5, 7, 3);
        let lhs: Vec<f32> = (0..m * 4).map(|i| i as f32 * 0.5 - 3.0).collect(); // row stride 4
        let rhs: Vec<f32> = (0..n * k).map(|i| (i as f32).sin()).collect(); // (i, j) at j*k + i
        let mut dst = vec![0f32; m * n];
        matmul(m, n, k, &mut dst, n, &lhs, 4, &rhs, 1, k, 2.0);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| lhs[i * 4 + p] * rhs[j * k + p]).sum::<f32>() * 2.0;
                assert!((dst[i * n + j] - want).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn config_rejects_what_it_cannot_run() {
        let ok = serde_json::json!({"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
            "intermediate_size": 16, "max_position_embeddings": 4});
        assert!(BertConfig::from_json(&ok).is_ok());
        let mut rel = ok.clone();
        rel["position_embedding_type"] = "relative_key".into();
        assert!(BertConfig::from_json(&rel).is_err());
        let mut bad = ok;
        bad["num_attention_heads"] = 3.into();
        assert!(BertConfig::from_json(&bad).is_err());
    }
}
