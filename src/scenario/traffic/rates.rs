//! The arrival-rate cap ([`MAX_RATE_PER_SECOND`]) through every route a rate can take, checked
//! once the traffic is read whole: a profile's true peak over the run (a diurnal day peaks at
//! `mean · (1 + amplitude)`, overlapping spikes multiply, a count trace's busiest interval), a
//! replayed trace's mean rate after `rate_scale` and `speed_up` (checked where it is read, in
//! [`crate::scenario::trace`]), and what a closed population can send. Each written rate is checked where
//! it is read (`units::parse_rate`); this is where rates that only their combination makes are
//! caught, with the route named.

use super::read::RawTraffic;
use crate::model::traffic::sessions::{ClosedLoop, SessionLength};
use crate::model::traffic::RateProfile;
use crate::scenario::reader::{Located, Reader};
use crate::scenario::units::{rate_text, MAX_RATE_PER_SECOND};
use crate::time::{SimDuration, SimTime};

/// A time for messages, in seconds.
fn at_text(t: SimTime) -> String {
    format!("{} s", (t.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Reports the traffic of `raw` whose rate exceeds the cap within `duration`.
pub fn check(r: &mut Reader<'_>, raw: &RawTraffic, duration: Option<SimDuration>) {
    if let Some(c) = &raw.closed_loop {
        check_closed_loop(r, c);
        return;
    }
    if raw.trace.is_some() {
        // Its rate is checked with its options, where it is read.
        return;
    }
    let (Some(traffic), Some(duration)) = (&raw.profile, duration) else {
        return;
    };
    let end = SimTime::ZERO + duration;
    let (peak, at) = traffic.value.peak_on(SimTime::ZERO, end);
    if peak <= MAX_RATE_PER_SECOND {
        return;
    }
    match &traffic.value {
        RateProfile::Spiked { base, spikes }
            if base.peak_on(SimTime::ZERO, end).0 <= MAX_RATE_PER_SECOND =>
        {
            let factors: Vec<String> = spikes
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.rate(at)))
                .filter(|&(_, f)| f != 1.0)
                .map(|(i, f)| format!("spikes[{i}] ×{}", (f * 1000.0).round() / 1000.0))
                .collect();
            r.error_at(
                format!("{}.spikes", traffic.path),
                Some(traffic.span),
                format!(
                    "the arrival rate peaks at {} at {}: the base rate there, {}, times {}, {}",
                    rate_text(peak),
                    at_text(at),
                    rate_text(base.rate(at)),
                    if factors.is_empty() {
                        "the spikes".to_string()
                    } else {
                        factors.join(" × ")
                    },
                    above()
                ),
                Some(
                    "spikes that overlap multiply: lower their multipliers, move them apart, or lower the base rate"
                        .into(),
                ),
            );
        }
        profile => check_profile(r, traffic, profile, peak, at),
    }
}

/// How messages end: the cap.
fn above() -> String {
    format!(
        "above {MAX_RATE_PER_SECOND:e} requests per second, more than fleetsim simulates in useful time"
    )
}

/// A closed loop's users, who can send as fast as their mean pause allows.
fn check_closed_loop(r: &mut Reader<'_>, c: &Located<ClosedLoop>) {
    let spec = &c.value;
    let think = spec.think.mean_secs();
    let gap = match spec.session_length {
        SessionLength::Endless => f64::INFINITY,
        _ => spec.session_gap.as_ref().map_or(think, |g| g.mean_secs()),
    };
    let pause = think.min(gap);
    // A pause of 0 is a loop without thinking: whether it can spin is the zero-time loops'
    // check (issue 14, item 8), not a rate's.
    let rate = f64::from(spec.users) / pause;
    if pause > 0.0 && rate > MAX_RATE_PER_SECOND {
        let fit = (MAX_RATE_PER_SECOND * pause).floor();
        r.error(
            c,
            format!(
                "{} users who pause {} s on average between requests can send {} (users ÷ mean pause, when their requests end at once, as a full queue's rejections do), above {MAX_RATE_PER_SECOND:e} requests per second",
                spec.users,
                (pause * 1e6).round() / 1e6,
                rate_text(rate)
            ),
            Some(format!(
                "at most {fit} users at this think time, or a longer think_time{}",
                if gap < think { " and session_gap" } else { "" }
            )),
        );
    }
}

/// A profile whose own peak (not only its spikes') is above the cap: `peak` at `at`.
fn check_profile(
    r: &mut Reader<'_>,
    traffic: &Located<RateProfile>,
    profile: &RateProfile,
    peak: f64,
    at: SimTime,
) {
    let base = match profile {
        RateProfile::Spiked { base, .. } => base.as_ref(),
        other => other,
    };
    let (route, help) = match base {
        RateProfile::Diurnal {
            mean, amplitude, ..
        } => (
            format!(
                "a diurnal profile peaks at mean × (1 + amplitude) = {} × {}",
                rate_text(*mean),
                1.0 + amplitude
            ),
            "lower the mean or the amplitude",
        ),
        RateProfile::Steps { .. } => (
            "the steps (or the count trace's intervals, after rate_scale and speed_up) reach it"
                .to_string(),
            "lower the rates, or the counts, rate_scale or speed_up of the count trace",
        ),
        _ => (
            "the profile reaches it".to_string(),
            "lower the profile's rates",
        ),
    };
    r.error(
        traffic,
        format!(
            "the arrival rate peaks at {} at {}: {route}, {}",
            rate_text(peak),
            at_text(at),
            above()
        ),
        Some(help.into()),
    );
}
