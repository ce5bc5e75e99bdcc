//! The monthly projection of a run's cost: the one definition, for the summary's
//! `cost_usd.monthly` and for the `[slo] monthly_cost` objective the gates judge.

/// Seconds in the month a run's cost is projected to (`cost_usd.monthly`, `[slo]
/// monthly_cost`): 30 days, as cloud price pages quote monthly figures from 730 h or 720 h;
/// 720 h = 30 d is the one a user can recompute.
pub const MONTH_SECONDS: f64 = 30.0 * 86_400.0;

/// What scales a run's cost to a month: `MONTH_SECONDS / simulated seconds`. The one
/// definition of the monthly projection, for `[slo] monthly_cost` and `cost_usd.monthly`.
pub fn month_factor(simulated_seconds: f64) -> f64 {
    MONTH_SECONDS / simulated_seconds
}

/// A run's cost `total` \[USD\] over `simulated_seconds`, projected to a 30-day month.
pub fn monthly(total: f64, simulated_seconds: f64) -> f64 {
    total * month_factor(simulated_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_projected_to_thirty() {
        assert_eq!(month_factor(86_400.0), 30.0);
        assert_eq!(monthly(2.5, 86_400.0), 75.0);
        // An hour's cost times 720 hours.
        assert_eq!(monthly(1.0, 3600.0), 720.0);
    }
}
