//! Requests in flight, in a slab: ids are reused, so memory follows the number of requests in
//! the system, not the number that ever arrived, and the event loop does not allocate once the
//! slab has grown to its working size.

use crate::engine::SimTime;

/// A request while it is in the system.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// When it arrived.
    pub arrival: SimTime,
    /// When its client gives up ([`SimTime::NEVER`] without a timeout).
    pub deadline: SimTime,
    /// Its work, as a quantile of the service-time distribution (drawn at arrival).
    pub quantile: f64,
    /// Its class.
    pub class: u32,
    /// The instance serving or holding it (`u32::MAX` while in a pool's shared queue).
    pub instance: u32,
    /// Its outcome is already counted (timed out while the server keeps working on it).
    pub ended: bool,
    /// Its service was cut at the deadline (`on_timeout = "cancel"`): it ends as timed out.
    pub cut_at_deadline: bool,
}

/// Storage for requests, indexed by `u32` ids.
#[derive(Default)]
pub struct RequestSlab {
    items: Vec<Request>,
    free: Vec<u32>,
}

impl RequestSlab {
    /// Stores `r` and returns its id.
    #[inline]
    pub fn insert(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.items[id as usize] = r;
                id
            }
            None => {
                self.items.push(r);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Releases `id` for reuse.
    #[inline]
    pub fn remove(&mut self, id: u32) {
        self.free.push(id);
    }

    /// The request `id`.
    #[inline]
    pub fn get(&self, id: u32) -> &Request {
        &self.items[id as usize]
    }

    /// The request `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut Request {
        &mut self.items[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reused_after_removal() {
        let r = Request {
            arrival: SimTime::ZERO,
            deadline: SimTime::NEVER,
            quantile: 0.5,
            class: 0,
            instance: 0,
            ended: false,
            cut_at_deadline: false,
        };
        let mut slab = RequestSlab::default();
        let a = slab.insert(r);
        let b = slab.insert(r);
        slab.remove(a);
        assert_eq!(slab.insert(r), a);
        assert_ne!(a, b);
    }
}
