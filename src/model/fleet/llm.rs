//! The token-based LLM service model: an instance type's profile (prefill time per input token,
//! a decode step-time curve over the batch size, a maximum batch) and one instance's
//! continuously batched work, simulated exactly without an event per token.
//!
//! It must not know about balancers, queues or metrics: the world admits requests, asks when
//! the next one finishes, and is told which finished.
//!
//! # The model
//! Continuous batching with iteration-level scheduling, as in Orca ("Orca: A Distributed
//! Serving System for Transformer-Based Generative Models", OSDI 2022) and vLLM ("Efficient
//! Memory Management for Large Language Model Serving with PagedAttention", SOSP 2023):
//! - Up to `max_batch` requests are on an instance at once (its slots); more wait in its queue.
//! - A request admitted to the batch first runs its **prefill**: `prefill_overhead +
//!   prefill_per_token × input tokens`. The prefill's forward pass samples the first output
//!   token, so the time to first token is the prefill's end.
//! - Prefill **pauses the batch's decodes**: this is vLLM's default scheduler without chunked
//!   prefill ("vLLM documentation: Optimization and Tuning — Chunked Prefill": by default the
//!   scheduler prioritizes prefills and does not batch them with decodes). Prefills run one
//!   after another in admission order (FIFO); batching several prompts into one prefill
//!   iteration costs about the sum of their times, as prefill is compute-bound.
//! - Every decoding request then gains one token per **decode step**; a step takes `step(b)`
//!   for `b` decoding requests. Decode is memory-bandwidth bound (each step reads all the
//!   weights once, whatever the batch), so `step(b)` grows slowly with `b` until the batch is
//!   large enough to be compute-bound. A request with `n` output tokens decodes `n − 1` steps
//!   after its prefill.
//! - Decode is treated as fluid between changes of the batch: a request joining mid-step
//!   starts its count there (step boundaries are not modelled; the error is under one step
//!   per change). The KV cache's memory limit is not modelled: `max_batch` stands for it.
//!
//! # Simulation
//! A decode clock `V` (tokens decoded per request since an origin) advances at `1 / step(b)`
//! per nanosecond while `b` is constant, and stands still during a prefill. A request that
//! starts decoding at clock `V₀` with `k` tokens to go finishes when `V = V₀ + k` (its tag).
//! The smallest tag finishes next; its time is `now + (tag − V) × step(b)`, rounded to the
//! nanosecond, and then `V` is set to exactly that tag, so rounding never accumulates. A batch
//! change costs O(b) (a scan of at most `max_batch` entries), never one event per token.

use std::collections::VecDeque;

use crate::time::{SimDuration, SimTime};

/// One point of a measured decode step-time curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepPoint {
    /// Requests decoding together.
    pub batch: u32,
    /// One decode step at that batch size \[ns\].
    pub nanos: u64,
}

/// The time of one decode step as a function of the batch size: points measured by a
/// benchmark, linearly interpolated between them and flat beyond the ends.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeCurve {
    points: Vec<StepPoint>,
}

impl DecodeCurve {
    /// A curve through `points`, whose batch sizes must strictly increase (validation checks).
    pub fn new(points: Vec<StepPoint>) -> Self {
        debug_assert!(!points.is_empty());
        debug_assert!(points.windows(2).all(|w| w[0].batch < w[1].batch));
        DecodeCurve { points }
    }

    /// `step(b) = base + per_sequence × (b − 1)`: the two-number form. Stored as two points
    /// on that line, the second beyond any batch size allowed, so it is exact in integers.
    pub fn linear(base: SimDuration, per_sequence: SimDuration) -> Self {
        let far = MAX_BATCH;
        DecodeCurve::new(vec![
            StepPoint {
                batch: 1,
                nanos: base.as_nanos(),
            },
            StepPoint {
                batch: far,
                nanos: base
                    .as_nanos()
                    .saturating_add(per_sequence.as_nanos().saturating_mul(u64::from(far - 1))),
            },
        ])
    }

    /// The points.
    pub fn points(&self) -> &[StepPoint] {
        &self.points
    }

