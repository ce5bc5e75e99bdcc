//! Looking at inputs without simulating them: the instance, model and GPU catalogs
//! (`fleetsim catalog`, `--models`, `--gpus`) and a request trace's statistics (`fleetsim
//! trace-stats`). The library side of those commands: each takes what the command line was
//! given as plain values, finds and reads what it names, and returns the text to print or a
//! typed error; `main.rs` only prints them.
//!
//! It knows the models whose inputs it shows (`model/market`'s and `model/llm`'s catalogs,
//! `model/traffic`'s trace files); it must not know the simulation (`engine`, `world`) or results (`metrics`,
//! `report`).

mod catalog;
mod llm_catalog;
mod trace_stats;

pub use catalog::{catalog_table, catalog_text, CatalogQuery, UnknownCloud};
pub use llm_catalog::{gpus_table, gpus_text, models_table, models_text};
pub use trace_stats::{trace_format, trace_stats, trace_stats_text, TraceQuery, TraceStatsError};
