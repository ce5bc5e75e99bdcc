//! The systems being simulated: traffic, balancers, the fleet. Each sub-module is a set of pure
//! models and decisions; the world (`crate::world`) wires them to the engine.

pub mod autoscale;
pub mod balancer;
pub mod distribution;
pub mod fleet;
pub mod market;
pub mod retry;
pub mod topology;
pub mod traffic;
