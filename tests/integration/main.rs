//! One integration-test binary (as nexosim's `tests/integration/main.rs`): every module below
//! shares one build.

mod common;
mod determinism;
mod micro;
mod theory;
