//! One instance's vLLM v1 engine: its waiting and running requests, the KV cache's blocks, and
//! the iterations of its scheduler, each timed by the roofline ([`StepCost`]), simulated
//! exactly but never with an event per token.
//!
//! It must not know about balancers, queues outside the engine or metrics: the world admits
//! requests, asks when the engine next changes ([`Engine::next_event`]), advances it and is told
//! which requests finished, with their times.
//!
//! # What it imitates: vLLM v1's `Scheduler.schedule()`
//! Read from `vllm/v1/core/sched/scheduler.py` (the runs used tag v0.19.0; notes with commits in
//! issue 16's `vllm_scheduler.md` §1–2). One iteration:
//! 1. The token budget is `max_num_batched_tokens`.
//! 2. **Running requests first, in admission order**, each taking `num_tokens −
//!    num_computed_tokens` tokens (1 for a decode, the rest of the prompt for a prefill), capped
//!    by what is left of the budget: a long prompt is **chunked** and continues next iteration.
//!    Each needs KV blocks up to its new length (`KVCacheManager.allocate_slots`); when there
//!    are not enough, the **last** running request is preempted (`self.running.pop()`,
//!    `_preempt_request`): its blocks are freed, its computed tokens reset to 0 (recompute), and
//!    it goes to the **front** of the waiting queue. If the victim is the request being
//!    scheduled, running requests stop for this iteration.
//! 3. **Waiting requests**, only if nothing was preempted in this iteration, in order (FCFS),
//!    while the budget lasts and fewer than `max_num_seqs` run: a prefix-cache lookup
//!    (`get_computed_blocks`, capped so the last token is computed), then blocks for this
//!    iteration's chunk only; if they are not free the head waits and so does everyone behind it
//!    (`break`: head-of-line blocking).
//! 4. After the iteration, every scheduled request's computed tokens grow by what it was given;
//!    one that has computed all its tokens samples one (a prefill's last chunk gives the first
//!    token); one with all its output tokens finishes and frees its blocks.
//!
//! [`PrefillMode::PausesDecode`] is vLLM v0's scheduler without chunked prefill
//! (`vllm/core/scheduler.py`, `Scheduler._schedule_default`: prefills first, then "Don't
//! schedule decodes if prefills are scheduled"): waiting prompts that fit the budget are
//! prefilled whole, in an iteration without decodes; an iteration with no prefill decodes every
//! running request. The prompt's blocks are taken at admission, as v0's `can_allocate` does (its
//! 1 % watermark is left out). One difference: v0 refuses a prompt longer than
//! `max_num_batched_tokens` (`_schedule_prefills`, the prompt limit); here it is prefilled alone.
//!
//! # No event per token
//! An iteration in which every running request decodes one token, nobody was preempted and
//! nobody can be admitted starts a **run**: the same batch decodes iteration after iteration,
//! each one's time known in closed form ([`DecodeRun`]). The run lasts `k = min(k_finish,
//! k_block)` iterations: up to the first one in which a request finishes (processed at the
//! run's end, like any iteration's end), and not past the last one whose new blocks are all
//! free (the next is scheduled step by step and may preempt). An arrival that could be admitted
//! (nobody waiting and a free slot) cuts the run after the iteration in progress: the third
//! bound, `k_arrival`, found when it happens ([`Engine::admit`]). The run is one event; its
//! requests' counts, blocks and the engine's counters are brought up to date at its end (or
//! cut). All times are integer attoseconds, so a run and the same iterations one by one give
//! identical results (tested against [`Engine::set_decode_runs`]`(false)`).
//!
//! A run's end costs O(B) for a batch of B, not O(1): simpler than the lazy per-request
//! offsets of the design note, and bounded by one scan per change of the batch.

use std::collections::VecDeque;

use super::arch::ModelArch;
use super::config::{Coefficients, EngineConfig, PrefillMode, PrefixCaching};
use super::gpu::Gpu;
use super::kv::{blocks_from_memory, Held, KvCache};
use super::step_time::{attos_to_time, time_to_attos, DecodeRun, StepCost, Work, ATTOS_PER_NANO};
use crate::time::SimTime;

/// A request handed to the engine.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The caller's id, given back when it finishes.
    pub id: u32,
    /// Prompt tokens.
    pub prompt: u32,
    /// Output tokens to generate (at least 1).
    pub output: u32,
    /// The hashes of the prompt's full blocks of `block_size` tokens, chained (each covers its
    /// block and everything before it), for [`PrefixCaching::Hashes`]; may be empty. A trace
    /// whose hashes cover bigger blocks (Mooncake's 512 tokens) gives one per engine block
    /// ([`super::kv::expand_block_hashes`]).
    pub hashes: &'a [u64],
}

/// A request that produced its last token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The request.
    pub id: u32,
    /// The start of the iteration that first scheduled it (queueing delay = this − arrival).
    pub scheduled: SimTime,
    /// When its first output token was sampled.
    pub first_token: SimTime,
    /// When its last output token was sampled.
    pub last_token: SimTime,
    /// Times it was preempted (and recomputed).
    pub preemptions: u32,
}

/// Running totals of one engine; the world reads their differences per window. Updated at
/// each event (a run's tokens at its end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Iterations executed.
    pub iterations: u64,
    /// Preemptions (recompute).
    pub preemptions: u64,
    /// Prefill tokens computed, recomputation included, prefix-cache hits excluded.
    pub prompt_tokens: u64,
    /// Output tokens sampled.
    pub generated_tokens: u64,
    /// Prompt tokens served from the prefix cache.
    pub prefix_hit_tokens: u64,
}

/// What [`Engine::admit`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The prompt and output together need more KV blocks than the engine has: vLLM refuses
    /// a request longer than `max_model_len`, which is at most the cache's size.
    TooLong,
}

/// A request in the engine.
#[derive(Debug, Default)]
struct Seq {
    id: u32,
    prompt: u32,
    output: u32,
    computed: u32,
    generated: u32,
    held: Held,
    /// The prompt's block hashes (kept with the slot, so its capacity is reused).
    hashes: Vec<u64>,
    /// Prompt blocks whose hash has been looked up or registered.
    hashed: u32,
    scheduled: SimTime,
    first_token: SimTime,
    preemptions: u32,
    cancelled: bool,
}

