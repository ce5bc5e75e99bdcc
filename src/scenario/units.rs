//! Values with units, as written in scenario files.
//!
//! - durations: `"90s"`, `"5m"`, `"1h30m"`, `"250ms"`, `"1.5s"`, `"2d"`, `"100us"`, `"0s"`
//! - rates: `"120/s"`, `"7200/m"`, `"7200/min"`, `"1000/h"`
//! - prices: `"$0.526/h"` (also `/s`, `/m`, `/d`), or a bare number read as USD per hour
//! - amounts of money: `"$8000"`, `"$8,000"`, `"$12.50"` (US dollars, no time unit)
//! - fractions: `"0.1%"` (a percentage), or a bare number from 0 to 1 (read by the reader)
//!
//! Parsers return a [`UnitError`] saying what was expected; the reader adds the file, path and
//! position. The text is repeated through [`quoted`]: escaped, and cut short if it is long.

use super::diagnostics::quoted;
use crate::time::SimDuration;

/// A kind of value with a unit, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// `"90s"`.
    Duration,
    /// `"120/s"`.
    Rate,
    /// `"$0.526/h"`.
    Price,
    /// `"$8000"`.
    Amount,
    /// `"20KB"`.
    Size,
    /// `"0.1%"`.
    Percent,
}

impl Quantity {
    /// How a message names it, with examples.
    fn example(self) -> &'static str {
        match self {
            Quantity::Duration => "a duration such as \"90s\", \"5m\" or \"1h\"",
            Quantity::Rate => "a rate such as \"120/s\", \"7200/m\" or \"1000/h\"",
            Quantity::Price => "a price such as \"$0.526/h\"",
            Quantity::Amount => "an amount of dollars such as \"$8000\"",
            Quantity::Size => "a size such as \"2KB\", \"1.5MB\" or \"1MiB\"",
            Quantity::Percent => "a percentage such as \"0.1%\"",
        }
    }

    /// What the message adds after the text found, on how to write it.
    fn shape(self) -> &'static str {
        match self {
            Quantity::Duration => {
                " (a number must come before each unit; negative durations are not allowed)"
            }
            Quantity::Rate => "",
            Quantity::Price | Quantity::Amount => " (start it with $)",
            Quantity::Size => " (units: B, KB, MB, GB, KiB, MiB, GiB)",
            Quantity::Percent => {
                " (end it with %, or write a fraction such as 0.001 without quotes)"
            }
        }
    }
}

/// Why a value with a unit cannot be read. Each text field holds the input as messages repeat
/// it ([`quoted`]: escaped, cut short), so that an error's size is bounded whatever the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// An empty string where a value was expected.
    #[error("expected {}, found an empty string", .0.example())]
    Empty(Quantity),
    /// Text not of the quantity's shape.
    #[error("expected {}, found {text}{}", .quantity.example(), .quantity.shape())]
    Malformed {
        /// What was expected.
        quantity: Quantity,
        /// The text, quoted.
        text: String,
    },
    /// A part that should be a number is not one.
    #[error("{number} in {text} is not a number")]
    NotANumber {
        /// The part, quoted.
        number: String,
        /// The whole text, quoted.
        text: String,
    },
    /// A duration without its unit.
    #[error("{text} has no unit: write it with one, such as {seconds} or {millis}")]
    NoUnit {
        /// The text, quoted.
        text: String,
        /// The number in seconds, quoted.
        seconds: String,
        /// The number in milliseconds, quoted.
        millis: String,
    },
    /// A unit the quantity does not have.
    #[error("unknown {what} unit {unit} in {text}: use {known}")]
    UnknownUnit {
        /// `time`, `rate` or `price`.
        what: &'static str,
        /// The unit, quoted.
        unit: String,
        /// The text, quoted.
        text: String,
        /// The units there are.
        known: &'static str,
    },
    /// A duration past [`SimDuration::LONGEST_INPUT`].
    #[error("duration {0} is too long (at most 1e9 seconds)")]
    TooLong(String),
    /// Not a finite number.
    #[error("{0} is not a finite number")]
    NotFinite(String),
    /// A negative number.
    #[error("{0} is negative")]
    Negative(String),
    /// A rate above [`MAX_RATE_PER_SECOND`].
    #[error("{0} is above {MAX_RATE_PER_SECOND:e} requests per second, more than fleetsim simulates in useful time")]
    RateTooHigh(String),
    /// A price per time where an amount is expected.
    #[error("{0} is a price per time; here write an amount, such as \"$8000\"")]
    PricePerTime(String),
    /// An amount with misplaced commas or stray characters.
    #[error("{0} is not an amount of dollars: write digits, with commas only between groups of three, such as \"$8000\" or \"$8,000.50\"")]
    BadDigits(String),
    /// An amount whose digits do not make a number.
    #[error("{0} is not an amount of dollars")]
    NotAnAmount(String),
    /// A size without a number before its unit.
    #[error("{0} is not a size: write a number then a unit, such as \"2KB\"")]
    NotASize(String),
    /// A percentage above 100.
    #[error("{0} is above 100%")]
    AboveHundredPercent(String),
}

