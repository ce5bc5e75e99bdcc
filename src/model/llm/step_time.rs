//! The time of one engine iteration from the roofline: what the iteration computes (FLOPs)
//! against the GPU's peak, what it reads (the weights once, the KV cache of every scheduled
//! sequence) against its memory bandwidth, a per-layer overhead, and with tensor parallelism
//! two all-reduces per layer over the interconnect.
//!
//! It must not know about requests or the scheduler: the engine hands it the counts of one
//! iteration ([`Work`]) or of a run of identical decode iterations ([`DecodeRun`]).
//!
//! # The formula
//! Per GPU of `tp`, for an iteration that schedules `T` tokens, samples `S` sequences, attends
//! `K` keys in all and holds `kv` tokens of context after it (issue 16's prototype
//! `stepfit.py`, variant V5 "max form"):
//!
//! ```text
//! flops  = (2·P_matmul·T + 2·hidden·vocab·S + 4·layers·heads·head_dim·K) / tp
//! bytes  = (weight_bytes + kv_bytes_per_token·kv) / tp
//! t      = overhead_per_step + overhead_per_layer·layers
//!        + max(flops / (peak·eff_c), bytes / (bandwidth·eff_m))
//!        + [tp > 1] 2·layers·(allreduce_latency + 2(tp−1)/tp · T·hidden·dtype_bytes / (link·ar_eff))
//! ```
//!
//! A prefill chunk of `c` tokens after `a` computed ones attends `c·a + c(c+1)/2` keys and
//! leaves `a + c` tokens of context; a decode at context `n` attends `n` keys.
//!
//! # Integer time
//! Every term is linear in `T`, `S`, `K` and `kv`. [`StepCost`] rounds each per-unit cost to
//! whole **attoseconds** (10⁻¹⁸ s) once, when it is built; an iteration's time is then an exact
//! integer (`u128`), and so is the sum of any run of iterations. A key costs about 2 ps on the
//! RTX PRO 6000 (2,200 as), so the rounding is below 10⁻³ of every term. Engine clocks count
//! attoseconds too; they convert to [`SimTime`] nanoseconds (rounded down) only at the edges.
//!
//! # A run of decode iterations in closed form
//! While the batch does not change, `B` sequences each decode one token per iteration: the `j`-th
//! iteration of the run has `T = S = B`, `K = K₀ + j·B` and `kv = kv₀ + j·B`, so
//! `dt(j) = C + max(c₀ + j·c₁, m₀ + j·m₁)`, and the time of `k` iterations `S(k) = Σ_{j<k} dt(j)`
//! is two arithmetic series split at the one crossover of the two lines ([`DecodeRun::sum`]).
//! Being integers, it equals the iteration-by-iteration sum bit for bit (tested).

use super::arch::ModelArch;
use super::config::Coefficients;
use super::gpu::Gpu;
use crate::time::SimTime;

/// Attoseconds per second.
pub const ATTOS_PER_SECOND: f64 = 1e18;
/// Attoseconds per nanosecond (a [`SimTime`] tick).
pub const ATTOS_PER_NANO: u128 = 1_000_000_000;

/// `t` (attoseconds) as a [`SimTime`], rounded down to the nanosecond.
pub fn attos_to_time(t: u128) -> SimTime {
    SimTime::from_nanos(u64::try_from(t / ATTOS_PER_NANO).unwrap_or(u64::MAX))
}

/// `t` as attoseconds.
pub fn time_to_attos(t: SimTime) -> u128 {
    u128::from(t.as_nanos()) * ATTOS_PER_NANO
}

/// What one iteration computes and reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Tokens scheduled (`T`): prefill-chunk tokens plus one per decode.
    pub tokens: u64,
    /// Sequences that sample a token at the end of the iteration (`S`): the decodes and the
    /// prefills whose last chunk this is.
    pub samples: u64,
    /// Keys attended, summed over the scheduled tokens (`K`).
    pub keys: u64,
    /// Tokens of context whose KV cache the iteration reads or writes (`kv`): `a + c` summed
    /// over the scheduled sequences.
    pub kv_tokens: u64,
}