impl Seq {
    fn num_tokens(&self) -> u32 {
        self.prompt + self.generated
    }
}

/// What the engine is doing.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Nothing to do.
    Idle,
    /// Requests arrived at an idle engine: the next iteration is scheduled at `start`.
    Pending,
    /// One iteration, from `start` to `end`.
    Step { end: u128 },
    /// `k` decode iterations of the same batch, from `start` to `end`.
    Run { run: DecodeRun, k: u64, end: u128 },
}

/// One instance's engine.
#[derive(Debug)]
pub struct Engine {
    cost: StepCost,
    max_num_seqs: usize,
    budget: u32,
    block_size: u32,
    prefill: PrefillMode,
    prefix: PrefixCaching,
    kv: KvCache,
    seqs: Vec<Seq>,
    spare: Vec<u32>,
    running: Vec<u32>,
    waiting: VecDeque<u32>,
    /// The iteration in flight: (slot, tokens), in scheduling order.
    batch: Vec<(u32, u32)>,
    plan: Plan,
    /// When the plan in flight started (or the pending iteration starts) \[as\].
    start: u128,
    decode_runs: bool,
    /// True if a request of the batch in flight was cancelled.
    cancelled: bool,
    /// Requests by residue of their next block boundary (reused).
    residues: Vec<u32>,
    counters: Counters,
    /// Bumped at every change of [`Engine::next_event`]: an event carrying an older epoch is
    /// stale.
    pub epoch: u32,
}

impl Engine {
    /// An idle engine serving `arch` on `cfg.tp` GPUs of type `gpu` with the step time's
    /// coefficients `co`; its KV blocks from [`blocks_from_memory`] (at most `u32::MAX`).
    pub fn new(arch: &ModelArch, gpu: &Gpu, cfg: &EngineConfig, co: &Coefficients) -> Self {
        let blocks = blocks_from_memory(arch, gpu, cfg).min(u64::from(u32::MAX)) as u32;
        Engine::with_cost(StepCost::new(arch, gpu, cfg.tp, co), cfg, blocks)
    }

    /// An idle engine with the step costs `cost` and `blocks` KV blocks, its scheduler set by
    /// `cfg` (whose `tp` and `kv_blocks` are not read: `cost` and `blocks` stand for them).
    pub fn with_cost(cost: StepCost, cfg: &EngineConfig, blocks: u32) -> Self {
        Engine {
            cost,
            max_num_seqs: cfg.max_num_seqs.max(1) as usize,
            budget: cfg.max_num_batched_tokens.max(1),
            block_size: cfg.block_size.max(1),
            prefill: cfg.prefill,
            prefix: cfg.prefix_caching,
            kv: KvCache::new(blocks),
            seqs: Vec::new(),
            spare: Vec::new(),
            running: Vec::new(),
            waiting: VecDeque::new(),
            batch: Vec::new(),
            plan: Plan::Idle,
            start: 0,
            decode_runs: true,
            cancelled: false,
            residues: vec![0; cfg.block_size.max(1) as usize + 1],
            counters: Counters::default(),
            epoch: 0,
        }
    }

    /// Batches runs of decode iterations into one event (the default), or, with `false`,
    /// simulates every iteration as its own event: the same results, for tests and profiling.
    pub fn set_decode_runs(&mut self, on: bool) {
        self.decode_runs = on;
    }

    /// The step-time costs in use.
    pub fn cost(&self) -> &StepCost {
        &self.cost
    }

    /// The running totals.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The iterations of a run in flight that ended by the end of nanosecond `now` (the
    /// largest `n ≤ k` with `start + S(n) < (now + 1) ns`), and its `k`; `None` without a run.
    fn run_progress(&self, now: SimTime) -> Option<(u64, u64)> {
        let Plan::Run { run, k, .. } = self.plan else {
            return None;
        };
        let t = (time_to_attos(now) + ATTOS_PER_NANO).saturating_sub(self.start);
        let ended = if run.sum(k) < t {
            k
        } else {
            run.started_before(t, k).saturating_sub(1)
        };
        Some((ended, k))
    }

    /// Output tokens sampled by `now`: [`Counters::generated_tokens`] plus those of the
    /// iterations of a run in flight that ended by then. A window boundary inside a run (which
    /// does not end it) attributes tokens with this.
    pub fn generated_tokens_at(&self, now: SimTime) -> u64 {
        let done = self.counters.generated_tokens;
        match self.run_progress(now) {
            Some((ended, _)) => done + ended * self.batch.len() as u64,
            None => done,
        }
    }

    /// KV blocks held at `now`: [`Engine::kv_blocks_used`] plus the blocks that the iterations
    /// of a run in flight started by then have taken (a run takes them at its end). O(B).
    pub fn kv_blocks_used_at(&self, now: SimTime) -> u32 {
        let used = self.kv.used();
        let Some((ended, k)) = self.run_progress(now) else {
            return used;
        };
        // The iteration in progress has its blocks too.
        let started = (ended + 1).min(k) as u32;
        let bs = self.block_size;
        used + self
            .batch
            .iter()
            .map(|&(slot, _)| {
                let s = &self.seqs[slot as usize];
                (s.computed + started)
                    .div_ceil(bs)
                    .saturating_sub(s.held.blocks())
            })
            .sum::<u32>()
    }

    /// KV blocks held by requests (as of the last event).
    pub fn kv_blocks_used(&self) -> u32 {
        self.kv.used()
    }

    /// All KV blocks.
    pub fn kv_blocks_total(&self) -> u32 {
        self.kv.total()
    }

    /// Requests running (admitted to the batch).
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Requests waiting for admission.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// True if the engine holds no request.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }

