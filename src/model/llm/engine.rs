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
//! [`PrefillMode::PausesDecode`] is vLLM v0's default scheduler without chunked prefill
//! (`vllm/core/scheduler.py`, `Scheduler._schedule_default`): waiting prompts that fit are
//! prefilled whole, in an iteration without decodes; an iteration with no prefill decodes every
//! running request. Blocks are still taken as tokens need them (v0 takes the prompt's at
//! admission, which is the same thing for a whole-prompt prefill).
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
use super::step_time::{attos_to_time, time_to_attos, DecodeRun, StepCost, Work};
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
    /// whose hashes cover bigger blocks (Mooncake's 512 tokens) gives one per engine block.
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
        Engine {
            cost: StepCost::new(arch, gpu, cfg.tp, co),
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
        let tokens = u64::from(req.prompt) + u64::from(req.output.max(1));
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
        s.prompt = req.prompt;
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
        for &(slot, c) in &self.batch {
            let s = &mut self.seqs[slot as usize];
            if s.cancelled {
                continue;
            }
            if k > 1 {
                // A decode run: one token per iteration; the blocks the run's tokens need were
                // counted free when it was planned.
                let k32 = k as u32;
                s.computed += k32;
                s.generated += k32;
                self.counters.generated_tokens += k;
                let need = s.computed.div_ceil(bs).saturating_sub(s.held.blocks());
                let ok = self.kv.allocate(need, &mut s.held);
                debug_assert!(ok, "a decode run's blocks were free when it was planned");
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