impl Work {
    /// Adds a sequence that computes `chunk` tokens after `computed` ones; `samples` if it
    /// reaches the end of its known tokens (a decode, or a prefill's last chunk).
    #[inline]
    pub fn add(&mut self, computed: u64, chunk: u64, samples: bool) {
        self.tokens += chunk;
        self.samples += u64::from(samples);
        self.keys += chunk * computed + chunk * (chunk + 1) / 2;
        self.kv_tokens += computed + chunk;
    }
}

/// One iteration's cost per unit of work, in whole attoseconds, for one (model, GPU, `tp`,
/// coefficients): built once, then an iteration costs a few multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCost {
    /// Compute time per scheduled token (the matrix multiplies) \[as\].
    pub per_token_compute: u64,
    /// Compute time per sampled sequence (the LM head) \[as\].
    pub per_sample_compute: u64,
    /// Compute time per attended key \[as\].
    pub per_key_compute: u64,
    /// Memory time of reading the weights once \[as\].
    pub weights_memory: u64,
    /// Memory time per token of context (its KV cache) \[as\].
    pub per_kv_token_memory: u64,
    /// Fixed time of every iteration: the overheads and the all-reduces' latency \[as\].
    pub fixed: u64,
    /// All-reduce transfer time per scheduled token (0 at `tp = 1`) \[as\].
    pub per_token_comm: u64,
}

fn attos(seconds: f64) -> u64 {
    // Rounded to nearest; `as` saturates (a NaN or negative gives 0).
    (seconds * ATTOS_PER_SECOND + 0.5) as u64
}

impl StepCost {
    /// The costs of `arch` on `tp` GPUs of type `gpu` with the efficiencies `co`.
    pub fn new(arch: &ModelArch, gpu: &Gpu, tp: u32, co: &Coefficients) -> Self {
        let tp_f = f64::from(tp.max(1));
        let flops_rate = gpu.fp16_flops * co.compute_efficiency;
        let bytes_rate = gpu.memory_bandwidth * co.memory_efficiency;
        let layers = f64::from(arch.layers);
        let hidden = f64::from(arch.hidden);
        let (fixed_comm, per_token_comm) = if tp > 1 {
            // Two all-reduces per layer (after attention and after the MLP), each of the
            // activations `T·hidden·dtype` bytes; a ring moves 2(tp−1)/tp of them per GPU.
            let lat = 2.0 * layers * co.allreduce_latency;
            let per_token =
                2.0 * layers * 2.0 * (tp_f - 1.0) / tp_f * hidden * f64::from(arch.dtype_bytes)
                    / (gpu.link_bandwidth * co.allreduce_efficiency);
            (lat, per_token)
        } else {
            (0.0, 0.0)
        };
        StepCost {
            per_token_compute: attos(2.0 * arch.matmul_params() as f64 / tp_f / flops_rate),
            per_sample_compute: attos(2.0 * hidden * f64::from(arch.vocab) / tp_f / flops_rate),
            per_key_compute: attos(
                4.0 * layers * f64::from(arch.heads) * f64::from(arch.head_dim) / tp_f / flops_rate,
            ),
            weights_memory: attos(arch.weight_bytes() as f64 / tp_f / bytes_rate),
            per_kv_token_memory: attos(arch.kv_bytes_per_token() as f64 / tp_f / bytes_rate),
            fixed: attos(co.overhead_per_step + co.overhead_per_layer * layers + fixed_comm),
            per_token_comm: attos(per_token_comm),
        }
    }

    /// One iteration's time \[as\]. An iteration that schedules nothing takes no time.
    #[inline]
    pub fn iteration(&self, w: &Work) -> u128 {
        if w.tokens == 0 {
            return 0;
        }
        let compute = u128::from(self.per_token_compute) * u128::from(w.tokens)
            + u128::from(self.per_sample_compute) * u128::from(w.samples)
            + u128::from(self.per_key_compute) * u128::from(w.keys);
        let memory = u128::from(self.weights_memory)
            + u128::from(self.per_kv_token_memory) * u128::from(w.kv_tokens);
        u128::from(self.fixed)
            + u128::from(self.per_token_comm) * u128::from(w.tokens)
            + compute.max(memory)
    }