    /// Request `req` arrives at `now` and joins the waiting queue; it is considered at the next
    /// iteration that starts at or after `now`. Refused if it could never fit in the KV cache.
    pub fn admit(&mut self, now: SimTime, req: &Request) -> Result<(), Rejected> {
        let tokens = u64::from(req.prompt.max(1)) + u64::from(req.output.max(1));
        if tokens > u64::from(self.kv.total()) * u64::from(self.block_size) {
            return Err(Rejected::TooLong);
        }
        let slot = match self.spare.pop() {
            Some(s) => s,
            None => {
                self.seqs.push(Seq::default());
                (self.seqs.len() - 1) as u32
            }
        };
        let s = &mut self.seqs[slot as usize];
        s.id = req.id;
        // vLLM refuses an empty prompt; a trace's 0 counts as one token, so that its first
        // token takes an iteration, as every other does.
        s.prompt = req.prompt.max(1);
        s.output = req.output.max(1);
        s.computed = 0;
        s.generated = 0;
        s.hashed = 0;
        s.scheduled = SimTime::NEVER;
        s.first_token = SimTime::NEVER;
        s.preemptions = 0;
        s.cancelled = false;
        s.hashes.clear();
        if self.prefix == PrefixCaching::Hashes {
            s.hashes.extend_from_slice(req.hashes);
        }
        let could_admit = self.waiting.is_empty() && self.running.len() < self.max_num_seqs;
        self.waiting.push_back(slot);
        let now_as = time_to_attos(now);
        match self.plan {
            Plan::Idle => {
                self.start = self.start.max(now_as);
                self.plan = Plan::Pending;
                self.epoch = self.epoch.wrapping_add(1);
            }
            Plan::Run { .. } if could_admit => self.cut(now_as),
            _ => {}
        }
        Ok(())
    }

    /// Shortens a run in flight to the iterations that started before `at` (at least one):
    /// the next iteration is scheduled at the end of the one in progress.
    fn cut(&mut self, at: u128) {
        if let Plan::Run { run, k, .. } = self.plan {
            let n = run.started_before(at.saturating_sub(self.start), k).max(1);
            if n < k {
                self.plan = Plan::Run {
                    run,
                    k: n,
                    end: self.start + run.sum(n),
                };
                self.epoch = self.epoch.wrapping_add(1);
            }
        }
    }

    /// True if request `id` is in the engine, waiting or running (and not cancelled). O(n).
    pub fn contains(&self, id: u32) -> bool {
        self.running.iter().chain(self.waiting.iter()).any(|&slot| {
            let s = &self.seqs[slot as usize];
            s.id == id && !s.cancelled
        })
    }

    /// When the engine next changes (an iteration or a run ends, or a pending one starts);
    /// `None` when idle.
    pub fn next_event(&self) -> Option<SimTime> {
        match self.plan {
            Plan::Idle => None,
            Plan::Pending => Some(attos_to_time(self.start)),
            Plan::Step { end } | Plan::Run { end, .. } => Some(attos_to_time(end)),
        }
    }

