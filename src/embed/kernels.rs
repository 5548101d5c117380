//! Element-wise kernels of the native BERT forward (`bert.rs`): exp, erf/GELU, softmax, layer
//! norm fused with bias and residual.
//!
//! Why our own: libm's `expf`/`erf` are scalar calls per element and showed up in the candle profile.
//! These are branch-free polynomial forms (Cephes-style exp, Abramowitz-Stegun 7.1.26 erf) that
//! LLVM vectorises. Every slice-level entry point is defined through `multiversion!`, which
//! compiles the loop once for AVX2+FMA (x86-64-v3) and once for the baseline ISA and picks one at
//! run time, so one binary is fast here and still runs on older CPUs. (A closure handed to
//! `pulp::Arch::dispatch` was measured to stay baseline SSE2 code, with `floorf` as a libm call.)
//! Accuracy is pinned against f64 reference implementations in the tests below.

/// Defines a function whose body is compiled twice, for AVX2+FMA and for the baseline ISA, and
/// picks one per call by run-time CPU detection (`is_x86_feature_detected!` caches the answer).
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) {
            #[inline(always)]
            fn imp($($a: $t),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx,avx2,fma")]
                unsafe fn v3($($a: $t),*) {
                    imp($($a),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: `v3` requires only AVX2 and FMA, both detected on this CPU just above.
                    return unsafe { v3($($a),*) };
                }
            }
            imp($($a),*)
        }
    };
}

/// The activation between the two feed-forward matmuls (`hidden_act` in config.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: x·Φ(x) with the exact erf, as PyTorch's default GELU.
    GeluErf,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    GeluTanh,
    /// `relu`.
    Relu,
}

/// e^x for x in about [-87, 88] (clamped outside), relative error about 2e-7.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // Plain comparisons rather than f32::clamp/max: those carry NaN rules that stop LLVM from
    // emitting a single vminps/vmaxps, and the loop falls back to scalar code.
    let x = if x < -87.3 { -87.3 } else { x };
    let x = if x > 88.3 { 88.3 } else { x };
    // Range reduction x = n·ln2 + r with ln2 split in two so r keeps its low bits.
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2^n without a float-to-int cast (Rust's saturating `as i32` does not vectorise): adding
    // 1.5·2^23 puts the integer n + 127 in the low mantissa bits, and shifting by 23 moves it into
    // the exponent field. n + 127 stays within [1, 254] thanks to the clamp.
    let biased = (n + (127.0 + 12_582_912.0)).to_bits() << 23;
    y * f32::from_bits(biased)
}

/// erf(x), absolute error below 5e-7 in f32 (Abramowitz & Stegun 7.1.26, 1.5e-7 in exact
/// arithmetic): after the 0.5·x factor of GELU that is far below the model's own f32 noise.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let mut p = 1.061_405_4;
    p = p * t - 1.453_152;
    p = p * t + 1.421_413_7;
    p = p * t - 0.284_496_72;
    p = p * t + 0.254_829_6;
    let y = 1.0 - p * t * exp(-a * a);
    y.copysign(x)
}

/// Applies `act` to one value.
#[inline(always)]
fn activate(x: f32, act: Activation) -> f32 {
    match act {
        Activation::GeluErf => 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)),
        Activation::GeluTanh => {
            let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
            // tanh(u) = 1 - 2/(e^{2u}+1), stable at both ends given exp's clamp.
            0.5 * x * (2.0 - 2.0 / (exp(2.0 * u) + 1.0))
        }
        Activation::Relu => x.max(0.0),
    }
}

/// Sum with eight independent accumulators so the loop vectorises without reassociation.
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

multiversion! {
    /// `rows[i] = act(rows[i] + bias)` for every row of width `bias.len()`.
    pub fn bias_act(rows: &mut [f32], bias: &[f32], act: Activation) {
        for row in rows.chunks_exact_mut(bias.len()) {
            for (x, b) in row.iter_mut().zip(bias) {
                *x = activate(*x + b, act);
            }
        }
    }
}

multiversion! {
    /// `rows[i] += bias` for every row of width `bias.len()`.
    pub fn add_bias(rows: &mut [f32], bias: &[f32]) {
        for row in rows.chunks_exact_mut(bias.len()) {
            for (x, b) in row.iter_mut().zip(bias) {
                *x += b;
            }
        }
    }
}

multiversion! {
    /// `rows[i] = LayerNorm(rows[i] + bias + residual[i])` with weight `gamma` and bias `beta`: the
    /// BERT "Add & Norm" in one pass over memory.
    pub fn add_layer_norm(
        rows: &mut [f32],
        bias: &[f32],
        residual: &[f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
    ) {
        let w = gamma.len();
        for (row, res) in rows.chunks_exact_mut(w).zip(residual.chunks_exact(w)) {
            for ((x, b), r) in row.iter_mut().zip(bias).zip(res) {
                *x += b + r;
            }
            norm_row(row, gamma, beta, eps);
        }
    }
}

multiversion! {
    /// `rows[i] = LayerNorm(rows[i])`.
    pub fn layer_norm(rows: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let w = gamma.len();
        for row in rows.chunks_exact_mut(w) {
            norm_row(row, gamma, beta, eps);
        }
    }
}

/// Two-pass (mean, then centred variance) like PyTorch, so large offsets do not cancel.
#[inline(always)]
fn norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    let mut acc = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let mut tail = 0f32;
    for x in chunks.remainder() {
        tail += (x - mean) * (x - mean);
    }
    for c in chunks {
        for i in 0..8 {
            let d = c[i] - mean;
            acc[i] += d * d;
        }
    }
    let var = (acc.iter().sum::<f32>() + tail) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *x = (*x - mean) * inv * g + b;
    }
}