    /// The run of decode iterations of `batch` sequences whose first iteration attends `keys`
    /// keys with `kv_tokens` tokens of context (its [`Work`] with `tokens = samples = batch`).
    pub fn decode_run(&self, batch: u64, keys: u64, kv_tokens: u64) -> DecodeRun {
        let b = u128::from(batch);
        DecodeRun {
            fixed: u128::from(self.fixed) + u128::from(self.per_token_comm) * b,
            c0: (u128::from(self.per_token_compute) + u128::from(self.per_sample_compute)) * b
                + u128::from(self.per_key_compute) * u128::from(keys),
            c1: u128::from(self.per_key_compute) * b,
            m0: u128::from(self.weights_memory)
                + u128::from(self.per_kv_token_memory) * u128::from(kv_tokens),
            m1: u128::from(self.per_kv_token_memory) * b,
        }
    }
}

/// A run of identical-batch decode iterations: `dt(j) = C + max(c₀ + j·c₁, m₀ + j·m₁)` \[as\].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRun {
    /// `C`: the fixed time plus the all-reduces' transfer of `B` tokens.
    pub fixed: u128,
    /// `c₀`: the compute time of the first iteration.
    pub c0: u128,
    /// `c₁`: the compute time added per iteration (`B` more keys attended).
    pub c1: u128,
    /// `m₀`: the memory time of the first iteration.
    pub m0: u128,
    /// `m₁`: the memory time added per iteration (`B` more tokens of context).
    pub m1: u128,
}

/// `Σ_{j<n} (a + j·d)`.
fn series(a: u128, d: u128, n: u128) -> u128 {
    if n == 0 {
        return 0;
    }
    a * n + d * (n * (n - 1) / 2)
}

impl DecodeRun {
    /// The `j`-th iteration's time (from 0).
    #[inline]
    pub fn dt(&self, j: u64) -> u128 {
        let j = u128::from(j);
        self.fixed + (self.c0 + j * self.c1).max(self.m0 + j * self.m1)
    }

    /// `S(k)`: the time of the first `k` iterations, in closed form. Equal, bit for bit, to
    /// `Σ_{j<k} dt(j)`.
    pub fn sum(&self, k: u64) -> u128 {
        let n = u128::from(k);
        // The first j at which the compute line is at or above the memory line; both lines
        // are straight, so they cross at most once.
        let cross = if self.c0 >= self.m0 {
            if self.c1 >= self.m1 {
                0 // compute from the start and for ever
            } else {
                // Memory catches up at the first j with m0 + j·m1 > c0 + j·c1.
                let j = (self.c0 - self.m0) / (self.m1 - self.c1) + 1;
                return self.fixed * n
                    + series(self.c0, self.c1, j.min(n))
                    + series(self.m0 + j.min(n) * self.m1, self.m1, n.saturating_sub(j));
            }
        } else if self.c1 > self.m1 {
            // Compute overtakes at the first j with c0 + j·c1 ≥ m0 + j·m1.
            (self.m0 - self.c0).div_ceil(self.c1 - self.m1)
        } else {
            n // memory for ever
        };
        let j = cross.min(n);
        self.fixed * n + series(self.m0, self.m1, j) + series(self.c0 + j * self.c1, self.c1, n - j)
    }

