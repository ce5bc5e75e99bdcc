//! The systems being simulated: traffic, balancers, the fleet, autoscalers, the market, the
//! topology. Each sub-module is a set of pure models and decisions; the world (`crate::world`)
//! wires them to the engine. A model knows no other model but those its row of
//! `docs/architecture.md` names; what several share (duration distributions, retry
//! conditions) is a small model of its own ([`distribution`], [`retry`]).

pub mod autoscale;
pub mod balancer;
pub mod distribution;
pub mod fleet;
pub mod llm;
pub mod market;
pub mod retry;
pub mod topology;
pub mod traffic;