multiversion! {
    /// Softmax of each row of width `width`, in place.
    pub fn softmax_rows(rows: &mut [f32], width: usize) {
        for row in rows.chunks_exact_mut(width) {
            let mut m = [f32::MIN; 8];
            let chunks = row.chunks_exact(8);
            let mut mt = f32::MIN;
            for x in chunks.remainder() {
                mt = mt.max(*x);
            }
            for c in chunks {
                for i in 0..8 {
                    m[i] = if c[i] > m[i] { c[i] } else { m[i] };
                }
            }
            let max = m.iter().fold(mt, |a, b| a.max(*b));
            for x in row.iter_mut() {
                *x = exp(*x - max);
            }
            let inv = 1.0 / sum(row);
            for x in row.iter_mut() {
                *x *= inv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erf64(x: f64) -> f64 {
        if x.abs() <= 2.5 {
            // Maclaurin series: converges with little cancellation for |x| <= 2.5.
            let (mut term, mut s) = (x, x);
            for n in 1..200 {
                term *= -x * x / n as f64;
                s += term / (2 * n + 1) as f64;
            }
            return s * 2.0 / std::f64::consts::PI.sqrt();
        }
        // erfc(|x|) = 2/√π ∫_{|x|}^{|x|+8} e^{-t²} dt by Simpson's rule (the tail beyond is < e^-100).
        let (a, n) = (x.abs(), 20_000);
        let h = 8.0 / n as f64;
        let f = |t: f64| (-t * t).exp();
        let mut acc = f(a) + f(a + 8.0);
        for i in 1..n {
            acc += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        let erfc = acc * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt();
        (1.0 - erfc).copysign(x)
    }

    fn grid() -> impl Iterator<Item = f32> {
        (-4000..=4000).map(|i| i as f32 * 0.0025)
    }

    #[test]
    fn exp_matches_f64() {
        for x in (-8000..=8000).map(|i| i as f32 * 0.01) {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            assert!(((got - want) / want).abs() < 5e-7, "exp({x}) = {got}, want {want}");
        }
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn erf_and_gelu_match_f64() {
        for x in grid() {
            let want = erf64(x as f64);
            assert!((erf(x) as f64 - want).abs() < 5e-7, "erf({x}) = {}, want {want}", erf(x));
            let g = activate(x, Activation::GeluErf) as f64;
            let gw = 0.5 * x as f64 * (1.0 + erf64(x as f64 / 2f64.sqrt()));
            assert!((g - gw).abs() < 1e-6 * (1.0 + x.abs() as f64), "gelu({x}) = {g}, want {gw}");
            let t = activate(x, Activation::GeluTanh) as f64;
            let xd = x as f64;
            let tw = 0.5
                * xd
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (xd + 0.044715 * xd.powi(3))).tanh());
            assert!((t - tw).abs() < 1e-6 * (1.0 + xd.abs()), "gelu_tanh({x})");
        }
    }

    #[test]
    fn bias_act_applies_bias_then_activation() {
        let mut rows = vec![-1.0, 0.0, 1.0, 2.0, 3.0, -3.0];
        bias_act(&mut rows, &[1.0, -1.0, 0.5], Activation::Relu);
        assert_eq!(rows, vec![0.0, 0.0, 1.5, 3.0, 2.0, 0.0]);
    }

    #[test]
    fn softmax_matches_f64() {
        let width = 37; // not a multiple of 8: exercises the tails
        let rows: Vec<f32> = (0..width * 3).map(|i| ((i * 7919) % 101) as f32 * 0.37 - 15.0).collect();
        let mut got = rows.clone();
        softmax_rows(&mut got, width);
        for (r, g) in rows.chunks(width).zip(got.chunks(width)) {
            let max = r.iter().fold(f64::MIN, |a, &b| a.max(b as f64));
            let z: f64 = r.iter().map(|&x| (x as f64 - max).exp()).sum();
            for (&x, &y) in r.iter().zip(g) {
                let want = (x as f64 - max).exp() / z;
                assert!((y as f64 - want).abs() < 1e-6, "{y} vs {want}");
            }
        }
    }

    #[test]
    fn add_layer_norm_matches_f64() {
        let w = 20;
        let x: Vec<f32> = (0..w * 2).map(|i| (i as f32 * 0.731).sin() * 3.0 + 100.0).collect();
        let res: Vec<f32> = (0..w * 2).map(|i| (i as f32 * 0.17).cos()).collect();
        let bias: Vec<f32> = (0..w).map(|i| i as f32 * 0.01).collect();
        let gamma: Vec<f32> = (0..w).map(|i| 1.0 + i as f32 * 0.05).collect();
        let beta: Vec<f32> = (0..w).map(|i| -(i as f32) * 0.02).collect();
        let mut got = x.clone();
        add_layer_norm(&mut got, &bias, &res, &gamma, &beta, 1e-12);
        for r in 0..2 {
            let v: Vec<f64> =
                (0..w).map(|i| x[r * w + i] as f64 + bias[i] as f64 + res[r * w + i] as f64).collect();
            let mean = v.iter().sum::<f64>() / w as f64;
            let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / w as f64;
            for i in 0..w {
                let want = (v[i] - mean) / (var + 1e-12).sqrt() * gamma[i] as f64 + beta[i] as f64;
                assert!((got[r * w + i] as f64 - want).abs() < 2e-4, "{} vs {want}", got[r * w + i]);
            }
        }
        let mut plain = x[..w].to_vec();
        layer_norm(&mut plain, &gamma, &beta, 1e-12);
        let mean = plain.iter().zip(&beta).zip(&gamma).map(|((a, b), g)| (a - b) / g).sum::<f32>();
        assert!(mean.abs() < 1e-3, "normalised row has mean {mean}");
    }
}