    /// The number of whole iterations that start before `t` after the run starts: the first
    /// `k` with `S(k) ≥ t` (0 when `t` is 0), searched in `0..=max`.
    pub fn started_before(&self, t: u128, max: u64) -> u64 {
        // S is increasing (dt > 0): binary search for the first k in 0..=max with S(k) >= t.
        let (mut lo, mut hi) = (0u64, max);
        if self.sum(hi) < t {
            return max;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.sum(mid) >= t {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::llm::gpu::InterconnectKind;

    /// Llama-3.1-8B, bf16, from the catalog (its config.json).
    pub(crate) fn llama_8b() -> ModelArch {
        let m = crate::model::llm::model_by_name("llama-3.1-8b").expect("in the catalog");
        assert_eq!(
            (m.params_total, m.layers, m.kv_heads),
            (8_030_261_248, 32, 8)
        );
        m
    }

    /// Qwen3-32B, bf16, from the catalog (its config.json).
    pub(crate) fn qwen3_32b() -> ModelArch {
        let m = crate::model::llm::model_by_name("qwen3-32b").expect("in the catalog");
        assert_eq!(
            (m.params_total, m.layers, m.kv_heads),
            (32_762_123_264, 64, 8)
        );
        m
    }

    /// RTX PRO 6000 Blackwell Server Edition, from the catalog: 96 GiB, 1,597 GB/s, 503.8
    /// TFLOPS dense bf16, PCIe Gen5 x16 at 64 GB/s per direction.
    pub(crate) fn rtx_pro_6000() -> Gpu {
        let g = crate::model::llm::gpu_by_name("rtx-pro-6000").expect("in the catalog");
        assert_eq!(
            (
                g.memory_bytes,
                g.memory_bandwidth,
                g.fp16_flops,
                g.link_bandwidth
            ),
            (96 << 30, 1597e9, 503.8e12, 64e9)
        );
        g
    }

    /// Round numbers for hand computation: peak 1e15 FLOP/s, 1e12 B/s, link 1e11 B/s; all
    /// efficiencies 1; overhead 10 µs per layer; all-reduce latency 5 µs.
    fn round_gpu() -> Gpu {
        Gpu {
            name: "round".into(),
            memory_bytes: 80 << 30,
            memory_bandwidth: 1e12,
            fp16_flops: 1e15,
            fp8_flops: None,
            interconnect: InterconnectKind::NvLink,
            link_bandwidth: 1e11,
        }
    }

    fn round_co() -> Coefficients {
        Coefficients {
            compute_efficiency: 1.0,
            memory_efficiency: 1.0,
            overhead_per_step: 0.0,
            overhead_per_layer: 10e-6,
            allreduce_latency: 5e-6,
            allreduce_efficiency: 1.0,
        }
    }

    /// A model of round numbers: 1e9 matmul parameters (embeddings tied, 1000 × 1000), 10
    /// layers, hidden 1000, 10 heads of 100, 2 KV heads, vocab 1000, bf16.
    fn round_model() -> ModelArch {
        ModelArch {
            name: "round".into(),
            params_total: 1_000_000_000 + 1_000_000,
            params_active: 1_000_000_000 + 1_000_000,
            layers: 10,
            hidden: 1000,
            heads: 10,
            kv_heads: 2,
            head_dim: 100,
            vocab: 1000,
            tied_embeddings: true,
            dtype_bytes: 2,
            kv_dtype_bytes: 2,
        }
    }

    const US: u128 = 1_000_000_000_000; // attoseconds per microsecond

    #[test]
    fn single_decode_is_the_weights_read_plus_overhead() {
        let cost = StepCost::new(&round_model(), &round_gpu(), 1, &round_co());
        // One decode at context 1000 (999 computed + 1 new):
        //  flops = 2·1e9·1 + 2·1000·1000·1 + 4·10·10·100·1000 = 2e9 + 2e6 + 4e7 = 2.042e9
        //          → 2.042e9 / 1e15 = 2.042 µs
        //  bytes = 2·1.001e9 (weights) + 2·10·2·100·2 (= 8000 B/token) · 1000 = 2.002e9 + 8e6
        //          = 2.010e9 → 2010 µs
        //  t = 10 layers · 10 µs + max(2.042, 2010) µs = 2110 µs.
        let mut w = Work::default();
        w.add(999, 1, true);
        assert_eq!(
            w,
            Work {
                tokens: 1,
                samples: 1,
                keys: 1000,
                kv_tokens: 1000
            }
        );
        assert_eq!(cost.iteration(&w), 2110 * US);
    }

    #[test]
    fn chunked_prefill_sharing_an_iteration_with_decodes() {
        let cost = StepCost::new(&round_model(), &round_gpu(), 1, &round_co());
        // Two decodes at context 100 and 300 (99 and 299 computed), and a prefill chunk of
        // 2000 tokens after 1000 computed (not its last: no sample).
        //  T = 2002, S = 2,
        //  K = 100 + 300 + (2000·1000 + 2000·2001/2) = 400 + 2_000_000 + 2_001_000 = 4_001_400
        //  kv = 100 + 300 + 3000 = 3400
        //  (a key costs 4·10·10·100 = 4e4 FLOPs)
        //  flops = 2e9·2002 + 2e6·2 + 4e4·4_001_400 = 4.004e12 + 4e6 + 1.60056e11
        //        = 4.16406e12 → 4164.06 µs
        //  bytes = 2.002e9 + 8000·3400 = 2.0292e9 → 2029.2 µs
        //  t = 100 µs + max(4164.06, 2029.2) µs = 4264.06 µs (compute-bound).
        let mut w = Work::default();
        w.add(99, 1, true);
        w.add(299, 1, true);
        w.add(1000, 2000, false);
        assert_eq!(w.keys, 4_001_400);
        assert_eq!(cost.iteration(&w), 4_264_060 * US / 1000);
    }

    #[test]
    fn tensor_parallel_two_splits_the_roofline_and_adds_two_allreduces_per_layer() {
        let cost = StepCost::new(&round_model(), &round_gpu(), 2, &round_co());
        // The single decode of the first test at tp = 2: flops and bytes halve:
        //  compute 1.021 µs, memory 1005 µs.
        // All-reduce: 2 per layer × 10 layers, each 5 µs + 2(tp−1)/tp · T·hidden·2 B / link
        //  = 5 µs + 1 · 1·1000·2 B / 1e11 B/s = 5 µs + 0.02 µs = 5.02 µs → 20 × 5.02 = 100.4 µs.
        //  t = 100 µs (overhead) + 1005 µs + 100.4 µs = 1205.4 µs. (The per-token transfer is
        //  20 · 2000 B / 1e11 B/s = 0.4 µs; the latency 20 · 5 µs = 100 µs.)
        let mut w = Work::default();
        w.add(999, 1, true);
        assert_eq!(cost.iteration(&w), 12_054 * US / 10);
        // 512 decodes: the all-reduce's transfer grows with T: 20 × (5 + 512·0.02) µs = 304.8 µs;
        // context 1000 each: bytes (2.002e9 + 8000·512_000)/2 = 3.049e9 → 3049 µs;
        // flops (2e9·512 + 2e6·512 + 4e4·512_000)/2 = (1.024e12 + 1.024e9 + 2.048e10)/2
        //       = 5.22752e11 → 522.752 µs: memory-bound. t = 100 + 3049 + 304.8 = 3453.8 µs.
        let mut w = Work::default();
        for _ in 0..512 {
            w.add(999, 1, true);
        }
        assert_eq!(cost.iteration(&w), 34_538 * US / 10);
    }

    #[test]
    fn defaults_on_the_measured_gpu_give_the_prototypes_decode_step() {
        // stepfit.py's step_time for Llama-3.1-8B on the RTX PRO 6000, 128 decodes at context
        // 1024: memory (16.06e9 + 131072·131072) B / (1597e9·0.823) = 25.29 ms, + 1.2288 ms
        // overhead = 26.52 ms (to 0.01 ms).
        let co = Coefficients::defaults(InterconnectKind::Pcie);
        let cost = StepCost::new(&llama_8b(), &rtx_pro_6000(), 1, &co);
        let mut w = Work::default();
        for _ in 0..128 {
            w.add(1023, 1, true);
        }
        let ms = cost.iteration(&w) as f64 / 1e15;
        let expect = (16_060_522_496.0 + 131_072.0 * 131_072.0) / (1597e9 * 0.823) * 1e3 + 1.2288;
        assert!((ms - expect).abs() < 1e-6, "{ms} vs {expect}");
    }

    /// A small deterministic generator for the tests (SplitMix64).
    pub(crate) struct Mix(pub u64);
    impl Mix {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn decode_run_closed_form_equals_the_step_by_step_sum_bit_for_bit() {
        let gpus = [rtx_pro_6000(), round_gpu()];
        let models = [llama_8b(), qwen3_32b(), round_model()];
        let mut rng = Mix(7);
        let mut crossings = 0;
        for case in 0..600 {
            let arch = &models[case % 3];
            let gpu = &gpus[(case / 3) % 2];
            let tp = [1, 2, 4][case % 3];
            // Efficiencies log-uniform in [0.003, 1], so that some runs start compute-bound and
            // some cross from one bound to the other within the run.
            let co = Coefficients {
                compute_efficiency: 10f64.powf(-(rng.below(250) as f64) / 100.0),
                memory_efficiency: 10f64.powf(-(rng.below(250) as f64) / 100.0),
                ..Coefficients::defaults(InterconnectKind::Pcie)
            };
            let cost = StepCost::new(arch, gpu, tp, &co);
            // A random batch: B sequences at random contexts; each iteration adds one token each.
            let batch = 1 + rng.below(512);
            let mut ctx: Vec<u64> = (0..batch).map(|_| rng.below(40_000)).collect();
            let first = ctx.iter().fold(Work::default(), |mut w, &c| {
                w.add(c, 1, true);
                w
            });
            let run = cost.decode_run(batch, first.keys, first.kv_tokens);
            let k = 1 + rng.below(3000);
            let mut by_step = 0u128;
            let mut regimes = (false, false);
            for j in 0..k {
                let w = ctx.iter().fold(Work::default(), |mut w, &c| {
                    w.add(c, 1, true);
                    w
                });
                let dt = cost.iteration(&w);
                assert_eq!(dt, run.dt(j), "case {case}, iteration {j}");
                let c = run.c0 + u128::from(j) * run.c1;
                let m = run.m0 + u128::from(j) * run.m1;
                if c >= m {
                    regimes.0 = true
                } else {
                    regimes.1 = true
                }
                by_step += dt;
                if j % 97 == 0 || j + 1 == k {
                    assert_eq!(run.sum(j + 1), by_step, "case {case}, S({})", j + 1);
                }
                for c in &mut ctx {
                    *c += 1;
                }
            }
            crossings += usize::from(regimes.0 && regimes.1);
            // started_before: the first k with S(k) >= t.
            let t = by_step / 2 + 1;
            let n = run.started_before(t, k);
            assert!(run.sum(n) >= t && (n == 0 || run.sum(n - 1) < t));
        }
        // The random cases include runs that cross from memory- to compute-bound.
        assert!(crossings >= 3, "only {crossings} runs crossed");
    }

    #[test]
    fn decode_run_sum_handles_both_crossing_directions() {
        // Hand-made lines: C = 1, compute 10 + 3j, memory 20 + 1j: memory until j = 5
        // (25 vs 25: compute from j = 5 on since ties count as compute; the value is the same).
        let run = DecodeRun {
            fixed: 1,
            c0: 10,
            c1: 3,
            m0: 20,
            m1: 1,
        };
        let by_step: u128 = (0..12).map(|j| run.dt(j)).sum();
        assert_eq!(run.sum(12), by_step);
        // Compute first, memory later: compute 30 + 1j, memory 10 + 4j, cross after j = 6.
        let run = DecodeRun {
            fixed: 2,
            c0: 30,
            c1: 1,
            m0: 10,
            m1: 4,
        };
        for k in 0..20 {
            let by_step: u128 = (0..k).map(|j| run.dt(j)).sum();
            assert_eq!(run.sum(k), by_step, "k = {k}");
        }
    }
}
