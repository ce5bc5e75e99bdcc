//! Typed ids and the vectors they index, as rustc's `IndexVec`: an [`InstanceId`] indexes
//! instances and nothing else, so mixing up an instance with a pool or a request is a type
//! error, not a wrong number.
//!
//! An id is a `u32` index stored inverted in a `NonZeroU32` (index `u32::MAX` is out of
//! range): `Option<InstanceId>` then takes 4 bytes, as the bare `u32` with a sentinel did,
//! and a [`Request`](super::requests::Request) keeps its 88 bytes. Converting to an index is
//! one `not`.

use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::ops::{Index, IndexMut, Range};

/// The most ids of one kind: the last `u32` is not an index.
pub const MAX_IDS: u32 = u32::MAX - 1;

/// A dense index into an [`IdVec`].
pub trait Id: Copy + Eq + Ord {
    /// The id of index `i`. Panics past [`MAX_IDS`]: the world never holds that many of a kind
    /// (the request slab is capped below it, every other count comes from the scenario).
    fn new(i: usize) -> Self;
    /// Its index.
    fn index(self) -> usize;
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(NonZeroU32);

        impl $name {
            /// The id of index `i` (below `u32::MAX`).
            #[inline]
            pub const fn from_raw(i: u32) -> Self {
                match NonZeroU32::new(!i) {
                    Some(n) => $name(n),
                    None => panic!("an id of u32::MAX"),
                }
            }

            /// Its index as a `u32`.
            #[inline]
            pub const fn raw(self) -> u32 {
                !self.0.get()
            }
        }

        impl Id for $name {
            #[inline]
            fn new(i: usize) -> Self {
                match u32::try_from(i) {
                    Ok(i) if i <= MAX_IDS => $name::from_raw(i),
                    _ => panic!("more than {} of {}", MAX_IDS, stringify!($name)),
                }
            }

            #[inline]
            fn index(self) -> usize {
                self.raw() as usize
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.raw().cmp(&other.raw())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.raw())
            }
        }
    };
}

id!(
    /// An instance slot of the fleet (each pool owns a contiguous range of them).
    InstanceId
);
id!(
    /// A pool (an Auto Scaling group, a Deployment).
    PoolId
);
id!(
    /// A target group: instances of one or more pools behind one balancer.
    GroupId
);
id!(
    /// A target of one group's balancer.
    TargetId
);
id!(
    /// A request in flight (a slot of the request slab, reused once freed).
    RequestId
);
id!(
    /// A route (`[[route]]`, or the one route of a scenario without).
    RouteId
);
id!(
    /// A request class (`[[class]]`).
    ClassId
);
id!(
    /// An instance type (`[[instance_type]]`).
    InstanceTypeId
);
id!(
    /// A scheduled fault (`[[fault]]`).
    FaultId
);

/// A vector indexed by the id `I` only.
pub struct IdVec<I, T> {
    raw: Vec<T>,
    _id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> IdVec<I, T> {
    /// An empty vector.
    pub fn new() -> Self {
        IdVec::from_vec(Vec::new())
    }

    /// The vector whose element `i` is `raw[i]`.
    pub fn from_vec(raw: Vec<T>) -> Self {
        IdVec {
            raw,
            _id: PhantomData,
        }
    }

    /// Appends `value`; returns its id.
    pub fn push(&mut self, value: T) -> I {
        let id = I::new(self.raw.len());
        self.raw.push(value);
        id
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + use<I, T> {
        (0..self.raw.len()).map(I::new)
    }

    /// Every element, in id order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.raw.iter()
    }

    /// Every element, mutably, in id order.
    #[cfg(test)]
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.raw.iter_mut()
    }

    /// Every element with its id.
    pub fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> + '_ {
        self.raw.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }

    /// The element of `id`, if there is one.
    pub fn get(&self, id: I) -> Option<&T> {
        self.raw.get(id.index())
    }

    /// The elements of the ids in `range`.
    pub fn range(&self, range: IdRange<I>) -> &[T] {
        &self.raw[range.start as usize..range.end as usize]
    }
}

impl<I: Id, T> Default for IdVec<I, T> {
    fn default() -> Self {
        IdVec::new()
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IdVec::from_vec(iter.into_iter().collect())
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;

    #[inline]
    fn index(&self, id: I) -> &T {
        &self.raw[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    #[inline]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.raw[id.index()]
    }
}

/// A contiguous range of ids, `start..end` (a pool's instance slots).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdRange<I> {
    start: u32,
    end: u32,
    _id: PhantomData<fn(I) -> I>,
}

impl<I: Id> IdRange<I> {
    /// The `len` ids from `first` on.
    pub fn new(first: usize, len: usize) -> Self {
        let start = I::new(first).index() as u32;
        IdRange {
            start,
            end: start + len as u32,
            _id: PhantomData,
        }
    }

    /// The number of ids.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// The position of `id` in the range (its slot in its pool).
    pub fn offset(self, id: I) -> usize {
        id.index() - self.start as usize
    }

    /// The id at position `k`.
    pub fn nth(self, k: usize) -> I {
        I::new(self.start as usize + k)
    }

    /// The ids, in order.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator {
        (self.start as usize..self.end as usize).map(I::new)
    }

    /// The range of the indexes.
    pub fn indexes(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_id_takes_no_more_room_than_the_id() {
        assert_eq!(std::mem::size_of::<Option<InstanceId>>(), 4);
        assert_eq!(InstanceId::from_raw(7).raw(), 7);
        assert_eq!(InstanceId::new(MAX_IDS as usize).index(), MAX_IDS as usize);
    }

    #[test]
    fn ids_order_by_index() {
        let (a, b) = (PoolId::new(1), PoolId::new(2));
        assert!(a < b);
        let mut v = vec![b, a];
        v.sort();
        assert_eq!(v, vec![a, b]);
    }

    #[test]
    fn an_id_vec_is_indexed_by_its_id_and_ranges_cover_slots() {
        let mut v: IdVec<InstanceId, &str> = IdVec::new();
        let a = v.push("a");
        let b = v.push("b");
        v.push("c");
        assert_eq!((v[a], v[b], v.len()), ("a", "b", 3));
        let r = IdRange::<InstanceId>::new(1, 2);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![b, InstanceId::new(2)]);
        assert_eq!(
            (r.offset(b), r.nth(1), v.range(r)),
            (0, InstanceId::new(2), &["b", "c"][..])
        );
    }
}