/// Parses a duration such as `"90s"`, `"1h30m"` or `"250ms"`.
pub fn parse_duration(text: &str) -> Result<SimDuration, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    if s.is_empty() {
        return Err(UnitError::Empty(Quantity::Duration));
    }
    let mut total_secs = 0.0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(UnitError::Malformed {
                quantity: Quantity::Duration,
                text: shown,
            });
        }
        let written = &rest[..number_len];
        let number: f64 = written.parse().map_err(|_| UnitError::NotANumber {
            number: quoted(written),
            text: shown.clone(),
        })?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "" => {
                return Err(UnitError::NoUnit {
                    text: shown,
                    seconds: quoted(&format!("{written}s")),
                    millis: quoted(&format!("{written}ms")),
                })
            }
            other => {
                return Err(UnitError::UnknownUnit {
                    what: "time",
                    unit: quoted(other),
                    text: shown,
                    known: "ns, us, ms, s, m, h or d",
                })
            }
        };
        total_secs += number * scale;
    }
    if !total_secs.is_finite() || total_secs > SimDuration::LONGEST_INPUT.as_secs_f64() {
        return Err(UnitError::TooLong(shown));
    }
    Ok(SimDuration::from_secs_f64(total_secs))
}

/// The largest arrival rate accepted [requests/s]: a guard against typos that would stall a run.
pub const MAX_RATE_PER_SECOND: f64 = 1e7;

/// A rate in events per second.
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    let Some((number, unit)) = s.split_once('/') else {
        return Err(UnitError::Malformed {
            quantity: Quantity::Rate,
            text: shown,
        });
    };
    let value = parse_number(number.trim(), &shown)?;
    let per_secs = per_unit_seconds(unit.trim()).ok_or_else(|| UnitError::UnknownUnit {
        what: "rate",
        unit: quoted(&format!("/{}", unit.trim())),
        text: shown.clone(),
        known: "/s, /m, /min or /h",
    })?;
    check_finite_non_negative(value, text)?;
    let per_second = value / per_secs;
    if per_second > MAX_RATE_PER_SECOND {
        return Err(UnitError::RateTooHigh(shown));
    }
    Ok(per_second)
}

/// A rate for messages: `2.5e7/s`, or plainly below a million.
pub fn rate_text(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{per_second:.3e}/s")
    } else {
        format!("{}/s", (per_second * 1000.0).round() / 1000.0)
    }
}

