//! Money: how instances are bought and what they cost.
//!
//! An instance is bought on demand or on the spot market; the two differ in price (spot is a
//! market price, often 50–70 % below on-demand) and in availability (the cloud may reclaim a
//! spot instance with a short notice).

pub mod interruptions;

/// The highest price per hour a scenario may give anything billed by time (an instance on
/// demand or spot, a spot price path's mean or cap, warm-pool storage, a load balancer, an LCU)
/// [USD/h]: $1,000,000/h, ten thousand times the dearest GPU instance of the clouds' price
/// lists (AWS p5.48xlarge, about $98/h). With it, the dearest product a run can form, price ×
/// instance slots × simulated hours, stays below about 1e30 USD (see the test
/// `the_largest_accepted_inputs_keep_every_cost_finite`), far from `f64::MAX` (1.8e308): no
/// cost can overflow to infinity (issue 14, item 13).
pub const MAX_USD_PER_HOUR: f64 = 1e6;

/// The highest price per GB of data transfer a scenario may give [USD/GB]: $1,000/GB, ten
/// thousand times the clouds' internet egress prices ($0.087 to $0.12/GB).
pub const MAX_USD_PER_GB: f64 = 1e3;

/// The largest amount of money a scenario may write (`[slo] cost`, `monthly_cost`) \[USD\]:
/// a trillion dollars.
pub const MAX_USD: f64 = 1e12;

/// `value` for a message: plain below a billion, else in scientific notation (so a file that
/// writes 1e300 is not echoed as three hundred digits).
pub fn show_amount(value: f64) -> String {
    if value.abs() < 1e9 {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_accepted_inputs_keep_every_cost_finite() {
        // The dearest products a run can form, each factor at its largest accepted value:
        // - instance time: price × slots × hours. A pool holds at most (2 + 2) × 1,000,000
        //   slots plus its warm pool (`World::build`'s `pool_slots`), say 5e6; a file with a
        //   million such pools would not fit in memory, but count them anyway; a run lasts at
        //   most u64::MAX ns (about 5.1e6 hours).
        let hours = u64::MAX as f64 / 3.6e12;
        let instances = MAX_USD_PER_HOUR * 5e6 * 1e6 * hours;
        // - data transfer: per GB × bytes, at most 2 GB for each of u64::MAX requests.
        let transfer = MAX_USD_PER_GB * (u64::MAX as f64 * 2e9 / 1e9);
        // - the balancer's LCUs: each hour at most max(new connections / 25 per second, bytes
        //   / 1 GB per hour, ...), every arrival 2 GB: LCU-hours ≤ 2 × u64::MAX.
        let lcu = MAX_USD_PER_HOUR * 2.0 * u64::MAX as f64;
        // - the monthly cost scales the total by 30 days over the shortest run (1 ns).
        let total = instances + transfer + lcu;
        let monthly = total * 2_592_000.0 / 1e-9;
        for x in [instances, transfer, lcu, total, monthly] {
            assert!(x.is_finite() && x < 1e60, "{x:e}");
        }
        // While a single unbounded price (the old rule took any finite number) overflowed.
        assert!((f64::MAX * 5e6).is_infinite());
    }

    #[test]
    fn large_amounts_are_shown_short() {
        assert_eq!(show_amount(1.5), "1.5");
        assert_eq!(show_amount(1e300), "1e300");
    }
}
