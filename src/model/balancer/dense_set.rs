//! A set of target indices with O(1) insert, remove, membership and i-th element: the
//! eligible targets of uniform-random and round-robin picks.

/// Marks a target that is not in the set.
const ABSENT: u32 = u32::MAX;

/// A dense set of targets `0..n`. Removing swaps the last member into the hole, so the order of
/// members is the order of insertion only until the first removal.
#[derive(Debug, Clone)]
pub struct DenseSet {
    items: Vec<u32>,
    position: Vec<u32>,
}

impl DenseSet {
    /// A set holding all of `0..n`.
    pub fn full(n: usize) -> Self {
        DenseSet {
            items: (0..n as u32).collect(),
            position: (0..n as u32).collect(),
        }
    }

    /// Number of members.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The member at `i < len()`.
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        self.items[i]
    }

    /// True when `t` is a member.
    #[inline]
    pub fn contains(&self, t: u32) -> bool {
        self.position[t as usize] != ABSENT
    }

    /// Adds `t`; no effect if present.
    pub fn insert(&mut self, t: u32) {
        if self.position[t as usize] == ABSENT {
            self.position[t as usize] = self.items.len() as u32;
            self.items.push(t);
        }
    }

    /// Removes `t`; no effect if absent.
    pub fn remove(&mut self, t: u32) {
        let p = self.position[t as usize];
        if p == ABSENT {
            return;
        }
        let last = *self.items.last().expect("a present member");
        self.items.swap_remove(p as usize);
        if last != t {
            self.position[last as usize] = p;
        }
        self.position[t as usize] = ABSENT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_keep_positions_consistent() {
        let mut s = DenseSet::full(5);
        s.remove(1);
        s.remove(1);
        s.remove(4);
        assert_eq!(s.len(), 3);
        let mut members: Vec<u32> = (0..s.len()).map(|i| s.get(i)).collect();
        members.sort();
        assert_eq!(members, vec![0, 2, 3]);
        s.insert(4);
        s.insert(4);
        s.remove(0);
        let mut members: Vec<u32> = (0..s.len()).map(|i| s.get(i)).collect();
        members.sort();
        assert_eq!(members, vec![2, 3, 4]);
    }
}
