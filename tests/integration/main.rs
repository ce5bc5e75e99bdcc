//! One integration-test binary (as nexosim's `tests/integration/main.rs`): every module below
//! shares one build.

mod bad_input;
mod common;
mod determinism;
mod micro;
mod supermarket;
mod theory;