    /// One decode step for a batch of `b` decoding requests \[ns\], rounded to the nearest
    /// nanosecond (ties away from zero), at least 1.
    pub fn step(&self, b: u32) -> u64 {
        let p = &self.points;
        let i = p.partition_point(|q| q.batch <= b);
        let nanos = if i == 0 {
            p[0].nanos
        } else if i == p.len() {
            p[p.len() - 1].nanos
        } else {
            let (lo, hi) = (p[i - 1], p[i]);
            // Exact integer interpolation, rounded half up: lo + (hi − lo)(b − b₀)/(b₁ − b₀).
            let span = u128::from(hi.batch - lo.batch);
            let x = u128::from(b - lo.batch);
            if hi.nanos >= lo.nanos {
                let d = u128::from(hi.nanos - lo.nanos) * x;
                lo.nanos + ((2 * d + span) / (2 * span)) as u64
            } else {
                let d = u128::from(lo.nanos - hi.nanos) * x;
                lo.nanos - ((2 * d + span) / (2 * span)) as u64
            }
        };
        nanos.max(1)
    }
}

/// An instance type's LLM serving profile.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmProfile {
    /// Prefill time per input token \[ns\].
    pub prefill_per_token: u64,
    /// Fixed time added to every prefill \[ns\].
    pub prefill_overhead: u64,
    /// Decode step time by batch size.
    pub decode_step: DecodeCurve,
    /// Requests in the batch at most (the instance's slots).
    pub max_batch: u32,
}

impl LlmProfile {
    /// The prefill of `input` tokens \[ns\].
    pub fn prefill(&self, input: u32) -> u64 {
        self.prefill_overhead
            .saturating_add(self.prefill_per_token.saturating_mul(u64::from(input)))
    }
}

/// A distribution of token counts (integers, at least 1), sampled by inverse transform.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenCount {
    /// Always `n`.
    Constant(u32),
    /// Uniform on the integers `min..=max`.
    Uniform {
        /// Smallest count.
        min: u32,
        /// Largest count.
        max: u32,
    },
    /// Log-normal (by mean and coefficient of variation), rounded to the nearest integer.
    LogNormal {
        /// Mean of `ln(count)`.
        mu: f64,
        /// Standard deviation of `ln(count)`.
        sigma: f64,
    },
}

/// The largest `max_batch` allowed.
pub const MAX_BATCH: u32 = 65_536;

/// The largest token count drawn (a clamp for the log-normal's tail).
pub const MAX_TOKENS: u32 = 1_000_000;

impl TokenCount {
    /// A log-normal with this mean and coefficient of variation.
    pub fn lognormal(mean: f64, cv: f64) -> Self {
        let sigma2 = (1.0 + cv * cv).ln();
        TokenCount::LogNormal {
            mu: mean.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// The count at quantile `u` in (0, 1), in `1..=MAX_TOKENS`.
    pub fn quantile(&self, u: f64) -> u32 {
        match *self {
            TokenCount::Constant(n) => n,
            TokenCount::Uniform { min, max } => {
                let k = (u * f64::from(max - min + 1)) as u32;
                min + k.min(max - min)
            }
            TokenCount::LogNormal { mu, sigma } => {
                let x = (mu + sigma * crate::model::distribution::std_normal_quantile(u)).exp();
                x.round().clamp(1.0, f64::from(MAX_TOKENS)) as u32
            }
        }
    }

    /// The mean count.
    pub fn mean(&self) -> f64 {
        match *self {
            TokenCount::Constant(n) => f64::from(n),
            TokenCount::Uniform { min, max } => (f64::from(min) + f64::from(max)) / 2.0,
            TokenCount::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }
}

/// A token-based class's draws.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// Prompt (context) tokens.
    pub input: TokenCount,
    /// Generated tokens.
    pub output: TokenCount,
}

/// A request whose prefill waits or runs.
#[derive(Debug, Clone, Copy)]
struct Prefilling {
    id: u32,
    input: u32,
    output: u32,
}

/// A request decoding.
#[derive(Debug, Clone, Copy)]
struct Decoding {
    /// The decode clock at which it has its last token.
    tag: f64,
    id: u32,
    /// When its first token came out of its prefill.
    first_token: SimTime,
}

/// A request that finished its last token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The request.
    pub id: u32,
    /// When its first token was out.
    pub first_token: SimTime,
    /// When its last token was out.
    pub end: SimTime,
}

/// The continuously batched work of one instance.
#[derive(Debug, Default)]
pub struct LlmBatch {
    /// Prefills in admission order; the front one is running and ends at `prefill_end`.
    prefill: VecDeque<Prefilling>,
    prefill_end: SimTime,
    decoding: Vec<Decoding>,
    /// The decode clock, at `v_at`.
    v: f64,
    v_at: SimTime,
    /// Bumped at every change: a completion event carrying an older epoch is stale.
    pub epoch: u32,
}

impl LlmBatch {
    /// Bytes a batch may take per request it can hold (a prefill or a decode entry, twice over
    /// for growth by doubling): the memory guard counts `max_batch` of them per instance.
    pub const BYTES_PER_SEQUENCE: u64 =
        2 * (std::mem::size_of::<Prefilling>() + std::mem::size_of::<Decoding>()) as u64;

