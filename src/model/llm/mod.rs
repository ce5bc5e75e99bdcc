//! The GPU server from physics: transformer models and GPUs by name, the time of one engine
//! iteration from what it computes and reads, the KV cache as blocks, and vLLM v1's scheduler.
//!
//! It must not know about balancers, queues or metrics: the world hands an engine requests and
//! is told when they produce their first and last tokens.

pub mod arch;
pub mod catalog_file;
pub mod config;
pub mod engine;
pub mod gpu;
pub mod gpus;
pub mod kv;
pub mod load;
pub mod models;
pub mod profile;
pub mod replay;
pub mod step_time;

pub use gpus::{gpu_by_name, gpu_for_catalog_model, gpu_names};
pub use models::{model_by_name, model_names};
