//! The topology keys: `[[region]]`, `[[place]]`, `[dns]`, `[[outage]]`, `[data_transfer]`, and
//! the `region`/`zone` of pools and target groups, the extra target groups of a route, and the
//! request/response sizes of classes. Read in stage one ([`read`]), checked against pools,
//! groups and routes in stage two ([`validate`], with [`dns`], [`places`], [`outages`] and
//! [`routes`]). A scenario without `[[region]]` has no topology and may use none of these keys.

pub mod dns;
pub mod lookup;
pub mod outages;
pub mod places;
pub mod read;
pub mod routes;
pub mod validate;
