//! The market's scenario keys: `[[instance_type]]` (by catalog name, with overrides), its
//! `spot_price` (a fixed price, a replayed history, or a synthetic path), and the `[billing]`
//! table. The spot market's other keys are [`super::spot`]'s.
//!
//! It must not know how money is accounted in the run: it describes prices and rules.

pub mod billing;
pub mod instance_type;
pub mod price_file;
pub mod spot_price;