    /// Requests in the batch (prefilling or decoding).
    pub fn len(&self) -> usize {
        self.prefill.len() + self.decoding.len()
    }

    /// True if the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if request `id` is in the batch. O(b).
    pub fn contains(&self, id: u32) -> bool {
        self.prefill.iter().any(|q| q.id == id) || self.decoding.iter().any(|d| d.id == id)
    }

    /// Brings the decode clock to `now` (it stands still during a prefill).
    fn sync(&mut self, now: SimTime, p: &LlmProfile) {
        if self.decoding.is_empty() {
            // Tags exist only while requests decode: restart the clock at 0, so that it stays
            // small and its precision fine (a long run would otherwise grow it without end).
            self.v = 0.0;
        } else if self.prefill.is_empty() {
            let step = p.decode_step.step(self.decoding.len() as u32);
            self.v += (now - self.v_at).as_nanos() as f64 / step as f64;
        }
        self.v_at = now;
    }

    /// Request `id` with `input` and `output` (≥ 1) tokens joins the batch at `now`.
    pub fn admit(&mut self, now: SimTime, p: &LlmProfile, id: u32, input: u32, output: u32) {
        debug_assert!(
            self.prefill.iter().all(|q| q.id != id) && self.decoding.iter().all(|d| d.id != id),
            "request {id} admitted twice"
        );
        self.sync(now, p);
        if self.prefill.is_empty() {
            self.prefill_end = now + SimDuration::from_nanos(p.prefill(input));
        }
        self.prefill.push_back(Prefilling {
            id,
            input,
            output: output.max(1),
        });
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// When the next request finishes its prefill or its last token; `None` when empty.
    pub fn next_event(&self, p: &LlmProfile) -> Option<SimTime> {
        if !self.prefill.is_empty() {
            return Some(self.prefill_end);
        }
        let min = self.min_tag()?;
        let step = p.decode_step.step(self.decoding.len() as u32) as f64;
        let wait = ((min - self.v) * step).max(0.0);
        Some(self.v_at + SimDuration::from_nanos_f64(wait))
    }

    fn min_tag(&self) -> Option<f64> {
        self.decoding.iter().map(|d| d.tag).min_by(f64::total_cmp)
    }

    /// Moves the batch to `now`, appending to `done` the requests that finished (in time
    /// order, ties by request id). Called at the time [`LlmBatch::next_event`] said.
    pub fn advance(&mut self, now: SimTime, p: &LlmProfile, done: &mut Vec<Finished>) {
        loop {
            if let Some(&head) = self.prefill.front() {
                if self.prefill_end > now {
                    break;
                }
                let at = self.prefill_end;
                self.prefill.pop_front();
                if head.output <= 1 {
                    done.push(Finished {
                        id: head.id,
                        first_token: at,
                        end: at,
                    });
                } else {
                    // The clock stood still during the prefill: v is the clock at `at`.
                    self.decoding.push(Decoding {
                        tag: self.v + f64::from(head.output - 1),
                        id: head.id,
                        first_token: at,
                    });
                }
                if let Some(next) = self.prefill.front() {
                    self.prefill_end = at + SimDuration::from_nanos(p.prefill(next.input));
                }
                // Decoding resumes (or the next prefill starts) from `at`.
                self.v_at = at;
                continue;
            }
            let Some(min) = self.min_tag() else {
                break;
            };
            let step = p.decode_step.step(self.decoding.len() as u32) as f64;
            let at = self.v_at + SimDuration::from_nanos_f64(((min - self.v) * step).max(0.0));
            if at > now {
                break;
            }
            self.v = min;
            self.v_at = at;
            let first = done.len();
            self.decoding.retain(|d| {
                if d.tag <= min {
                    done.push(Finished {
                        id: d.id,
                        first_token: d.first_token,
                        end: at,
                    });
                    false
                } else {
                    true
                }
            });
            done[first..].sort_unstable_by_key(|f| f.id);
        }
        self.sync(now, p);
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Takes request `id` out of the batch at `now` (its client cancelled); true if it was in.
    pub fn remove(&mut self, now: SimTime, p: &LlmProfile, id: u32) -> bool {
        self.sync(now, p);
        self.epoch = self.epoch.wrapping_add(1);
        if let Some(i) = self.decoding.iter().position(|d| d.id == id) {
            self.decoding.swap_remove(i);
            return true;
        }
        let Some(i) = self.prefill.iter().position(|q| q.id == id) else {
            return false;
        };
        self.prefill.remove(i);
        if i == 0 {
            // Its prefill is abandoned; the next one starts now.
            if let Some(next) = self.prefill.front() {
                self.prefill_end = now + SimDuration::from_nanos(p.prefill(next.input));
            }
        }
        true
    }

    /// Empties the batch (its server died), appending the ids it held to `ids`.
    pub fn clear(&mut self, ids: &mut Vec<u32>) {
        ids.extend(self.prefill.drain(..).map(|q| q.id));
        ids.extend(self.decoding.drain(..).map(|d| d.id));
        self.v = 0.0;
        self.epoch = self.epoch.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * MS)
    }

    /// prefill 1 ms per token, no overhead; step(1) = 10 ms, step(2) = 20 ms, flat after 2.
    fn profile() -> LlmProfile {
        LlmProfile {
            prefill_per_token: MS,
            prefill_overhead: 0,
            decode_step: DecodeCurve::new(vec![
                StepPoint {
                    batch: 1,
                    nanos: 10 * MS,
                },
                StepPoint {
                    batch: 2,
                    nanos: 20 * MS,
                },
            ]),
            max_batch: 8,
        }
    }

    /// Runs the batch's events until it is empty, admitting `arrivals` (time, id, in, out)
    /// at their times (before an event due at the same time).
    fn run(p: &LlmProfile, arrivals: &[(SimTime, u32, u32, u32)]) -> Vec<Finished> {
        let mut b = LlmBatch::default();
        let mut done = Vec::new();
        let mut next_arrival = 0;
        loop {
            let ev = b.next_event(p);
            let arr = arrivals.get(next_arrival).map(|a| a.0);
            match (ev, arr) {
                (_, Some(a)) if ev.is_none_or(|e| a <= e) => {
                    let (at, id, i, o) = arrivals[next_arrival];
                    b.admit(at, p, id, i, o);
                    next_arrival += 1;
                }
                (Some(e), _) => b.advance(e, p, &mut done),
                _ => return done,
            }
        }
    }

    #[test]
    fn curve_interpolates_linearly_and_is_flat_beyond_its_points() {
        let c = DecodeCurve::new(vec![
            StepPoint {
                batch: 1,
                nanos: 25 * MS,
            },
            StepPoint {
                batch: 32,
                nanos: 45 * MS,
            },
        ]);
        assert_eq!(c.step(1), 25 * MS);
        assert_eq!(c.step(32), 45 * MS);
        assert_eq!(c.step(64), 45 * MS);
        // b = 16: 25 ms + 20 ms × 15/31 = 34.677419354.. ms → 34_677_419 ns (rounded).
        assert_eq!(c.step(16), 34_677_419);
        // b = 0 (never asked by the batch) is the first point.
        assert_eq!(c.step(0), 25 * MS);
    }

    #[test]
    fn linear_curve_is_base_plus_per_sequence_times_b_minus_one() {
        let c = DecodeCurve::linear(
            SimDuration::from_millis(25),
            SimDuration::from_nanos(400_000),
        );
        // 25 ms + 0.4 ms × 31 = 37.4 ms.
        assert_eq!(c.step(32), 37_400_000);
        assert_eq!(c.step(1), 25 * MS);
        assert_eq!(c.step(1000), 25 * MS + 400_000 * 999);
    }

    #[test]
    fn lone_request_takes_prefill_then_output_minus_one_steps() {
        // 100 input tokens: prefill 100 ms, first token at 100 ms; 5 output tokens: 4 steps of
        // step(1) = 10 ms, last token at 140 ms.
        let done = run(&profile(), &[(t(0), 7, 100, 5)]);
        assert_eq!(
            done,
            vec![Finished {
                id: 7,
                first_token: t(100),
                end: t(140)
            }]
        );
    }

    #[test]
    fn single_output_token_ends_at_its_prefill() {
        let done = run(&profile(), &[(t(3), 1, 20, 1)]);
        assert_eq!(done[0].first_token, t(23));
        assert_eq!(done[0].end, t(23));
    }

    #[test]
    fn two_requests_decode_together_at_step_two() {
        // A: in 10, out 4 at 0. B: in 10, out 4 at 0.
        // Prefill A 0→10 ms (first token A at 10); prefill B 10→20 (decode of A paused; first
        // token B at 20). From 20 both decode at step(2) = 20 ms, 3 tokens each: both end at
        // 20 + 60 = 80 ms.
        let done = run(&profile(), &[(t(0), 1, 10, 4), (t(0), 2, 10, 4)]);
        assert_eq!(
            done,
            vec![
                Finished {
                    id: 1,
                    first_token: t(10),
                    end: t(80)
                },
                Finished {
                    id: 2,
                    first_token: t(20),
                    end: t(80)
                },
            ]
        );
    }

    #[test]
    fn a_join_mid_decode_delays_the_others_exactly() {
        // A: in 10, out 11 at 0: first token 10 ms, then 10 steps of 10 ms alone → 110 ms.
        // B arrives at 50 ms (A has 4 of its 10 steps done), in 5, out 3:
        //   A pauses during B's prefill 50→55 (B's first token at 55);
        //   from 55 both decode at 20 ms a step: B needs 2 steps → ends at 95 ms, by which A
        //   did 2 more (6 done, 4 to go); alone again at 10 ms: A ends at 95 + 40 = 135 ms.
        // A's end moved from 110 to 135 ms: +5 (prefill pause) +20 (2 steps at 20 vs 10 ms).
        let done = run(&profile(), &[(t(0), 1, 10, 11), (t(50), 2, 5, 3)]);
        assert_eq!(
            done,
            vec![
                Finished {
                    id: 2,
                    first_token: t(55),
                    end: t(95)
                },
                Finished {
                    id: 1,
                    first_token: t(10),
                    end: t(135)
                },
            ]
        );
    }

    #[test]
    fn a_join_mid_step_counts_fractional_progress() {
        // A: in 0 tokens (prefill 0), out 3 at 0: steps 10 ms → ends at 20 ms alone.
        // B joins at 5 ms with in 0 (prefill 0 ms: no pause), out 2: A has done 0.5 steps.
        // From 5 ms at 20 ms a step: B needs 1 step → 25 ms; A has 1.5 done → 0.5 to go at
        // 10 ms a step → 30 ms.
        let done = run(&profile(), &[(t(0), 1, 0, 3), (t(5), 2, 0, 2)]);
        assert_eq!(
            done[0],
            Finished {
                id: 2,
                first_token: t(5),
                end: t(25)
            }
        );
        assert_eq!(
            done[1],
            Finished {
                id: 1,
                first_token: t(0),
                end: t(30)
            }
        );
    }

    #[test]
    fn flat_curve_means_no_interference_between_decodes() {
        // step(b) = 7 ms for every b and no prefill time: every request's decode lasts exactly
        // (output − 1) × 7 ms, whoever else decodes.
        let p = LlmProfile {
            prefill_per_token: 0,
            prefill_overhead: 0,
            decode_step: DecodeCurve::new(vec![StepPoint {
                batch: 1,
                nanos: 7 * MS,
            }]),
            max_batch: 1000,
        };
        let arrivals: Vec<_> = (0..50u32)
            .map(|i| (t(u64::from(i) * 3), i, 100, 1 + (i * 37) % 23))
            .collect();
        let done = run(&p, &arrivals);
        assert_eq!(done.len(), 50);
        for f in done {
            let (at, _, _, out) = arrivals[f.id as usize];
            assert_eq!(f.first_token, at);
            assert_eq!(
                f.end - f.first_token,
                SimDuration::from_millis(7 * u64::from(out - 1))
            );
        }
    }

    #[test]
    fn removal_of_the_running_prefill_starts_the_next() {
        let p = profile();
        let mut b = LlmBatch::default();
        b.admit(t(0), &p, 1, 100, 2);
        b.admit(t(0), &p, 2, 10, 2);
        assert_eq!(b.next_event(&p), Some(t(100)));
        assert!(b.remove(t(30), &p, 1));
        // B's prefill runs 30→40 ms.
        assert_eq!(b.next_event(&p), Some(t(40)));
        assert!(!b.remove(t(30), &p, 1));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn token_counts_stay_in_range() {
        let u = TokenCount::Uniform { min: 3, max: 5 };
        assert_eq!(u.quantile(1e-12), 3);
        assert_eq!(u.quantile(0.5), 4);
        assert_eq!(u.quantile(1.0 - 1e-12), 5);
        let l = TokenCount::lognormal(200.0, 1.0);
        // The median of a log-normal is mean / sqrt(1 + cv²) = 200 / √2 = 141.42 → 141.
        assert_eq!(l.quantile(0.5), 141);
        assert!(l.quantile(1e-15) >= 1);
        assert!((l.mean() - 200.0).abs() < 1e-9);
    }
}
