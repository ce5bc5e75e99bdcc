//! A fitted profile's coefficients read back from its TOML (`fleetsim calibrate` writes it;
//! a scenario names it as `llm = { ..., coefficients = "fitted.toml" }`): the `[coefficients]`
//! table, durations written as `"38.4us"`.

use super::config::Coefficients;

/// A profile that does not read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// Not TOML.
    #[error("not TOML: {0}")]
    NotToml(String),
    /// A key missing from `[coefficients]`.
    #[error("`coefficients.{0}` is missing")]
    Missing(&'static str),
    /// A value of the wrong kind.
    #[error("`coefficients.{key}` is not {expected}")]
    Bad {
        /// The key.
        key: &'static str,
        /// What it should be.
        expected: &'static str,
    },
}

/// The coefficients of a profile's text.
pub fn read_profile(text: &str) -> Result<Coefficients, ProfileError> {
    let doc = toml_span::parse(text).map_err(|e| ProfileError::NotToml(e.to_string()))?;
    let get = |key: &'static str| {
        doc.pointer(&format!("/coefficients/{key}"))
            .ok_or(ProfileError::Missing(key))
    };
    let fraction = |key: &'static str| -> Result<f64, ProfileError> {
        let v = get(key)?;
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .filter(|f| (0.0..=1.0).contains(f) && *f > 0.0)
            .ok_or(ProfileError::Bad {
                key,
                expected: "a number in (0, 1]",
            })
    };
    let seconds = |key: &'static str| -> Result<f64, ProfileError> {
        get(key)?
            .as_str()
            .and_then(parse_seconds)
            .ok_or(ProfileError::Bad {
                key,
                expected: "a duration such as \"38.4us\"",
            })
    };
    Ok(Coefficients {
        compute_efficiency: fraction("compute_efficiency")?,
        memory_efficiency: fraction("memory_efficiency")?,
        overhead_per_step: seconds("overhead_per_step")?,
        overhead_per_layer: seconds("overhead_per_layer")?,
        allreduce_latency: seconds("allreduce_latency")?,
        allreduce_efficiency: fraction("allreduce_efficiency")?,
    })
}

/// A non-negative duration of one number and one unit (ns, us, µs, ms, s) in seconds.
fn parse_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return None,
    };
    let v: f64 = number.parse().ok()?;
    v.is_finite().then_some(v * scale)
}