/// A price in US dollars per hour, from `"$0.526/h"`.
pub fn parse_price_per_hour(text: &str) -> Result<f64, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    let Some(body) = s.strip_prefix('$') else {
        return Err(UnitError::Malformed {
            quantity: Quantity::Price,
            text: shown,
        });
    };
    let (number, unit) = body.split_once('/').unwrap_or((body, "h"));
    let value = parse_number(number.trim(), &shown)?;
    let per_secs = per_unit_seconds(unit.trim()).ok_or_else(|| UnitError::UnknownUnit {
        what: "price",
        unit: quoted(&format!("/{}", unit.trim())),
        text: shown.clone(),
        known: "/s, /m, /h or /d",
    })?;
    check_finite_non_negative(value, text)?;
    // Scaled by a whole factor each way, so that "$0.011/h" is exactly 0.011 (not
    // 0.011 × 3600 / 3600 = 0.010999…).
    Ok(if per_secs >= 3600.0 {
        value / (per_secs / 3600.0)
    } else {
        value * (3600.0 / per_secs)
    })
}

/// An amount of US dollars, from `"$8000"`, `"$8,000"` or `"$1,234.50"`. Commas must separate
/// groups of three digits, as in English number formatting, so that `"$8,00"` (a typo of
/// `"$800"` or of `"$8.00"`?) is rejected rather than guessed.
pub fn parse_usd(text: &str) -> Result<f64, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    let Some(body) = s.strip_prefix('$') else {
        return Err(UnitError::Malformed {
            quantity: Quantity::Amount,
            text: shown,
        });
    };
    if body.contains('/') {
        return Err(UnitError::PricePerTime(shown));
    }
    let (whole, decimals) = body.split_once('.').unwrap_or((body, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_well = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    let digits_only = |g: &str| g.chars().all(|c| c.is_ascii_digit());
    if !grouped_well
        || whole.is_empty()
        || !groups.iter().all(|g| digits_only(g))
        || !digits_only(decimals)
        || (body.contains('.') && decimals.is_empty())
    {
        return Err(UnitError::BadDigits(shown));
    }
    let number: String = body.chars().filter(|c| *c != ',').collect();
    let value: f64 = number.parse().map_err(|_| UnitError::NotAnAmount(shown))?;
    check_finite_non_negative(value, text)?;
    Ok(value)
}

/// A size in bytes, from `"2KB"`, `"1.5MB"`, `"1MiB"` or `"512B"`: SI prefixes are powers of
/// 1000 (KB, MB, GB), binary ones of 1024 (KiB, MiB, GiB), as cloud price lists count GB.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let factor: f64 = match unit.trim() {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(UnitError::Malformed {
                quantity: Quantity::Size,
                text: shown,
            })
        }
    };
    let value: f64 = number.parse().map_err(|_| UnitError::NotASize(shown))?;
    check_finite_non_negative(value, text)?;
    Ok((value * factor).round() as u64)
}

/// A fraction from 0 to 1, from a percentage such as `"0.1%"` (= 0.001).
pub fn parse_percent(text: &str) -> Result<f64, UnitError> {
    let shown = quoted(text);
    let s = text.trim();
    let Some(number) = s.strip_suffix('%') else {
        return Err(UnitError::Malformed {
            quantity: Quantity::Percent,
            text: shown,
        });
    };
    let value = parse_number(number.trim(), &shown)?;
    check_finite_non_negative(value, text)?;
    if value > 100.0 {
        return Err(UnitError::AboveHundredPercent(shown));
    }
    Ok(value / 100.0)
}

/// `number`, a part of the text `shown` (quoted), as a number.
fn parse_number(number: &str, shown: &str) -> Result<f64, UnitError> {
    number.parse().map_err(|_| UnitError::NotANumber {
        number: quoted(number),
        text: shown.to_string(),
    })
}

fn per_unit_seconds(unit: &str) -> Option<f64> {
    match unit {
        "s" | "sec" => Some(1.0),
        "m" | "min" => Some(60.0),
        "h" => Some(3600.0),
        "d" => Some(86_400.0),
        _ => None,
    }
}

