//! The GPU server from physics: transformer models and GPUs by name, the time of one engine
//! iteration from what it computes and reads, the KV cache as blocks, and vLLM v1's scheduler.
//!
//! It must not know about balancers, queues or metrics: the world hands an engine requests and
//! is told when they produce their first and last tokens.

pub mod arch;
pub mod config;
pub mod engine;
pub mod gpu;
pub mod kv;
pub mod replay;
pub mod step_time;
