//! A table's keys declared once: each key's name, the kind of value it holds, and, for a
//! required key, the hint given when it is missing. cargo-deny's `cfg.rs` modules declare their
//! keys so; a topic here declares a `const` [`Key`] per key at the top of its module and reads
//! a table with [`Fields::read`], instead of repeating `required(key, hint)` and the value's
//! reader at every use.
//!
//! ```text
//! const POOL: Key<Text> = Key::required("pool", Text, "name the pool, such as pool = \"gpu\"");
//! const FIRST: Key<Whole> = Key::optional("first", Whole(0, 999_999));
//! let pool = f.read(r, &POOL);
//! ```

use super::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// How the value of a key is read: one of the reader's kinds of value.
pub trait Kind {
    /// The value read.
    type Value;

    /// Reads `node`, recording a problem (and returning `None`) if it is not of this kind.
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<Self::Value>>;

    /// The values allowed, for a key that takes one of a list (the hint of a missing one
    /// lists them).
    fn choices(&self) -> &'static [&'static str] {
        &[]
    }
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub struct Key<K> {
    /// The key as written in the file.
    pub name: &'static str,
    /// The kind of value it holds.
    pub kind: K,
    missing: Missing,
}

/// What a missing key is.
#[derive(Debug, Clone, Copy)]
enum Missing {
    /// Nothing: the key is optional.
    Allowed,
    /// An error, with this hint.
    Hint(&'static str),
    /// An error whose hint lists the kind's choices.
    Choices,
}

impl<K: Kind> Key<K> {
    /// A key that may be left out.
    pub const fn optional(name: &'static str, kind: K) -> Self {
        Key {
            name,
            kind,
            missing: Missing::Allowed,
        }
    }

    /// A key that must be given; `hint` says how when it is not.
    pub const fn required(name: &'static str, kind: K, hint: &'static str) -> Self {
        Key {
            name,
            kind,
            missing: Missing::Hint(hint),
        }
    }
}

impl Key<OneOf> {
    /// A key that must be given one of `choices`; its hint lists them.
    pub const fn choice(name: &'static str, choices: &'static [&'static str]) -> Self {
        Key {
            name,
            kind: OneOf(choices),
            missing: Missing::Choices,
        }
    }
}

impl<'a, 'de> Fields<'a, 'de> {
    /// The node of `key`, asking for it (so that it is not an unknown field); a missing
    /// required key is reported. For a [`Nested`] key, read by the topic's own function.
    pub fn node<K: Kind>(&mut self, r: &mut Reader<'_>, key: &Key<K>) -> Option<Node<'a, 'de>> {
        match key.missing {
            Missing::Allowed => self.get(key.name),
            Missing::Hint(hint) => self.required(r, key.name, hint),
            Missing::Choices => {
                let hint = format!("choose one of: {}", key.kind.choices().join(", "));
                self.required(r, key.name, &hint)
            }
        }
    }

    /// The value of `key`; `None` if it is absent (reported if it is required) or broken
    /// (reported).
    pub fn read<K: Kind>(&mut self, r: &mut Reader<'_>, key: &Key<K>) -> Option<Located<K::Value>> {
        let node = self.node(r, key)?;
        key.kind.read(r, node)
    }

    /// An optional key as given: `None` if absent, `Some(None)` if present but broken
    /// (reported), else its value.
    pub fn read_given<K: Kind>(
        &mut self,
        r: &mut Reader<'_>,
        key: &Key<K>,
    ) -> Option<Option<Located<K::Value>>> {
        let node = self.node(r, key)?;
        Some(key.kind.read(r, node))
    }

    /// A key read by the topic's own `read` (a table, or a value of several forms), located
    /// whether or not it reads: `None` if absent, `value: None` if present but broken
    /// (reported), for checks that depend on its presence.
    pub fn read_nested<T>(
        &mut self,
        r: &mut Reader<'_>,
        key: &Key<Nested>,
        read: impl FnOnce(&mut Reader<'_>, Node<'a, 'de>) -> Option<T>,
    ) -> Option<Located<Option<T>>> {
        let node = self.node(r, key)?;
        let at = node.at();
        Some(at.to(read(r, node)))
    }

    /// Reads optional `key` into `slot`, which holds its default, through `into`; false if
    /// the key is present but broken (reported).
    pub fn read_into<K: Kind, T>(
        &mut self,
        r: &mut Reader<'_>,
        key: &Key<K>,
        slot: &mut T,
        into: impl FnOnce(K::Value) -> T,
    ) -> bool {
        match self.read_given(r, key) {
            Some(Some(v)) => {
                *slot = into(v.value);
                true
            }
            Some(None) => false,
            None => true,
        }
    }
}

/// A string.
#[derive(Debug, Clone, Copy)]
pub struct Text;

/// A name: letters, digits, `_`, `-` and `.` (it may become a folder's name).
#[derive(Debug, Clone, Copy)]
pub struct Name;

/// One of the strings listed.
#[derive(Debug, Clone, Copy)]
pub struct OneOf(pub &'static [&'static str]);

/// A finite number.
#[derive(Debug, Clone, Copy)]
pub struct Number;

/// A number greater than 0.
#[derive(Debug, Clone, Copy)]
pub struct Positive;

/// A number 0 or more.
#[derive(Debug, Clone, Copy)]
pub struct NonNegative;

/// A whole number from the first to the second, both at least 0.
#[derive(Debug, Clone, Copy)]
pub struct Whole(pub i64, pub i64);

/// `true` or `false`.
#[derive(Debug, Clone, Copy)]
pub struct Flag;

/// A duration with its unit, such as `"90s"`.
#[derive(Debug, Clone, Copy)]
pub struct Duration;

/// A rate with its unit, such as `"120/s"`, in events per second.
#[derive(Debug, Clone, Copy)]
pub struct Rate;

/// A price per hour, such as `"$0.526/h"`, in US dollars.
#[derive(Debug, Clone, Copy)]
pub struct Price;

/// An amount of US dollars, such as `"$8,000"`.
#[derive(Debug, Clone, Copy)]
pub struct Usd;

/// A fraction from 0 to 1, such as `"0.1%"` or 0.001.
#[derive(Debug, Clone, Copy)]
pub struct Fraction;

/// A size, such as `"20KB"`, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Bytes;

/// A table (or a value of several forms) that the topic reads with its own function, from
/// [`Fields::node`]: the key is declared with the others, its reading is the topic's.
#[derive(Debug, Clone, Copy)]
pub struct Nested;

impl Kind for Text {
    type Value = String;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<String>> {
        r.string(&node)
    }
}

impl Kind for Name {
    type Value = String;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<String>> {
        r.name(&node)
    }
}

impl Kind for OneOf {
    type Value = &'static str;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<&'static str>> {
        r.one_of(&node, self.0)
    }

