//! The fleet's LLM engines read for the recorder: KV blocks in use and the engines' running
//! totals per instance type, once per timeline window (and at the end of the warm-up), never
//! per event (`crate::metrics` documents what is made of them).
//!
//! An instance slot keeps its engine from life to life, so its counters only grow. A slot of a
//! mixed pool relaunched as another type gets a new engine (the old one served another model):
//! the old one's totals stay with its type in [`Fleet::retired_engines`].

use super::{Fleet, Instance};
use crate::metrics::{EngineCounts, EngineReading};
use crate::model::llm::engine::Counters;
use crate::scenario::Scenario;
use crate::world::ids::Id;

fn counts(c: Counters) -> EngineCounts {
    EngineCounts {
        iterations: c.iterations,
        preemptions: c.preemptions,
        prompt_tokens: c.prompt_tokens,
        generated_tokens: c.generated_tokens,
        prefix_hit_tokens: c.prefix_hit_tokens,
    }
}

/// True if some instance type of `scenario` has an LLM engine.
pub(in crate::world) fn has_engine(scenario: &Scenario) -> bool {
    scenario
        .instance_types
        .iter()
        .any(|t| t.llm.as_ref().is_some_and(|l| l.engine().is_some()))
}

impl Fleet {
    /// Fills `out` with the engines' state now: KV blocks of instances that serve (in service
    /// or draining), and every engine's totals per instance type (`out.by_type` has one entry
    /// per type). O(instances), no allocation.
    pub(in crate::world) fn read_engines(&self, scenario: &Scenario, out: &mut EngineReading) {
        out.kv_blocks_used = 0;
        out.kv_blocks_total = 0;
        out.by_type.copy_from_slice(&self.retired_engines);
        for inst in self.instances.iter() {
            let t = inst.itype.index();
            if inst.state.serves() {
                if let Some(spec) = scenario.instance_types[t]
                    .llm
                    .as_ref()
                    .and_then(|l| l.engine())
                {
                    out.kv_blocks_total += u64::from(spec.kv_blocks);
                }
            }
            let Some(engine) = inst.llm.as_deref().and_then(|w| w.engine()) else {
                continue;
            };
            if inst.state.serves() {
                out.kv_blocks_used += u64::from(engine.kv_blocks_used());
            }
            out.by_type[t].add(&counts(engine.counters()));
        }
    }

    /// `inst` is relaunched as another instance type: its LLM work, built for the old type's
    /// server, is dropped, and its engine's totals kept with the old type.
    pub(in crate::world) fn retire_llm(retired: &mut [EngineCounts], inst: &mut Instance) {
        if let Some(work) = inst.llm.take() {
            if let Some(engine) = work.engine() {
                retired[inst.itype.index()].add(&counts(engine.counters()));
            }
        }
    }
}
