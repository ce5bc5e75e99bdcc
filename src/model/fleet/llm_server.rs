//! An LLM instance type's server, by either of its two models, behind one interface for the
//! world: the typed-in token profile ([`LlmProfile`], whose prefills pause the decodes), or
//! the engine from physics ([`EngineSpec`]: a model on GPUs, timed by the roofline and
//! scheduled as vLLM v1 does, `crate::model::llm`).

use std::sync::Arc;

use super::llm::{LlmBatch, LlmProfile};
use crate::model::llm::arch::ModelArch;
use crate::model::llm::config::{Coefficients, EngineConfig};
use crate::model::llm::engine::{self, Engine, Rejected, Request};
use crate::model::llm::gpu::Gpu;
use crate::model::llm::kv::blocks_from_memory;
use crate::model::llm::step_time::StepCost;
use crate::time::SimTime;

/// How an LLM instance type serves token-based requests.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmServer {
    /// Speeds typed in (`llm = { prefill_per_token, decode_step, max_batch }`).
    Profile(LlmProfile),
    /// A model on GPUs (`llm = { model, gpu, tp, ... }`): step times from the roofline,
    /// vLLM v1's scheduler and KV cache.
    Engine(Arc<EngineSpec>),
}

impl LlmServer {
    /// Requests one instance takes at once (its slots): `max_batch`, or the engine's
    /// `max_num_seqs` (an engine queues those its KV cache cannot hold yet itself).
    pub fn slots(&self) -> u32 {
        match self {
            LlmServer::Profile(p) => p.max_batch,
            LlmServer::Engine(e) => e.config.max_num_seqs,
        }
    }

    /// The token profile, if this is one.
    pub fn profile(&self) -> Option<&LlmProfile> {
        match self {
            LlmServer::Profile(p) => Some(p),
            LlmServer::Engine(_) => None,
        }
    }

    /// The engine's spec, if this is one.
    pub fn engine(&self) -> Option<&EngineSpec> {
        match self {
            LlmServer::Engine(e) => Some(e),
            LlmServer::Profile(_) => None,
        }
    }

    /// Bytes one instance's work may take at most, for the memory guard: its slots' entries
    /// and, for an engine, its prefix cache (an entry, a map slot and a list link per block,
    /// the map's growth by doubling included) and the prompts' block hashes.
    pub fn bytes_per_instance(&self) -> u64 {
        let slots = u64::from(self.slots());
        match self {
            LlmServer::Profile(_) => slots.saturating_mul(LlmBatch::BYTES_PER_SEQUENCE),
            LlmServer::Engine(e) => {
                const PER_SEQUENCE: u64 = 256;
                const PER_BLOCK: u64 = 96;
                let cache = match e.config.prefix_caching {
                    crate::model::llm::config::PrefixCaching::Hashes => u64::from(e.kv_blocks),
                    _ => 0,
                };
                // A sequence holds at most every block: its block list and hashes are bounded
                // by the cache, whatever the prompts.
                slots
                    .saturating_mul(PER_SEQUENCE)
                    .saturating_add(cache.saturating_mul(PER_BLOCK))
                    .saturating_add(u64::from(e.kv_blocks).saturating_mul(12))
            }
        }
    }
}

/// A model served on GPUs: what an instance's engine is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSpec {
    /// The model.
    pub model: ModelArch,
    /// The GPU (each of `config.tp`).
    pub gpu: Gpu,
    /// vLLM's settings.
    pub config: EngineConfig,
    /// The step time's coefficients.
    pub coefficients: Coefficients,
    /// KV-cache blocks (given, or from memory).
    pub kv_blocks: u32,
    /// The step time's costs, computed once.
    pub cost: StepCost,
}

impl EngineSpec {
    /// `model` on `config.tp` GPUs of type `gpu`, timed with `coefficients`.
    pub fn new(
        model: ModelArch,
        gpu: Gpu,
        config: EngineConfig,
        coefficients: Coefficients,
    ) -> Self {
        let kv_blocks = blocks_from_memory(&model, &gpu, &config).min(u64::from(u32::MAX)) as u32;
        let cost = StepCost::new(&model, &gpu, config.tp, &coefficients);
        EngineSpec {
            model,
            gpu,
            config,
            coefficients,
            kv_blocks,
            cost,
        }
    }
}

/// A request that produced its last token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The request.
    pub id: u32,
    /// When it was first scheduled (an engine's; `None` for a token profile).
    pub scheduled: Option<SimTime>,
    /// When its first token was out.
    pub first_token: SimTime,
    /// When its last token was out.
    pub end: SimTime,
}

