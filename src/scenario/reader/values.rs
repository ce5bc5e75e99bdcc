//! The kinds of value a key can hold, each read with its type and unit checked: a problem is
//! recorded at the value, with what was expected and how to write it.

use toml_span::value::ValueInner;

use super::{closest, describe, Located, Node, Reader};
use crate::scenario::diagnostics::quoted;
use crate::scenario::units;
use crate::time::SimDuration;

impl Reader<'_> {
    /// A string value.
    pub fn string(&mut self, node: &Node<'_, '_>) -> Option<Located<String>> {
        match node.value.as_str() {
            Some(s) => Some(node.locate(s.to_string())),
            None => {
                self.wrong_type(node, "a string");
                None
            }
        }
    }

    /// A non-empty name made of letters, digits, `_`, `-` and `.`: names become folder names.
    pub fn name(&mut self, node: &Node<'_, '_>) -> Option<Located<String>> {
        let s = self.string(node)?;
        let ok = !s.value.is_empty()
            && s.value.len() <= 100
            && s.value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !s.value.starts_with('.');
        if ok {
            Some(s)
        } else {
            self.error(
                &s,
                format!("{} is not a usable name", quoted(&s.value)),
                Some(
                    "use 1 to 100 letters, digits, '_', '-' or '.', not starting with '.' (names become file and folder names)"
                        .into(),
                ),
            );
            None
        }
    }

    /// One of the strings in `allowed`.
    pub fn one_of(
        &mut self,
        node: &Node<'_, '_>,
        allowed: &[&'static str],
    ) -> Option<Located<&'static str>> {
        let s = self.string(node)?;
        match allowed.iter().find(|a| **a == s.value) {
            Some(a) => Some(node.locate(*a)),
            None => {
                let hint = match closest(&s.value, allowed) {
                    Some(near) => format!(
                        "did you mean \"{near}\"? Choose one of: {}",
                        allowed.join(", ")
                    ),
                    None => format!("choose one of: {}", allowed.join(", ")),
                };
                self.error(
                    &s,
                    format!("unknown value {}", quoted(&s.value)),
                    Some(hint),
                );
                None
            }
        }
    }

    /// A finite number (integers are accepted as numbers).
    pub fn number(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let value = match node.value.as_ref() {
            ValueInner::Float(f) => *f,
            ValueInner::Integer(i) => *i as f64,
            _ => {
                self.wrong_type(node, "a number");
                return None;
            }
        };
        if !value.is_finite() {
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected a finite number, found {value}"),
                Some("nan and inf are not allowed: write an ordinary number such as 0.5".into()),
            );
            return None;
        }
        Some(node.locate(value))
    }

    /// A number `> 0` (`strict`) or `>= 0`.
    pub fn positive(&mut self, node: &Node<'_, '_>, strict: bool) -> Option<Located<f64>> {
        let n = self.number(node)?;
        let bad = if strict {
            n.value <= 0.0
        } else {
            n.value < 0.0
        };
        if bad {
            let what = if strict {
                "greater than 0"
            } else {
                "0 or more"
            };
            self.error(
                &n,
                format!("expected a number {what}, found {}", n.value),
                Some(format!("use a number {what}")),
            );
            return None;
        }
        Some(n)
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, node: &Node<'_, '_>) -> Option<Located<bool>> {
        match node.value.as_ref() {
            ValueInner::Boolean(b) => Some(node.locate(*b)),
            _ => {
                self.wrong_type(node, "true or false");
                None
            }
        }
    }

    /// A whole number in `min..=max`, with `0 <= min`.
    pub fn integer(&mut self, node: &Node<'_, '_>, min: i64, max: i64) -> Option<Located<u64>> {
        debug_assert!(
            min >= 0,
            "integer() reads non-negative numbers: use signed()"
        );
        self.signed(node, min, max).map(|l| Located {
            value: l.value as u64,
            path: l.path,
            span: l.span,
        })
    }

    /// A whole number in `min..=max`, which may be negative.
    pub fn signed(&mut self, node: &Node<'_, '_>, min: i64, max: i64) -> Option<Located<i64>> {
        let value = match node.value.as_ref() {
            ValueInner::Integer(i) => *i,
            _ => {
                self.wrong_type(node, "a whole number");
                return None;
            }
        };
        if value < min || value > max {
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected a whole number from {min} to {max}, found {value}"),
                Some(format!("use a whole number from {min} to {max}")),
            );
            return None;
        }
        Some(node.locate(value))
    }

    /// A duration written with a unit, such as `"90s"`.
    pub fn duration(&mut self, node: &Node<'_, '_>) -> Option<Located<SimDuration>> {
        self.with_unit(
            node,
            "a duration such as \"90s\", \"5m\" or \"1h\"",
            units::parse_duration,
        )
    }

    /// A rate written with a unit, such as `"120/s"`; in events per second.
    pub fn rate(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        self.with_unit(
            node,
            "a rate such as \"120/s\" or \"7200/m\"",
            units::parse_rate,
        )
    }

    /// A price such as `"$0.526/h"`, or a bare number of US dollars per hour; at most
    /// [`MAX_USD_PER_HOUR`](crate::model::market::MAX_USD_PER_HOUR).
    pub fn price_per_hour(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let price = if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            self.positive(node, false)
        } else {
            self.with_unit(
                node,
                "a price such as \"$0.526/h\"",
                units::parse_price_per_hour,
            )
        }?;
        self.at_most_money(price, crate::model::market::MAX_USD_PER_HOUR, "/h")
    }

    /// An amount of US dollars such as `"$8000"` or `"$8,000"`, or a bare number of dollars;
    /// at most [`MAX_USD`](crate::model::market::MAX_USD).
    pub fn usd(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let amount = if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            self.positive(node, false)
        } else {
            self.with_unit(
                node,
                "an amount of dollars such as \"$8000\"",
                units::parse_usd,
            )
        }?;
        self.at_most_money(amount, crate::model::market::MAX_USD, "")
    }

    /// `money` if it is at most `max` (a price per `unit`, or an amount), else an error: every
    /// money input is bounded so that no cost can overflow (issue 14, item 13).
    pub fn at_most_money(
        &mut self,
        money: Located<f64>,
        max: f64,
        unit: &str,
    ) -> Option<Located<f64>> {
        use crate::model::market::show_amount;
        if money.value <= max {
            return Some(money);
        }
        self.error(
            &money,
            format!(
                "${}{unit} is above the ${}{unit} fleetsim accepts",
                show_amount(money.value),
                show_amount(max)
            ),
            Some(format!(
                "check the number and its unit, such as {}; the bound keeps every cost finite",
                match unit {
                    "/h" => "\"$1.006/h\" (an instance-hour)",
                    "/GB" => "0.09 (USD per GB)",
                    _ => "\"$8,000\"",
                }
            )),
        );
        None
    }

    /// A fraction from 0 to 1: a percentage such as `"0.1%"`, or a bare number such as 0.001.
    pub fn fraction(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            let n = self.positive(node, false)?;
            if n.value > 1.0 {
                self.error(
                    &n,
                    format!("expected a fraction from 0 to 1, found {}", n.value),
                    Some(format!(
                        "write a percentage in quotes, such as \"{}%\", or a fraction such as 0.001",
                        n.value
                    )),
                );
                return None;
            }
            return Some(n);
        }
        self.with_unit(
            node,
            "a percentage such as \"0.1%\" or a fraction such as 0.001",
            units::parse_percent,
        )
    }

    /// A size such as `"20KB"` or `"1MiB"`, in bytes.
    pub fn bytes(&mut self, node: &Node<'_, '_>) -> Option<Located<u64>> {
        self.with_unit(
            node,
            "a size such as \"20KB\", \"1.5MB\" or \"1MiB\"",
            units::parse_bytes,
        )
    }

    fn with_unit<T>(
        &mut self,
        node: &Node<'_, '_>,
        expected: &str,
        parse: fn(&str) -> Result<T, units::UnitError>,
    ) -> Option<Located<T>> {
        let Some(text) = node.value.as_str() else {
            let found = describe(node.value);
            let help = match node.value.as_ref() {
                ValueInner::Integer(_) | ValueInner::Float(_) => {
                    Some(format!("write the unit too, in quotes: {expected}"))
                }
                _ => Some(format!("write {expected}, in quotes")),
            };
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected {expected}, found {found}"),
                help,
            );
            return None;
        };
        match parse(text) {
            Ok(v) => Some(node.locate(v)),
            Err(e) => {
                self.error_at(
                    node.path.clone(),
                    Some(node.span()),
                    e.to_string(),
                    Some(format!("write {expected}")),
                );
                None
            }
        }
    }
}
