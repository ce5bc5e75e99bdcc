//! The LLM engines' outputs: KV-cache use and preemptions per timeline window, and each
//! instance type's tokens per second, for runs whose fleet has an engine from physics
//! (`llm = { model, ... }` on an instance type).
//!
//! Read per window, never per event: an engine keeps running totals (iterations, preemptions,
//! prompt and generated tokens, prefix-cache hits) and knows its KV blocks in use. Before the
//! recorder closes a window (and at the end of the warm-up), the world adds the fleet's
//! engines up into an [`EngineReading`] ([`EngineMeter::reading_mut`]); what changed since the
//! last window is the window's. Nothing happens between the last event and the window's end,
//! so a reading taken at the first event at or after it is the state at the window's end.
//!
//! It must not know about engines or the world: the world hands it numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Running totals of engines (one instance type's, or the fleet's), from their counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineCounts {
    /// Iterations executed.
    pub iterations: u64,
    /// Requests preempted (their KV blocks freed, to be recomputed).
    pub preemptions: u64,
    /// Prompt tokens computed (recomputation included, prefix-cache hits excluded).
    pub prompt_tokens: u64,
    /// Output tokens generated.
    pub generated_tokens: u64,
    /// Prompt tokens served from the prefix cache.
    pub prefix_hit_tokens: u64,
}

impl EngineCounts {
    /// Adds `other`'s totals to these.
    pub fn add(&mut self, other: &EngineCounts) {
        self.iterations += other.iterations;
        self.preemptions += other.preemptions;
        self.prompt_tokens += other.prompt_tokens;
        self.generated_tokens += other.generated_tokens;
        self.prefix_hit_tokens += other.prefix_hit_tokens;
    }

    /// These totals less `earlier`'s (an interval's counts).
    fn since(&self, earlier: &EngineCounts) -> EngineCounts {
        EngineCounts {
            iterations: self.iterations - earlier.iterations,
            preemptions: self.preemptions - earlier.preemptions,
            prompt_tokens: self.prompt_tokens - earlier.prompt_tokens,
            generated_tokens: self.generated_tokens - earlier.generated_tokens,
            prefix_hit_tokens: self.prefix_hit_tokens - earlier.prefix_hit_tokens,
        }
    }
}

/// The fleet's engines added up at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineReading {
    /// KV blocks held by requests, on instances that serve (in service or draining).
    pub kv_blocks_used: u64,
    /// KV blocks of the engines of instances that serve.
    pub kv_blocks_total: u64,
    /// Running totals per instance type, in scenario order (zeros for a type without an
    /// engine). Every instance's since the run began, whatever its state now.
    pub by_type: Vec<EngineCounts>,
}

impl EngineReading {
    /// Every type's totals together.
    pub fn fleet(&self) -> EngineCounts {
        let mut all = EngineCounts::default();
        for c in &self.by_type {
            all.add(c);
        }
        all
    }
}

/// What a timeline window holds of the engines (`timeline.csv`'s engine columns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EngineWindow {
    /// `kv_blocks_used / kv_blocks_total` at the window's end; `None` when no engine serves.
    pub kv_cache_used: Option<f64>,
    /// Preemptions in the window.
    pub preemptions: u64,
}

/// The engines' summary (`summary.json`'s `engines`), for runs with an engine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EngineSummary {
    /// Preemptions over the whole run (the timeline's `preemptions` add up to it).
    pub preemptions: u64,
    /// Per instance type with an engine, by name; counted over `[W, T)`.
    pub by_instance_type: BTreeMap<String, EngineTypeSummary>,
}

/// One instance type's engines, over the measured time `[W, T)`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EngineTypeSummary {
    /// Iterations executed.
    pub iterations: u64,
    /// Requests preempted.
    pub preemptions: u64,
    /// Prompt tokens computed (recomputation included, prefix-cache hits excluded).
    pub prompt_tokens: u64,
    /// Output tokens generated.
    pub generated_tokens: u64,
    /// Prompt tokens served from the prefix cache.
    pub prefix_hit_tokens: u64,
    /// `prompt_tokens / (T − W)` [tokens/s].
    pub prompt_tokens_per_second: f64,
    /// `generated_tokens / (T − W)` [tokens/s].
    pub generated_tokens_per_second: f64,
}

/// The recorder's part for engines: the latest reading, the totals at the last window's close
/// and at the end of the warm-up.
#[derive(Debug, Clone)]
pub(super) struct EngineMeter {
    reading: EngineReading,
    /// The fleet's totals when the last window closed.
    at_last_window: EngineCounts,
    /// Per type, the totals at the end of the warm-up (`None` until it is read).
    at_warmup: Option<Vec<EngineCounts>>,
}