fn check_finite_non_negative(value: f64, text: &str) -> Result<(), UnitError> {
    if !value.is_finite() {
        return Err(UnitError::NotFinite(quoted(text)));
    }
    if value < 0.0 {
        return Err(UnitError::Negative(quoted(text)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_si_and_binary_prefixes() {
        assert_eq!(parse_bytes("512B"), Ok(512));
        assert_eq!(parse_bytes("4KB"), Ok(4_000));
        assert_eq!(parse_bytes("1.5MB"), Ok(1_500_000));
        assert_eq!(parse_bytes("1MiB"), Ok(1_048_576));
        assert_eq!(parse_bytes("2 GiB"), Ok(2_147_483_648));
        assert!(parse_bytes("4").is_err());
        assert!(parse_bytes("4kb").is_err());
        assert!(parse_bytes("KB").is_err());
    }

    fn secs(s: &str) -> f64 {
        parse_duration(s).unwrap().as_secs_f64()
    }

    #[test]
    fn durations_with_every_unit_and_compounds() {
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("5m"), 300.0);
        assert_eq!(secs("1h"), 3600.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("250ms"), 0.25);
        assert_eq!(secs("1.5s"), 1.5);
        assert_eq!(secs("2d"), 172_800.0);
        assert_eq!(parse_duration("100us").unwrap().as_nanos(), 100_000);
        assert_eq!(secs("0s"), 0.0);
    }

    #[test]
    fn ill_formed_durations_say_what_is_expected() {
        for bad in ["", "90", "-5s", "5 parsecs", "s", "1.2.3s", "1e999h"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_duration("90")
            .unwrap_err()
            .to_string()
            .contains("\"90s\""));
    }

    #[test]
    fn rates_convert_to_per_second() {
        assert_eq!(parse_rate("120/s").unwrap(), 120.0);
        assert_eq!(parse_rate("7200/m").unwrap(), 120.0);
        assert_eq!(parse_rate("3600/h").unwrap(), 1.0);
        for bad in ["120", "x/s", "10/fortnight", "-1/s", "inf/s", "NaN/s"] {
            assert!(parse_rate(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn amounts_of_dollars_with_or_without_thousands_separators() {
        assert_eq!(parse_usd("$8000").unwrap(), 8000.0);
        assert_eq!(parse_usd("$8,000").unwrap(), 8000.0);
        assert_eq!(parse_usd(" $1,234,567.25 ").unwrap(), 1_234_567.25);
        assert_eq!(parse_usd("$0.5").unwrap(), 0.5);
        assert_eq!(parse_usd("$0").unwrap(), 0.0);
        for bad in [
            "8000", "$", "$8,00", "$,800", "$8000,", "$1,0000", "$8.", "$-5", "$8k", "$1/h",
            "$8 000", "$1.2.3", "$inf",
        ] {
            assert!(parse_usd(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_usd("$1/h")
            .unwrap_err()
            .to_string()
            .contains("price per time"));
    }

    #[test]
    fn percentages_become_fractions() {
        assert_eq!(parse_percent("0.1%").unwrap(), 0.001);
        assert_eq!(parse_percent("5%").unwrap(), 0.05);
        assert_eq!(parse_percent("100%").unwrap(), 1.0);
        assert_eq!(parse_percent("0%").unwrap(), 0.0);
        for bad in ["0.1", "%", "x%", "-1%", "101%", "NaN%"] {
            assert!(parse_percent(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn prices_convert_to_usd_per_hour() {
        assert_eq!(parse_price_per_hour("$0.526/h").unwrap(), 0.526);
        assert_eq!(parse_price_per_hour("$1/s").unwrap(), 3600.0);
        assert_eq!(parse_price_per_hour("$24/d").unwrap(), 1.0);
        assert_eq!(parse_price_per_hour("$2").unwrap(), 2.0);
        assert_eq!(parse_price_per_hour("$0.011/h").unwrap(), 0.011);
        assert_eq!(parse_price_per_hour("$0.5/m").unwrap(), 30.0);
        for bad in ["0.5/h", "$x/h", "$-1/h", "$1/year"] {
            assert!(
                parse_price_per_hour(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