    /// Moves the engine to `now`: ends every iteration due by then (an iteration ending
    /// within nanosecond `now` is due) and schedules the next. Appends the requests that
    /// finished to `done`, in the order of their iterations, then of admission.
    pub fn advance(&mut self, now: SimTime, done: &mut Vec<Finished>) {
        loop {
            match self.plan {
                Plan::Idle => break,
                Plan::Pending => {
                    if attos_to_time(self.start) > now {
                        break;
                    }
                }
                Plan::Step { end } => {
                    if attos_to_time(end) > now {
                        break;
                    }
                    self.end_iterations(1, end, done);
                }
                Plan::Run { k, end, .. } => {
                    if attos_to_time(end) > now {
                        break;
                    }
                    self.end_iterations(k, end, done);
                }
            }
            self.begin();
        }
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Takes request `id` out at `now` (its client cancelled): at once if it waits; if it
    /// runs, at the end of the iteration in progress (vLLM aborts between iterations), its
    /// result discarded. True if it was in the engine.
    pub fn remove(&mut self, now: SimTime, id: u32) -> bool {
        if let Some(i) = self
            .waiting
            .iter()
            .position(|&s| self.seqs[s as usize].id == id)
        {
            let slot = self.waiting.remove(i).expect("position is in range");
            self.kv.release(&mut self.seqs[slot as usize].held);
            self.spare.push(slot);
            // The head of the queue may have been blocking others that can be admitted now.
            self.cut(time_to_attos(now));
            return true;
        }
        let Some(i) = self.running.iter().position(|&s| {
            let s = &self.seqs[s as usize];
            s.id == id && !s.cancelled
        }) else {
            return false;
        };
        let slot = self.running[i];
        if self.batch.iter().any(|&(s, _)| s == slot) {
            // In the iteration in flight: dropped when it ends.
            self.seqs[slot as usize].cancelled = true;
            self.cancelled = true;
            self.cut(time_to_attos(now));
        } else {
            // Running but not scheduled in this iteration (the budget ran out before it).
            self.running.remove(i);
            self.kv.release(&mut self.seqs[slot as usize].held);
            self.spare.push(slot);
        }
        true
    }

    /// Empties the engine (its server died), appending the ids it held to `ids`: running ones
    /// in admission order, then waiting ones in queue order.
    pub fn clear(&mut self, ids: &mut Vec<u32>) {
        for &s in self.running.iter().chain(self.waiting.iter()) {
            let seq = &mut self.seqs[s as usize];
            if !seq.cancelled {
                ids.push(seq.id);
            }
            seq.held.anon = 0;
            seq.held.cached.clear();
        }
        for s in self.running.drain(..).chain(self.waiting.drain(..)) {
            self.spare.push(s);
        }
        self.batch.clear();
        self.kv.clear();
        self.cancelled = false;
        self.plan = Plan::Idle;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Ends `k` iterations of the batch in flight at `end` (k > 1 only for a decode run).
    fn end_iterations(&mut self, k: u64, end: u128, done: &mut Vec<Finished>) {
        let at = attos_to_time(end);
        let bs = self.block_size;
        let mut any_left = std::mem::take(&mut self.cancelled);
        self.counters.iterations += k;
        if k > 1 {
            // A decode run: the blocks its iterations took (counted free when it was
            // planned), all before any request's end frees blocks, as iteration by iteration.
            for &(slot, _) in &self.batch {
                let s = &mut self.seqs[slot as usize];
                let need = (s.computed + k as u32)
                    .div_ceil(bs)
                    .saturating_sub(s.held.blocks());
                let ok = self.kv.allocate(need, &mut s.held);
                debug_assert!(ok, "a decode run's blocks were free when it was planned");
            }
        }
        for &(slot, c) in &self.batch {
            let s = &mut self.seqs[slot as usize];
            if s.cancelled {
                // Cancelled during the last iteration: the run's earlier ones gave tokens (as
                // they do iteration by iteration); the last one's result is discarded.
                self.counters.generated_tokens += k - 1;
                continue;
            }
            if k > 1 {
                // A decode run: one token per iteration.
                s.computed += k as u32;
                s.generated += k as u32;
                self.counters.generated_tokens += k;
            } else {
                let is_decode = s.generated >= 1 && c == 1 && s.computed + 1 == s.num_tokens();
                if !is_decode {
                    self.counters.prompt_tokens += u64::from(c);
                }
                s.computed += c;
                // Register the prompt's blocks that became full under their hashes.
                let full = (s.computed / bs).min(s.hashes.len() as u32);
                while s.hashed < full {
                    self.kv.register(s.hashes[s.hashed as usize], &mut s.held);
                    s.hashed += 1;
                }
                if s.computed == s.num_tokens() {
                    s.generated += 1;
                    self.counters.generated_tokens += 1;
                    if s.first_token == SimTime::NEVER {
                        s.first_token = at;
                    }
                }
            }
            if s.generated >= s.output {
                self.kv.release(&mut s.held);
                done.push(Finished {
                    id: s.id,
                    scheduled: s.scheduled,
                    first_token: s.first_token,
                    last_token: at,
                    preemptions: s.preemptions,
                });
                s.cancelled = true; // leaves `running` below
                any_left = true;
            }
        }
        if any_left {
            let (seqs, kv, spare) = (&mut self.seqs, &mut self.kv, &mut self.spare);
            self.running.retain(|&slot| {
                let s = &mut seqs[slot as usize];
                if s.cancelled {
                    kv.release(&mut s.held);
                    spare.push(slot);
                    false
                } else {
                    true
                }
            });
        }
        self.batch.clear();
        self.start = end;
    }

    /// Schedules the iteration that starts at `self.start` and plans it (or a run).
    fn begin(&mut self) {
        self.batch.clear();
        if self.running.is_empty() && self.waiting.is_empty() {
            self.plan = Plan::Idle;
            return;
        }
        let mut preempted = false;
        // An iteration that only preempts (its one running request evicts itself) schedules
        // nothing; the next one, at the same time, re-admits it.
        for _ in 0..2 {
            preempted = self.schedule();
            if !self.batch.is_empty() {
                break;
            }
        }
        if self.batch.is_empty() {
            // Nothing can ever run: admission refuses requests larger than the cache, so this
            // is unreachable; stay idle rather than loop.
            debug_assert!(false, "an engine with requests scheduled nothing");
            self.plan = Plan::Idle;
            return;
        }
        let mut w = Work::default();
        let mut all_decode = true;
        let mut k_finish = u64::MAX;
        for &(slot, c) in &self.batch {
            let s = &self.seqs[slot as usize];
            let a = s.computed;
            let nt = s.num_tokens();
            w.add(u64::from(a), u64::from(c), a + c == nt);
            all_decode &= s.generated >= 1 && c == 1 && a + 1 == nt;
            k_finish = k_finish.min(u64::from(s.output - s.generated));
        }
        let dt = self.cost.iteration(&w);
        if self.decode_runs && all_decode && !preempted && self.batch.len() == self.running.len() {
            let k = 1 + self.run_blocks_bound(k_finish.saturating_sub(1));
            if k >= 2 {
                let run = self
                    .cost
                    .decode_run(self.batch.len() as u64, w.keys, w.kv_tokens);
                debug_assert_eq!(run.dt(0), dt);
                self.plan = Plan::Run {
                    run,
                    k,
                    end: self.start + run.sum(k),
                };
                return;
            }
        }
        self.plan = Plan::Step {
            end: self.start + dt,
        };
    }

    /// The most iterations, up to `max`, that can follow the first of a decode run with all
    /// their new blocks free: iteration `m ≥ 1` needs a block for every request whose next
    /// block boundary falls on it, that is whose residue `(blocks·bs − computed) mod bs` is
    /// `m mod bs`.
    fn run_blocks_bound(&mut self, max: u64) -> u64 {
        let bs = self.block_size;
        let b = self.batch.len() as u64;
        let free = u64::from(self.kv.free());
        // Enough for a new block per request every block_size iterations: no bound.
        if b * max.div_ceil(u64::from(bs)) <= free {
            return max;
        }
        let h = &mut self.residues;
        h.iter_mut().for_each(|x| *x = 0);
        for &(slot, _) in &self.batch {
            let s = &self.seqs[slot as usize];
            h[((s.held.blocks() * bs - s.computed) % bs) as usize] += 1;
        }
        // need(M) = Σ_{m=1..M} h[m mod bs] = ⌊M/bs⌋·B + Σ_{m=1..M mod bs} h[m]. Make h its
        // prefix sums over 1..bs−1 in place (h[0] becomes 0: the residue-0 requests are the
        // B of every whole cycle).
        let mut acc = 0u32;
        h[0] = 0;
        for x in h.iter_mut().take(bs as usize).skip(1) {
            acc += *x;
            *x = acc;
        }
        let need = |m: u64| (m / u64::from(bs)) * b + u64::from(h[(m % u64::from(bs)) as usize]);
        // need is non-decreasing: the largest M ≤ max with need(M) ≤ free.
        let (mut lo, mut hi) = (0u64, max);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if need(mid) <= free {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// One `Scheduler.schedule()`: fills `self.batch`; true if it preempted.
    fn schedule(&mut self) -> bool {
        let mut budget = self.budget;
        let mut preempted = false;
        if self.prefill == PrefillMode::PausesDecode {
            self.admit_waiting(&mut budget, true);
            if !self.batch.is_empty() {
                return false;
            }
        }
        let bs = self.block_size;
        let mut i = 0;
        'running: while i < self.running.len() && budget > 0 {
            let slot = self.running[i];
            let (c, need) = {
                let s = &self.seqs[slot as usize];
                let c = (s.num_tokens() - s.computed).min(budget);
                let need = (s.computed + c)
                    .div_ceil(bs)
                    .saturating_sub(s.held.blocks());
                (c, need)
            };
            loop {
                if self.kv.allocate(need, &mut self.seqs[slot as usize].held) {
                    break;
                }
                // Preempt the last running request (FCFS), recompute.
                let victim = self.running.pop().expect("the current request runs");
                self.preempt(victim);
                preempted = true;
                if victim == slot {
                    break 'running;
                }
            }
            self.batch.push((slot, c));
            budget -= c;
            i += 1;
        }
        if !preempted && self.prefill == PrefillMode::Chunked {
            self.admit_waiting(&mut budget, false);
        }
        preempted
    }

    /// `_preempt_request`: frees the blocks, resets the computed tokens, and puts the request
    /// at the front of the waiting queue.
    fn preempt(&mut self, slot: u32) {
        let s = &mut self.seqs[slot as usize];
        self.kv.release(&mut s.held);
        s.computed = 0;
        s.hashed = 0;
        s.preemptions += 1;
        self.counters.preemptions += 1;
        self.waiting.push_front(slot);
    }

    /// Admits waiting requests in order while the budget, the slots and the blocks allow;
    /// `whole` (the pausing mode) admits only prompts that fit the budget whole (the first of
    /// the iteration always does).
    fn admit_waiting(&mut self, budget: &mut u32, whole: bool) {
        let bs = self.block_size;
        while let Some(&slot) = self.waiting.front() {
            if *budget == 0 || self.running.len() >= self.max_num_seqs {
                break;
            }
            let s = &self.seqs[slot as usize];
            let nt = s.num_tokens();
            // The prefix cache's hit, capped so that the last token is computed.
            let cap = (nt - 1) / bs;
            let (hit_blocks, hit_free) = match self.prefix {
                PrefixCaching::Off => (0, 0),
                PrefixCaching::Hashes => self.kv.lookup(&s.hashes, cap),
                PrefixCaching::HitRate(rate) => {
                    (((f64::from(s.prompt / bs) * rate) as u32).min(cap), 0)
                }
            };
            let hit = hit_blocks * bs;
            let rest = nt - hit;
            if whole && rest > *budget && !self.batch.is_empty() {
                break;
            }
            let c = if whole { rest } else { rest.min(*budget) };
            let blocks = (hit + c).div_ceil(bs);
            let new = match self.prefix {
                // Cached hits already exist; the free ones among them leave the free pool.
                PrefixCaching::Hashes => blocks - hit_blocks,
                // Without hashes, the hit blocks are taken like new ones.
                _ => blocks,
            };
            if u64::from(new) + u64::from(hit_free) > u64::from(self.kv.free()) {
                break; // head-of-line blocking
            }
            let s = &mut self.seqs[slot as usize];
            if self.prefix == PrefixCaching::Hashes {
                self.kv.acquire(&s.hashes, hit_blocks, &mut s.held);
                s.hashed = hit_blocks;
            }
            let ok = self.kv.allocate(new, &mut s.held);
            debug_assert!(ok);
            s.computed = hit;
            if s.scheduled == SimTime::NEVER {
                s.scheduled = attos_to_time(self.start);
            }
            self.counters.prefix_hit_tokens += u64::from(hit);
            self.waiting.pop_front();
            self.running.push(slot);
            self.batch.push((slot, c));
            *budget = budget.saturating_sub(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::llm::gpu::InterconnectKind;
    use crate::model::llm::step_time::tests::{llama_8b, rtx_pro_6000, Mix};
    use crate::time::SimDuration;

    const MS: u64 = 1_000_000;
    const MS_AS: u64 = 1_000_000_000_000_000; // attoseconds per millisecond

    fn t(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * MS)
    }

    /// Every iteration takes `fixed` ms plus `per_token_us` µs per scheduled token.
    fn flat_cost(fixed_ms: u64, per_token_us: u64) -> StepCost {
        StepCost {
            per_token_compute: per_token_us * MS_AS / 1000,
            per_sample_compute: 0,
            per_key_compute: 0,
            weights_memory: 0,
            per_kv_token_memory: 0,
            fixed: fixed_ms * MS_AS,
            per_token_comm: 0,
        }
    }

    fn cfg(block_size: u32, max_num_seqs: u32, budget: u32) -> EngineConfig {
        EngineConfig {
            tp: 1,
            max_num_seqs,
            max_num_batched_tokens: budget,
            block_size,
            gpu_memory_utilization: 0.9,
            activation_reserve_bytes: 0,
            kv_blocks: None,
            prefill: PrefillMode::Chunked,
            prefix_caching: PrefixCaching::Off,
        }
    }

    /// An arrival: (time, id, prompt, output, hashes).
    type Arrival = (SimTime, u32, u32, u32, Vec<u64>);

    /// Drives the engine as the world would (an arrival at an event's time first); returns
    /// what finished and the number of engine events.
    fn drive(e: &mut Engine, arrivals: &[Arrival]) -> (Vec<Finished>, usize) {
        drive_with_cancels(e, arrivals, &[])
    }

    /// [`drive`], with clients cancelling requests `(time, id)` (in time order).
    fn drive_with_cancels(
        e: &mut Engine,
        arrivals: &[Arrival],
        cancels: &[(SimTime, u32)],
    ) -> (Vec<Finished>, usize) {
        let mut done = Vec::new();
        let mut events = 0;
        let (mut next, mut next_cancel) = (0, 0);
        loop {
            let ev = e.next_event();
            let arrival = arrivals.get(next).map(|a| a.0);
            let cancel = cancels.get(next_cancel).map(|c| c.0);
            let input = match (arrival, cancel) {
                (Some(a), Some(c)) => Some(a.min(c)),
                (a, c) => a.or(c),
            };
            match (ev, input) {
                (_, Some(i)) if ev.is_none_or(|x| i <= x) => {
                    if arrival == Some(i) {
                        let a = &arrivals[next];
                        let req = Request {
                            id: a.1,
                            prompt: a.2,
                            output: a.3,
                            hashes: &a.4,
                        };
                        e.admit(a.0, &req).expect("fits");
                        next += 1;
                    } else {
                        e.remove(i, cancels[next_cancel].1);
                        next_cancel += 1;
                    }
                }
                (Some(x), _) => {
                    e.advance(x, &mut done);
                    events += 1;
                }
                _ => return (done, events),
            }
        }
    }

    fn fin(id: u32, scheduled: u64, first: u64, last: u64, preemptions: u32) -> Finished {
        Finished {
            id,
            scheduled: t(scheduled),
            first_token: t(first),
            last_token: t(last),
            preemptions,
        }
    }

    #[test]
    fn a_batch_that_runs_out_of_blocks_preempts_its_last_request_and_recomputes_it() {
        // Blocks of 4 tokens, 6 blocks; 1 ms per iteration. A and B (prompt 8, output 8) at 0.
        //  it 0 (0 ms):  A and B prefill 8 tokens, 2 blocks each (free 2); first tokens at 1 ms.
        //  it 1-4:       both decode; their 9th token needs a 3rd block each (free 0); a run of
        //                4 iterations (the 5th needs a 4th block each): generated 5 at 5 ms.
        //  it 5 (5 ms):  A needs a 4th block, none free: B, the last running, is preempted
        //                (its 3 blocks freed, computed 0, generated stays 5); A takes a block
        //                (free 2); no admission in a step that preempted. A: generated 6.
        //  it 6-7:       A decodes; B (13 tokens = 8 + 5 to recompute, 4 blocks) waits: only 2
        //                free. A's 8th token at 8 ms: it finishes and frees 4 blocks (free 6).
        //  it 8 (8 ms):  B recomputes its 13 tokens in one chunk (4 blocks) and samples its 6th.
        //  it 9-10:      B decodes its 7th and 8th tokens: done at 11 ms.
        for runs in [true, false] {
            let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 6);
            e.set_decode_runs(runs);
            let (done, events) = drive(&mut e, &[(t(0), 1, 8, 8, vec![]), (t(0), 2, 8, 8, vec![])]);
            assert_eq!(done, vec![fin(1, 0, 1, 8, 0), fin(2, 0, 1, 11, 1)]);
            let c = e.counters();
            assert_eq!(c.preemptions, 1);
            assert_eq!(c.iterations, 11);
            assert_eq!(c.generated_tokens, 16);
            assert_eq!(c.prompt_tokens, 8 + 8 + 13);
            assert_eq!(e.kv_blocks_used(), 0);
            // Events: with runs, the pending start, it 0, run 1-4, it 5, run 6-7, it 8, run
            // 9-10 = 7; step by step, the start and 11 iterations.
            assert_eq!(events, if runs { 7 } else { 12 });
        }
    }

    #[test]
    fn an_empty_prompt_counts_as_one_token() {
        // A trace's 0 prompt tokens: one prefill token, so the first token comes out of an
        // iteration (1 ms), not at the arrival; output 3: two more iterations, done at 3 ms.
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 6);
        let (done, _) = drive(&mut e, &[(t(0), 1, 0, 3, vec![])]);
        assert_eq!(done, vec![fin(1, 0, 1, 3, 0)]);
        assert_eq!(e.counters().prompt_tokens, 1);
    }

    #[test]
    fn tokens_of_a_run_in_flight_count_by_the_iterations_ended() {
        // The start of the preemption test: A and B prefill in it 0 (0 → 1 ms, 2 tokens), then
        // run it 1-4 (ending at 2, 3, 4, 5 ms), 2 tokens each.
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 6);
        let mut done = Vec::new();
        for id in [1, 2] {
            e.admit(
                t(0),
                &Request {
                    id,
                    prompt: 8,
                    output: 8,
                    hashes: &[],
                },
            )
            .unwrap();
        }
        e.advance(t(0), &mut done);
        e.advance(t(1), &mut done);
        assert_eq!(e.next_event(), Some(t(5)));
        let just_before = |ms: u64| SimTime::from_nanos(ms * MS - 1);
        assert_eq!(e.generated_tokens_at(t(1)), 2);
        assert_eq!(e.generated_tokens_at(just_before(2)), 2);
        assert_eq!(e.generated_tokens_at(t(2)), 4);
        assert_eq!(e.generated_tokens_at(t(3)), 6);
        assert_eq!(e.generated_tokens_at(just_before(5)), 8);
        assert_eq!(e.generated_tokens_at(t(5)), 10);
        assert_eq!(e.generated_tokens_at(t(50)), 10);
        assert_eq!(e.counters().generated_tokens, 2);
        // KV: 4 blocks after the prefill; it 1 (from 1 ms) writes the 9th token of each, a 3rd
        // block each; none more until it 5.
        assert_eq!(e.kv_blocks_used(), 6);
        assert_eq!(e.kv_blocks_used_at(t(1)), 6);
        assert_eq!(e.kv_blocks_used_at(t(4)), 6);

        // A longer run: A alone, prompt 8, output 30, blocks of 4, 100 blocks. After its
        // prefill (2 blocks) it decodes from 1 ms; the iteration from j ms writes token 7 + j
        // (from 0), so it holds ⌈(8 + j)/4⌉ blocks: 3 from 1 ms, 4 from 5 ms, 5 from 9 ms.
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 100);
        e.admit(
            t(0),
            &Request {
                id: 1,
                prompt: 8,
                output: 30,
                hashes: &[],
            },
        )
        .unwrap();
        e.advance(t(0), &mut done);
        e.advance(t(1), &mut done);
        assert_eq!(e.next_event(), Some(t(30)));
        assert_eq!(e.kv_blocks_used(), 3);
        let used: Vec<u32> = [1, 4, 5, 8, 9]
            .iter()
            .map(|&ms| e.kv_blocks_used_at(t(ms)))
            .collect();
        assert_eq!(used, vec![3, 3, 4, 4, 5]);
    }

    #[test]
    fn a_blocked_head_of_the_queue_holds_back_a_request_that_would_fit() {
        // Blocks of 4, 6 blocks, 1 ms per iteration. A (prompt 12 = 3 blocks, output 10) at 0;
        // B (prompt 16 = 4 blocks, output 1) and C (prompt 4 = 1 block, output 1) at 0.5 ms.
        //  it 0: A prefills (free 3), first token at 1 ms.
        //  it 1: A's 13th token takes a 4th block (free 2); B needs 4: the head blocks, and C,
        //        which would fit, waits behind it. A decodes on alone: a run of 9 iterations
        //        (its blocks at the 17th and 21st tokens fit the 2 free), done at 10 ms, 6
        //        blocks freed.
        //  it 10: B and C both admitted (5 blocks), scheduled at 10 ms, done at 11 ms.
        // D (prompt 4, output 1) arrives at 5 ms while the head is blocked: the run is not
        // cut (it could not be admitted anyway).
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 6);
        let half = SimTime::from_nanos(MS / 2);
        let (done, _) = drive(
            &mut e,
            &[
                (t(0), 1, 12, 10, vec![]),
                (half, 2, 16, 1, vec![]),
                (half, 3, 4, 1, vec![]),
            ],
        );
        assert_eq!(
            done,
            vec![
                fin(1, 0, 1, 10, 0),
                fin(2, 10, 11, 11, 0),
                fin(3, 10, 11, 11, 0)
            ]
        );

        // The same with D at 5 ms: the run's end stays at 10 ms.
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 6);
        let mut done = Vec::new();
        for (id, p) in [(1, 12), (2, 16)] {
            let at = if id == 1 { t(0) } else { half };
            e.admit(
                at,
                &Request {
                    id,
                    prompt: p,
                    output: if id == 1 { 10 } else { 1 },
                    hashes: &[],
                },
            )
            .unwrap();
            if id == 1 {
                e.advance(t(0), &mut done); // it 0 scheduled
            }
        }
        e.advance(t(1), &mut done); // it 0 ends, the run starts
        assert_eq!(e.next_event(), Some(t(10)));
        let epoch = e.epoch;
        e.admit(
            t(5),
            &Request {
                id: 4,
                prompt: 4,
                output: 1,
                hashes: &[],
            },
        )
        .unwrap();
        assert_eq!((e.next_event(), e.epoch), (Some(t(10)), epoch));
    }

    #[test]
    fn an_arrival_with_a_free_slot_cuts_a_run_after_the_iteration_in_progress() {
        // A (prompt 4, output 20) decodes alone at 1 ms per iteration from 1 ms. B arrives at
        // 5.5 ms: the iteration 5→6 ms is in progress; B is admitted in the one at 6 ms.
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 8, 100), 100);
        let (done, _) = drive(
            &mut e,
            &[
                (t(0), 1, 4, 20, vec![]),
                (SimTime::from_nanos(5 * MS + MS / 2), 2, 4, 1, vec![]),
            ],
        );
        assert_eq!(done, vec![fin(2, 6, 7, 7, 0), fin(1, 0, 1, 20, 0)]);
    }

    #[test]
    fn prefix_hits_shorten_a_prefill_by_exactly_the_hit_blocks() {
        // 1 ms + 1 µs per token per iteration; blocks of 16. A: 64 prompt tokens, hashes
        // [1, 2, 3, 4], output 1: 1.064 ms.
        let mut c = cfg(16, 8, 2048);
        c.prefix_caching = PrefixCaching::Hashes;
        let us = |n: u64| SimTime::from_nanos(n * 1000);
        let arrivals = vec![
            (t(0), 1, 64, 1, vec![1, 2, 3, 4]),
            // B shares 3 blocks: 48 tokens hit, 16 computed: 10 ms + 1.016 ms.
            (t(10), 2, 64, 1, vec![1, 2, 3, 9]),
            // C is A again: the hit is capped at (64 − 1) / 16 = 3 blocks (the last token is
            // always computed): 20 ms + 1.016 ms.
            (t(20), 3, 64, 1, vec![1, 2, 3, 4]),
            // D misses at its second block: 1 block hits, 48 computed: 30 ms + 1.048 ms.
            (t(30), 4, 64, 1, vec![1, 7, 3, 4]),
            // E has no hashes: 40 ms + 1.064 ms.
            (t(40), 5, 64, 1, vec![]),
        ];
        let mut e = Engine::with_cost(flat_cost(1, 1), &c, 100);
        let (done, _) = drive(&mut e, &arrivals);
        let ends: Vec<SimTime> = done.iter().map(|f| f.last_token).collect();
        assert_eq!(
            ends,
            vec![us(1064), us(11_016), us(21_016), us(31_048), us(41_064)]
        );
        assert_eq!(e.counters().prefix_hit_tokens, 48 + 48 + 16);
        assert_eq!(e.counters().prompt_tokens, 64 + 16 + 16 + 48 + 64);

        // Without prefix caching every prefill computes 64 tokens.
        let mut e = Engine::with_cost(flat_cost(1, 1), &cfg(16, 8, 2048), 100);
        let (done, _) = drive(&mut e, &arrivals);
        assert!(done
            .iter()
            .zip(&arrivals)
            .all(|(f, a)| f.last_token == a.0 + crate::time::SimDuration::from_nanos(1_064_000)));

        // A hit rate of 0.5: 2 of the 4 full blocks hit, 32 tokens computed: 1.032 ms.
        let mut c = cfg(16, 8, 2048);
        c.prefix_caching = PrefixCaching::HitRate(0.5);
        let mut e = Engine::with_cost(flat_cost(1, 1), &c, 100);
        let (done, _) = drive(&mut e, &arrivals[..1]);
        assert_eq!(done[0].last_token, us(1032));
    }

    #[test]
    fn the_pausing_mode_prefills_in_iterations_without_decodes() {
        // 1 ms + 1 µs per token. A (prompt 100, output 3) at 0; B (prompt 200, output 2) at
        // 1.5 ms.
        //  0 → 1.1 ms: A's prefill (first token).
        //  1.1 → 2.101 ms: A decodes (2nd token); B arrived meanwhile.
        //  2.101 → 3.301 ms: B's prefill alone (1 ms + 200 µs); A's decode waits. B's first.
        //  3.301 → 4.303 ms: both decode: A's 3rd (done), B's 2nd (done).
        let mut c = cfg(16, 8, 2048);
        c.prefill = PrefillMode::PausesDecode;
        let us = |n: u64| SimTime::from_nanos(n * 1000);
        let mut e = Engine::with_cost(flat_cost(1, 1), &c, 100);
        let (done, _) = drive(
            &mut e,
            &[(t(0), 1, 100, 3, vec![]), (us(1500), 2, 200, 2, vec![])],
        );
        let f = |id, s, a, b| Finished {
            id,
            scheduled: us(s),
            first_token: us(a),
            last_token: us(b),
            preemptions: 0,
        };
        assert_eq!(done, vec![f(1, 0, 1100, 4303), f(2, 2101, 3301, 4303)]);

        // Chunked, the same arrivals: B's prefill shares an iteration with A's decode.
        //  2.101 → 3.302 ms: A's 3rd token (done) and B's prefill (201 tokens); B's first.
        //  3.302 → 4.303 ms: B's 2nd.
        let mut e = Engine::with_cost(flat_cost(1, 1), &cfg(16, 8, 2048), 100);
        let (done, _) = drive(
            &mut e,
            &[(t(0), 1, 100, 3, vec![]), (us(1500), 2, 200, 2, vec![])],
        );
        assert_eq!(done, vec![f(1, 0, 1100, 3302), f(2, 2101, 3302, 4303)]);
    }

    #[test]
    fn removal_and_clear_give_back_every_block() {
        let mut e = Engine::with_cost(flat_cost(1, 0), &cfg(4, 1, 100), 10);
        let mut done = Vec::new();
        for id in 1..=3 {
            e.admit(
                t(0),
                &Request {
                    id,
                    prompt: 8,
                    output: 20,
                    hashes: &[],
                },
            )
            .unwrap();
        }
        e.advance(t(0), &mut done);
        assert_eq!((e.running(), e.waiting()), (1, 2));
        assert!(e.remove(t(0), 2)); // waiting: out at once
        assert!(e.remove(t(0), 1)); // running: out at the end of its iteration
        assert!(!e.remove(t(0), 1));
        e.advance(t(1), &mut done);
        assert!(done.is_empty());
        // Request 3 runs now.
        assert_eq!((e.running(), e.waiting()), (1, 0));
        let mut ids = Vec::new();
        e.clear(&mut ids);
        assert_eq!(ids, vec![3]);
        assert_eq!((e.kv_blocks_used(), e.next_event()), (0, None));
        // A request larger than the whole cache is refused.
        assert_eq!(
            e.admit(
                t(2),
                &Request {
                    id: 9,
                    prompt: 40,
                    output: 1,
                    hashes: &[]
                }
            ),
            Err(Rejected::TooLong)
        );
    }

    #[test]
    fn decode_runs_give_the_same_results_as_iteration_by_iteration() {
        // A random workload on Llama-3.1-8B / RTX PRO 6000 with a small KV cache (so that
        // requests preempt), arrivals during runs, shared prefixes, in both prefill modes.
        let co = Coefficients::defaults(InterconnectKind::Pcie);
        let cost = StepCost::new(&llama_8b(), &rtx_pro_6000(), 1, &co);
        for (case, mode) in [PrefillMode::Chunked, PrefillMode::PausesDecode]
            .into_iter()
            .enumerate()
        {
            let mut rng = Mix(11 + case as u64);
            let mut at = 0u64;
            let arrivals: Vec<Arrival> = (0..400)
                .map(|id| {
                    at += rng.below(300 * MS);
                    let prompt = 1 + rng.below(2000) as u32;
                    let shared = rng.below(4);
                    let hashes = (0..u64::from(prompt / 16))
                        .map(|b| {
                            if b < 20 {
                                shared * 1000 + b
                            } else {
                                u64::from(id) << 32 | b
                            }
                        })
                        .collect();
                    (
                        SimTime::from_nanos(at),
                        id,
                        prompt,
                        1 + rng.below(600) as u32,
                        hashes,
                    )
                })
                .collect();
            // One request in 20 is cancelled by its client, at a random time after it arrives.
            let mut cancels: Vec<(SimTime, u32)> = arrivals
                .iter()
                .filter(|a| a.1 % 20 == 7)
                .map(|a| (a.0 + SimDuration::from_nanos(rng.below(20_000 * MS)), a.1))
                .collect();
            cancels.sort();
            let mut c = cfg(16, 32, 2048);
            c.prefill = mode;
            c.prefix_caching = PrefixCaching::Hashes;
            let results: Vec<_> = [true, false]
                .into_iter()
                .map(|runs| {
                    let mut e = Engine::with_cost(cost, &c, 1000);
                    e.set_decode_runs(runs);
                    let (done, events) = drive_with_cancels(&mut e, &arrivals, &cancels);
                    (done, e.counters(), events)
                })
                .collect();
            let (fast, slow) = (&results[0], &results[1]);
            // Some cancelled requests finished before their cancellation, most did not.
            assert!(fast.0.len() < 400 && fast.0.len() >= 400 - cancels.len());
            if let Some(i) = (0..fast.0.len()).find(|&i| fast.0[i] != slow.0[i]) {
                panic!(
                    "{mode:?}: finished #{i} differs: runs {:?}, step by step {:?}",
                    fast.0[i], slow.0[i]
                );
            }
            assert_eq!(fast.1, slow.1, "{mode:?}");
            assert!(
                fast.1.preemptions > 0,
                "{mode:?}: the workload should preempt"
            );
            assert!(fast.1.prefix_hit_tokens > 0);
            // Runs are what make it fast: far fewer events than iterations.
            assert!(fast.2 * 5 < slow.2, "{} vs {} events", fast.2, slow.2);
        }
    }
}
