//! One integration-test binary (as nexosim's `tests/integration/main.rs`): every module below
//! shares one build.

mod autoscaling;
mod bad_input;
mod billing;
mod calibrate;
mod catalogs;
mod closed_loop;
mod common;
mod determinism;
mod engine_outputs;
mod gates;
mod hangs;
mod health;
mod help_lines;
mod layers;
mod llm;
mod llm_physics;
mod memory;
mod micro;
mod money;
mod outputs;
mod report;
mod retries;
mod shipped;
mod slow_start;
mod spot;
mod stable_diffusion;
mod stickiness;
mod supermarket;
mod sweep;
mod theory;
mod time_zero;
mod topology;
mod trace;
mod variants;