    fn choices(&self) -> &'static [&'static str] {
        self.0
    }
}

impl Kind for Number {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.number(&node)
    }
}

impl Kind for Positive {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.positive(&node, true)
    }
}

impl Kind for NonNegative {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.positive(&node, false)
    }
}

impl Kind for Whole {
    type Value = u64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<u64>> {
        r.integer(&node, self.0, self.1)
    }
}

impl Kind for Flag {
    type Value = bool;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<bool>> {
        r.boolean(&node)
    }
}

impl Kind for Duration {
    type Value = SimDuration;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
        r.duration(&node)
    }
}

impl Kind for Rate {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.rate(&node)
    }
}

impl Kind for Price {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.price_per_hour(&node)
    }
}

impl Kind for Usd {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.usd(&node)
    }
}

impl Kind for Fraction {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        r.fraction(&node)
    }
}

impl Kind for Bytes {
    type Value = u64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<u64>> {
        r.bytes(&node)
    }
}

impl Kind for Nested {
    type Value = ();
    /// Where the value is: the topic reads it.
    fn read(&self, _: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<()>> {
        Some(node.at())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: Key<Name> = Key::required("name", Name, "name it, such as name = \"gpu\"");
    const KIND: Key<OneOf> = Key::choice("kind", &["crash", "broken"]);
    const FIRST: Key<Whole> = Key::optional("first", Whole(0, 9));

    /// `path: message (help)` of each problem reading `text`'s root with `read`.
    fn problems(
        text: &str,
        read: impl FnOnce(&mut Reader<'_>, &mut Fields<'_, '_>),
    ) -> Vec<String> {
        let doc = toml_span::parse(text).unwrap();
        let mut r = Reader::new(text);
        let mut f = r.table(Node::root(&doc), "a table").unwrap();
        read(&mut r, &mut f);
        f.finish(&mut r);
        r.into_diagnostics()
            .into_iter()
            .map(|d| format!("{}: {} ({})", d.path, d.message, d.help.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_key_is_read_with_its_kind_and_reported_missing_with_its_hint() {
        let mut read = None;
        let found = problems("name = \"gpu\"\nfirst = 3", |r, f| {
            read = Some((f.read(r, &NAME).map(|n| n.value), f.read(r, &FIRST)));
        });
        assert_eq!(found, Vec::<String>::new());
        let (name, first) = read.unwrap();
        assert_eq!(name.as_deref(), Some("gpu"));
        assert_eq!(first.map(|f| f.value), Some(3));
        assert_eq!(
            problems("first = 10", |r, f| {
                assert!(f.read(r, &NAME).is_none());
                assert!(f.read(r, &KIND).is_none());
                assert_eq!(f.read_given(r, &FIRST).map(|v| v.is_none()), Some(true));
            }),
            [
                "name: missing field `name` (name it, such as name = \"gpu\")",
                "kind: missing field `kind` (choose one of: crash, broken)",
                "first: expected a whole number from 0 to 9, found 10 (use a whole number from 0 to 9)",
            ]
        );
    }

    #[test]
    fn read_into_keeps_the_default_when_absent_and_fails_when_broken() {
        let mut slot = 7u32;
        problems("", |r, f| {
            assert!(f.read_into(r, &FIRST, &mut slot, |v| v as u32));
        });
        assert_eq!(slot, 7);
        problems("first = 2", |r, f| {
            assert!(f.read_into(r, &FIRST, &mut slot, |v| v as u32));
        });
        assert_eq!(slot, 2);
        let found = problems("first = -1", |r, f| {
            assert!(!f.read_into(r, &FIRST, &mut slot, |v| v as u32));
        });
        assert_eq!(found.len(), 1);
        assert_eq!(slot, 2);
    }
}
