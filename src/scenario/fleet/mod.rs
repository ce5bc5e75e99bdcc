//! The fleet's keys: `[[pool]]` tables (read, then resolved against the instance types, their
//! autoscaling bounds and their queues), `[[queue]]` tables, and what references to a pool are
//! checked against. A pool's nested tables are read by their topics: [`super::lifecycle`],
//! [`super::autoscaling`], [`super::spot`], [`super::failures`]; instance types are the
//! market's ([`super::market`]).

pub mod mixed;
pub mod pool;
pub mod queues;
pub mod refs;
pub mod validate;
