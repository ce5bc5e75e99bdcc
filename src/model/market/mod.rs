//! Money: how instances are bought and what they cost.
//!
//! An instance is bought on demand or on the spot market; the two differ in price (spot is a
//! market price, often 50–70 % below on-demand) and in availability (the cloud may reclaim a
//! spot instance with a short notice).

pub mod interruptions;

/// How an instance is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PurchaseOption {
    /// Pay the list price; the cloud never reclaims it.
    #[default]
    OnDemand,
    /// Pay the spot price; the cloud may reclaim it (AWS gives a two-minute notice).
    Spot,
}

impl PurchaseOption {
    /// Every option, in the order results list them.
    pub const ALL: [PurchaseOption; 2] = [PurchaseOption::OnDemand, PurchaseOption::Spot];

    /// The name used in scenario files and results.
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseOption::OnDemand => "on_demand",
            PurchaseOption::Spot => "spot",
        }
    }
}

pub mod billing;
pub mod catalog;
pub mod spot_price;
