//! A guard for result files: every number they hold is finite.
//!
//! serde_json writes NaN and ±infinity as `null` (`serde_json::ser`, `serialize_f64`: "NaN
//! and infinity are serialized as null"), which a reader takes for a missing value, or cannot
//! read back into an `f64` at all (`fleetsim merge`, `check` and `compare` read summaries
//! back). Validation bounds every money input so that no cost can overflow (issue 14, item
//! 13); this guard makes a non-finite number that still slipped through an error naming its
//! field, never a silent `null`. It walks the value through serde once per file written, not
//! per event.

use std::fmt;

use serde::ser::{self, Serialize};

/// The path (`cost_usd.by_pool.gpu`) and value of the first non-finite number in `value`, if
/// any, in serialization order.
pub fn first_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<(String, f64)> {
    let mut finder = Finder::default();
    match value.serialize(&mut finder) {
        Err(Found { path, value }) => Some((path, value)),
        Ok(()) => None,
    }
}

/// The first non-finite number, as the walk's error (it stops the walk).
#[derive(Debug)]
struct Found {
    path: String,
    value: f64,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.path, self.value)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Found {
            path: msg.to_string(),
            value: f64::NAN,
        }
    }
}

/// Walks a value, keeping the path of fields and keys to the current one.
#[derive(Default)]
struct Finder {
    path: Vec<String>,
}

impl Finder {
    fn check(&self, v: f64) -> Result<(), Found> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Found {
                path: self.path.join("."),
                value: v,
            })
        }
    }

    fn within<T: Serialize + ?Sized>(&mut self, name: String, value: &T) -> Result<(), Found> {
        self.path.push(name);
        let r = value.serialize(&mut *self);
        self.path.pop();
        r
    }
}

type Done = Result<(), Found>;

impl<'a> ser::Serializer for &'a mut Finder {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_f64(self, v: f64) -> Done {
        self.check(v)
    }
    fn serialize_f32(self, v: f32) -> Done {
        self.check(f64::from(v))
    }
    fn serialize_bool(self, _: bool) -> Done {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Done {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Done {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Done {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Done {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Done {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Done {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Done {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Done {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Done {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Done {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Done {
        Ok(())
    }
    fn serialize_none(self) -> Done {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        self.within(variant.to_string(), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self))
    }
}

/// A sequence, map or struct being walked: elements are named by their index, map values by
/// their key.
struct Compound<'a> {
    finder: &'a mut Finder,
    index: usize,
    key: String,
}

impl<'a> Compound<'a> {
    fn new(finder: &'a mut Finder) -> Self {
        Compound {
            finder,
            index: 0,
            key: String::new(),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        let name = format!("[{}]", self.index);
        self.index += 1;
        self.finder.within(name, value)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.element(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.element(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.element(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        self.element(value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
        // Keys are names (pools, classes, regions); a number as a key is checked too.
        self.key = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => "?".into(),
        };
        key.serialize(&mut *self.finder)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        let key = std::mem::take(&mut self.key);
        self.finder.within(key, value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
        self.finder.within(key.to_string(), value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
        self.finder.within(key.to_string(), value)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Cost {
        total: f64,
        by_pool: BTreeMap<String, f64>,
        per_1000: Option<f64>,
        series: Vec<f64>,
    }

    #[test]
    fn serde_json_writes_non_finite_numbers_as_null() {
        // What the guard is for: the number is gone from the file without a word.
        assert_eq!(serde_json::to_string(&f64::NAN).unwrap(), "null");
        assert_eq!(serde_json::to_string(&f64::INFINITY).unwrap(), "null");
        assert!(serde_json::from_str::<f64>("null").is_err());
    }

    #[test]
    fn the_first_non_finite_number_is_named_by_its_path() {
        let mut c = Cost {
            total: 1.0,
            by_pool: BTreeMap::from([("a".into(), 2.0), ("gpu".into(), 3.0)]),
            per_1000: Some(4.0),
            series: vec![5.0, 6.0],
        };
        assert_eq!(first_non_finite(&c), None);
        c.series[1] = f64::NEG_INFINITY;
        assert_eq!(
            first_non_finite(&c),
            Some(("series.[1]".into(), f64::NEG_INFINITY))
        );
        c.by_pool.insert("gpu".into(), f64::INFINITY);
        assert_eq!(
            first_non_finite(&c),
            Some(("by_pool.gpu".into(), f64::INFINITY))
        );
        c.per_1000 = Some(f64::NAN);
        c.by_pool.insert("gpu".into(), 1.0);
        c.series[1] = 0.0;
        let (path, v) = first_non_finite(&c).unwrap();
        assert_eq!(path, "per_1000");
        assert!(v.is_nan());
    }
}