/// One instance's work in progress, by its type's [`LlmServer`]. Built by [`LlmWork::new`]
/// from the server it is then always called with, so the arms pairing a batch with an engine
/// server do nothing: they cannot be reached.
#[derive(Debug)]
pub enum LlmWork {
    /// A token profile's continuous batch, and a buffer for what finishes.
    Batch(LlmBatch, Vec<super::llm::Finished>),
    /// An engine, and a buffer for what finishes.
    Engine(Box<Engine>, Vec<engine::Finished>),
}

impl LlmWork {
    /// An idle instance of `server`.
    pub fn new(server: &LlmServer) -> Self {
        match server {
            LlmServer::Profile(_) => LlmWork::Batch(LlmBatch::default(), Vec::new()),
            LlmServer::Engine(spec) => LlmWork::Engine(
                Box::new(Engine::with_cost(spec.cost, &spec.config, spec.kv_blocks)),
                Vec::new(),
            ),
        }
    }

    /// Bumped at every change: an event carrying an older epoch is stale.
    pub fn epoch(&self) -> u32 {
        match self {
            LlmWork::Batch(b, _) => b.epoch,
            LlmWork::Engine(e, _) => e.epoch,
        }
    }

    /// Request `id` with `input` and `output` tokens (and the hashes of its prompt's blocks,
    /// for an engine's prefix cache) joins at `now`. An engine refuses a request longer than
    /// its whole KV cache.
    pub fn admit(
        &mut self,
        now: SimTime,
        server: &LlmServer,
        id: u32,
        (input, output): (u32, u32),
        hashes: &[u64],
    ) -> Result<(), Rejected> {
        match (self, server) {
            (LlmWork::Batch(b, _), LlmServer::Profile(p)) => {
                b.admit(now, p, id, input, output);
                Ok(())
            }
            (LlmWork::Engine(e, _), _) => e.admit(
                now,
                &Request {
                    id,
                    prompt: input,
                    output,
                    hashes,
                },
            ),
            (LlmWork::Batch(..), LlmServer::Engine(_)) => Ok(()),
        }
    }

    /// When the next request finishes a step that matters (a prefill, an iteration, a last
    /// token); `None` when idle.
    pub fn next_event(&self, server: &LlmServer) -> Option<SimTime> {
        match (self, server) {
            (LlmWork::Batch(b, _), LlmServer::Profile(p)) => b.next_event(p),
            (LlmWork::Engine(e, _), _) => e.next_event(),
            (LlmWork::Batch(..), LlmServer::Engine(_)) => None,
        }
    }

    /// Moves to `now`, appending what finished to `done` in order.
    pub fn advance(&mut self, now: SimTime, server: &LlmServer, done: &mut Vec<Served>) {
        match (self, server) {
            (LlmWork::Batch(b, buf), LlmServer::Profile(p)) => {
                b.advance(now, p, buf);
                done.extend(buf.drain(..).map(|f| Served {
                    id: f.id,
                    scheduled: None,
                    first_token: f.first_token,
                    end: f.end,
                }));
            }
            (LlmWork::Engine(e, buf), _) => {
                e.advance(now, buf);
                done.extend(buf.drain(..).map(|f| Served {
                    id: f.id,
                    scheduled: Some(f.scheduled),
                    first_token: f.first_token,
                    end: f.last_token,
                }));
            }
            (LlmWork::Batch(..), LlmServer::Engine(_)) => {}
        }
    }

    /// True if request `id` is in (not finished, not removed). O(n).
    pub fn contains(&self, id: u32) -> bool {
        match self {
            LlmWork::Batch(b, _) => b.contains(id),
            LlmWork::Engine(e, _) => e.contains(id),
        }
    }

    /// Takes request `id` out at `now` (its client cancelled); true if it was in.
    pub fn remove(&mut self, now: SimTime, server: &LlmServer, id: u32) -> bool {
        match (self, server) {
            (LlmWork::Batch(b, _), LlmServer::Profile(p)) => b.remove(now, p, id),
            (LlmWork::Engine(e, _), _) => e.remove(now, id),
            (LlmWork::Batch(..), LlmServer::Engine(_)) => false,
        }
    }

    /// Empties it (its server died), appending the ids it held to `ids`.
    pub fn clear(&mut self, ids: &mut Vec<u32>) {
        match self {
            LlmWork::Batch(b, _) => b.clear(ids),
            LlmWork::Engine(e, _) => e.clear(ids),
        }
    }

    /// The engine, if this is one (for its counters).
    pub fn engine(&self) -> Option<&Engine> {
        match self {
            LlmWork::Engine(e, _) => Some(e),
            LlmWork::Batch(..) => None,
        }
    }
}