impl EngineMeter {
    /// A meter for `types` instance types; with no warm-up (`warmup_done`), counting starts
    /// at zero.
    pub(super) fn new(types: usize, warmup_done: bool) -> Self {
        EngineMeter {
            reading: EngineReading {
                by_type: vec![EngineCounts::default(); types],
                ..EngineReading::default()
            },
            at_last_window: EngineCounts::default(),
            at_warmup: warmup_done.then(|| vec![EngineCounts::default(); types]),
        }
    }

    /// True if the warm-up's totals are still to be read.
    pub(super) fn warmup_pending(&self) -> bool {
        self.at_warmup.is_none()
    }

    /// The reading, for the world to fill in (its `by_type` has one entry per type).
    pub(super) fn reading_mut(&mut self) -> &mut EngineReading {
        &mut self.reading
    }

    /// The reading just filled in is the state at the warm-up's end too, if `warmup_passed`
    /// and it was not read yet.
    pub(super) fn read(&mut self, warmup_passed: bool) {
        if warmup_passed && self.at_warmup.is_none() {
            self.at_warmup = Some(self.reading.by_type.clone());
        }
    }

    /// Closes a window: what changed since the last one.
    pub(super) fn close_window(&mut self) -> EngineWindow {
        let fleet = self.reading.fleet();
        let window = EngineWindow {
            kv_cache_used: (self.reading.kv_blocks_total > 0)
                .then(|| self.reading.kv_blocks_used as f64 / self.reading.kv_blocks_total as f64),
            preemptions: fleet.preemptions - self.at_last_window.preemptions,
        };
        self.at_last_window = fleet;
        window
    }

    /// The summary, types named by `names` (those without an engine left out: `has_engine`),
    /// over `measured_secs` after the warm-up.
    pub(super) fn summary(
        &self,
        names: &[&str],
        has_engine: &[bool],
        measured_secs: f64,
    ) -> EngineSummary {
        let zeros = vec![EngineCounts::default(); self.reading.by_type.len()];
        let at_warmup = self.at_warmup.as_ref().unwrap_or(&zeros);
        let by_instance_type = self
            .reading
            .by_type
            .iter()
            .zip(at_warmup)
            .zip(names.iter().zip(has_engine))
            .filter(|(_, (_, &engine))| engine)
            .map(|((now, warm), (name, _))| {
                let c = now.since(warm);
                (
                    (*name).to_string(),
                    EngineTypeSummary {
                        iterations: c.iterations,
                        preemptions: c.preemptions,
                        prompt_tokens: c.prompt_tokens,
                        generated_tokens: c.generated_tokens,
                        prefix_hit_tokens: c.prefix_hit_tokens,
                        prompt_tokens_per_second: c.prompt_tokens as f64 / measured_secs,
                        generated_tokens_per_second: c.generated_tokens as f64 / measured_secs,
                    },
                )
            })
            .collect();
        EngineSummary {
            preemptions: self.reading.fleet().preemptions,
            by_instance_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(preemptions: u64, generated: u64) -> EngineCounts {
        EngineCounts {
            preemptions,
            generated_tokens: generated,
            ..EngineCounts::default()
        }
    }

    #[test]
    fn windows_get_what_changed_and_the_summary_counts_after_the_warmup() {
        let mut m = EngineMeter::new(2, false);
        // Warm-up ends: 1 preemption and 10 tokens so far.
        *m.reading_mut() = EngineReading {
            kv_blocks_used: 3,
            kv_blocks_total: 4,
            by_type: vec![counts(1, 10), counts(0, 0)],
        };
        m.read(true);
        let w = m.close_window();
        assert_eq!(w.preemptions, 1);
        assert_eq!(w.kv_cache_used, Some(0.75));
        // Nothing changed: a window crossed without events.
        assert_eq!(m.close_window().preemptions, 0);
        *m.reading_mut() = EngineReading {
            kv_blocks_used: 0,
            kv_blocks_total: 0,
            by_type: vec![counts(3, 50), counts(0, 0)],
        };
        m.read(true);
        let w = m.close_window();
        assert_eq!((w.preemptions, w.kv_cache_used), (2, None));
        let s = m.summary(&["a", "b"], &[true, false], 8.0);
        assert_eq!(s.preemptions, 3);
        assert_eq!(s.by_instance_type.len(), 1);
        let a = s.by_instance_type["a"];
        assert_eq!((a.preemptions, a.generated_tokens), (2, 40));
        assert_eq!(a.generated_tokens_per_second, 5.0);
    }
}
